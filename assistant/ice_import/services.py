"""Import ICE's 287(g) lists: match agencies to places, compare with the last import, flag.

The whole import is one transaction. A dry run (``--dry-run``, the admin preview) does all
the work and rolls it back, so the report it returns is exactly what applying would do.
"""

import datetime
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from django.db import transaction
from django.utils.text import slugify
from django.utils.translation import gettext as _
from simple_history.utils import bulk_create_with_history

from assistant.content.models import ReviewFlag
from assistant.content.publication import public_content_changed
from assistant.content.review import review_flag_raise
from assistant.ice_import.models import ImportSnapshot, UnmatchedRow
from assistant.ice_import.sheets import (
    SheetError,
    SheetFile,
    SheetRow,
    file_date,
    parse_signed,
    read_sheet,
    rows_fingerprint,
)
from assistant.places.models import (
    Agency,
    Agreement,
    Place,
    ZipCodeArea,
    fold_name,
    place_search_key,
)
from assistant.places.selectors import place_answer

NOT_A_COUNTY = {"", "n a", "na", "none", "unknown"}
MODEL_WORDS = {
    "jail enforcement": Agreement.EnforcementModel.JAIL_ENFORCEMENT,
    "jem": Agreement.EnforcementModel.JAIL_ENFORCEMENT,
    "task force": Agreement.EnforcementModel.TASK_FORCE,
    "tfm": Agreement.EnforcementModel.TASK_FORCE,
    "warrant service officer": Agreement.EnforcementModel.WARRANT_SERVICE,
    "warrant service": Agreement.EnforcementModel.WARRANT_SERVICE,
    "wso": Agreement.EnforcementModel.WARRANT_SERVICE,
}
CITY_PREFIX_RE = re.compile(r"^(city|town|village|borough|township) of ", re.IGNORECASE)
CITY_SUFFIX_RE = re.compile(
    r"\s+(police department|police dept\.?|department of public safety|"
    r"public safety department|public safety|police|marshal'?s office|department)$",
    re.IGNORECASE,
)
ABBREVIATIONS = (("ft ", "fort "), ("st ", "saint "), ("mt ", "mount "))
COUNTY_IN_NAME_RE = re.compile(r"^(.*?\b(?:county|parish|borough))\b", re.IGNORECASE)


class ImportRefused(Exception):
    """The import was not applied; the message says why and what to do."""


@dataclass
class ImportResult:
    """What an import did (or, for a dry run, would do)."""

    report: dict
    snapshot: ImportSnapshot | None = None
    dry_run: bool = False


@dataclass
class _Planned:
    """One agency of the lists, matched (or not) to a place."""

    agency: Agency
    rows: list = field(default_factory=list)
    is_new: bool = False
    newly_unmatched: bool = False


class _DryRun(Exception):
    pass


def enforcement_model_for(text: str) -> str | None:
    """Return the agreement model a SUPPORT TYPE cell names, or None."""
    key = fold_name(text).removesuffix(" model").strip()
    return MODEL_WORDS.get(key)


def agency_kind_for(name: str, type_text: str) -> str:
    """Return the kind of agency its name and ICE's TYPE say it is."""
    folded = fold_name(name)
    if "sheriff" in folded:
        return Agency.Kind.SHERIFF
    if any(word in folded for word in ("jail", "correction", "detention")):
        return Agency.Kind.JAIL
    if fold_name(type_text).startswith("state"):
        return Agency.Kind.STATE
    if any(word in folded for word in ("police", "public safety", "marshal")):
        return Agency.Kind.POLICE
    return Agency.Kind.OTHER


def city_name_from_agency(name: str) -> str:
    """Return the city a municipal agency's name points to ("City of Deland Police" → Deland)."""
    text = CITY_PREFIX_RE.sub("", name.strip())
    previous = None
    while previous != text:
        previous = text
        text = CITY_SUFFIX_RE.sub("", text).strip()
    return text


def _city_keys(name: str) -> list[str]:
    key = fold_name(name)
    keys = [key]
    for short, long in ABBREVIATIONS:
        if key.startswith(short):
            keys.append(long + key[len(short) :])
        if key.startswith(long):
            keys.append(short + key[len(long) :])
    return keys


class _Places:
    """The places an import matches against, loaded once per state it needs."""

    def __init__(self):
        self.states_by_key = {}
        for state in Place.objects.filter(kind=Place.Kind.STATE):
            self.states_by_key[fold_name(state.name)] = state
            self.states_by_key[fold_name(state.abbreviation)] = state
        self._counties: dict[int, list[Place]] = {}
        self._cities: dict[int, dict[str, Place]] = {}
        self._postal: dict[int, dict[str, Counter]] = {}
        self._slugs: dict[int, set[str]] = {}
        self._all_zip_rows = None
        self.created_cities: list[Place] = []

    def state(self, text: str) -> Place | None:
        return self.states_by_key.get(fold_name(text))

    def counties(self, state: Place) -> list[Place]:
        if state.id not in self._counties:
            self._counties[state.id] = list(Place.objects.filter(kind="county", state=state))
        return self._counties[state.id]

    def county(self, state: Place, text: str) -> Place | None:
        folded = fold_name(text)
        if folded in NOT_A_COUNTY:
            return None
        counties = self.counties(state)
        exact = [c for c in counties if fold_name(c.name) == folded]
        if len(exact) == 1:
            return exact[0]
        key = place_search_key(text)
        by_key = [c for c in counties if c.search_key == key]
        if len(by_key) == 1:
            return by_key[0]
        with_word = [c for c in by_key if fold_name(c.name) == f"{folded} county"]
        return with_word[0] if len(with_word) == 1 else None

    def county_from_agency_name(self, state: Place, name: str) -> Place | None:
        match = COUNTY_IN_NAME_RE.match(name)
        if match:
            return self.county(state, match.group(1))
        return self.county(state, city_name_from_agency(name))

    def _postal_index(self, state: Place) -> dict[str, Counter]:
        if state.id not in self._postal:
            index: dict[str, Counter] = defaultdict(Counter)
            areas = ZipCodeArea.objects.filter(county__state=state, is_primary=True).values_list(
                "city_name", "county_id"
            )
            for city_name, county_id in areas:
                if city_name:
                    index[fold_name(city_name)][county_id] += 1
            self._postal[state.id] = index
        return self._postal[state.id]

    def _acceptable_city_county(self, state: Place, keys: list[str]) -> Place | None:
        # Postal "acceptable" city names (e.g. a town served by a bigger post office) are
        # only in the zipcodes package, not in our ZIP table.
        if self._all_zip_rows is None:
            import zipcodes

            self._all_zip_rows = zipcodes.list_all()
        votes = Counter()
        for row in self._all_zip_rows:
            if row["state"] != state.abbreviation:
                continue
            names = {fold_name(n) for n in row.get("acceptable_cities") or []}
            if names.intersection(keys) and row.get("county"):
                votes[row["county"]] += 1
        if not votes:
            return None
        return self.county(state, votes.most_common(1)[0][0])

    def city(self, state: Place, name: str, county_hint: Place | None) -> tuple[Place | None, str]:
        """Return (the city Place, created or found; or None and the reason)."""
        keys = _city_keys(name)
        if state.id not in self._cities:
            self._cities[state.id] = {
                fold_name(c.name): c for c in Place.objects.filter(kind="city", state=state)
            }
        cities = self._cities[state.id]
        for key in keys:
            if key in cities:
                return cities[key], ""
        county = county_hint
        postal_name = ""
        if county is None:
            index = self._postal_index(state)
            for key in keys:
                if key in index:
                    county_id = index[key].most_common(1)[0][0]
                    county = next(c for c in self.counties(state) if c.id == county_id)
                    postal_name = key
                    break
        if county is None:
            county = self._acceptable_city_county(state, keys)
        if county is None:
            return None, _("no city called “%(city)s” in %(state)s in the postal data") % {
                "city": name,
                "state": state.name,
            }
        display = name
        if postal_name and postal_name != fold_name(name):
            display = postal_name.title()
        city = Place(kind=Place.Kind.CITY, name=display, state=state, county=county)
        city.slug = self._unique_slug(state, display)
        city.save()
        self.created_cities.append(city)
        cities[fold_name(display)] = city
        for key in keys:
            cities.setdefault(key, city)
        return city, ""

    def _unique_slug(self, state: Place, name: str) -> str:
        if state.id not in self._slugs:
            self._slugs[state.id] = set(
                Place.objects.filter(state=state).values_list("slug", flat=True)
            )
        taken = self._slugs[state.id]
        base = slugify(name)[:120] or "city"
        slug = base if base not in taken else f"{base}-city"
        number = 2
        while slug in taken:
            slug = f"{base}-city-{number}"
            number += 1
        taken.add(slug)
        return slug


def _is_municipal(row: SheetRow) -> bool:
    folded_type = fold_name(row.type)
    if folded_type.startswith("municip") or folded_type == "city":
        return True
    # ICE sometimes labels a city police department "County" (Okeechobee Police Department).
    folded = fold_name(row.agency)
    return (
        folded_type == "county"
        and "police" in folded
        and not any(word in folded for word in ("county", "parish", "sheriff"))
    )


def _match(places: _Places, state: Place, row: SheetRow) -> tuple[Place | None, str]:
    """Return the place an agency polices, or None and why it could not be told."""
    folded_type = fold_name(row.type)
    if folded_type.startswith("state"):
        return state, ""
    if _is_municipal(row):
        city_name = city_name_from_agency(row.agency)
        if not city_name:
            return None, _("the agency name does not name a city")
        county_hint = places.county(state, row.county)
        return places.city(state, city_name, county_hint)
    if folded_type == "county":
        county = places.county(state, row.county) or places.county_from_agency_name(
            state, row.agency
        )
        if county:
            return county, ""
        return None, _("no county called “%(county)s” in %(state)s") % {
            "county": row.county or row.agency,
            "state": state.name,
        }
    return None, _("the TYPE “%(type)s” is not County, Municipality or State Agency") % {
        "type": row.type
    }


def _answer_signature(answer) -> tuple:
    if answer is None:
        return ()
    facts = answer.active + answer.inside + answer.pending + answer.ended
    return tuple(
        sorted(
            (f.agency_name, f.enforcement_model, f.status, str(f.signed_on), f.scope) for f in facts
        )
    )


def _answer_detail(before, after, place: Place, as_of: datetime.date) -> str:
    def index(answer, statuses):
        facts = {}
        if answer is None:
            return facts
        for fact in answer.active + answer.inside + answer.pending + answer.ended:
            if fact.status in statuses:
                facts[(fact.agency_name, fact.enforcement_model)] = fact
        return facts

    active = (Agreement.Status.ACTIVE,)
    pending = (Agreement.Status.PENDING,)
    was, now = index(before, active), index(after, active)
    was_pending, now_pending = index(before, pending), index(after, pending)
    lines = [
        _("ICE's list of %(date)s changes the answer for %(place)s.")
        % {"date": as_of.isoformat(), "place": place}
    ]
    for key, fact in sorted(now.items()):
        if key not in was:
            lines.append(
                _("New: %(agency)s has a 287(g) agreement (%(model)s).")
                % {"agency": fact.agency_name, "model": fact.model_label}
            )
        elif was[key].signed_on != fact.signed_on:
            lines.append(
                _("Changed: the %(model)s agreement of %(agency)s now says signed on %(date)s.")
                % {
                    "agency": fact.agency_name,
                    "model": fact.model_label,
                    "date": fact.signed_on or _("an unknown date"),
                }
            )
    for key, fact in sorted(was.items()):
        if key not in now:
            lines.append(
                _("Ended: %(agency)s's %(model)s agreement is no longer in ICE's list.")
                % {"agency": fact.agency_name, "model": fact.model_label}
            )
    for key, fact in sorted(now_pending.items()):
        if key not in was_pending:
            lines.append(
                _("Pending: %(agency)s has asked for a 287(g) agreement (%(model)s).")
                % {"agency": fact.agency_name, "model": fact.model_label}
            )
    for key, fact in sorted(was_pending.items()):
        if key not in now_pending and key not in now:
            lines.append(
                _("No longer pending: %(agency)s (%(model)s).")
                % {"agency": fact.agency_name, "model": fact.model_label}
            )
    return "\n".join(lines)


def _places_touched(agencies: list[Agency]) -> set[int]:
    """Return the ids of every place whose answer an agency's agreements are part of."""
    ids: set[int] = set()
    state_ids: set[int] = set()
    county_ids: set[int] = set()
    for agency in agencies:
        place = agency.place
        if place is None:
            continue
        ids.add(place.id)
        if place.kind == Place.Kind.STATE:
            state_ids.add(place.id)
        else:
            ids.add(place.state_id)
            if place.kind == Place.Kind.COUNTY:
                county_ids.add(place.id)
            elif place.county_id:
                ids.add(place.county_id)
    if state_ids:
        ids.update(Place.objects.filter(state_id__in=state_ids).values_list("id", flat=True))
    if county_ids:
        ids.update(Place.objects.filter(county_id__in=county_ids).values_list("id", flat=True))
    return ids


def _entry(agency: Agency, model: str, **extra) -> dict:
    return {
        "state": agency.state.name,
        "agency": agency.name,
        "model": str(Agreement.EnforcementModel(model).label),
        **extra,
    }


def ice_lists_import(
    *,
    participating: SheetFile,
    pending: SheetFile | None = None,
    as_of: datetime.date | None = None,
    dry_run: bool = False,
    force: bool = False,
    user=None,
) -> ImportResult:
    """Import ICE's participating (and optionally pending) list and return the report.

    Raise ``SheetError`` for a file that is not one of ICE's lists and ``ImportRefused`` for a
    file older than the latest import (unless ``force``); either way nothing is written. A dry
    run returns the same report and writes nothing.
    """
    rows = read_sheet(participating)
    pending_rows = read_sheet(pending, pending=True) if pending else None
    date_from_name = file_date(participating.name)
    if date_from_name:
        as_of, as_of_source = date_from_name, ImportSnapshot.DateSource.FILE_NAME
    elif as_of:
        as_of_source = ImportSnapshot.DateSource.OPTION
    else:
        raise SheetError(
            _(
                "The date of %(name)s is not in its name (ICE names files like "
                "participatingAgencies05162025am.xlsx). Give the date of the list."
            )
            % {"name": participating.name}
        )
    result = ImportResult(report={}, dry_run=dry_run)
    try:
        with transaction.atomic():
            _import(
                result,
                participating=participating,
                pending=pending,
                rows=rows,
                pending_rows=pending_rows,
                as_of=as_of,
                as_of_source=as_of_source,
                force=force,
                user=user,
            )
            if dry_run or result.report.get("identical_to"):
                raise _DryRun
    except _DryRun:
        result.snapshot = None
    return result


def _import(
    result, *, participating, pending, rows, pending_rows, as_of, as_of_source, force, user
):
    # Imports run one at a time: the previous snapshot must not change under this one.
    latest = ImportSnapshot.objects.select_for_update().order_by("-as_of", "-imported_at").first()
    if latest and as_of < latest.as_of and not force:
        raise ImportRefused(
            _(
                "%(name)s is the list of %(date)s, older than the latest import (%(latest)s, "
                "from %(latest_date)s). Nothing was changed. Force it only if you mean to go back."
            )
            % {
                "name": participating.name,
                "date": as_of.isoformat(),
                "latest": latest.file_name,
                "latest_date": latest.as_of.isoformat(),
            }
        )
    fingerprint = rows_fingerprint(rows)
    pending_fingerprint = rows_fingerprint(pending_rows) if pending_rows is not None else ""
    identical = (
        latest is not None
        and latest.as_of == as_of
        and latest.file_sha256 == fingerprint
        and (pending_rows is None or latest.pending_sha256 == pending_fingerprint)
    )
    places = _Places()
    report = {
        "file_name": participating.name,
        "pending_file_name": pending.name if pending else "",
        "as_of": as_of.isoformat(),
        "as_of_source": as_of_source,
        "previous": (
            {"id": latest.id, "file_name": latest.file_name, "as_of": latest.as_of.isoformat()}
            if latest
            else None
        ),
        "identical_to": latest.id if identical else None,
        "rows_read": len(rows),
        "pending_rows_read": len(pending_rows) if pending_rows is not None else None,
        "forced": bool(force and latest and as_of < latest.as_of),
    }
    unmatched: list[dict] = []
    notes: list[dict] = []

    agencies_by_name: dict[tuple[int, str], Agency] = {}
    for agency in Agency.objects.exclude(ice_name="").select_related("place", "state"):
        agencies_by_name[(agency.state_id, agency.ice_name)] = agency
        agencies_by_name.setdefault((agency.state_id, fold_name(agency.ice_name)), agency)
    planned: dict[int, _Planned] = {}  # by id(agency)
    new_agencies: list[Agency] = []
    rematched: list[Agency] = []
    wanted_active: dict[tuple[int, str], tuple[SheetRow, Agency]] = {}
    wanted_pending: dict[tuple[int, str], tuple[SheetRow, Agency]] = {}

    def unmatched_row(file, row, reason, agency=None):
        unmatched.append(
            {
                "file": file,
                "row": row.row_number,
                "agency": row.agency,
                "state": row.state,
                "reason": str(reason),
                "_agency": agency,
            }
        )

    def agency_for(file, row) -> Agency | None:
        state = places.state(row.state)
        if state is None:
            unmatched_row(file, row, _("the state “%(state)s” is not known") % {"state": row.state})
            return None
        if not row.agency:
            unmatched_row(file, row, _("the row has no agency name"))
            return None
        agency = agencies_by_name.get((state.id, row.agency)) or agencies_by_name.get(
            (state.id, fold_name(row.agency))
        )
        if agency is None:
            place, problem = _match(places, state, row)
            agency = Agency(
                name=row.agency,
                ice_name=row.agency,
                kind=agency_kind_for(row.agency, row.type),
                state=state,
                place=place,
                match_problem=str(problem)[:255],
            )
            agencies_by_name[(state.id, row.agency)] = agency
            agencies_by_name[(state.id, fold_name(row.agency))] = agency
            new_agencies.append(agency)
        elif agency.place_id is None and id(agency) not in planned:
            # Unmatched before: the places may know it now (an organizer may have added it).
            place, problem = _match(places, state, row)
            if place is not None:
                agency.place, agency.match_problem = place, ""
                rematched.append(agency)
        planned.setdefault(id(agency), _Planned(agency=agency)).rows.append(row)
        if agency.place_id is None and agency.place is None:
            unmatched_row(file, row, agency.match_problem or _("no place matched"), agency)
        return agency

    def plan_rows(file, sheet_rows, wanted):
        for row in sheet_rows:
            agency = agency_for(file, row)
            model = enforcement_model_for(row.support_type)
            if agency is None:
                continue
            if model is None:
                unmatched_row(
                    file,
                    row,
                    _("the SUPPORT TYPE “%(model)s” is not a 287(g) model")
                    % {"model": row.support_type},
                    agency,
                )
                continue
            key = (id(agency), model)
            if key in wanted:
                notes.append(
                    {
                        "file": file,
                        "row": row.row_number,
                        "note": _("same agency and model as row %(row)s; that row is used")
                        % {"row": wanted[key][0].row_number},
                    }
                )
                continue
            wanted[key] = (row, agency)

    plan_rows(UnmatchedRow.File.PARTICIPATING, rows, wanted_active)
    if pending_rows is not None:
        plan_rows(UnmatchedRow.File.PENDING, pending_rows, wanted_pending)

    existing_agreements = {
        (a.agency_id, a.enforcement_model): a
        for a in Agreement.objects.select_related("agency", "agency__state", "agency__place")
    }

    # Write the new agencies, so every key below has an agency id.
    bulk_create_with_history(new_agencies, Agency, default_user=user)
    for agency in new_agencies:
        if agency.place is None:
            review_flag_raise(
                place=agency.state,
                reason=ReviewFlag.Reason.UNMATCHED_AGENCY,
                detail=_("%(agency)s (%(state)s): %(problem)s.")
                % {
                    "agency": agency.name,
                    "state": agency.state.name,
                    "problem": agency.match_problem,
                },
                changed_on=as_of,
            )

    by_key_active = {(v[1].pk, m): v for (_i, m), v in wanted_active.items()}
    by_key_pending = {(v[1].pk, m): v for (_i, m), v in wanted_pending.items()}

    before_active = {k for k, a in existing_agreements.items() if a.status == "active"}
    before_pending = {k for k, a in existing_agreements.items() if a.status == "pending"}
    now_active = set(by_key_active)
    if pending_rows is not None:
        now_pending = set(by_key_pending) - now_active
    else:
        now_pending = before_pending - now_active
    added = now_active - before_active
    ended = before_active - now_active

    # A single agreement of an agency swapped for another model is one change, not two.
    model_changes = {}
    added_by_agency, ended_by_agency = defaultdict(list), defaultdict(list)
    for key in added:
        added_by_agency[key[0]].append(key)
    for key in ended:
        ended_by_agency[key[0]].append(key)
    for agency_id, added_keys in added_by_agency.items():
        ended_keys = ended_by_agency.get(agency_id, [])
        if len(added_keys) == 1 and len(ended_keys) == 1:
            if added_keys[0] not in existing_agreements and ended_keys[0] not in now_pending:
                model_changes[added_keys[0]] = ended_keys[0]

    # The answers before anything about agreements is written, for the places that change.
    dates_changed = set()
    for key in now_active & before_active:
        signed_on, invalid = parse_signed(by_key_active[key][0], as_of=as_of)
        agreement = existing_agreements[key]
        if agreement.signed_on != signed_on or agreement.signed_on_is_invalid != invalid:
            dates_changed.add(key)
    pending_changed = (now_pending ^ before_pending) if pending_rows is not None else set()
    touched = list(rematched)
    for key in added | ended | dates_changed | pending_changed:
        if key in existing_agreements:
            touched.append(existing_agreements[key].agency)
        else:
            touched.append((by_key_active.get(key) or by_key_pending[key])[1])
    candidates = {
        p.id: p
        for p in Place.objects.filter(id__in=_places_touched(touched)).select_related("state")
    }
    # With no agreements yet (a first import), every answer before is empty: skip the queries.
    before_answers = (
        {pid: place_answer(place=p) for pid, p in candidates.items()}
        if existing_agreements
        else {pid: None for pid in candidates}
    )
    for agency in rematched:
        agency.save()

    diff = {"added": [], "ended": [], "changed": [], "pending_added": [], "pending_removed": []}
    to_create: list[Agreement] = []
    seen_ids: list[int] = []
    links_updated = 0
    invalid_dates = 0

    def apply_row(agreement: Agreement, row: SheetRow) -> tuple[bool, bool]:
        """Set the row's facts on ``agreement``; return (signing date changed, link changed)."""
        nonlocal invalid_dates
        signed_on, invalid = parse_signed(row, as_of=as_of)
        if invalid:
            invalid_dates += 1
            notes.append(
                {
                    "file": "participating",
                    "row": row.row_number,
                    "note": _("impossible signing date “%(date)s”: kept as published, not used")
                    % {"date": row.signed},
                }
            )
        published = row.signed if invalid else ""
        date_changed = agreement.signed_on != signed_on or agreement.signed_on_is_invalid != invalid
        agreement.signed_on = signed_on
        agreement.signed_on_is_invalid = invalid
        agreement.signed_on_as_published = published[:40]
        link_changed = agreement.agreement_url != row.moa_url[:500]
        agreement.agreement_url = row.moa_url[:500]
        return date_changed, link_changed

    for key, (row, agency) in sorted(by_key_active.items(), key=lambda kv: kv[1][0].row_number):
        model = key[1]
        if key in model_changes:
            agreement = existing_agreements[model_changes[key]]
            old_model = agreement.enforcement_model
            agreement.enforcement_model = model
            apply_row(agreement, row)
            agreement.status = Agreement.Status.ACTIVE
            agreement.ended_on = None
            agreement.changed_on = as_of
            agreement.last_seen_on = as_of
            agreement.save()
            diff["changed"].append(
                _entry(
                    agency,
                    model,
                    row=row.row_number,
                    what="model",
                    before=str(Agreement.EnforcementModel(old_model).label),
                    after=str(Agreement.EnforcementModel(model).label),
                )
            )
            continue
        agreement = existing_agreements.get(key)
        if agreement is None:
            agreement = Agreement(
                agency=agency,
                enforcement_model=model,
                status=Agreement.Status.ACTIVE,
                first_seen_on=as_of,
                last_seen_on=as_of,
                changed_on=as_of,
            )
            apply_row(agreement, row)
            to_create.append(agreement)
            diff["added"].append(
                _entry(agency, model, row=row.row_number, signed_on=str(agreement.signed_on or ""))
            )
            continue
        was_signed = agreement.signed_on
        date_changed, link_changed = apply_row(agreement, row)
        status_changed = agreement.status != Agreement.Status.ACTIVE
        if status_changed:
            diff["added"].append(
                _entry(
                    agency,
                    model,
                    row=row.row_number,
                    signed_on=str(agreement.signed_on or ""),
                    was=agreement.status,
                )
            )
        elif date_changed:
            diff["changed"].append(
                _entry(
                    agency,
                    model,
                    row=row.row_number,
                    what="signed_on",
                    before=str(was_signed or ""),
                    after=str(agreement.signed_on or row.signed),
                )
            )
        if status_changed or date_changed or link_changed:
            links_updated += link_changed
            if status_changed or date_changed:
                agreement.changed_on = as_of
            agreement.status = Agreement.Status.ACTIVE
            agreement.ended_on = None
            agreement.last_seen_on = max(as_of, agreement.last_seen_on or as_of)
            agreement.save()
        else:
            seen_ids.append(agreement.pk)

    for key in sorted(ended - set(model_changes.values())):
        agreement = existing_agreements[key]
        agreement.status = (
            Agreement.Status.PENDING if key in now_pending else Agreement.Status.ENDED
        )
        agreement.ended_on = as_of
        agreement.changed_on = as_of
        agreement.save()
        diff["ended"].append(
            _entry(agreement.agency, key[1], last_seen_on=str(agreement.last_seen_on or ""))
        )

    if pending_rows is not None:
        for key in sorted(now_pending - before_pending):
            row, agency = by_key_pending[key]
            agreement = existing_agreements.get(key)
            if agreement is None:
                to_create.append(
                    Agreement(
                        agency=agency,
                        enforcement_model=key[1],
                        status=Agreement.Status.PENDING,
                        first_seen_on=as_of,
                        last_seen_on=as_of,
                        changed_on=as_of,
                    )
                )
            elif agreement.status != Agreement.Status.PENDING:
                agreement.status = Agreement.Status.PENDING
                agreement.changed_on = as_of
                agreement.last_seen_on = as_of
                agreement.save()
            diff["pending_added"].append(_entry(agency, key[1], row=row.row_number))
        for key in sorted(before_pending - now_pending):
            agreement = existing_agreements[key]
            diff["pending_removed"].append(
                _entry(agreement.agency, key[1], now_active=key in now_active)
            )
            if key not in now_active:
                # A request that ICE no longer lists was never in force: nothing to end.
                agreement.delete()
        seen_pending = [
            existing_agreements[k].pk
            for k in now_pending & before_pending
            if existing_agreements[k].last_seen_on != as_of
        ]
        Agreement.objects.filter(pk__in=seen_pending).update(last_seen_on=as_of)

    bulk_create_with_history(to_create, Agreement, default_user=user)
    # Being seen again is not a change of facts: no history row for it.
    Agreement.objects.filter(pk__in=seen_ids).exclude(last_seen_on__gte=as_of).update(
        last_seen_on=as_of
    )

    # The answers after: flag every place whose answer changed.
    for city in places.created_cities:
        candidates.setdefault(city.id, city)
    flagged = []
    open_flags = set(
        ReviewFlag.objects.filter(
            place_id__in=candidates,
            reason=ReviewFlag.Reason.ANSWER_CHANGED,
            resolved_at__isnull=True,
        ).values_list("place_id", flat=True)
    )
    new_flags = []
    for place_id, place in candidates.items():
        after = place_answer(place=place)
        before = before_answers.get(place_id)
        if _answer_signature(before) == _answer_signature(after):
            continue
        detail = _answer_detail(before, after, place, as_of)
        if place_id in open_flags:
            review_flag_raise(
                place=place,
                reason=ReviewFlag.Reason.ANSWER_CHANGED,
                detail=detail,
                changed_on=as_of,
            )
        else:
            # One insert for the many places a first import (or a statewide agency) touches.
            new_flags.append(
                ReviewFlag(
                    place=place,
                    reason=ReviewFlag.Reason.ANSWER_CHANGED,
                    detail=detail,
                    changed_on=as_of,
                )
            )
        flagged.append(str(place))
    ReviewFlag.objects.bulk_create(new_flags, batch_size=500)

    any_change = any(diff.values()) or new_agencies or rematched or links_updated
    if any_change:
        public_content_changed()

    model_counts = Counter(
        str(Agreement.EnforcementModel(model).label) for (_i, model) in wanted_active
    )
    state_counts = Counter(agency.state.name for _row, agency in wanted_active.values())
    pending_counts = Counter(
        str(Agreement.EnforcementModel(model).label) for (_i, model) in wanted_pending
    )
    report.update(
        {
            "by_model": dict(sorted(model_counts.items())),
            "by_state": dict(sorted(state_counts.items())),
            "pending_by_model": dict(sorted(pending_counts.items())),
            "agencies_new": len(new_agencies),
            "cities_created": [str(c) for c in places.created_cities],
            "matched_rows": len(rows) + len(pending_rows or []) - len(unmatched),
            "unmatched": [{k: v for k, v in u.items() if k != "_agency"} for u in unmatched],
            "notes": notes,
            "invalid_dates": invalid_dates,
            "links_updated": links_updated,
            "diff": diff,
            "places_flagged": sorted(flagged),
            "active_agreements": Agreement.objects.filter(status="active").count(),
        }
    )
    result.report = report
    if report["identical_to"]:
        return
    snapshot = ImportSnapshot.objects.create(
        file_name=participating.name[:255],
        file_sha256=fingerprint,
        pending_file_name=pending.name[:255] if pending else "",
        pending_sha256=pending_fingerprint,
        as_of=as_of,
        as_of_source=as_of_source,
        rows=[row.as_dict() for row in rows],
        pending_rows=[row.as_dict() for row in pending_rows or []],
        report=report,
        forced=report["forced"],
        imported_by=user,
    )
    UnmatchedRow.objects.bulk_create(
        UnmatchedRow(
            snapshot=snapshot,
            file=u["file"],
            row_number=u["row"],
            agency=u["_agency"] if u["_agency"] is not None and u["_agency"].pk else None,
            agency_name=u["agency"][:255],
            state_name=u["state"][:60],
            reason=u["reason"][:255],
        )
        for u in unmatched
    )
    result.snapshot = snapshot

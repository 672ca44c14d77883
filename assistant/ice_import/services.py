"""Import ICE's 287(g) lists, in named steps each testable alone.

    lists_read ──▶ rows_match ──▶ import_plan ──▶ import_apply ──▶ answers_flag ──▶ ImportReport
    (bounds,        (matching.py   (pure: before     (agencies,       (set-wise: the
     sheets.py)      on the DB's    and after sets)   agreements)      places whose answer
                     places)                                           changed)

``ice_lists_import`` runs them in one transaction. A dry run (``--dry-run``, the admin
preview) does all the work and rolls it back, so the report it returns is exactly what
applying would do. No Place is ever created here: rows are placed on the states, counties and
cities loaded from the gazetteer, or listed as unplaced with the reason.
"""

import datetime
import logging
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Coalesce, Concat, Greatest
from django.utils import timezone
from django.utils.translation import gettext as _
from simple_history.utils import bulk_create_with_history

from assistant.content.models import ReviewFlag
from assistant.content.publication import public_content_changed
from assistant.content.review import review_flag_raise
from assistant.ice_import import matching
from assistant.ice_import.bounds import SheetLimits, SheetTooLarge, check_spreadsheet_bounds
from assistant.ice_import.fetch import (
    ICE_287G_PAGE_URL_DEFAULT,
    FetchError,
    FetchOptions,
    fetch_new_lists,
)
from assistant.ice_import.history import PARTICIPATING as PARTICIPATING_LIST
from assistant.ice_import.history import parse_list_name
from assistant.ice_import.models import (
    AgencyAlias,
    FetchCheck,
    FetchedFile,
    HeldList,
    ImportSnapshot,
    UnmatchedRow,
)
from assistant.ice_import.quality import (
    MISSING_COLUMNS,
    QualityLimits,
    Verdict,
    assess_list,
    is_header_like,
)
from assistant.ice_import.report import (
    AgreementEntry,
    Diff,
    ImportReport,
    NoteEntry,
    PlaceRef,
    PreviousImport,
    RenamedEntry,
    SpellingEntry,
    UnplacedEntry,
)
from assistant.ice_import.selectors import PlaceIds, match_index
from assistant.ice_import.sheets import (
    PARTICIPATING_HEADERS,
    SheetError,
    SheetFile,
    SheetRow,
    file_date,
    header_row_index,
    parse_signed,
    read_sheet,
    rows_fingerprint,
)
from assistant.places.models import Agency, Agreement, Place, fold_name

logger = logging.getLogger(__name__)

MODEL_WORDS = {
    "jail enforcement": Agreement.EnforcementModel.JAIL_ENFORCEMENT,
    "jem": Agreement.EnforcementModel.JAIL_ENFORCEMENT,
    "task force": Agreement.EnforcementModel.TASK_FORCE,
    "tfm": Agreement.EnforcementModel.TASK_FORCE,
    "warrant service officer": Agreement.EnforcementModel.WARRANT_SERVICE,
    "warrant service": Agreement.EnforcementModel.WARRANT_SERVICE,
    "wso": Agreement.EnforcementModel.WARRANT_SERVICE,
}
AGENCY_KINDS = {
    matching.SHERIFF: Agency.Kind.SHERIFF,
    matching.POLICE: Agency.Kind.POLICE,
    matching.STATE_AGENCY: Agency.Kind.STATE,
    matching.JAIL: Agency.Kind.JAIL,
    matching.REGIONAL_JAIL: Agency.Kind.JAIL,
    matching.CONSTABLE: Agency.Kind.CONSTABLE,
    matching.UNIVERSITY: Agency.Kind.UNIVERSITY,
    matching.MARSHAL: Agency.Kind.MARSHAL,
    matching.OTHER: Agency.Kind.OTHER,
}
PARTICIPATING = UnmatchedRow.File.PARTICIPATING
PENDING = UnmatchedRow.File.PENDING
ACTIVE = Agreement.Status.ACTIVE
PENDING_STATUS = Agreement.Status.PENDING
ENDED = Agreement.Status.ENDED
# A new spelling of a known agency's name: this many letters apart at most (and 8 letters long).
RENAME_MAX_DISTANCE = 2


class ImportRefused(Exception):
    """The import was not applied; the message says why and what to do."""


# What the command, the admin and the fetch catch: the message is for the organizer.
IMPORT_ERRORS = (SheetError, SheetTooLarge, ImportRefused)


@dataclass
class ImportResult:
    """What an import did (or, for a dry run, would do)."""

    report: ImportReport
    snapshot: ImportSnapshot | None = None
    dry_run: bool = False


def enforcement_model_for(text: str) -> str | None:
    """Return the agreement model a SUPPORT TYPE cell names, or None."""
    key = fold_name(text).removesuffix(" model").strip()
    return MODEL_WORDS.get(key)


def _model_label(model: str) -> str:
    return str(Agreement.EnforcementModel(model).label)


# ---------------------------------------------------------------------------------------------
# Step 1: read the sheets, within bounds


@dataclass(frozen=True)
class ReadLists:
    """ICE's lists as read: the rows, the date of the list and where the date came from."""

    participating_name: str
    rows: list[SheetRow]
    pending_name: str
    pending_rows: list[SheetRow] | None
    as_of: datetime.date
    as_of_source: str

    @property
    def fingerprint(self) -> str:
        return rows_fingerprint(self.rows)

    @property
    def pending_fingerprint(self) -> str:
        return rows_fingerprint(self.pending_rows) if self.pending_rows is not None else ""


def sheet_limits() -> SheetLimits:
    """Return the spreadsheet bounds the settings give (``ICE_SHEET_MAX_BYTES``…)."""
    defaults = SheetLimits()
    return SheetLimits(
        max_file_bytes=getattr(settings, "ICE_SHEET_MAX_BYTES", defaults.max_file_bytes),
        max_uncompressed_bytes=getattr(
            settings, "ICE_SHEET_MAX_UNCOMPRESSED_BYTES", defaults.max_uncompressed_bytes
        ),
        max_member_bytes=getattr(
            settings, "ICE_SHEET_MAX_UNCOMPRESSED_BYTES", defaults.max_member_bytes
        ),
        max_rows=getattr(settings, "ICE_SHEET_MAX_ROWS", defaults.max_rows),
        max_columns=getattr(settings, "ICE_SHEET_MAX_COLUMNS", defaults.max_columns),
        max_cells=getattr(settings, "ICE_SHEET_MAX_CELLS", defaults.max_cells),
    )


def lists_read(
    *,
    participating: SheetFile,
    pending: SheetFile | None = None,
    as_of: datetime.date | None = None,
    limits: SheetLimits | None = None,
) -> ReadLists:
    """Return ICE's lists read, or raise ``SheetTooLarge`` / ``SheetError`` naming the problem.

    Each file is checked against the bounds before anything parses it.
    """
    limits = limits or sheet_limits()
    for sheet in (participating, pending):
        if sheet is not None:
            check_spreadsheet_bounds(sheet.data, sheet.name, limits)
    # What costs nothing to check is checked before the sheets are read.
    date_from_name = file_date(participating.name) or _history_date(participating.name)
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
    rows = read_sheet(participating)
    pending_rows = read_sheet(pending, pending=True) if pending else None
    return ReadLists(
        participating_name=participating.name,
        rows=rows,
        pending_name=pending.name if pending else "",
        pending_rows=pending_rows,
        as_of=as_of,
        as_of_source=as_of_source,
    )


def _history_date(name: str) -> datetime.date | None:
    parsed = parse_list_name(name)  # "…07112025am_b.xlsx"
    return parsed.date if parsed else None


# ---------------------------------------------------------------------------------------------
# Step 2: match the rows to places


@dataclass(frozen=True)
class MatchedRow:
    """A row with where the matcher placed it, as Place ids, and its 287(g) model."""

    file: str
    row: SheetRow
    placement: matching.Placement
    model: str | None
    place_id: int | None = None
    other_place_ids: tuple[int, ...] = ()

    @property
    def agency_key(self) -> tuple[str, str]:
        return (self.placement.state or self.row.state, fold_name(self.row.agency))


def rows_match(
    *, lists: ReadLists, index: matching.MatchIndex, place_ids: PlaceIds
) -> list[MatchedRow]:
    """Return every row of the lists placed by the matcher (or unplaced, with the reason)."""
    matched, seen = [], {}
    files = [(PARTICIPATING, lists.rows)]
    if lists.pending_rows is not None:
        files.append((PENDING, lists.pending_rows))
    for file, rows in files:
        for row in rows:
            key = (row.state, row.agency, row.type, row.county)
            if key not in seen:
                placement = matching.match_row(row, index)
                if placement.placed and not row.agency:
                    placement = matching.Placement(
                        kind=None,
                        state=placement.state,
                        method=matching.UNPLACED,
                        reason=_("the row has no agency name"),
                    )
                seen[key] = (placement, *place_ids.resolve(placement))
            placement, place_id, others = seen[key]
            if placement.placed and place_id is None:
                placement = matching.Placement(
                    kind=None,
                    state=placement.state,
                    method=matching.UNPLACED,
                    reason=_("the place the matcher gave is not in the database"),
                    agency_kind=placement.agency_kind,
                )
            matched.append(
                MatchedRow(
                    file=file,
                    row=row,
                    placement=placement,
                    model=enforcement_model_for(row.support_type),
                    place_id=place_id,
                    other_place_ids=others,
                )
            )
    return matched


# ---------------------------------------------------------------------------------------------
# Step 3: plan the diff (pure)

AgencyKey = tuple[str, str]  # (state's postal code, folded ICE name)
Key = tuple[str, str, str]  # (state, folded ICE name, model)


@dataclass(frozen=True)
class Facts:
    """An agreement's facts as ICE's list gives them (after), or as they are kept (before)."""

    status: str
    signed_on: datetime.date | None = None
    signed_on_is_invalid: bool = False
    agreement_url: str = ""


@dataclass
class ImportPlan:
    """What applying a list changes, keyed by (state, folded agency name, model)."""

    added: list[Key] = field(default_factory=list)  # new, or back in force
    ended: list[Key] = field(default_factory=list)  # in force before, not in this list
    changed_date: list[Key] = field(default_factory=list)
    changed_model: dict[Key, Key] = field(default_factory=dict)  # after → before
    pending_added: list[Key] = field(default_factory=list)
    pending_removed: list[Key] = field(default_factory=list)
    renamed: dict[AgencyKey, AgencyKey] = field(default_factory=dict)  # after → before
    seen: list[Key] = field(default_factory=list)  # in force before and now, same facts
    pending_seen: list[Key] = field(default_factory=list)


def _rename_pairs(
    gone: dict[AgencyKey, tuple], new: dict[AgencyKey, tuple]
) -> dict[AgencyKey, AgencyKey]:
    """Pair agencies that left the list with agencies new to it: the same agency respelled.

    ``gone`` and ``new`` map an agency to (its models, its place id). A pair has the same
    state and the same models, and either names a few letters apart or the same place.
    """
    pairs: dict[AgencyKey, AgencyKey] = {}
    taken: set[AgencyKey] = set()
    for new_key in sorted(new):
        new_models, new_place = new[new_key]
        best, best_distance = None, RENAME_MAX_DISTANCE + 1
        for old_key in sorted(gone):
            if old_key in taken or old_key[0] != new_key[0]:
                continue
            old_models, old_place = gone[old_key]
            if old_models != new_models:
                continue
            distance = matching.edit_distance(old_key[1], new_key[1], RENAME_MAX_DISTANCE)
            close = distance <= RENAME_MAX_DISTANCE and min(len(old_key[1]), len(new_key[1])) >= 8
            if close and distance < best_distance:
                best, best_distance = old_key, distance
        if best is not None:
            pairs[new_key] = best
            taken.add(best)
    return pairs


def import_plan(
    *,
    before: dict[Key, Facts],
    active: dict[Key, Facts],
    pending: dict[Key, Facts] | None,
    known_agencies: set[AgencyKey],
) -> ImportPlan:
    """Return what applying a list changes: the diff of the agreements before and after.

    ``before``: every agreement kept (any status). ``active``/``pending``: the agreements of
    the list (``pending`` None when no pending list came with it: pending agreements are then
    left as they are). ``known_agencies``: every agency already in the database; an agency of
    the list that is not known and matches one that left the list is a respelling (renamed).
    """
    plan = ImportPlan()
    listed_agencies = {k[:2] for k in active} | {k[:2] for k in (pending or {})}
    gone, new = defaultdict(set), defaultdict(set)
    for key, facts in before.items():
        if facts.status != ENDED and key[:2] not in listed_agencies:
            gone[key[:2]].add(key[2])
    for key in list(active) + list(pending or {}):
        if key[:2] not in known_agencies:
            new[key[:2]].add(key[2])
    plan.renamed = _rename_pairs(
        {k: (frozenset(v), None) for k, v in gone.items()},
        {k: (frozenset(v), None) for k, v in new.items()},
    )

    def old_key(key: Key) -> Key:
        agency = plan.renamed.get(key[:2])
        return (*agency, key[2]) if agency else key

    active = {old_key(k): v for k, v in active.items()}
    pending = {old_key(k): v for k, v in pending.items()} if pending is not None else None

    before_active = {k for k, f in before.items() if f.status == ACTIVE}
    before_pending = {k for k, f in before.items() if f.status == PENDING_STATUS}
    now_active = set(active)
    now_pending = (set(pending) if pending is not None else before_pending) - now_active
    added = now_active - before_active
    ended = before_active - now_active

    # One agreement of an agency swapped for another model is one change, not two.
    added_by_agency, ended_by_agency = defaultdict(list), defaultdict(list)
    for key in added:
        added_by_agency[key[:2]].append(key)
    for key in ended:
        ended_by_agency[key[:2]].append(key)
    for agency, added_keys in added_by_agency.items():
        ended_keys = ended_by_agency.get(agency, [])
        if len(added_keys) == 1 and len(ended_keys) == 1:
            if added_keys[0] not in before and ended_keys[0] not in now_pending:
                plan.changed_model[added_keys[0]] = ended_keys[0]
    plan.added = sorted(added - set(plan.changed_model))
    plan.ended = sorted(ended - set(plan.changed_model.values()))
    for key in sorted(now_active & before_active):
        was, now = before[key], active[key]
        if (was.signed_on, was.signed_on_is_invalid) != (now.signed_on, now.signed_on_is_invalid):
            plan.changed_date.append(key)
        else:
            plan.seen.append(key)
    if pending is not None:
        plan.pending_added = sorted(now_pending - before_pending)
        plan.pending_removed = sorted(before_pending - now_pending)
    plan.pending_seen = sorted(now_pending & before_pending)
    return plan


# ---------------------------------------------------------------------------------------------
# The import


def ice_lists_import(
    *,
    participating: SheetFile,
    pending: SheetFile | None = None,
    as_of: datetime.date | None = None,
    dry_run: bool = False,
    force: bool = False,
    user=None,
    index: matching.MatchIndex | None = None,
) -> ImportResult:
    """Import ICE's participating (and optionally pending) list and return the report.

    Raise ``SheetTooLarge`` for a file beyond the bounds, ``SheetError`` for a file that is
    not one of ICE's lists and ``ImportRefused`` for a file older than the latest import
    (unless ``force``); either way nothing is written. A dry run returns the same report and
    writes nothing. ``index``: the places to match against, when the caller imports many lists
    (the history) and built it once.
    """
    lists = lists_read(participating=participating, pending=pending, as_of=as_of)
    try:
        with transaction.atomic():
            result = _import(lists, dry_run=dry_run, force=force, user=user, index=index)
            if dry_run or result.report.identical_to:
                raise _Rollback(result)
    except _Rollback as rollback:
        rollback.result.snapshot = None
        return rollback.result
    return result


class _Rollback(Exception):
    def __init__(self, result):
        self.result = result


def _import(lists: ReadLists, *, dry_run, force, user, index) -> ImportResult:
    as_of = lists.as_of
    # Imports run one at a time: the previous snapshot must not change under this one.
    latest = ImportSnapshot.objects.select_for_update().order_by("-as_of", "-imported_at").first()
    if latest and as_of < latest.as_of and not force:
        raise ImportRefused(
            _(
                "%(name)s is the list of %(date)s, older than the latest import (%(latest)s, "
                "from %(latest_date)s). Nothing was changed. Force it only if you mean to go back."
            )
            % {
                "name": lists.participating_name,
                "date": as_of.isoformat(),
                "latest": latest.file_name,
                "latest_date": latest.as_of.isoformat(),
            }
        )
    identical = (
        latest is not None
        and latest.as_of == as_of
        and latest.file_sha256 == lists.fingerprint
        and (lists.pending_rows is None or latest.pending_sha256 == lists.pending_fingerprint)
    )
    file_name, published_as = lists.participating_name, ""
    if not identical:
        file_name, published_as = _name_for_newer_list_of_day(lists)
    report = ImportReport(
        file_name=file_name,
        published_as=published_as,
        newer_of_day=bool(published_as),
        pending_file_name=lists.pending_name,
        as_of=as_of.isoformat(),
        as_of_source=lists.as_of_source,
        previous=(
            PreviousImport(latest.id, latest.file_name, latest.as_of.isoformat())
            if latest
            else None
        ),
        identical_to=latest.id if identical else None,
        forced=bool(force and latest and as_of < latest.as_of),
        rows_read=len(lists.rows),
        pending_rows_read=len(lists.pending_rows) if lists.pending_rows is not None else None,
    )
    result = ImportResult(report=report, dry_run=dry_run)
    if identical:
        report.active_now = report.active_before = Agreement.objects.filter(status=ACTIVE).count()
        return result

    fresh_index, place_ids = match_index()
    index = index or fresh_index
    matched = rows_match(lists=lists, index=index, place_ids=place_ids)
    wanted = _wanted_agreements(matched, report, as_of)
    state_ids = place_ids.states
    agencies = _AgencyBook.load(place_ids)
    before = agencies.agreements_before()
    report.active_before = Agreement.objects.filter(status=ACTIVE).count()
    plan = import_plan(
        before={k: f for k, (f, _a) in before.items()},
        active={k: f for k, (f, _r) in wanted.active.items()},
        pending=(
            {k: f for k, (f, _r) in wanted.pending.items()}
            if lists.pending_rows is not None
            else None
        ),
        known_agencies=set(agencies.by_key),
    )
    touched = import_apply(
        plan=plan,
        matched=matched,
        wanted=wanted,
        before=before,
        agencies=agencies,
        as_of=as_of,
        report=report,
        user=user,
    )
    report.places_flagged = answers_flag(
        changes=touched, as_of=as_of, state_ids=state_ids, agencies=agencies
    )
    report.active_now = Agreement.objects.filter(status=ACTIVE).count()
    report.pending_now = Agreement.objects.filter(status=PENDING_STATUS).count()
    if not report.diff.is_empty or report.agencies_new or report.agencies_moved:
        public_content_changed()
    if dry_run:
        return result
    snapshot = ImportSnapshot.objects.create(
        file_name=file_name[:255],
        file_sha256=lists.fingerprint,
        pending_file_name=lists.pending_name[:255],
        pending_sha256=lists.pending_fingerprint,
        as_of=as_of,
        as_of_source=lists.as_of_source,
        rows=[row.as_dict() for row in lists.rows],
        pending_rows=[row.as_dict() for row in lists.pending_rows or []],
        report=report.to_json(),
        forced=report.forced,
        imported_by=user,
    )
    UnmatchedRow.objects.bulk_create(
        UnmatchedRow(
            snapshot=snapshot,
            file=entry.file,
            row_number=entry.row,
            agency_id=entry.agency_id,
            agency_name=entry.agency[:255],
            state_name=entry.state[:60],
            county_name=entry.county[:120],
            reason=entry.reason[:500],
        )
        for entry in report.unplaced
    )
    result.snapshot = snapshot
    return result


def _name_for_newer_list_of_day(lists: ReadLists) -> tuple[str, str]:
    """Return (the name to keep the list under, ICE's name when another list already has it).

    ICE once published two different lists under one name on one day: the second is kept as
    ``…am_b.xlsx``, after the first in ICE's date order.
    """
    name = lists.participating_name
    taken = set(
        ImportSnapshot.objects.filter(file_name__startswith=name.rpartition(".")[0]).values_list(
            "file_name", flat=True
        )
    )
    if name not in taken:
        return name, ""
    stem, dot, extension = name.rpartition(".")
    for letter in "bcdefghijklmnopqrstuvwxyz":
        candidate = f"{stem}_{letter}{dot}{extension}"
        if candidate not in taken:
            return candidate, name
    return name, name


@dataclass
class _Wanted:
    active: dict[Key, tuple[Facts, MatchedRow]] = field(default_factory=dict)
    pending: dict[Key, tuple[Facts, MatchedRow]] = field(default_factory=dict)


def _wanted_agreements(matched: list[MatchedRow], report: ImportReport, as_of) -> _Wanted:
    """Return the agreements the list gives, and count the rows' placements into ``report``."""
    wanted = _Wanted()
    placements = report.placements
    model_counts, state_counts, pending_counts = Counter(), Counter(), Counter()
    for item in matched:
        row, placement = item.row, item.placement
        method = placement.method
        setattr(placements, method, getattr(placements, method) + 1)
        if method == matching.SPELLING:
            placements.spellings.append(
                SpellingEntry(
                    file=item.file,
                    row=row.row_number,
                    state=row.state,
                    agency=row.agency,
                    original=placement.original,
                    corrected=placement.corrected,
                )
            )
        if not placement.state:
            # Without a state there is no agency to keep: the row is listed, nothing more.
            report.unplaced.append(_unplaced(item, placement.reason))
            continue
        if not placement.placed:
            report.unplaced.append(_unplaced(item, placement.reason))
        if item.model is None:
            report.unplaced.append(
                _unplaced(
                    item,
                    _("the SUPPORT TYPE “%(model)s” is not a 287(g) model")
                    % {"model": row.support_type},
                    placed=placement.placed,
                )
            )
            continue
        key = (*item.agency_key, item.model)
        into = wanted.active if item.file == PARTICIPATING else wanted.pending
        if key in into:
            report.duplicate_rows += item.file == PARTICIPATING
            report.notes.append(
                NoteEntry(
                    file=item.file,
                    row=row.row_number,
                    note=_("same agency and model as row %(row)s; that row is used")
                    % {"row": into[key][1].row.row_number},
                )
            )
            continue
        if item.file == PARTICIPATING:
            signed_on, invalid = parse_signed(row, as_of=as_of)
            if invalid:
                report.invalid_dates += 1
                report.notes.append(
                    NoteEntry(
                        file=item.file,
                        row=row.row_number,
                        note=_("impossible signing date “%(date)s”: kept as published, not used")
                        % {"date": row.signed},
                    )
                )
            url = matching.unwrap_safelink(row.moa_url)[:500]
            into[key] = (Facts(ACTIVE, signed_on, invalid, url), item)
            model_counts[_model_label(item.model)] += 1
            state_counts[row.state.title()] += 1
        else:
            into[key] = (Facts(PENDING_STATUS), item)
            pending_counts[_model_label(item.model)] += 1
    report.agreements_in_list = len(wanted.active)
    report.pending_in_list = len(wanted.pending)
    report.by_model = dict(sorted(model_counts.items()))
    report.by_state = dict(sorted(state_counts.items()))
    report.pending_by_model = dict(sorted(pending_counts.items()))
    return wanted


def _unplaced(item: MatchedRow, reason: str, placed: bool = False) -> UnplacedEntry:
    return UnplacedEntry(
        file=item.file,
        row=item.row.row_number,
        state=item.row.state,
        agency=item.row.agency,
        county=item.row.county,
        reason=str(reason),
        state_code=item.placement.state,
        placed=placed,
    )


# ---------------------------------------------------------------------------------------------
# Step 4: apply


@dataclass(frozen=True)
class AgencyAt:
    """Where an agency's agreements count: its place, other counties, and state."""

    place_id: int | None
    other_place_ids: tuple[int, ...]
    state_id: int


class _AgencyBook:
    """Every agency, by (state, folded ICE name), with where it was before the import."""

    def __init__(self, agencies: list[Agency], others: dict[int, tuple[int, ...]], places):
        self.by_key: dict[AgencyKey, Agency] = {}
        self.codes = {pk: code for code, pk in places.states.items()}
        self.state_names = places.state_names
        for agency in agencies:
            key = (self.codes.get(agency.state_id, ""), fold_name(agency.ice_name))
            self.by_key.setdefault(key, agency)
        self.others = others
        self.at_before = {a.pk: self.at(a) for a in agencies}

    @classmethod
    def load(cls, places: PlaceIds) -> "_AgencyBook":
        agencies = list(Agency.objects.exclude(ice_name=""))
        others = defaultdict(tuple)
        for agency_id, place_id in Agency.other_places.through.objects.values_list(
            "agency_id", "place_id"
        ):
            others[agency_id] += (place_id,)
        return cls(agencies, others, places)

    def at(self, agency: Agency) -> AgencyAt:
        return AgencyAt(agency.place_id, self.others.get(agency.pk, ()), agency.state_id)

    def agreements_before(self) -> dict[Key, tuple[Facts, Agreement]]:
        by_id = {a.pk: key for key, a in self.by_key.items()}
        before = {}
        for agreement in Agreement.objects.filter(agency_id__in=by_id):
            key = (*by_id[agreement.agency_id], agreement.enforcement_model)
            facts = Facts(
                agreement.status,
                agreement.signed_on,
                agreement.signed_on_is_invalid,
                agreement.agreement_url,
            )
            before[key] = (facts, agreement)
        return before


@dataclass
class AnswerChange:
    """Agencies whose facts changed, where they were before, and the words for the flag."""

    agencies: dict[int, AgencyAt] = field(default_factory=dict)  # agency id → before
    lines: dict[int, list[str]] = field(default_factory=lambda: defaultdict(list))


def import_apply(
    *,
    plan: ImportPlan,
    matched: list[MatchedRow],
    wanted: _Wanted,
    before: dict[Key, tuple[Facts, Agreement]],
    agencies: _AgencyBook,
    as_of: datetime.date,
    report: ImportReport,
    user=None,
) -> AnswerChange:
    """Write the plan: agencies (new, placed, renamed) and agreements; fill ``report.diff``.

    Return the agencies whose answers changed, for ``answers_flag``.
    """
    change = AnswerChange()
    state_ids = {code: pk for pk, code in agencies.codes.items()}
    renamed_to = {old: new for new, old in plan.renamed.items()}

    # Agencies: one per (state, name); the matcher's place wins, but "unplaced" never removes one.
    rows_by_agency: dict[AgencyKey, MatchedRow] = {}
    for item in matched:
        if item.placement.state and item.model is not None:
            rows_by_agency.setdefault(item.agency_key, item)
    new_agencies, moved, old_names = [], [], {}
    for key, item in rows_by_agency.items():
        known_key = plan.renamed.get(key, key)
        agency = agencies.by_key.get(known_key)
        kind = AGENCY_KINDS.get(item.placement.agency_kind, Agency.Kind.OTHER)
        if agency is None:
            agency = Agency(
                name=item.row.agency,
                ice_name=item.row.agency,
                kind=kind,
                state_id=state_ids[key[0]],
                place_id=item.place_id,
                match_problem=item.placement.reason[:255],
            )
            agencies.by_key[key] = agency
            new_agencies.append((agency, item))
            continue
        if known_key != key:
            old_names[key] = agency.name
            agency.name = agency.ice_name = item.row.agency
            agencies.by_key[key] = agency
        placed = item.place_id is not None
        target = (item.place_id, tuple(item.other_place_ids)) if placed else None
        current = (agency.place_id, agencies.others.get(agency.pk, ()))
        if target is not None and target != current:
            change.agencies.setdefault(agency.pk, agencies.at(agency))
            agency.place_id, agency.match_problem = item.place_id, ""
            moved.append((agency, item.other_place_ids))
        if target is None and agency.place_id is None:
            agency.match_problem = item.placement.reason[:255]
        if known_key != key or target is not None and target != current or kind != agency.kind:
            agency.kind = kind
            agency.save()
    bulk_create_with_history([a for a, _item in new_agencies], Agency, default_user=user)
    report.agencies_new = len(new_agencies)
    report.agencies_moved = len(moved)
    through = Agency.other_places.through
    through.objects.filter(agency_id__in=[a.pk for a, _o in moved]).delete()
    links = [(a, item.other_place_ids) for a, item in new_agencies] + moved
    through.objects.bulk_create(
        through(agency_id=a.pk, place_id=place_id) for a, others in links for place_id in others
    )
    for agency, others in links:
        agencies.others[agency.pk] = tuple(others)
    unplaced_lines: dict[int, list[str]] = {}
    for agency, item in new_agencies:
        change.agencies.setdefault(agency.pk, AgencyAt(None, (), agency.state_id))
        if agency.place_id is None:
            unplaced_lines.setdefault(agency.state_id, []).append(_unplaced_line(agency, item))
    _flag_unplaced(unplaced_lines, as_of)

    place_refs = _PlaceRefs()

    def agency_of(key: Key) -> Agency:
        return (
            agencies.by_key[renamed_to.get(key[:2], key[:2])]
            if key[:2] in renamed_to
            else (agencies.by_key[key[:2]])
        )

    def entry(key: Key, row: int | None = None, **extra) -> AgreementEntry:
        agency = agency_of(key)
        change.agencies.setdefault(agency.pk, agencies.at(agency))
        return AgreementEntry(
            state=_state_name(key[0], agencies, state_ids),
            agency=agency.name,
            model=_model_label(key[2]),
            agency_id=agency.pk,
            place=place_refs.get(agency.place_id),
            row=row,
            **extra,
        )

    def row_of(key: Key, into) -> MatchedRow:
        new_key = (*renamed_to.get(key[:2], key[:2]), key[2])
        return into[new_key][1] if new_key in into else into[key][1]

    def facts_of(key: Key, into) -> Facts:
        new_key = (*renamed_to.get(key[:2], key[:2]), key[2])
        return into[new_key][0] if new_key in into else into[key][0]

    def set_facts(agreement: Agreement, facts: Facts, row: SheetRow) -> bool:
        agreement.signed_on = facts.signed_on
        agreement.signed_on_is_invalid = facts.signed_on_is_invalid
        agreement.signed_on_as_published = (row.signed if facts.signed_on_is_invalid else "")[:40]
        link_changed = agreement.agreement_url != facts.agreement_url
        agreement.agreement_url = facts.agreement_url
        return link_changed

    diff = report.diff
    to_create: list[Agreement] = []
    for after_key, before_key in sorted(plan.changed_model.items()):
        agreement = before[before_key][1]
        item = row_of(after_key, wanted.active)
        agreement.enforcement_model = after_key[2]
        set_facts(agreement, facts_of(after_key, wanted.active), item.row)
        agreement.status, agreement.ended_on = ACTIVE, None
        agreement.changed_on = agreement.last_seen_on = as_of
        agreement.save()
        diff.changed.append(
            entry(
                after_key,
                item.row.row_number,
                field="model",
                before=_model_label(before_key[2]),
                after=_model_label(after_key[2]),
            )
        )
    for key in plan.added:
        item = row_of(key, wanted.active)
        facts = facts_of(key, wanted.active)
        existing = before.get(key)
        if existing is None:
            agreement = Agreement(
                agency=agency_of(key),
                enforcement_model=key[2],
                status=ACTIVE,
                first_seen_on=as_of,
                last_seen_on=as_of,
                changed_on=as_of,
            )
            set_facts(agreement, facts, item.row)
            to_create.append(agreement)
            was = ""
        else:
            agreement = existing[1]
            was = agreement.status
            set_facts(agreement, facts, item.row)
            agreement.status, agreement.ended_on = ACTIVE, None
            agreement.changed_on = agreement.last_seen_on = as_of
            agreement.save()
        diff.added.append(
            entry(key, item.row.row_number, signed_on=str(facts.signed_on or ""), was=was)
        )
    for key in plan.changed_date:
        agreement = before[key][1]
        item = row_of(key, wanted.active)
        was_signed = agreement.signed_on or agreement.signed_on_as_published
        report.links_updated += set_facts(agreement, facts_of(key, wanted.active), item.row)
        agreement.changed_on = agreement.last_seen_on = as_of
        agreement.save()
        diff.changed.append(
            entry(
                key,
                item.row.row_number,
                field="signed_on",
                before=str(was_signed or ""),
                after=str(agreement.signed_on or item.row.signed),
            )
        )
    seen_ids = []
    for key in plan.seen:
        agreement = before[key][1]
        item = row_of(key, wanted.active)
        if set_facts(agreement, facts_of(key, wanted.active), item.row):
            report.links_updated += 1
            agreement.last_seen_on = max(as_of, agreement.last_seen_on or as_of)
            agreement.save()
        else:
            seen_ids.append(agreement.pk)
    now_pending = set(plan.pending_added) | set(plan.pending_seen)
    for key in plan.ended:
        agreement = before[key][1]
        agreement.status = PENDING_STATUS if key in now_pending else ENDED
        agreement.ended_on = agreement.changed_on = as_of
        agreement.save()
        diff.ended.append(entry(key, last_seen_on=str(agreement.last_seen_on or "")))
    active_now = set(plan.added) | set(plan.changed_model) | set(plan.changed_date)
    active_now |= set(plan.seen)
    for key in plan.pending_added:
        item = row_of(key, wanted.pending)
        existing = before.get(key)
        if existing is None:
            to_create.append(
                Agreement(
                    agency=agency_of(key),
                    enforcement_model=key[2],
                    status=PENDING_STATUS,
                    first_seen_on=as_of,
                    last_seen_on=as_of,
                    changed_on=as_of,
                )
            )
        elif existing[1].status == ENDED:
            agreement = existing[1]
            agreement.status = PENDING_STATUS
            agreement.changed_on = agreement.last_seen_on = as_of
            agreement.save()
        diff.pending_added.append(entry(key, item.row.row_number))
    for key in plan.pending_removed:
        agreement = before[key][1]
        diff.pending_removed.append(entry(key, now_active=key in active_now))
        if key not in active_now:
            # A request that ICE no longer lists was never in force: nothing to end.
            agreement.delete()
    bulk_create_with_history(to_create, Agreement, default_user=user)
    # Being seen again is not a change of facts: no history row for it.
    seen_ids += [before[k][1].pk for k in plan.pending_seen]
    Agreement.objects.filter(pk__in=seen_ids).exclude(last_seen_on__gte=as_of).update(
        last_seen_on=as_of
    )

    for new_key, old_key in sorted(plan.renamed.items()):
        agency = agencies.by_key[new_key]
        change.agencies.setdefault(agency.pk, agencies.at(agency))
        item = rows_by_agency.get(new_key)
        diff.renamed.append(
            RenamedEntry(
                state=_state_name(new_key[0], agencies, state_ids),
                before=old_names.get(new_key, old_key[1]),
                after=agency.name,
                models=sorted(
                    _model_label(k[2])
                    for k in list(wanted.active) + list(wanted.pending)
                    if k[:2] == new_key
                ),
                agency_id=agency.pk,
                place=place_refs.get(agency.place_id),
                row=item.row.row_number if item else None,
            )
        )
    diff.changed.sort(key=lambda e: e.row or 0)
    _flag_lines(diff, change)
    for unplaced in report.unplaced:
        agency = agencies.by_key.get((unplaced.state_code, fold_name(unplaced.agency)))
        unplaced.agency_id = agency.pk if agency else None
    place_refs.fill(report)
    return change


def _state_name(code: str, agencies, state_ids) -> str:
    return agencies.state_names.get(code, code)


def _unplaced_line(agency: Agency, item: MatchedRow) -> str:
    return _("%(agency)s (%(state)s): %(problem)s.") % {
        "agency": agency.name,
        "state": item.row.state.title(),
        "problem": agency.match_problem,
    }


def _flag_unplaced(lines_by_state: dict[int, list[str]], as_of) -> None:
    """Raise one flag per U.S. state for its agencies not placed, all lines at once.

    Set-wise: one flag write per state, whatever the number of rows (one write per row made
    a 49,000-row list quadratic, each write copying the flag's growing text).
    """
    for state_id, lines in lines_by_state.items():
        review_flag_raise(
            place=Place(pk=state_id, kind=Place.Kind.STATE),
            reason=ReviewFlag.Reason.UNMATCHED_AGENCY,
            detail="\n".join(lines),
            changed_on=as_of,
        )


class _PlaceRefs:
    """The name and public address of the places the report links to, read in one query."""

    def __init__(self):
        self.refs: list[PlaceRef] = []

    def get(self, place_id: int | None) -> PlaceRef | None:
        if place_id is None:
            return None
        ref = PlaceRef(id=place_id)
        self.refs.append(ref)
        return ref

    def fill(self, report: ImportReport) -> None:
        ids = {ref.id for ref in self.refs}
        places = Place.objects.select_related("state").in_bulk(ids)
        for ref in self.refs:
            place = places.get(ref.id)
            if place is not None:
                ref.name, ref.public_url = str(place), place.get_absolute_url()


def _flag_lines(diff: Diff, change: AnswerChange) -> None:
    """Write, for each agency, the lines its places' flags will say."""
    for entry in diff.added:
        change.lines[entry.agency_id].append(
            _("New: %(agency)s has a 287(g) agreement (%(model)s).")
            % {"agency": entry.agency, "model": entry.model}
        )
    for entry in diff.changed:
        if entry.field == "model":
            text = _("Changed: %(agency)s's agreement is now %(model)s (was %(before)s).")
            values = {"agency": entry.agency, "model": entry.after, "before": entry.before}
        else:
            text = _("Changed: the %(model)s agreement of %(agency)s now says signed on %(date)s.")
            values = {
                "agency": entry.agency,
                "model": entry.model,
                "date": entry.after or _("an unknown date"),
            }
        change.lines[entry.agency_id].append(text % values)
    for entry in diff.ended:
        change.lines[entry.agency_id].append(
            _("Ended: %(agency)s's %(model)s agreement is no longer in ICE's list.")
            % {"agency": entry.agency, "model": entry.model}
        )
    for entry in diff.pending_added:
        change.lines[entry.agency_id].append(
            _("Pending: %(agency)s has asked for a 287(g) agreement (%(model)s).")
            % {"agency": entry.agency, "model": entry.model}
        )
    for entry in diff.pending_removed:
        if not entry.now_active:
            change.lines[entry.agency_id].append(
                _("No longer pending: %(agency)s (%(model)s).")
                % {"agency": entry.agency, "model": entry.model}
            )
    for entry in diff.renamed:
        change.lines[entry.agency_id].append(
            _("Renamed in ICE's list: %(before)s is now %(after)s.")
            % {"before": entry.before, "after": entry.after}
        )


# ---------------------------------------------------------------------------------------------
# Step 5: flag the places whose answer changed, set-wise


def places_reached(
    *,
    at: AgencyAt,
    places_in_state: dict,
    cities_in_county: dict,
    county_of_city: dict,
    kinds: dict,
) -> set[int]:
    """Return the ids of every place whose answer includes an agency placed ``at``.

    The same reach as ``place_answer``: a state's answer has every agency of the state; a
    county's has its own agencies, the state's, and the city agencies inside it; a city's has
    its own, its county's and the state's.
    """
    reached = {at.state_id}
    if at.place_id is None:
        return reached
    kind = kinds.get(at.place_id)
    if kind == Place.Kind.STATE:
        reached |= places_in_state.get(at.place_id, set())
    for place_id in (at.place_id, *at.other_place_ids):
        reached.add(place_id)
        if kinds.get(place_id) == Place.Kind.COUNTY:
            reached |= cities_in_county.get(place_id, set())
    if kind == Place.Kind.CITY:
        county_id = county_of_city.get(at.place_id)
        if county_id:
            reached.add(county_id)
    return reached


def answers_flag(
    *, changes: AnswerChange, as_of: datetime.date, state_ids: dict, agencies: _AgencyBook
) -> int:
    """Flag every place whose answer changed; return how many.

    A place's answer changed when it includes (before or after) an agency whose agreements
    or place changed: the places are found from where those agencies were and are, with one
    query for the geography, not by computing each place's answer.
    """
    if not changes.agencies:
        return 0
    by_id = {a.pk: a for a in agencies.by_key.values() if a.pk}
    needed_states = set()
    for agency_id, at_before in changes.agencies.items():
        now = agencies.at(by_id[agency_id]) if agency_id in by_id else at_before
        needed_states.update({at_before.state_id, now.state_id})
    places_in_state: dict[int, set[int]] = defaultdict(set)
    cities_in_county: dict[int, set[int]] = defaultdict(set)
    county_of_city: dict[int, int] = {}
    kinds: dict[int, str] = {pk: Place.Kind.STATE for pk in state_ids.values()}
    rows = Place.objects.filter(state_id__in=needed_states).values_list(
        "id", "kind", "state_id", "county_id"
    )
    for pk, kind, state_id, county_id in rows:
        kinds[pk] = kind
        places_in_state[state_id].add(pk)
        if kind == Place.Kind.CITY and county_id:
            cities_in_county[county_id].add(pk)
            county_of_city[pk] = county_id
    lines: dict[int, list[str]] = defaultdict(list)
    for agency_id, at_before in changes.agencies.items():
        now = agencies.at(by_id[agency_id]) if agency_id in by_id else at_before
        reached = set()
        for at in {at_before, now}:
            reached |= places_reached(
                at=at,
                places_in_state=places_in_state,
                cities_in_county=cities_in_county,
                county_of_city=county_of_city,
                kinds=kinds,
            )
        words = changes.lines.get(agency_id) or [
            _("%(agency)s is now counted for another place.") % {"agency": by_id[agency_id].name}
        ]
        for place_id in reached:
            lines[place_id].extend(words)
    header = _("ICE's list of %(date)s changes the answer here.") % {"date": as_of.isoformat()}
    details = {pk: "\n".join([header, *sorted(set(words))]) for pk, words in lines.items()}
    open_flags: dict[int, list[int]] = defaultdict(list)  # place id → open flag ids
    for flag_id, place_id in ReviewFlag.objects.filter(
        place_id__in=details,
        reason=ReviewFlag.Reason.ANSWER_CHANGED,
        resolved_at__isnull=True,
    ).values_list("id", "place_id"):
        open_flags[place_id].append(flag_id)
    # An open flag gets the new lines after its own. Many places share the same words (every
    # town of a state for a state agency): one UPDATE per distinct text, not one per flag.
    by_detail: dict[str, list[int]] = defaultdict(list)
    for place_id, flag_ids in open_flags.items():
        by_detail[details[place_id]].extend(flag_ids)
    for detail, flag_ids in by_detail.items():
        ReviewFlag.objects.filter(pk__in=flag_ids).update(
            detail=Concat(F("detail"), Value("\n" + detail)),
            changed_on=Greatest(Coalesce(F("changed_on"), Value(as_of)), Value(as_of)),
        )
    ReviewFlag.objects.bulk_create(
        (
            ReviewFlag(
                place_id=place_id,
                reason=ReviewFlag.Reason.ANSWER_CHANGED,
                detail=detail,
                changed_on=as_of,
            )
            for place_id, detail in details.items()
            if place_id not in open_flags
        ),
        batch_size=1000,
    )
    return len(details)


# ---------------------------------------------------------------------------------------------
# Organizers' aliases


@transaction.atomic
def agency_alias_create(
    *,
    state: Place,
    ice_text: str,
    place: Place,
    other_places: list[Place] | None = None,
    note: str = "",
    user=None,
) -> AgencyAlias:
    """Say once that ICE's text means ``place``; place the agencies already imported under it.

    The alias holds for every later list (the matcher reads it first). Agencies of that name
    already imported move to ``place`` now, and the places whose answer that changes are
    flagged as an import would flag them.
    """
    alias, _created = AgencyAlias.objects.update_or_create(
        state=state,
        ice_text=ice_text.strip(),
        defaults={"place": place, "note": note, "created_by": user},
    )
    alias.other_places.set(other_places or [])
    moved = [
        agency
        for agency in Agency.objects.filter(state=state).exclude(ice_name="")
        if fold_name(agency.ice_name) == fold_name(ice_text)
    ]
    if not moved:
        return alias
    place_ids = PlaceIds.load()
    state_ids = place_ids.states
    book = _AgencyBook.load(place_ids)
    change = AnswerChange()
    for agency in moved:
        change.agencies[agency.pk] = book.at(agency)
        change.lines[agency.pk].append(
            _("%(agency)s is now placed on %(place)s (an organizer's alias).")
            % {"agency": agency.name, "place": place}
        )
        agency.place, agency.match_problem = place, ""
        agency.save()
        agency.other_places.set(other_places or [])
        book.by_key[(state.abbreviation, fold_name(agency.ice_name))] = agency
        book.others[agency.pk] = tuple(p.pk for p in other_places or [])
    answers_flag(changes=change, as_of=timezone.localdate(), state_ids=state_ids, agencies=book)
    public_content_changed()
    return alias


# ---------------------------------------------------------------------------------------------
# Fetching ICE's lists from its page (``manage.py fetch_287g``, the ``fetch_287g`` beat task)


@dataclass
class FetchOutcome:
    """What one check of ICE's page did: the check row, the imports applied, the lists held."""

    check: FetchCheck
    applied: list[ImportResult] = field(default_factory=list)
    held: list[HeldList] = field(default_factory=list)
    error: str = ""


def fetch_options() -> FetchOptions:
    """Return where ICE's page is, how long to wait for it and how much to read, from the
    settings: a list's download stops as soon as it passes ``ICE_SHEET_MAX_BYTES``."""
    limits = sheet_limits()
    return FetchOptions(
        page_url=getattr(settings, "ICE_287G_PAGE_URL", "") or ICE_287G_PAGE_URL_DEFAULT,
        timeout=float(getattr(settings, "ICE_FETCH_TIMEOUT_SECONDS", 30)),
        max_list_bytes=limits.max_file_bytes,
        limits=limits,
    )


def quality_limits() -> QualityLimits:
    """Return when a fetched list is held (``ICE_LIST_MIN_ROWS_RATIO``, default 0.7)."""
    return QualityLimits(min_ratio=getattr(settings, "ICE_LIST_MIN_ROWS_RATIO", 0.7))


def _seen_lists() -> tuple[set[str], dict[str, str]]:
    """Return the SHA-256 of every list fetched before, and every list name known."""
    shas, names = set(), {}
    for name, sha in FetchedFile.objects.values_list("name", "sha256"):
        shas.add(sha)
        names.setdefault(name, sha)
    for name, sha, pending_name, pending_sha in ImportSnapshot.objects.values_list(
        "file_name", "file_sha256", "pending_file_name", "pending_sha256"
    ):
        names.setdefault(name, sha)
        if pending_name:
            names.setdefault(pending_name, pending_sha)
    return shas, names


def _newest(items):
    """Return the newest of ICE's lists by the date in its name (the last on the page if none)."""
    if not items:
        return None
    dated = [(parse_list_name(item.name), position, item) for position, item in enumerate(items)]
    return max(
        dated, key=lambda entry: (entry[0] is not None, entry[0] and entry[0].order_key, entry[1])
    )[2]


def list_quality(
    participating: SheetFile,
    pending: SheetFile | None = None,
    *,
    as_of: datetime.date | None = None,
    force: bool = False,
) -> tuple[Verdict, ImportResult | None]:
    """Return the quality gate's verdict on a list and the dry run it was judged on.

    A list the import cannot read (its columns are not ICE's) is held with the reason; the
    dry run is None then. Raises ``ImportRefused`` for a list older than the latest import
    (unless ``force``). ``as_of``: the date of a list whose file name does not carry it.
    """
    try:
        dry = ice_lists_import(
            participating=participating, pending=pending, as_of=as_of, dry_run=True, force=force
        )
    except SheetError as error:
        return Verdict(hold=True, reasons=[str(error)], codes=[MISSING_COLUMNS]), None
    report = dry.report
    latest = ImportSnapshot.objects.order_by("-as_of", "-imported_at").first()
    previous_rows = len(latest.rows) if latest else None
    previous_unplaced = (
        len(latest.report.get("unplaced") or []) / max(len(latest.rows), 1) if latest else None
    )
    rows = read_sheet(participating)
    header_like = sum(
        1
        for row in rows
        if is_header_like(
            [row.state, row.agency, row.type, row.county, row.support_type, row.signed],
            PARTICIPATING_HEADERS,
        )
    )
    verdict = assess_list(
        rows_read=report.rows_read,
        previous_rows=previous_rows,
        missing_columns=[],
        header_row_index=header_row_index(participating),
        unplaced=sum(1 for entry in report.unplaced if entry.file == PARTICIPATING),
        previous_unplaced_ratio=previous_unplaced,
        header_like_rows=header_like,
        limits=quality_limits(),
    )
    return verdict, dry


def held_list_create(
    *,
    participating: SheetFile,
    pending: SheetFile | None,
    verdict: Verdict,
    dry: ImportResult | None,
    source: str = HeldList.Source.FETCHED,
    user=None,
) -> HeldList:
    """Keep a list that failed the quality gate for an organizer to apply or reject.

    Nothing else is written: a held list ends no agreement.
    """
    if dry is not None:
        as_of = datetime.date.fromisoformat(dry.report.as_of)
    else:
        name = participating.name
        as_of = file_date(name) or _history_date(name) or timezone.localdate()
    return HeldList.objects.create(
        file_name=participating.name[:255],
        data=participating.data,
        pending_file_name=pending.name[:255] if pending else "",
        pending_data=pending.data if pending else b"",
        as_of=as_of,
        rows_read=dry.report.rows_read if dry else 0,
        reasons=[str(reason) for reason in verdict.reasons],
        codes=list(verdict.codes),
        source=source,
        uploaded_by=user if source == HeldList.Source.UPLOADED else None,
    )


def _fetched(name: str, sha: str) -> None:
    FetchedFile.objects.get_or_create(sha256=sha, defaults={"name": name[:255]})


def ice_lists_fetch(options: FetchOptions | None = None) -> FetchOutcome:
    """Check ICE's page; import each list not seen before, or hold it when it looks broken.

    A timeout, an answer that is not a spreadsheet or a page without links is logged (the URL
    and the reason) and changes nothing but the record of the check. A list that fails the
    quality gate is kept as a ``HeldList`` for an organizer and ends no agreement.
    """
    options = options or fetch_options()
    seen_sha256, seen_names = _seen_lists()
    try:
        result = fetch_new_lists(options, seen_sha256=seen_sha256, seen_names=seen_names)
    except FetchError as error:
        logger.error("ICE's 287(g) lists were not fetched: %s", error)
        check = FetchCheck.objects.create(
            page_url=options.page_url[:500],
            outcome=FetchCheck.Outcome.ERROR,
            error=str(error)[:1000],
        )
        return FetchOutcome(check=check, error=str(error))

    planned_participating = [item for item in result.planned if item.kind == PARTICIPATING_LIST]
    planned_pending = [item for item in result.planned if item.kind != PARTICIPATING_LIST]
    participating_downloads = [
        item for item in result.downloaded if item.url in result.links.participating
    ]
    pending_download = _newest(
        [item for item in result.downloaded if item.url in result.links.pending]
    )
    to_import: list = [item.downloaded for item in planned_participating]
    if not to_import and planned_pending:
        newest = _newest(participating_downloads)
        if newest is not None:
            to_import = [newest]
    outcome = FetchOutcome(check=None)  # type: ignore[arg-type]
    files = []
    pending_sheet = (
        SheetFile(name=pending_download.name, data=pending_download.data)
        if pending_download
        else None
    )
    for item in to_import:
        sheet = SheetFile(name=item.name, data=item.data)
        try:
            verdict, dry = list_quality(sheet, pending_sheet)
        except IMPORT_ERRORS as error:
            logger.warning("ICE's list %s was not imported: %s", item.name, error)
            files.append({"name": item.name, "sha256": item.sha256, "outcome": "refused"})
            _fetched(item.name, item.sha256)
            continue
        if verdict.hold:
            held = held_list_create(
                participating=sheet, pending=pending_sheet, verdict=verdict, dry=dry
            )
            logger.warning("ICE's list %s is held: %s", item.name, " ".join(held.reasons))
            outcome.held.append(held)
            files.append({"name": item.name, "sha256": item.sha256, "outcome": "held"})
        elif dry is not None and dry.report.identical_to:
            files.append({"name": item.name, "sha256": item.sha256, "outcome": "identical"})
        else:
            applied = ice_lists_import(participating=sheet, pending=pending_sheet)
            outcome.applied.append(applied)
            logger.info("ICE's list %s was imported.", item.name)
            files.append({"name": item.name, "sha256": item.sha256, "outcome": "applied"})
        _fetched(item.name, item.sha256)
    for item in planned_pending:
        _fetched(item.downloaded.name, item.downloaded.sha256)
    if outcome.held:
        kind = FetchCheck.Outcome.HELD
    elif outcome.applied:
        kind = FetchCheck.Outcome.APPLIED
    else:
        kind = FetchCheck.Outcome.NOTHING_NEW
    outcome.check = FetchCheck.objects.create(
        page_url=options.page_url[:500], outcome=kind, files=files
    )
    public_content_changed()  # the pages say when ICE's list was last checked
    return outcome


def held_list_apply(held: HeldList, *, user=None) -> ImportResult:
    """Apply a held list as an organizer decided: imported as ICE's list of its date.

    It is applied with ``force``: even when a newer list was applied since it was held, it
    becomes the list the answers come from (agreements missing from it end), as
    ``import_287g --force`` does. Apply the newer list again afterwards to go forward.
    ``as_of`` serves a list uploaded with the organizer's date (its name carries none).
    """
    pending = (
        SheetFile(name=held.pending_file_name, data=bytes(held.pending_data))
        if held.pending_file_name
        else None
    )
    result = ice_lists_import(
        participating=SheetFile(name=held.file_name, data=bytes(held.data)),
        pending=pending,
        as_of=held.as_of,
        force=True,
        user=user,
    )
    held.decision = HeldList.Decision.APPLIED
    held.decided_at = timezone.now()
    held.decided_by = user
    held.snapshot = result.snapshot
    held.save(update_fields=["decision", "decided_at", "decided_by", "snapshot"])
    return result


def held_list_reject(held: HeldList, *, user=None) -> None:
    """Reject a held list: it is never applied, and not fetched again (its bytes are known)."""
    held.decision = HeldList.Decision.REJECTED
    held.decided_at = timezone.now()
    held.decided_by = user
    held.save(update_fields=["decision", "decided_at", "decided_by"])

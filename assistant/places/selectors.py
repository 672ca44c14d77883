"""Reads: what residents' pages and the SMS bot ask of the content."""

from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import groupby
from operator import itemgetter

from django.db.models import Q

from assistant.places.models import Agency, Agreement, Place, ZipCodeArea, place_search_key
from assistant.places.search import default_gazetteer, resolve
from assistant.vocabulary import MODEL_NAMES


@dataclass(frozen=True)
class AgreementFact:
    """One agreement as residents see it."""

    agency_id: int
    agency_name: str
    agency_kind: str
    enforcement_model: str
    model_label: str
    status: str
    signed_on: date | None
    signed_on_is_invalid: bool
    first_seen_on: date | None
    changed_on: date | None
    ended_on: date | None
    agreement_url: str
    scope: str  # "here", "county", "statewide" or "inside"

    @property
    def since(self) -> date | None:
        """Return the date the agreement started, as well as we know it."""
        return self.signed_on or self.first_seen_on


@dataclass(frozen=True)
class ListStatus:
    """Which of ICE's lists the answers come from, how old it is, and when we last looked."""

    as_of: date
    age_days: int
    stale_after_days: int
    checked_at: datetime | None = None
    oldest_as_of: date | None = None  # the date of the oldest of ICE's lists we have
    oldest_imported_at: datetime | None = None  # when that list was imported

    @property
    def is_stale(self) -> bool:
        """Return True when the list is older than organizers consider current."""
        return self.age_days > self.stale_after_days


@dataclass(frozen=True)
class Headline:
    """One agency that polices the place, with the models it works with ICE under."""

    agency_name: str
    agency_kind: str
    scope: str
    model_labels: list[str]
    since: date | None


# Which agencies a resident deals with first: their sheriff and their city's police.
_KIND_ORDER = {
    "sheriff": 0,
    "police": 1,
    "marshal": 1,
    "constable": 2,
    "jail": 2,
    "university": 3,
    "other": 3,
    "state": 4,
}
_SCOPE_ORDER = {"here": 0, "county": 1, "inside": 2, "statewide": 3}


@dataclass(frozen=True)
class PlaceAnswer:
    """The computed answer for a place: never typed by hand, always from agreements.

    ``ice_list`` is None until one of ICE's lists has been imported: then there is no
    answer at all, only "we have not loaded ICE's list yet".
    """

    place: Place
    has_agreement: bool
    active: list[AgreementFact] = field(default_factory=list)
    inside: list[AgreementFact] = field(default_factory=list)
    pending: list[AgreementFact] = field(default_factory=list)
    ended: list[AgreementFact] = field(default_factory=list)
    changed_on: date | None = None
    ice_list: ListStatus | None = None

    @property
    def has_list(self) -> bool:
        """Return True when an ICE list stands behind this answer."""
        return self.ice_list is not None

    @property
    def local(self) -> list[AgreementFact]:
        """Return the agreements of agencies that police this place, not the state's."""
        return [fact for fact in self.active if fact.scope != "statewide"]

    @property
    def statewide(self) -> list[AgreementFact]:
        """Return the agreements of state agencies, which reach this place too."""
        return [fact for fact in self.active if fact.scope == "statewide"]

    @property
    def statewide_agency_count(self) -> int:
        """Return how many state agencies have an agreement in force."""
        return len({fact.agency_name for fact in self.statewide})

    @property
    def headlines(self) -> list[Headline]:
        """Return the local agencies with agreements, the sheriff and city police first."""
        by_agency: dict[str, list[AgreementFact]] = {}
        for fact in self.local:
            by_agency.setdefault(fact.agency_name, []).append(fact)
        heads = []
        for name, facts in by_agency.items():
            dates = [f.since for f in facts if f.since]
            heads.append(
                Headline(
                    agency_name=name,
                    agency_kind=facts[0].agency_kind,
                    scope=facts[0].scope,
                    model_labels=sorted({f.model_label for f in facts}),
                    since=min(dates) if dates else None,
                )
            )
        heads.sort(
            key=lambda h: (
                _SCOPE_ORDER.get(h.scope, 9),
                _KIND_ORDER.get(h.agency_kind, 9),
                h.agency_name,
            )
        )
        return heads

    @property
    def models(self) -> list[str]:
        """Return the labels of the models in force here, without repeats."""
        return sorted({fact.model_label for fact in self.active})

    @property
    def since(self) -> date | None:
        """Return the earliest start date of the agreements in force here."""
        dates = [fact.since for fact in self.active if fact.since]
        return min(dates) if dates else None


def _agency_scope(agency: Agency, place: Place, shared: set[int] = frozenset()) -> str:
    if agency.place_id == place.id or (place.kind == Place.Kind.COUNTY and agency.pk in shared):
        return "here"
    if agency.place and agency.place.kind == Place.Kind.STATE:
        return "statewide"
    if place.kind == Place.Kind.CITY and (
        agency.place_id == place.county_id or agency.pk in shared
    ):
        return "county"
    return "inside"


def _agencies_sharing(county_id: int | None) -> set[int]:
    """Return the agencies that also police ``county_id`` (a regional jail over several)."""
    if not county_id:
        return set()
    return set(
        Agency.other_places.through.objects.filter(place_id=county_id).values_list(
            "agency_id", flat=True
        )
    )


def _fact(agreement: Agreement, scope: str) -> AgreementFact:
    return AgreementFact(
        agency_id=agreement.agency_id,
        agency_name=agreement.agency.name,
        agency_kind=agreement.agency.kind,
        enforcement_model=agreement.enforcement_model,
        model_label=str(agreement.get_enforcement_model_display()),
        status=agreement.status,
        signed_on=agreement.signed_on,
        signed_on_is_invalid=agreement.signed_on_is_invalid,
        first_seen_on=agreement.first_seen_on,
        changed_on=agreement.changed_on,
        ended_on=agreement.ended_on,
        agreement_url=agreement.agreement_url,
        scope=scope,
    )


def place_answer(*, place: Place, ice_list: ListStatus | None = None) -> PlaceAnswer:
    """Return whether agencies policing ``place`` have 287(g) agreements, and which.

    ``ice_list`` is the list the agreements come from (``ice_list_status()``); without one
    the answer says nothing either way.

    A county is policed by its own agencies (with those over several counties, such as a
    regional jail: ``Agency.other_places``) and by state agencies; city police inside it are
    listed apart (``inside``) because they police only part of it. A city is policed by its
    own police, its county's agencies and state agencies.
    """
    shared: set[int] = set()
    if place.kind == Place.Kind.STATE:
        whole = Q(agency__place=place)
        part = Q(agency__state=place) & ~Q(agency__place=place)
    elif place.kind == Place.Kind.COUNTY:
        shared = _agencies_sharing(place.id)
        whole = Q(agency__place=place) | Q(agency__place=place.state_id) | Q(agency_id__in=shared)
        part = Q(agency__place__county=place)
    else:
        shared = _agencies_sharing(place.county_id)
        whole = (
            Q(agency__place=place)
            | Q(agency__place=place.state_id)
            | (Q(agency__place=place.county_id) if place.county_id else Q(pk__in=[]))
            | Q(agency_id__in=shared)
        )
        part = Q(pk__in=[])
    agreements = (
        Agreement.objects.filter(whole | part)
        .select_related("agency", "agency__place")
        .order_by("agency__name", "enforcement_model")
    )
    active, inside, pending, ended = [], [], [], []
    changed = []
    for agreement in agreements:
        scope = _agency_scope(agreement.agency, place, shared)
        fact = _fact(agreement, scope)
        if agreement.changed_on:
            changed.append(agreement.changed_on)
        if agreement.status == Agreement.Status.ACTIVE:
            (inside if scope == "inside" else active).append(fact)
        elif agreement.status == Agreement.Status.PENDING:
            pending.append(fact)
        else:
            ended.append(fact)
    active.sort(key=lambda f: (_SCOPE_ORDER.get(f.scope, 9), _KIND_ORDER.get(f.agency_kind, 9)))
    return PlaceAnswer(
        place=place,
        has_agreement=bool(active),
        active=active,
        inside=inside,
        pending=pending,
        ended=ended,
        changed_on=max(changed) if changed else None,
        ice_list=ice_list,
    )


@dataclass(frozen=True)
class HistoryLine:
    """What ICE's lists showed of one or more models of an agency, on one list date.

    ``kind``: ``oldest`` (already on the oldest list we have: when it started is unknown),
    ``first`` (the agency's first list), ``added``, ``back`` (again after it had left),
    ``ended`` (no longer on the list since ``date``), ``pending_oldest`` and ``pending``
    (on ICE's list of requests waiting to start).
    """

    kind: str
    date: date
    models: tuple[str, ...]

    @property
    def model_labels(self) -> str:
        """Return the models' plain names in the current language, joined."""
        return ", ".join(str(MODEL_NAMES[code]) for code in self.models if code in MODEL_NAMES)


@dataclass(frozen=True)
class AgencyHistory:
    """One agency's 287(g) history as ICE's lists we have show it, oldest first."""

    agency_id: int
    agency_name: str
    lines: list[HistoryLine]


_LINE_ORDER = {
    "oldest": 0,
    "pending_oldest": 1,
    "first": 2,
    "ended": 3,
    "added": 4,
    "back": 5,
    "pending": 6,
}
_MODEL_ORDER = {code: index for index, code in enumerate(MODEL_NAMES)}


def _agreement_events(rows) -> list[tuple]:
    """Return (list date, "in" | "out" | "pending", model, recorded at) for one agreement.

    The import sets ``changed_on`` to the list's date whenever the status or the model
    changes, and ``ended_on`` when the agreement leaves ICE's list. A request that ICE
    dropped from its pending list was deleted: it was never in force and the date it was
    dropped is not kept, so it gives no event.
    """
    events, before = [], (None, None)
    for row in rows:
        history_type, model, status, changed_on, first_seen_on, ended_on, recorded = row[2:]
        if history_type == "-":
            return []
        was_model, was_status = before
        if (model, status) == before:
            continue
        before = (model, status)
        when = changed_on or first_seen_on
        moved = model != was_model
        if was_status == Agreement.Status.ACTIVE and (status != was_status or moved):
            events.append((ended_on or when, "out", was_model, recorded))
        if when is None:
            continue
        if status == Agreement.Status.ACTIVE and (status != was_status or moved):
            events.append((when, "in", model, recorded))
        elif status == Agreement.Status.PENDING and (status != was_status or moved):
            events.append((when, "pending", model, recorded))
    return [event for event in events if event[0] is not None]


def _history_lines(events, ice_list: ListStatus) -> list[HistoryLine]:
    def on_oldest_list(when, recorded) -> bool:
        # ICE publishes two lists some days: the afternoon's is not the oldest we have.
        return when == ice_list.oldest_as_of and (
            ice_list.oldest_imported_at is None or recorded <= ice_list.oldest_imported_at
        )

    events.sort(key=lambda event: (event[0], event[1] != "out", event[3]))
    first_date = events[0][0]
    been_in, tagged = set(), []
    for when, event, model, recorded in events:
        if event == "out":
            kind = "ended"
        elif event == "pending":
            kind = "pending_oldest" if on_oldest_list(when, recorded) else "pending"
        elif model in been_in:
            kind = "back"
        elif on_oldest_list(when, recorded):
            kind = "oldest"
        else:
            kind = "first" if when == first_date else "added"
        if event == "in":
            been_in.add(model)
        tagged.append((when, kind, model))
    tagged.sort(key=lambda item: (item[0], _LINE_ORDER[item[1]]))
    lines = []
    for (when, kind), group in groupby(tagged, key=itemgetter(0, 1)):
        models = sorted({model for *_key, model in group}, key=lambda m: _MODEL_ORDER.get(m, 9))
        lines.append(HistoryLine(kind=kind, date=when, models=tuple(models)))
    return lines


def agency_histories(*, answer: PlaceAnswer) -> list[AgencyHistory]:
    """Return the 287(g) history of every agency in ``answer``, from ICE's lists we have.

    Read in one query from the agreements' recorded changes. Dates are the dates of ICE's
    lists: what was already on the oldest list we have says so, never that it began then.
    """
    if answer.ice_list is None:
        return []
    names: dict[int, str] = {}
    # The agencies policing the place first, state agencies last (the page folds them).
    facts = answer.active + answer.inside + answer.pending + answer.ended
    for fact in sorted(facts, key=lambda fact: fact.scope == "statewide"):
        names.setdefault(fact.agency_id, fact.agency_name)
    if not names:
        return []
    rows = (
        Agreement.history.model.objects.filter(agency_id__in=list(names))
        .order_by("id", "history_id")
        .values_list(
            "id",
            "agency_id",
            "history_type",
            "enforcement_model",
            "status",
            "changed_on",
            "first_seen_on",
            "ended_on",
            "history_date",
        )
    )
    events: dict[int, list] = {}
    for _agreement_id, agreement_rows in groupby(rows, key=itemgetter(0)):
        agreement_rows = list(agreement_rows)
        events.setdefault(agreement_rows[0][1], []).extend(_agreement_events(agreement_rows))
    return [
        AgencyHistory(
            agency_id=pk, agency_name=name, lines=_history_lines(events[pk], answer.ice_list)
        )
        for pk, name in names.items()
        if events.get(pk)
    ]


def counties_for_zip(*, zip_code: str) -> list[Place]:
    """Return every county a ZIP code reaches, the primary one first."""
    areas = (
        ZipCodeArea.objects.filter(zip_code=zip_code)
        .select_related("county", "county__state")
        .order_by("-is_primary", "county__name")
    )
    return [area.county for area in areas]


@dataclass(frozen=True)
class PlaceSearch:
    """Where a resident's words lead: one place, a complete choice, suggestions, or nothing."""

    kind: str  # "single", "choice", "suggestions" or "none"
    places: list[Place] = field(default_factory=list)
    alternatives: list[Place] = field(default_factory=list)
    zip_code: str = ""
    grouped: bool = False

    @property
    def place(self) -> Place | None:
        """Return the one place found, if the words lead to one."""
        return self.places[0] if self.kind == "single" and self.places else None

    @property
    def by_state(self) -> list[tuple[Place, list[Place]]]:
        """Return the places grouped by their state, every one of them."""
        groups: dict[int, list[Place]] = {}
        states: dict[int, Place] = {}
        for place in self.places:
            state = place if place.kind == Place.Kind.STATE else place.state
            states[state.id] = state
            groups.setdefault(state.id, []).append(place)
        return [(states[i], groups[i]) for i in sorted(groups, key=lambda i: states[i].name)]


def _places_for_targets(targets) -> list[Place]:
    """Return the Place rows of gazetteer targets, in the same order; unknown ones dropped."""
    if not targets:
        return []
    states = [t.id for t in targets if t.kind == "state"]
    counties = [t.id for t in targets if t.kind == "county"]
    cities = [t.id for t in targets if t.kind == "city"]
    county_of_city = [t.county.id for t in targets if t.kind == "city" and t.county]
    rows = Place.objects.select_related("state", "county").filter(
        Q(kind=Place.Kind.STATE, abbreviation__in=states)
        | Q(kind=Place.Kind.COUNTY, fips__in=counties + county_of_city)
        | Q(kind=Place.Kind.CITY, gazetteer_id__in=cities)
    )
    by_key = {}
    for place in rows:
        key = {
            Place.Kind.STATE: place.abbreviation,
            Place.Kind.COUNTY: place.fips,
            Place.Kind.CITY: place.gazetteer_id,
        }[place.kind]
        by_key[(place.kind, key)] = place
    found = []
    for target in targets:
        place = by_key.get((target.kind, target.id))
        if place is None and target.kind == "city" and target.county:
            # A town the gazetteer knows but could not give a page: its county's page.
            place = by_key.get(("county", target.county.id))
        if place is not None and place not in found:
            found.append(place)
    return found


def _city_for_zip(*, zip_code: str, county: Place) -> Place | None:
    """Return the city a ZIP code is mailed to, when its own police have an agreement.

    Its page names the city's police and the county's agencies; a ZIP mailed to a city
    whose police have no agreement stays on the county's page.
    """
    city_name = (
        ZipCodeArea.objects.filter(zip_code=zip_code, county=county, is_primary=True)
        .exclude(city_name="")
        .values_list("city_name", flat=True)
        .first()
    )
    if not city_name:
        return None
    return (
        Place.objects.select_related("state", "county")
        .filter(
            kind=Place.Kind.CITY,
            county=county,
            search_key=place_search_key(city_name),
            agencies__agreements__status__in=[
                Agreement.Status.ACTIVE,
                Agreement.Status.PENDING,
            ],
        )
        .order_by("-population")
        .first()
    )


def place_search(*, query: str, channel: str = "web", suggest: bool = True) -> PlaceSearch:
    """Return where a resident's words lead, on the site (``web``) or by SMS (``sms``).

    ZIP codes inside a sentence, states by name (also in Spanish and other languages),
    counties with or without "County", cities with or without their state, boroughs and
    "NYC", and typos ("did you mean") are understood; see ``assistant.places.search``.
    """
    query = (query or "").strip()[:200]
    if not query:
        return PlaceSearch(kind="none")
    resolution = resolve(query, default_gazetteer(), channel=channel, suggest=suggest)
    places = _places_for_targets(resolution.targets)
    if not places:
        return PlaceSearch(kind="none", zip_code=resolution.zip_code)
    kind = resolution.kind
    if kind == "choice" and len(places) == 1:
        kind = "single"
    if kind == "single" and resolution.zip_code and places[0].kind == Place.Kind.COUNTY:
        city = _city_for_zip(zip_code=resolution.zip_code, county=places[0])
        if city is not None:
            places = [city]
    return PlaceSearch(
        kind=kind,
        places=places if kind != "single" else places[:1],
        alternatives=_places_for_targets(resolution.alternatives) if kind == "single" else [],
        zip_code=resolution.zip_code,
        grouped=resolution.grouped,
    )


def places_for_query(*, query: str, channel: str = "web") -> list[Place]:
    """Return the places a resident may mean (one, or all of a choice; none for typos).

    Typos get nothing here, so no "did you mean" guesses are computed.
    """
    result = place_search(query=query, channel=channel, suggest=False)
    return result.places if result.kind in ("single", "choice") else []

"""Reads: what residents' pages and the SMS bot ask of the content."""

from dataclasses import dataclass, field
from datetime import date, datetime

from django.db.models import Q

from assistant.places.models import Agency, Agreement, Place, ZipCodeArea, place_search_key
from assistant.vocabulary import ZIP_RE


@dataclass(frozen=True)
class AgreementFact:
    """One agreement as residents see it."""

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
_KIND_ORDER = {"sheriff": 0, "police": 1, "jail": 2, "other": 3, "state": 4}
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


def _agency_scope(agency: Agency, place: Place) -> str:
    if agency.place_id == place.id:
        return "here"
    if agency.place and agency.place.kind == Place.Kind.STATE:
        return "statewide"
    if place.kind == Place.Kind.CITY and agency.place_id == place.county_id:
        return "county"
    return "inside"


def _fact(agreement: Agreement, scope: str) -> AgreementFact:
    return AgreementFact(
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

    A county is policed by its own agencies and by state agencies; city police inside it are
    listed apart (``inside``) because they police only part of it. A city is policed by its
    own police, its county's agencies and state agencies.
    """
    if place.kind == Place.Kind.STATE:
        whole = Q(agency__place=place)
        part = Q(agency__state=place) & ~Q(agency__place=place)
    elif place.kind == Place.Kind.COUNTY:
        whole = Q(agency__place=place) | Q(agency__place=place.state_id)
        part = Q(agency__place__county=place)
    else:
        whole = (
            Q(agency__place=place)
            | Q(agency__place=place.state_id)
            | (Q(agency__place=place.county_id) if place.county_id else Q(pk__in=[]))
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
        scope = _agency_scope(agreement.agency, place)
        fact = _fact(agreement, scope)
        if agreement.changed_on:
            changed.append(agreement.changed_on)
        if agreement.status == Agreement.Status.ACTIVE:
            (inside if scope == "inside" else active).append(fact)
        elif agreement.status == Agreement.Status.PENDING:
            pending.append(fact)
        else:
            ended.append(fact)
    active.sort(
        key=lambda f: (_SCOPE_ORDER.get(f.scope, 9), _KIND_ORDER.get(f.agency_kind, 9))
    )
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


def counties_for_zip(*, zip_code: str) -> list[Place]:
    """Return every county a ZIP code reaches, the primary one first."""
    areas = (
        ZipCodeArea.objects.filter(zip_code=zip_code)
        .select_related("county", "county__state")
        .order_by("-is_primary", "county__name")
    )
    return [area.county for area in areas]


def places_for_query(*, query: str, limit: int = 20) -> list[Place]:
    """Return the places a resident may mean by a ZIP code, county or city name.

    "Nassau", "nassau county", "Nassau County, NY" and "Doña Ana" all work; a name shared by
    several places returns them all so the resident can choose.
    """
    query = (query or "").strip()[:200]
    if not query:
        return []
    zip_match = ZIP_RE.match(query)
    if zip_match:
        return counties_for_zip(zip_code=zip_match.group(1))
    state = None
    name_part = query
    if "," in query:
        name_part, _sep, state_part = query.rpartition(",")
        state = _state_for(state_part)
    key = place_search_key(name_part)
    if not key:
        return []
    places = Place.objects.filter(search_key=key).exclude(kind=Place.Kind.STATE)
    if state is not None:
        places = places.filter(state=state)
    found = list(places.select_related("state").order_by("kind", "state__name")[:limit])
    if found:
        return found
    state_only = _state_for(query)
    return [state_only] if state_only else []


def _state_for(text: str) -> Place | None:
    text = text.strip()
    if not text:
        return None
    states = Place.objects.filter(kind=Place.Kind.STATE)
    if len(text) == 2:
        return states.filter(abbreviation__iexact=text).first()
    return states.filter(search_key=place_search_key(text)).first()

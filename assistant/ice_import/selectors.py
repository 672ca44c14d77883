"""Reads: which of ICE's lists the answers come from; the places the import matches against."""

from collections import defaultdict
from dataclasses import dataclass

from django.conf import settings
from django.db import connection
from django.db.models import Count, Max
from django.utils import timezone

from assistant.ice_import import matching
from assistant.ice_import.models import AgencyAlias, FetchCheck, HeldList, ImportSnapshot
from assistant.places.models import Agreement, Place
from assistant.places.selectors import ListStatus


def ice_list_status() -> ListStatus | None:
    """Return the date and age of the newest ICE list applied, or None before the first."""
    dates = ImportSnapshot.objects.aggregate(newest=Max("as_of"), imported=Max("imported_at"))
    if dates["newest"] is None:
        return None
    oldest_as_of, oldest_imported_at = (
        ImportSnapshot.objects.order_by("as_of", "imported_at")
        .values_list("as_of", "imported_at")
        .first()
    )
    fetched = (
        FetchCheck.objects.exclude(outcome=FetchCheck.Outcome.ERROR)
        .order_by("-checked_at")
        .values_list("checked_at", flat=True)
        .first()
    )
    checked = max(filter(None, (dates["imported"], fetched)), default=None)
    today = timezone.localdate()
    return ListStatus(
        as_of=dates["newest"],
        age_days=max((today - dates["newest"]).days, 0),
        stale_after_days=settings.ICE_LIST_STALE_DAYS,
        checked_at=checked,
        oldest_as_of=oldest_as_of,
        oldest_imported_at=oldest_imported_at,
    )


def held_lists() -> list[HeldList]:
    """Return the lists fetched from ICE and held for an organizer's decision, newest first."""
    return list(
        HeldList.objects.filter(decision=HeldList.Decision.HELD)
        .defer("data", "pending_data")
        .order_by("-fetched_at")
    )


@dataclass(frozen=True)
class PlaceIds:
    """The database ids of the places the matcher names (by postal code, FIPS or Place id)."""

    states: dict[str, int]  # postal code → Place id
    state_names: dict[str, str]  # postal code → name
    counties: dict[str, int]  # FIPS → Place id
    cities: frozenset[int] = frozenset()

    @classmethod
    def load(cls) -> "PlaceIds":
        states, names = {}, {}
        for pk, code, name in Place.objects.filter(kind=Place.Kind.STATE).values_list(
            "id", "abbreviation", "name"
        ):
            states[code], names[code] = pk, name
        counties = dict(Place.objects.filter(kind=Place.Kind.COUNTY).values_list("fips", "id"))
        cities = frozenset(Place.objects.filter(kind=Place.Kind.CITY).values_list("id", flat=True))
        return cls(states=states, state_names=names, counties=counties, cities=cities)

    def resolve(self, placement: matching.Placement) -> tuple[int | None, tuple[int, ...]]:
        """Return (the Place id an agency goes on, the other counties' ids) for a placement.

        A city agency goes on its city; a county agency on its (first) county, with the
        other counties it serves (a regional jail) after it; a state agency on its state.
        """
        if not placement.placed:
            return None, ()
        counties = [self.counties[f] for f in placement.county_fips if f in self.counties]
        if placement.kind == matching.STATE:
            return self.states.get(placement.state), ()
        if placement.kind == matching.CITY and placement.city_id is not None:
            city_id = int(placement.city_id)
            return (city_id if city_id in self.cities else None), ()
        if placement.kind == matching.COUNTY and counties:
            return counties[0], tuple(counties[1:])
        return None, ()


_INDEX_CACHE: dict[tuple, tuple[matching.MatchIndex, "PlaceIds"]] = {}


def _places_version() -> tuple:
    """Return what changes when a place or an alias is added, changed or removed."""
    places = Place.objects.aggregate(count=Count("id"), last=Max("id"))
    aliases = AgencyAlias.history.aggregate(count=Count("history_id"), last=Max("history_id"))
    return (places["count"], places["last"], aliases["count"], aliases["last"])


def match_index() -> tuple[matching.MatchIndex, "PlaceIds"]:
    """Return the matcher's index of the database's places and organizers' aliases.

    Building it reads some 25,000 places (about a second): it is kept for the process and
    built again when a place or an alias changes (``_places_version``).
    """
    version = (connection.alias, connection.settings_dict["NAME"], *_places_version())
    cached = _INDEX_CACHE.get(version)
    if cached is None:
        _INDEX_CACHE.clear()
        cached = _INDEX_CACHE[version] = _match_index_build()
    return cached


def _match_index_build() -> tuple[matching.MatchIndex, "PlaceIds"]:
    """Return the matcher's index of the database's places and organizers' aliases.

    Cities are known by their Place id (``CityRef.id``), counties by FIPS, states by postal
    code, as the matcher's placements name them; ``PlaceIds`` turns those into Place ids.
    """
    ids = PlaceIds.load()
    codes = {pk: code for code, pk in ids.states.items()}
    states = [
        matching.StateRef(fips, abbr, name)
        for fips, abbr, name in Place.objects.filter(kind=Place.Kind.STATE).values_list(
            "fips", "abbreviation", "name"
        )
    ]
    county_fips = {}
    counties = []
    for pk, fips, state_id, name, kind in Place.objects.filter(kind=Place.Kind.COUNTY).values_list(
        "id", "fips", "state_id", "name", "kind_detail"
    ):
        county_fips[pk] = fips
        counties.append(matching.CountyRef(fips, codes.get(state_id, ""), name, kind or "county"))
    cities = [
        matching.CityRef(pk, codes.get(state_id, ""), name, county_fips.get(county_id, ""))
        for pk, state_id, name, county_id in Place.objects.filter(
            kind=Place.Kind.CITY, county__isnull=False
        ).values_list("id", "state_id", "name", "county_id")
    ]
    aliases = {}
    others = defaultdict(list)
    for alias_id, fips in AgencyAlias.other_places.through.objects.values_list(
        "agencyalias_id", "place__fips"
    ):
        others[alias_id].append(fips)
    for alias in AgencyAlias.objects.select_related("state", "place"):
        place = alias.place
        if place.kind == Place.Kind.CITY:
            target = matching.AliasTarget(matching.CITY, city_id=place.id, note=alias.note)
        elif place.kind == Place.Kind.COUNTY:
            target = matching.AliasTarget(
                matching.COUNTY, county_fips=(place.fips, *others[alias.pk]), note=alias.note
            )
        else:
            target = matching.AliasTarget(matching.STATE, note=alias.note)
        aliases[(alias.state.abbreviation, alias.ice_text)] = target
    index = matching.MatchIndex(counties=counties, cities=cities, aliases=aliases, states=states)
    return index, ids


OPEN_DATA_FIELDS = (
    "agency", "ice_type", "agency_kind", "state", "state_fips", "county", "county_fips",
    "model", "signed_on", "first_seen_on", "last_seen_on", "status", "ended_on", "ice_list",
    "ice_list_date",
)  # fmt: skip


def _fold(text: str) -> str:
    return " ".join(str(text or "").split()).upper()


def agreements_open_data() -> list[dict]:
    """Return every 287(g) agreement we know, one flat dict each (``OPEN_DATA_FIELDS``).

    ``ice_list`` is the file of the newest of ICE's lists the agreement was on (the list of its
    ``last_seen_on`` date), and ``ice_type`` ICE's TYPE column in that list.
    """
    snapshots = {}
    for pk, as_of, name in ImportSnapshot.objects.order_by("as_of", "imported_at").values_list(
        "pk", "as_of", "file_name"
    ):
        snapshots[as_of] = (pk, name)  # the last import of each date
    agreements = list(
        Agreement.objects.select_related(
            "agency", "agency__state", "agency__place", "agency__place__county"
        ).order_by("agency__state__abbreviation", "agency__name", "enforcement_model")
    )
    wanted = {snapshots[a.last_seen_on][0] for a in agreements if a.last_seen_on in snapshots}
    types = {}
    for pk, rows in ImportSnapshot.objects.filter(pk__in=wanted).values_list("pk", "rows"):
        for row in rows:
            types[(pk, _fold(row.get("state")), _fold(row.get("agency")))] = row.get("type", "")
    result = []
    for agreement in agreements:
        agency = agreement.agency
        state = agency.state
        place = agency.place
        county = None
        if place is not None and place.kind == Place.Kind.COUNTY:
            county = place
        elif place is not None and place.kind == Place.Kind.CITY:
            county = place.county
        pk, list_name = snapshots.get(agreement.last_seen_on, (None, ""))
        ice_type = types.get((pk, _fold(state.name if state else ""), _fold(agency.ice_name)), "")
        result.append(
            {
                "agency": agency.name,
                "ice_type": ice_type,
                "agency_kind": agency.kind,
                "state": state.abbreviation if state else "",
                "state_fips": state.fips if state else "",
                "county": county.name if county else "",
                "county_fips": county.fips if county else "",
                "model": agreement.enforcement_model,
                "signed_on": _iso(agreement.signed_on),
                "first_seen_on": _iso(agreement.first_seen_on),
                "last_seen_on": _iso(agreement.last_seen_on),
                "status": agreement.status,
                "ended_on": _iso(agreement.ended_on),
                "ice_list": list_name,
                "ice_list_date": _iso(agreement.last_seen_on if list_name else None),
            }
        )
    return result


def _iso(value) -> str:
    return value.isoformat() if value else ""

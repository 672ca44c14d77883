"""Place a row of ICE's 287(g) list where residents look: a state, counties, a city.

Pure Python: no ORM, no database. The matcher works against a small ``MatchIndex`` that can be
built from database rows (the import does that) or, for tests and tools, from the gazetteer
files the places are loaded from (``MatchIndex.from_gazetteer()``).

Rules (issue 12):
- The agency name, ICE's TYPE and the COUNTY column are read together.
- ICE's misspellings are matched within the row's state only, and reported as "spelling" with
  the text ICE wrote and the name it was read as.
- A city is never invented: a municipal agency is placed on a city of the index, or on the
  COUNTY column's county (saying the city was not found), or left unplaced with a reason.
- An organizer's alias (state, ICE's text) fixes a row once for every later list.
"""

from __future__ import annotations

import re
import unicodedata
import urllib.parse
from dataclasses import dataclass, field
from functools import cached_property

from assistant.places.gazetteer import gazetteer_rows

# Where an agency polices.
STATE = "state"
COUNTY = "county"
CITY = "city"

# How the place was found.
EXACT = "exact"
SPELLING = "spelling"
ALIAS = "alias"
UNPLACED = "unplaced"

# What kind of agency it is.
SHERIFF = "sheriff"
POLICE = "police"
STATE_AGENCY = "state agency"
JAIL = "jail"
REGIONAL_JAIL = "regional jail"
CONSTABLE = "constable"
UNIVERSITY = "university"
MARSHAL = "marshal"
OTHER = "other"

NOT_A_COUNTY = {"", "n a", "na", "none", "unknown", "0"}

# Trailing words of a county name in the package data (longest first), and the kind they give.
COUNTY_SUFFIXES = (
    (" City and Borough", "city and borough"),
    (" Census Area", "census area"),
    (" Municipality", "municipality"),
    (" Municipio", "municipio"),
    (" County", "county"),
    (" Parish", "parish"),
    (" Borough", "borough"),
    (" city", "independent city"),
)
# Words ICE puts after a county's name (folded).
COUNTY_WORDS = ("county", "parish", "borough", "city")

CITY_PREFIX_RE = re.compile(r"^(?:the )?(?:city|town|village|borough|township) of ")
# Folded words ICE puts after a city's name, stripped repeatedly from the end.
CITY_SUFFIX_RE = re.compile(
    r"\s+(?:"
    r"police services department|police department|police departent|police dept|"
    r"department of public safety|public safety department|public safety|"
    r"police authority|police|special|metropolitan|metro|"
    r"constables?'?s? office|constables?|office of constable|"
    r"(?:first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|\d+(?:st|nd|rd|th)) ward|"
    r"marshal'?s office|marshals? service|department|dept"
    r")$"
)
# Words that may follow a city's name in ICE's text but not in the gazetteer.
# (Not "township": a Pennsylvania township is not the borough of the same name.)
CITY_TYPE_WORDS = ("village", "borough", "town")
AIRPORT_RE = re.compile(r"\s+(?:international airport|airport authority|airport|port authority)$")
ABBREVIATIONS = {"st": "saint", "ste": "sainte", "ft": "fort", "mt": "mount"}
STATE_AGENCY_WORDS = (
    "state",
    "department",
    "division",
    "bureau",
    "office",
    "highway",
    "patrol",
    "commission",
    "alcohol",
    "wildlife",
    "corrections",
    "national guard",
    "attorney general",
    "military",
)


def fold(text: str) -> str:
    """Return ``text`` lower-cased, without accents or punctuation, spaces collapsed.

    Apostrophes are dropped rather than spaced ("Sewall's" → "sewalls", "St. Mary's" → "st marys").
    """
    decomposed = unicodedata.normalize("NFKD", text or "")
    without_marks = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    text = re.sub(r"['’`]", "", without_marks.casefold())
    return " ".join(re.sub(r"[^0-9a-z]+", " ", text).split())


def _expand(folded: str) -> str:
    """Spell out "st", "ft", "mt" as words so "St. Cloud" and "Saint Cloud" meet."""
    return " ".join(ABBREVIATIONS.get(word, word) for word in folded.split())


def _key(text: str) -> str:
    return _expand(fold(text))


def edit_distance(a: str, b: str, limit: int = 3) -> int:
    """Return the optimal-string-alignment distance of a and b (capped at limit + 1)."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2 = None
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if previous2 is not None and i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return previous[-1]


def _allowed_distance(key: str) -> int:
    letters = len(key.replace(" ", ""))
    if letters < 5:
        return 0
    if letters < 7:
        return 1
    return 2


def _spelling_match(key: str, candidates: dict[str, list], most: int = 2) -> list:
    """Return the candidates whose key is nearest to ``key`` within ICE's usual typos.

    A typo never changes the first letter, and the nearest name must be the only one that near.
    """
    limit = min(_allowed_distance(key), most)
    if not limit:
        return []
    best, found = limit + 1, []
    for other, items in candidates.items():
        if other[:1] != key[:1]:
            continue
        distance = edit_distance(key, other, limit)
        if distance < best:
            best, found = distance, list(items)
        elif distance == best:
            found.extend(items)
    return found if best <= limit else []


# ----------------------------------------------------------------------------------------------
# The index


@dataclass(frozen=True)
class StateRef:
    fips: str
    abbr: str
    name: str


@dataclass(frozen=True)
class CountyRef:
    """A county or county-equivalent: ``kind`` is "county", "parish", "independent city"…"""

    fips: str
    state: str  # postal abbreviation
    name: str
    kind: str = "county"

    @cached_property
    def key(self) -> str:
        """The name without its trailing "County", "Parish", "city"…"""
        name = self.name
        for suffix, _kind in COUNTY_SUFFIXES:
            if name.endswith(suffix) and len(name) > len(suffix):
                name = name[: -len(suffix)]
                break
        return _key(name)


@dataclass(frozen=True)
class CityRef:
    """A city or town; ``county_fips`` names every county it lies in (first: the main one)."""

    id: str | int
    state: str  # postal abbreviation
    name: str
    county_fips: tuple[str, ...] = ()

    def __post_init__(self):
        if isinstance(self.county_fips, str):
            object.__setattr__(self, "county_fips", (self.county_fips,))
        else:
            object.__setattr__(self, "county_fips", tuple(f for f in self.county_fips if f))


@dataclass(frozen=True)
class AliasTarget:
    """What an organizer said ICE's text means: the state, or counties, or a city."""

    kind: str  # STATE, COUNTY or CITY
    county_fips: tuple[str, ...] = ()
    city_id: str | int | None = None
    note: str = ""


@dataclass
class MatchIndex:
    """The places ICE's rows are matched against.

    ``aliases`` maps (state abbreviation, folded ICE text) to an ``AliasTarget``; the ICE text
    is the agency name or the COUNTY cell, folded with ``fold``.
    """

    counties: list[CountyRef]
    cities: list[CityRef]
    aliases: dict[tuple[str, str], AliasTarget] = field(default_factory=dict)
    states: list[StateRef] | None = None

    def __post_init__(self):
        if self.states is None:
            self.states = [
                StateRef(row["fips"], row["usps"], row["name"])
                for row in gazetteer_rows("states.csv")
            ]
        self._states_by_key = {}
        for state in self.states:
            self._states_by_key[fold(state.name)] = state
            self._states_by_key[fold(state.abbr)] = state
        self._counties_by_fips = {c.fips: c for c in self.counties}
        self._cities_by_id = {c.id: c for c in self.cities}
        self._county_keys: dict[str, dict[str, list[CountyRef]]] = {}
        for county in self.counties:
            self._county_keys.setdefault(county.state, {}).setdefault(county.key, []).append(county)
        self._city_keys: dict[str, dict[str, list[CityRef]]] = {}
        for city in self.cities:
            self._city_keys.setdefault(city.state, {}).setdefault(_key(city.name), []).append(city)
        self.aliases = {(state.upper(), fold(text)): t for (state, text), t in self.aliases.items()}

    # States ------------------------------------------------------------------------------
    def state(self, text: str) -> tuple[StateRef | None, bool]:
        """Return (the state ICE's STATE cell names, whether it had to be read as a typo)."""
        key = fold(text)
        if key in self._states_by_key:
            return self._states_by_key[key], False
        names = {fold(s.name): [s] for s in self.states}
        found = _spelling_match(key, names)
        if len(found) == 1:
            return found[0], True
        return None, False

    # Counties ----------------------------------------------------------------------------
    def county(self, fips: str) -> CountyRef | None:
        return self._counties_by_fips.get(fips)

    def city(self, city_id) -> CityRef | None:
        return self._cities_by_id.get(city_id)

    def find_county(
        self, state: StateRef, text: str, *, spelling: bool = True
    ) -> tuple[CountyRef | None, bool, str]:
        """Return (county, matched by spelling, why not) for ICE's name of a county.

        ``spelling=False`` looks for the name as written only (no misspelling is matched).
        """
        folded = fold(text)
        if folded in NOT_A_COUNTY:
            return None, False, "empty"
        keys = self._county_keys.get(state.abbr, {})
        full = _key(text)
        word = ""
        bare = full
        for suffix in COUNTY_WORDS:
            if full.endswith(" " + suffix):
                word, bare = suffix, full[: -len(suffix) - 1]
                break
        # "James City County" has the key "james city"; "Hopewell County" means Hopewell city.
        for candidate in (full, bare):
            found = keys.get(candidate, [])
            if len(found) > 1:
                found = _prefer_kind(found, word)
            if len(found) == 1:
                return found[0], False, ""
        if not spelling:
            return None, False, "not found"
        found = _spelling_match(bare, keys)
        if len(found) > 1:
            found = _prefer_kind(found, word)
        if len(found) == 1:
            return found[0], True, ""
        if found:
            return None, False, "ambiguous"
        return None, False, "unknown"

    def counties_in(self, state: StateRef, text: str) -> list[CountyRef]:
        """Return the counties of ``state`` whose names appear as words in ``text``."""
        words = f" {_key(text)} "
        return [
            c
            for key, items in self._county_keys.get(state.abbr, {}).items()
            if f" {key} " in words
            for c in items
            if c.kind != "independent city"
        ]

    # Cities ------------------------------------------------------------------------------
    def find_city(self, state: StateRef, name: str) -> tuple[CityRef | None, bool, str]:
        """Return (city, matched by spelling, why not) for ICE's name of a city."""
        keys = self._city_keys.get(state.abbr, {})
        key = _key(name)
        if not key:
            return None, False, "empty"
        tries = [key]
        words = key.split()
        if len(words) > 1 and words[-1] in CITY_TYPE_WORDS:
            tries.append(" ".join(words[:-1]))
        for attempt in tries:
            found = keys.get(attempt, [])
            if len(found) == 1:
                return found[0], False, ""
            if len(found) > 1:
                return None, False, "ambiguous"
        # Spelling is tolerated on ICE's text as written only, and one letter off at most.
        found = _spelling_match(key, keys, most=1)
        if len(found) == 1:
            return found[0], True, ""
        if len(found) > 1:
            return None, False, "ambiguous"
        return None, False, "unknown"

    def nearest_city_names(self, state: StateRef, name: str) -> list[str]:
        import difflib

        keys = self._city_keys.get(state.abbr, {})
        close = difflib.get_close_matches(_key(name), list(keys), n=2, cutoff=0.75)
        return [keys[k][0].name for k in close]

    # Built from the gazetteer files -----------------------------------------------------
    @classmethod
    def from_gazetteer(cls, *, aliases: dict | None = None) -> MatchIndex:
        """Build the index from the gazetteer files the places are loaded from.

        The database holds the same places (``places_load``); tests and dry runs that have no
        database use this.
        """
        states = [
            StateRef(row["fips"], row["usps"], row["name"]) for row in gazetteer_rows("states.csv")
        ]
        counties = [
            CountyRef(row["fips"], row["state"], row["name"], row["kind"])
            for row in gazetteer_rows("counties.csv")
        ]
        cities = [
            CityRef(row["geonameid"], row["state"], row["name"], row["county_fips"])
            for row in gazetteer_rows("places.csv.gz")
            if row["county_fips"]
        ]
        return cls(counties=counties, cities=cities, aliases=aliases or {}, states=states)


def _prefer_kind(found: list[CountyRef], word: str) -> list[CountyRef]:
    """Between Franklin County and Franklin city (VA), take what ICE's word says (County)."""
    if word == "city":
        preferred = [c for c in found if c.kind == "independent city"]
    else:
        preferred = [c for c in found if c.kind != "independent city"]
    return preferred or found


# ----------------------------------------------------------------------------------------------
# Placements


@dataclass(frozen=True)
class Placement:
    """Where an agency polices, how that was found, and what kind of agency it is."""

    kind: str | None  # STATE, COUNTY, CITY, or None when unplaced
    state: str = ""  # postal abbreviation of the row's state
    county_fips: tuple[str, ...] = ()
    city_id: str | int | None = None
    method: str = EXACT  # EXACT, SPELLING, ALIAS or UNPLACED
    original: str = ""  # ICE's misspelled text, for SPELLING
    corrected: str = ""  # the name it was read as, for SPELLING
    reason: str = ""  # why it is unplaced, for UNPLACED
    note: str = ""  # what an organizer should know about a placed row
    agency_kind: str = OTHER

    @property
    def placed(self) -> bool:
        return self.method != UNPLACED


class _Spellings:
    """Collect ICE's misspellings met while placing a row."""

    def __init__(self):
        self.original: list[str] = []
        self.corrected: list[str] = []

    def add(self, original: str, corrected: str):
        if corrected not in self.corrected:
            self.original.append(original)
            self.corrected.append(corrected)

    def method(self) -> str:
        return SPELLING if self.original else EXACT

    def fields(self) -> dict:
        return {
            "method": self.method(),
            "original": "; ".join(self.original),
            "corrected": "; ".join(self.corrected),
        }


def agency_kind_of(name: str, type_text: str, state_name: str = "") -> str:
    """Return what kind of agency its name and ICE's TYPE say it is."""
    folded = fold(name)
    words = f" {folded} "
    state_typed = fold(type_text).startswith("state")
    if re.search(r" (?:regional|district) (?:jail|detention|correctional)", words):
        return REGIONAL_JAIL
    if " university " in words or " college " in words:
        return UNIVERSITY
    if any(w.startswith("const") and edit_distance(w, "constables") <= 2 for w in words.split()):
        return CONSTABLE  # "Constables's", "Constbales"
    if " sheriff" in words:
        return SHERIFF
    if state_typed or _names_state_agency(folded, state_name):
        return STATE_AGENCY
    if any(w in words for w in (" jail ", " correction", " detention ", " criminal justice ")):
        return JAIL
    if " marshal" in words:
        return MARSHAL
    if any(w in words for w in (" police ", " public safety ", " departent ")):
        return POLICE
    return OTHER


def _names_state_agency(folded: str, state_name: str) -> bool:
    """Whether the name reads as a state agency ("Arkansas State Police Department")."""
    state = fold(state_name)
    if not state or not folded.startswith(state + " "):
        return False
    rest = f" {folded[len(state) + 1 :]} "
    return any(f" {word}" in rest for word in STATE_AGENCY_WORDS)


def _city_name(agency: str, state_abbr: str = "") -> str:
    """Return the place a municipal agency's name points to ("City of Deland Police" → deland)."""
    text = fold(agency)
    # "Arnaudville Police Department, LA"
    text = text.removesuffix(" " + state_abbr.lower()) if state_abbr else text
    text = CITY_PREFIX_RE.sub("", text)
    text = re.sub(r"^(?:office of )?constable ", "", text)
    previous = None
    while previous != text:
        previous = text
        text = CITY_SUFFIX_RE.sub("", text).strip()
    # "Marlow Heights Special Police Department" → "marlow heights"; "X Township" stays.
    return text


COUNTY_IN_NAME_RE = re.compile(r"^(?:.*? of )?(.+?) (?:county|parish|borough)s?\b")


def _county_from_name(agency: str) -> str:
    """Return the county a name like "Lee County Port Authority Police" names, or ""."""
    text = fold(agency)
    text = re.sub(r"^(?:pennsylvania state constables office|metro police authority of) ", "", text)
    match = COUNTY_IN_NAME_RE.match(text)
    return match.group(1) if match else ""


def _sheriff_place(agency: str) -> str:
    """Return X in "X Sheriff's Office" when X has no county word ("Jacksonville")."""
    text = fold(agency)
    match = re.match(r"^(.+?) sheriff", text)
    if not match:
        return ""
    return match.group(1)


def _alias_placement(index: MatchIndex, state: StateRef, row, agency_kind: str):
    for text in (row.agency, f"{row.agency} | {row.county}", row.county):
        target = index.aliases.get((state.abbr, fold(text)))
        if target is None:
            continue
        counties = tuple(target.county_fips)
        if target.city_id is not None and not counties:
            city = index.city(target.city_id)
            counties = city.county_fips if city else ()
        return Placement(
            kind=target.kind,
            state=state.abbr,
            county_fips=counties,
            city_id=target.city_id,
            method=ALIAS,
            note=target.note or f"an organizer's alias for “{text}”",
            agency_kind=agency_kind,
        )
    return None


def match_row(row, index: MatchIndex) -> Placement:
    """Return where ICE's row (a ``sheets.SheetRow``) says the agency polices."""
    state, state_typo = index.state(row.state)
    if state is None:
        return Placement(
            kind=None,
            method=UNPLACED,
            reason=f"“{row.state}” is not a state",
            agency_kind=agency_kind_of(row.agency, row.type),
        )
    agency_kind = agency_kind_of(row.agency, row.type, state.name)
    spellings = _Spellings()
    if state_typo:
        spellings.add(row.state, state.name)
    alias = _alias_placement(index, state, row, agency_kind)
    if alias is not None:
        return alias
    return _Matcher(index, state, row, agency_kind, spellings).place()


class _Matcher:
    def __init__(self, index, state, row, agency_kind, spellings):
        self.index = index
        self.state = state
        self.row = row
        self.agency_kind = agency_kind
        self.spellings = spellings
        self.notes: list[str] = []
        self.type = fold(row.type)
        self.city_why = ""

    # Results -----------------------------------------------------------------------------
    def placed(self, kind, counties=(), city=None) -> Placement:
        return Placement(
            kind=kind,
            state=self.state.abbr,
            county_fips=tuple(c.fips for c in counties),
            city_id=city.id if city else None,
            note="; ".join(self.notes),
            agency_kind=self.agency_kind,
            **self.spellings.fields(),
        )

    def unplaced(self, reason: str) -> Placement:
        return Placement(
            kind=None,
            state=self.state.abbr,
            method=UNPLACED,
            reason="; ".join([reason, *self.notes]),
            agency_kind=self.agency_kind,
        )

    # Lookups -----------------------------------------------------------------------------
    def county(self, text: str, what: str, original: str = "") -> CountyRef | None:
        county, typo, why = self.index.find_county(self.state, text)
        if county and typo:
            self.spellings.add(original or text, county.name)
        elif why == "ambiguous":
            self.notes.append(f"{what} “{text}” could be several counties of {self.state.name}")
        return county

    def column_county(self) -> CountyRef | None:
        text = self.row.county
        if fold(text) in NOT_A_COUNTY:
            return None
        county = self.county(text, "the COUNTY column")
        if county is None:
            elsewhere = self._other_state_county(text)
            if elsewhere:
                self.notes.append(
                    f"the COUNTY column says “{text}”, a county of {elsewhere}, "
                    f"not of {self.state.name}"
                )
            else:
                self.notes.append(
                    f"the COUNTY column says “{text}”, which is not a county of {self.state.name}"
                )
        return county

    def _other_state_county(self, text: str) -> str:
        for other in self.index.states:
            if other.abbr == self.state.abbr:
                continue
            # Only a county of that name as written says the cell meant another state.
            county, _typo, _why = self.index.find_county(other, text, spelling=False)
            if county:
                return other.name
        return ""

    def city(self, name: str) -> CityRef | None:
        city, typo, why = self.index.find_city(self.state, name)
        if city and typo:
            self.spellings.add(self.row.agency, city.name)
        self.city_why = why
        return city

    def city_counties(self, city: CityRef) -> list[CountyRef]:
        return [c for c in map(self.index.county, city.county_fips) if c]

    # Rules -------------------------------------------------------------------------------
    def place(self) -> Placement:
        kind = self.agency_kind
        if kind == STATE_AGENCY:
            return self.state_agency()
        if kind == REGIONAL_JAIL:
            return self.regional_jail()
        if kind == UNIVERSITY:
            return self.university()
        if kind in (SHERIFF, JAIL) or (
            self.type.startswith("county") and _county_from_name(self.row.agency)
        ):
            return self.county_agency()
        if kind == CONSTABLE:
            return self.constable()
        if self.type.startswith("county"):
            return self.municipal(typed_county=True)
        if self.type.startswith("municip") or self.type == "city" or kind == POLICE:
            return self.municipal()
        if _county_from_name(self.row.agency):
            return self.county_agency()
        return self.unplaced(
            f"the TYPE “{self.row.type}” is not County, Municipality or State Agency, "
            "and the agency name names no county"
        )

    def state_agency(self) -> Placement:
        if not self.type.startswith("state"):
            self.notes.append(
                f"a state agency (ICE's TYPE says “{self.row.type}”); placed on the state"
            )
        return self.placed(STATE)

    def county_agency(self) -> Placement:
        """A sheriff, a county jail, a county police: the county its name or the COLUMN says."""
        column = self.column_county()
        named_text = _county_from_name(self.row.agency)
        named = self.county(named_text, "the agency name", self.row.agency) if named_text else None
        city = None
        if not named_text and self.agency_kind == SHERIFF:
            # "Jacksonville Sheriff's Office" (Duval County) or "St. Charles Place Sheriff's".
            place_name = _sheriff_place(self.row.agency)
            city = self.index.find_city(self.state, place_name)[0] if place_name else None
            if city is None and place_name and column is None:
                named = self.county(place_name, "the agency name", self.row.agency)
                words = place_name.split()
                if named is None and len(words) > 2:
                    # "St. Charles Place Sheriff's Office": ICE's word where "Parish" belongs.
                    named = self.county(" ".join(words[:-1]), "the agency name")
                    if named:
                        self.spellings.add(self.row.agency, named.name)
        if named and column and named.fips != column.fips:
            self.notes.append(
                f"the COUNTY column says “{self.row.county}”; the agency name says "
                f"{named.name}, which was used"
            )
        county = named or column
        if county is None and city is not None:
            counties = self.city_counties(city)
            if counties:
                self.notes.append(f"county taken from the city of {city.name}")
                return self.placed(COUNTY, counties[:1], city)
        if county is None:
            return self.unplaced(
                f"no county of {self.state.name} is named by the agency name "
                f"(“{self.row.agency}”) or the COUNTY column (“{self.row.county}”)"
            )
        if column is None and named is not None:
            self.notes.append(f"county taken from the agency name “{self.row.agency}”")
        if county.kind == "independent city":
            self.notes.append(f"ICE calls it a county; {county.name} is an independent city")
        if city is not None and county.fips not in city.county_fips:
            city = None
        return self.placed(COUNTY, [county], city)

    def regional_jail(self) -> Placement:
        counties = self.index.counties_in(self.state, self.row.agency)
        if counties:
            self.notes.append("a regional jail: the counties its name lists")
            return self.placed(COUNTY, counties)
        column = self.column_county()
        if column:
            self.notes.append("a regional jail: the county of the COUNTY column")
            return self.placed(COUNTY, [column])
        if self.type.startswith("state"):
            self.notes.append(
                "a regional jail that ICE types as a state agency and whose counties ICE does "
                "not list; placed on the state"
            )
            return self.placed(STATE)
        return self.unplaced(
            "a regional jail whose name and COUNTY column name no county of "
            f"{self.state.name}; an organizer can add an alias naming the counties it serves"
        )

    def university(self) -> Placement:
        column = self.column_county()
        name = re.sub(
            r"\b(?:police department|board of trustees|police)\b", "", fold(self.row.agency)
        )
        for part in re.split(r"\b(?:university|college|state|of)\b", name):
            part = part.strip()
            if not part or fold(part) == fold(self.state.name):
                continue
            city, typo, _why = self.index.find_city(self.state, part)
            if city and not typo:
                self.notes.append(f"a university or college police in {city.name}")
                return self.placed(
                    CITY, self.city_counties(city) or ([column] if column else []), city
                )
        if column:
            self.notes.append("a university or college police: the county of the COUNTY column")
            return self.placed(COUNTY, [column])
        self.notes.append(
            "a state university or college police; ICE's list does not say where its campus is, "
            "so it is placed on the state"
        )
        return self.placed(STATE)

    def constable(self) -> Placement:
        column = self.column_county()
        if column:
            return self.placed(COUNTY, [column])
        named_text = _county_from_name(self.row.agency)
        named = self.county(named_text, "the agency name") if named_text else None
        if named:
            self.notes.append(f"county taken from the agency name “{self.row.agency}”")
            return self.placed(COUNTY, [named])
        name = _city_name(self.row.agency, self.state.abbr)
        city = self.city(name)
        counties = self.city_counties(city) if city else []
        if counties:
            self.notes.append(f"a constable of {city.name}: placed on its county")
            return self.placed(COUNTY, counties[:1])
        return self.unplaced(
            f"a constable of “{name.title()}”, which is not a city or town of "
            f"{self.state.name} in the gazetteer, and the COUNTY column is empty "
            f"(“{self.row.county}”)"
        )

    def municipal(self, typed_county: bool = False) -> Placement:
        name = _city_name(self.row.agency, self.state.abbr)
        column = self.column_county()
        airport = AIRPORT_RE.search(name)
        if airport:
            name = name[: airport.start()]
        city = self.city(name) if name else None
        if (
            city is not None
            and column
            and city.county_fips
            and column.fips not in city.county_fips
            and column.key != _key(city.name)  # "Monroe Police Department", "Monroe County"
        ):
            # Another place of the same name (Robinson Township, Allegheny County, is not the
            # borough of Robinson, Indiana County): the COUNTY column decides.
            self.spellings = _Spellings()
            self.column_county()
            self.notes.append(
                f"{city.name}, {self.state.abbr} in the gazetteer is not in {column.name}, "
                "the COUNTY column's county; placed on that county"
            )
            return self.placed(COUNTY, [column])
        if city is not None:
            counties = self.city_counties(city)
            if column and counties and column.fips not in city.county_fips:
                self.notes.append(
                    f"the COUNTY column says {column.name}; the city of {city.name} is in "
                    f"{counties[0].name}"
                )
            if not counties and column:
                counties = [column]
            metro = {"metro", "metropolitan"} & set(fold(self.row.agency).split())
            if typed_county and metro:
                # Las Vegas Metropolitan Police: the county's police, and the city's.
                area = [column] if column else counties[:1]
                self.notes.append(
                    f"a metropolitan police: {area[0].name} and the city of {city.name}"
                )
                return self.placed(COUNTY, area, city)
            if typed_county:
                self.notes.append("ICE types this city police as County; placed on the city")
            return self.placed(CITY, counties, city)
        if airport and not column:
            counties = self.index.counties_in(self.state, name)
            if counties:
                self.notes.append("an airport police: the counties its name lists")
                return self.placed(COUNTY, counties)
        if self.city_why == "ambiguous":
            missing = (
                f"several places called “{name.title()}” in {self.state.name} in the gazetteer"
            )
        else:
            missing = (
                f"no city or town called “{name.title()}” in {self.state.name} in the gazetteer"
            )
        near = []
        if name and self.city_why != "ambiguous":
            near = self.index.nearest_city_names(self.state, name)
        if near:
            missing += f" (nearest names: {', '.join(near)})"
        if column:
            self.notes.insert(0, f"{missing}; placed on the COUNTY column's county")
            return self.placed(COUNTY, [column])
        return self.unplaced(f"{missing}, and the COUNTY column is empty (“{self.row.county}”)")


# ----------------------------------------------------------------------------------------------
# Links


SAFELINK_HOST_RE = re.compile(r"(?:^|\.)safelinks\.protection\.outlook\.com$", re.IGNORECASE)


def unwrap_safelink(url: str) -> str:
    """Return the document a Microsoft "safelinks" URL points to; other URLs unchanged.

    ICE's MOA links are sometimes safelinks whose ``data`` parameter carries ICE staff e-mail
    addresses: only the ``url`` parameter is kept.
    """
    current = url
    for _depth in range(5):  # a safelink can wrap a safelink
        try:
            parts = urllib.parse.urlsplit(current.strip())
        except ValueError:
            return url
        if not SAFELINK_HOST_RE.search(parts.hostname or ""):
            return current
        target = urllib.parse.parse_qs(parts.query).get("url")
        if not target or not target[0].strip():
            return current
        current = target[0].strip()
    return current

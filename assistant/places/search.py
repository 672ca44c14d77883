"""Resolve what a resident types ("Houston, TX", "my zip is 11501", "condado de Nassau")
to a state, a county or a city — pure Python, no database.

A :class:`Gazetteer` is built in memory from plain entries (database rows or the data
files in ``assistant/places/data/``); :func:`resolve` reads a query against it and returns a
:class:`Resolution`: one target, a complete choice, "did you mean" suggestions, or nothing.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from assistant.places.gazetteer import DATA, gazetteer_rows
from assistant.vocabulary import ZIP_IN_TEXT_RE

Channel = Literal["web", "sms"]

# A choice longer than this, with no state given, is also offered grouped by state.
GROUP_BY_STATE_OVER = 10
# A city this many times more populous than every other same-named place wins outright
# (the others are offered as alternatives).
# A city this large is what residents mean by its name, even where a county shares it.
BIG_CITY = 100_000
DOMINANT_RATIO = 5

# Words that say "county" (or an equivalent) before or after a name, folded.
COUNTY_WORDS = (
    "city and borough",
    "census area",
    "municipality",
    "municipio de",
    "municipio",
    "borough",
    "county",
    "parish",
    "condado de",
    "condado",
    "comte de",
    "comte",
    "county of",
    "parroquia de",
    "parroquia",
)
# Kind words that only describe, and are dropped from a county's name to make its key.
_KIND_WORDS = COUNTY_WORDS + ("city",)
# Sentence openings dropped before reading a place (folded).
FILLERS = (
    "i live in",
    "i live at",
    "i am in",
    "im in",
    "i m in",
    "we live in",
    "i am from",
    "im from",
    "i m from",
    "live in",
    "vivo en el",
    "vivo en la",
    "vivo en",
    "estoy en",
    "soy de",
    "moro em",
    "moro no",
    "moro na",
    "j habite a",
    "j habite en",
    "my zip is",
    "my zip code is",
    "zip code",
    "zip",
    "mi codigo postal es",
    "codigo postal",
    "the city of",
    "city of",
    "ciudad de",
    "la ciudad de",
    "el",
    "la",
)
_SYNONYMS = {"saint": "st", "sainte": "ste", "fort": "ft", "mount": "mt", "san": "san"}


def fold(text: str) -> str:
    """Lower-case, drop accents and punctuation, keep letters of every script, "saint"->"st"."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    plain = unicodedata.normalize("NFC", plain).casefold().replace("'", "")
    words = re.sub(r"[\W_]+", " ", plain).split()
    return " ".join(_SYNONYMS.get(w, w) for w in words)


def _strip_kind(key: str, words: Sequence[str] = _KIND_WORDS) -> tuple[str, bool]:
    """Return ``key`` without county words, and whether it had one."""
    padded = f" {key} "
    had = False
    for word in sorted(words, key=len, reverse=True):
        if f" {word} " in padded:
            padded = padded.replace(f" {word} ", " ")
            had = True
    return " ".join(padded.split()), had


# ---------------------------------------------------------------------------- entries


@dataclass(frozen=True)
class StateEntry:
    usps: str
    name: str
    fips: str = ""
    other_names: tuple[str, ...] = ()


@dataclass(frozen=True)
class CountyEntry:
    fips: str
    name: str
    state: str  # USPS code
    kind: str = "county"
    other_names: tuple[str, ...] = ()


@dataclass(frozen=True)
class PlaceEntry:
    id: str
    name: str
    state: str
    county_fips: str = ""
    population: int = 0
    alt_names: tuple[str, ...] = ()


@dataclass(frozen=True)
class AliasEntry:
    alias: str
    target_kind: Literal["state", "county", "counties", "city"]
    target_id: str  # USPS code, FIPS, "|"-separated FIPS, or place id
    note: str = ""
    lang: str = ""


# ---------------------------------------------------------------------------- results


@dataclass(frozen=True)
class Target:
    kind: Literal["state", "county", "city"]
    id: str  # USPS code / county FIPS / place id
    name: str
    state: str  # USPS code
    county: Target | None = None  # for a city: the county it lies in
    county_kind: str = ""  # for a county

    def label(self) -> str:
        if self.kind == "state":
            return self.name
        text = f"{self.name}, {self.state}"
        if self.county is not None:
            text += f" ({self.county.name})"
        return text


@dataclass(frozen=True)
class Resolution:
    kind: Literal["single", "choice", "suggestions", "none"]
    targets: tuple[Target, ...] = ()
    # For "single": other places the words could mean, to offer with the answer.
    alternatives: tuple[Target, ...] = ()
    zip_code: str = ""
    state: str = ""  # the state the resident named, if any
    reason: str = ""

    @property
    def target(self) -> Target | None:
        return self.targets[0] if self.kind == "single" else None

    @property
    def by_state(self) -> dict[str, tuple[Target, ...]]:
        """Every target, grouped by state (all of them: nothing is cut)."""
        groups: dict[str, list[Target]] = defaultdict(list)
        for target in self.targets:
            groups[target.state].append(target)
        return {state: tuple(items) for state, items in sorted(groups.items())}

    @property
    def grouped(self) -> bool:
        """True when a long choice with no state given should be shown state by state."""
        return self.kind == "choice" and not self.state and len(self.targets) > GROUP_BY_STATE_OVER

    def summary(self) -> str:
        if self.kind == "none":
            return "nothing" + (f" ({self.reason})" if self.reason else "")
        if self.kind == "single":
            text = self.targets[0].kind + " " + self.targets[0].label()
            if self.alternatives:
                text += f" [+{len(self.alternatives)} alternatives]"
            return text
        if self.kind == "suggestions":
            return "did you mean: " + "; ".join(t.label() for t in self.targets)
        states = len({t.state for t in self.targets})
        shown = "; ".join(t.label() for t in self.targets[:5])
        more = f"; … ({len(self.targets)} in {states} states)" if len(self.targets) > 5 else ""
        return f"choice of {len(self.targets)}: {shown}{more}"


# ---------------------------------------------------------------------------- gazetteer


@dataclass
class Gazetteer:
    states: Sequence[StateEntry]
    counties: Sequence[CountyEntry]
    places: Sequence[PlaceEntry]
    zips: Mapping[str, Sequence[str]]
    aliases: Sequence[AliasEntry] = ()
    _state_by_usps: dict = field(init=False, repr=False)
    _state_by_name: dict = field(init=False, repr=False)
    _county_by_fips: dict = field(init=False, repr=False)
    _counties_by_key: dict = field(init=False, repr=False)
    _places_by_key: dict = field(init=False, repr=False)
    _place_by_id: dict = field(init=False, repr=False)
    _alias_by_key: dict = field(init=False, repr=False)

    def __post_init__(self):
        self._state_by_usps = {s.usps.upper(): s for s in self.states}
        self._state_by_name = {}
        for s in self.states:
            for name in (s.name, *s.other_names):
                self._state_by_name[fold(name)] = s
        self._alias_by_key = {}
        for a in self.aliases:
            if a.target_kind == "state" and a.target_id.upper() in self._state_by_usps:
                self._state_by_name.setdefault(fold(a.alias), self._state_by_usps[a.target_id])
            else:
                self._alias_by_key[fold(a.alias)] = a
        self._county_by_fips = {}
        self._counties_by_key = defaultdict(list)
        for c in self.counties:
            self._county_by_fips[c.fips] = c
            keys = {_strip_kind(fold(c.name))[0]}
            for other in c.other_names:
                base, had_kind = _strip_kind(fold(other))
                if had_kind:  # "Wade Hampton Census Area", not DC's "Washington"
                    keys.add(base)
            for key in keys:
                self._counties_by_key[key].append(c)
        self._places_by_key = defaultdict(list)
        self._place_by_id = {}
        for p in self.places:
            self._place_by_id[p.id] = p
            for key in {fold(p.name), *(fold(a) for a in p.alt_names)}:
                self._places_by_key[key].append(p)
        self._county_keys = sorted(self._counties_by_key)
        self._place_keys = sorted(self._places_by_key)

    # -- constructors

    @classmethod
    def from_data_files(cls, folder: Path = DATA) -> Gazetteer:
        def rows(name):
            return gazetteer_rows(name, folder)

        def split(value):
            return tuple(v for v in value.split("|") if v)

        states = [StateEntry(r["usps"], r["name"], r["fips"]) for r in rows("states.csv")]
        counties = [
            CountyEntry(r["fips"], r["name"], r["state"], r["kind"], split(r["other_names"]))
            for r in rows("counties.csv")
        ]
        places = [
            PlaceEntry(
                r["geonameid"],
                r["name"],
                r["state"],
                r["county_fips"],
                int(r["population"] or 0),
                split(r["alt_names"]),
            )
            for r in rows("places.csv.gz")
        ]
        zips: dict[str, list[str]] = defaultdict(list)
        for r in rows("zip_counties.csv.gz"):
            zips[r["zip"]].append(r["county_fips"])
        aliases = [
            AliasEntry(r["alias"], r["target_kind"], r["target_id"], r["note"], r["lang"])
            for r in rows("aliases.csv")
        ]
        return cls(states, counties, places, dict(zips), aliases)

    # -- targets

    def state_target(self, usps: str) -> Target:
        s = self._state_by_usps[usps.upper()]
        return Target("state", s.usps, s.name, s.usps)

    def county_target(self, fips: str) -> Target | None:
        c = self._county_by_fips.get(fips)
        if c is None:
            return None
        return Target("county", c.fips, c.name, c.state, county_kind=c.kind)

    def place_target(self, place: PlaceEntry) -> Target:
        county = self.county_target(place.county_fips)
        if (
            county is not None
            and county.county_kind == "independent city"
            and _strip_kind(fold(county.name))[0] == fold(place.name)
        ):
            return county  # Hopewell, VA is the county-equivalent "Hopewell city"
        return Target("city", place.id, place.name, place.state, county=county)


# ---------------------------------------------------------------------------- resolve


def _zip_resolution(g: Gazetteer, zip_code: str) -> Resolution:
    fips = g.zips.get(zip_code, ())
    targets = tuple(t for t in (g.county_target(f) for f in dict.fromkeys(fips)) if t)
    if not targets:
        return Resolution("none", zip_code=zip_code, reason="unknown ZIP code")
    kind = "single" if len(targets) == 1 else "choice"
    return Resolution(kind, targets, zip_code=zip_code)


def _drop_fillers(key: str) -> str:
    changed = True
    while changed and key:
        changed = False
        for filler in sorted(FILLERS, key=len, reverse=True):
            if key.startswith(filler + " "):
                key, changed = key[len(filler) + 1 :], True
                break
    return key


def _split_state(g: Gazetteer, key: str, channel: Channel) -> list[tuple[str, str]]:
    """Readings of ``key`` as (place words, USPS code of a state named at its end)."""
    words = key.split()
    readings = []
    for n in (4, 3, 2, 1):
        if len(words) <= n:
            continue
        tail, head = " ".join(words[-n:]), " ".join(words[:-n])
        state = g._state_by_name.get(tail)
        alias = g._alias_by_key.get(tail)
        if state is None and alias is not None and alias.target_kind == "counties":
            # "Nueva York" after a place names the state its counties are in
            in_states = {g._county_by_fips[f].state for f in alias.target_id.split("|")}
            if len(in_states) == 1:
                state = g._state_by_usps[in_states.pop()]
        if state is None and alias is not None and alias.target_kind == "city":
            # "condado de Nassau, Nueva York": a city's name after a place names its state
            city = g._place_by_id.get(alias.target_id)
            if city is not None:
                state = g._state_by_usps[city.state]
        if state is None and n == 1 and len(tail) == 2:
            state = g._state_by_usps.get(tail.upper())  # with a place before it: any channel
        if state is not None:
            readings.append((head, state.usps))
    readings.append((key, ""))
    return readings


def _rank_places(g: Gazetteer, places: list[PlaceEntry], counties: list[CountyEntry]):
    places = sorted(places, key=lambda p: -p.population)
    targets = [g.place_target(p) for p in places]
    # Counties first in a choice: "Nassau" is Nassau County far more often than the village.
    targets = [g.county_target(c.fips) for c in counties] + targets
    unique = list(dict.fromkeys(targets))
    return places, unique


def _read(g: Gazetteer, key: str, state: str, channel: Channel) -> Resolution | None:
    if not key:
        return None
    base, county_hint = _strip_kind(key, COUNTY_WORDS)
    if not base:
        return None
    if not county_hint and not state:
        alias = g._alias_by_key.get(key)
        if alias is not None:
            return _alias_resolution(g, alias)
        if key in g._state_by_name:
            return Resolution("single", (g.state_target(g._state_by_name[key].usps),))
        if len(key) == 2 and key.upper() in g._state_by_usps and channel == "web":
            return Resolution("single", (g.state_target(key.upper()),))
    elif not county_hint and state:
        alias = g._alias_by_key.get(key)
        if alias is not None:
            res = _alias_resolution(g, alias)
            kept = tuple(t for t in res.targets if t.state == state)
            if kept:
                return Resolution("single" if len(kept) == 1 else "choice", kept, state=state)
    counties = [c for c in g._counties_by_key.get(base, ()) if not state or c.state == state]
    if county_hint:
        if not counties:
            return None
        targets = tuple(g.county_target(c.fips) for c in counties)
        kind = "single" if len(targets) == 1 else "choice"
        return Resolution(kind, targets, state=state)
    places = [p for p in g._places_by_key.get(key, ()) if not state or p.state == state]
    if not places and not counties:
        return None
    places, targets = _rank_places(g, places, counties)
    if len(targets) == 1:
        return Resolution("single", (targets[0],), state=state)
    if places:
        top = places[0].population
        runner_up = places[1].population if len(places) > 1 else 0
        # A small town does not win over a county of the same name (we know no county's
        # population): "Doña Ana" offers the county and the town; "Houston" is the city.
        big_enough = not counties or top >= BIG_CITY
        if big_enough and top >= DOMINANT_RATIO * max(runner_up, 1):
            first = g.place_target(places[0])
            rest = tuple(t for t in targets if t != first and t != first.county)
            return Resolution("single", (first,), alternatives=rest, state=state)
    return Resolution("choice", tuple(targets), state=state)


def _alias_resolution(g: Gazetteer, alias: AliasEntry) -> Resolution:
    if alias.target_kind == "state":
        return Resolution("single", (g.state_target(alias.target_id),))
    if alias.target_kind == "city":
        place = g._place_by_id.get(alias.target_id)
        if place is None:
            return Resolution("none", reason=f"alias {alias.alias!r} names no known place")
        return Resolution("single", (g.place_target(place),))
    fips = alias.target_id.split("|")
    targets = tuple(t for t in (g.county_target(f) for f in fips) if t)
    kind = "single" if len(targets) == 1 else "choice"
    return Resolution(kind, targets, reason=alias.note)


def _suggest(g: Gazetteer, key: str, state: str) -> Resolution | None:
    base, county_hint = _strip_kind(key, COUNTY_WORDS)
    if len(base.replace(" ", "")) < 4:  # "hi", "ok", "yes": too short to guess at
        return None
    pools = [("county", g._county_keys)]
    if not county_hint:
        pools.insert(0, ("place", g._place_keys))
    found: list[Target] = []
    for what, keys in pools:
        word = base if what == "county" else key
        near = [k for k in keys if abs(len(k) - len(word)) <= 2]
        for match in difflib.get_close_matches(word, near, n=3, cutoff=0.8):
            if what == "county":
                found += [
                    g.county_target(c.fips)
                    for c in g._counties_by_key[match]
                    if not state or c.state == state
                ]
            else:
                places = [p for p in g._places_by_key[match] if not state or p.state == state]
                if places:
                    found.append(g.place_target(max(places, key=lambda p: p.population)))
    for name in difflib.get_close_matches(key, list(g._state_by_name), n=1, cutoff=0.8):
        if not county_hint and not state:
            found.insert(0, g.state_target(g._state_by_name[name].usps))
    found = list(dict.fromkeys(t for t in found if t))
    if not found:
        return None
    return Resolution("suggestions", tuple(found), state=state)


def resolve(
    query: str, gazetteer: Gazetteer, *, channel: Channel = "web", suggest: bool = True
) -> Resolution:
    """Read what a resident typed as a ZIP code, a state, a county or a city.

    ``suggest=False`` skips the "did you mean" guesses (the slow part: a fuzzy match over
    every place name) for a caller that would not show them.
    """
    match = ZIP_IN_TEXT_RE.search(query)  # ASCII digits only: "١١٥٠١" and "１１５０１" are no ZIP
    if match:
        return _zip_resolution(gazetteer, match.group(1))
    key = _drop_fillers(fold(query))
    if not key:
        return Resolution("none", reason="empty")
    readings = _split_state(gazetteer, key, channel)
    for place_words, state in readings:
        result = _read(gazetteer, place_words, state, channel)
        if result is not None:
            return result
    if not suggest:
        return Resolution("none", reason="not found")
    # A state named alone after fillers ("I live in Texas") is handled by _read; a place
    # that was not found gets suggestions, narrowed by the state when one was named.
    for place_words, state in readings:
        result = _suggest(gazetteer, place_words, state)
        if result is not None:
            return result
    return Resolution("none", reason="not found")


_default: Gazetteer | None = None


def default_gazetteer() -> Gazetteer:
    """The gazetteer of the bundled data files, built once per process."""
    global _default
    if _default is None:
        _default = Gazetteer.from_data_files()
    return _default


def resolve_many(
    queries: Iterable[str], gazetteer: Gazetteer | None = None
) -> list[tuple[str, str, str]]:
    """(query, web landing, SMS landing) for each query: the table for the closing note."""
    g = gazetteer or default_gazetteer()
    return [
        (q, resolve(q, g, channel="web").summary(), resolve(q, g, channel="sms").summary())
        for q in queries
    ]

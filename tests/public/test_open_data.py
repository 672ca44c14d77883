"""Open data: /data/agreements.csv, /data/agreements.json and /data/places/<state>/<slug>.json."""

import csv
import io

import pytest

from assistant.content.publication import public_content_changed
from assistant.models import Agreement
from tests.factories import place
from tests.support.ice_rows import MAY_PARTICIPATING, MAY_PENDING, run

pytestmark = pytest.mark.django_db


@pytest.fixture
def imported():
    run(str(MAY_PARTICIPATING), "--pending", str(MAY_PENDING))


def test_agreements_json_lists_every_agreement_with_its_list(client, imported):
    response = client.get("/data/agreements.json")
    assert response.status_code == 200
    data = response.json()
    assert "public domain" in data["licence"].lower()
    assert data["ice_list_date"] == "2025-05-16"
    agreements = data["agreements"]
    assert len(agreements) == Agreement.objects.count()
    active = [a for a in agreements if a["status"] == "active"]
    assert len(active) == 571
    nassau = [a for a in agreements if a["agency"] == "Nassau County Police Department"]
    assert nassau == [
        {
            "agency": "Nassau County Police Department",
            "ice_type": nassau[0]["ice_type"],
            "agency_kind": nassau[0]["agency_kind"],
            "state": "NY",
            "state_fips": "36",
            "county": "Nassau County",
            "county_fips": "36059",
            "model": "task_force",
            "signed_on": "2025-03-10",
            "first_seen_on": "2025-05-16",
            "last_seen_on": "2025-05-16",
            "status": "active",
            "ended_on": "",
            "ice_list": "participatingAgencies05162025am.xlsx",
            "ice_list_date": "2025-05-16",
        }
    ]
    assert nassau[0]["ice_type"]  # ICE's TYPE column, as ICE wrote it


def test_agreements_csv_has_a_header_and_a_row_per_agreement(client, imported):
    response = client.get("/data/agreements.csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert len(rows) == Agreement.objects.count()
    assert {"agency", "ice_type", "state_fips", "county_fips", "model", "ice_list"} <= set(rows[0])


def test_a_place_json_gives_its_computed_answer(client, imported):
    nassau = place("NY", "Nassau County")
    response = client.get(f"/data/places/ny/{nassau.slug}.json")
    assert response.status_code == 200
    data = response.json()
    assert data["has_agreement"] is True
    assert data["place"]["fips"] == "36059"
    assert sorted(fact["agency"] for fact in data["active"]) == [
        "Nassau County Police Department",
        "Nassau County Sheriff's Office",
    ]
    assert client.get("/data/places/ny/no-such-place.json").status_code == 404


def test_open_data_is_cached_and_goes_stale_with_the_pages(
    client, imported, django_capture_on_commit_callbacks
):
    first = client.get("/data/agreements.json").json()
    Agreement.objects.filter(agency__name="Nassau County Police Department").delete()
    assert client.get("/data/agreements.json").json() == first  # cached
    with django_capture_on_commit_callbacks(execute=True):
        public_content_changed()
    again = client.get("/data/agreements.json").json()
    assert len(again["agreements"]) == len(first["agreements"]) - 1


def test_before_any_list_the_place_answer_says_so(client):
    nassau = place("NY", "Nassau County")
    data = client.get(f"/data/places/ny/{nassau.slug}.json").json()
    assert data["has_list"] is False and data["has_agreement"] is None
    assert client.get("/data/agreements.json").json()["agreements"] == []

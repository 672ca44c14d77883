"""Each agency's history on ICE's lists, on its place page: from real lists imported in order."""

import datetime
import html
import io
import re
import shutil
from pathlib import Path

import pytest
from django.core.management import call_command

from tests.factories import place
from tests.support.ice_rows import ESSEX_MA, NASSAU_NY, run, write, xlsx

pytestmark = pytest.mark.django_db

HISTORY = Path(__file__).resolve().parents[2] / "assistant/ice_import/data/ice-287g/history"
# Three of ICE's real lists, each with its pending list: 19 May (am), 20 May (pm), 23 May (am).
LISTS = [
    f"{kind}Agencies{day}2025{half}.xlsx"
    for day, half in (("0519", "am"), ("0520", "pm"), ("0523", "am"))
    for kind in ("participating", "pending")
]
SIGNED = datetime.datetime(2025, 3, 10)


def history_of(page: str, agency: str) -> list[str]:
    """Return the history lines the page shows for ``agency``, as a resident reads them."""
    start = page.index('id="history"')
    section = page[start : page.index("</details>", start)]
    match = re.search(
        r"<p><strong>" + re.escape(html.escape(agency)) + r"</strong></p>\s*<ul>(.*?)</ul>",
        section,
        re.S,
    )
    assert match, f"no history for {agency}"
    return [
        html.unescape(re.sub(r"<[^>]+>", "", item))
        for item in re.findall(r"<li>(.*?)</li>", match.group(1), re.S)
    ]


@pytest.fixture
def three_real_lists(tmp_path):
    for name in LISTS:
        shutil.copy(HISTORY / name, tmp_path / name)
    call_command("import_287g", "--history", str(tmp_path), stdout=io.StringIO())


def test_the_place_page_tells_each_agencys_history_on_ices_lists(client, three_real_lists):
    page = client.get(place("FL", "Melbourne").get_absolute_url()).content.decode()
    assert "History on ICE&#x27;s list" in page or "History on ICE's list" in page
    assert "The oldest list we have is from May 19, 2025." in html.unescape(
        re.sub(r"<[^>]+>", "", page)
    )
    # ICE dropped "City of Melbourne Police Department" on 20 May and listed "Melbourne Police
    # Department" from then on. The first was on our oldest list: when it began is unknown.
    assert history_of(page, "City of Melbourne Police Department") == [
        "Task Force Model: already on ICE's list of May 19, 2025, the oldest list we have.",
        "Task Force Model: no longer on ICE's list since May 20, 2025.",
    ]
    assert history_of(page, "Melbourne Police Department") == [
        "Task Force Model: first on ICE's list of May 20, 2025."
    ]
    # The county's sheriff, on the city's page too.
    assert history_of(page, "Brevard County Sheriff's Office") == [
        "Task Force Model, Warrant Service Officer: already on ICE's list of May 19, 2025, "
        "the oldest list we have."
    ]
    # A second model added to an agency already on the list.
    pickens = client.get(place("SC", "Pickens County").get_absolute_url()).content.decode()
    assert history_of(pickens, "Pickens County Sheriff's Office") == [
        "Task Force Model: already on ICE's list of May 19, 2025, the oldest list we have.",
        "Warrant Service Officer: added to ICE's list of May 23, 2025.",
    ]
    # Requests waiting to start are on ICE's list of pending agencies.
    laramie = client.get(place("WY", "Laramie County").get_absolute_url()).content.decode()
    assert history_of(laramie, "Laramie County Sheriff’s Office") == [
        "Warrant Service Officer: already waiting to start on ICE's list of May 19, 2025, "
        "the oldest list we have.",
        "Jail Enforcement Model: added to ICE's list of May 20, 2025.",
        "Task Force Model: waiting to start on ICE's list of May 23, 2025.",
    ]


def test_the_history_is_in_the_visitors_language_with_its_dates(client, three_real_lists):
    url = place("FL", "Melbourne").get_absolute_url().replace("/en/", "/es/")
    page = client.get(url).content.decode()
    assert history_of(page, "City of Melbourne Police Department") == [
        "Modelo de Fuerza de Tarea: ya estaba en la lista de ICE del 19 de mayo de 2025, la "
        "lista más antigua que tenemos.",
        "Modelo de Fuerza de Tarea: ya no está en la lista de ICE desde el 20 de mayo de 2025.",
    ]
    assert '<time datetime="2025-05-20">' in page


def test_a_model_changed_and_an_agreement_back_on_the_list(client, tmp_path):
    def list_of(day, rows):
        run(write(tmp_path, f"participatingAgencies{day}2025am.xlsx", xlsx(rows)))

    list_of("0516", [NASSAU_NY + ("Task Force Model", SIGNED, "link"),
                     ESSEX_MA + ("Jail Enforcement Model", SIGNED, "link")])  # fmt: skip
    list_of("0520", [ESSEX_MA + ("Task Force Model", SIGNED, "link")])
    list_of("0523", [NASSAU_NY + ("Task Force Model", SIGNED, "link"),
                     ESSEX_MA + ("Task Force Model", SIGNED, "link")])  # fmt: skip
    nassau = client.get(place("NY", "Nassau County").get_absolute_url()).content.decode()
    assert history_of(nassau, "Nassau County Police Department") == [
        "Task Force Model: already on ICE's list of May 16, 2025, the oldest list we have.",
        "Task Force Model: no longer on ICE's list since May 20, 2025.",
        "Task Force Model: back on ICE's list of May 23, 2025.",
    ]
    essex = client.get(place("MA", "Essex County").get_absolute_url()).content.decode()
    assert history_of(essex, "Essex County Sheriff's Office") == [
        "Jail Enforcement Model: already on ICE's list of May 16, 2025, the oldest list we have.",
        "Jail Enforcement Model: no longer on ICE's list since May 20, 2025.",
        "Task Force Model: added to ICE's list of May 20, 2025.",
    ]


def test_a_list_of_the_afternoon_is_not_the_oldest_list(client, tmp_path):
    nassau_row = NASSAU_NY + ("Task Force Model", SIGNED, "link")
    run(write(tmp_path, "participatingAgencies05162025am.xlsx", xlsx([nassau_row])))
    essex_row = ESSEX_MA + ("Jail Enforcement Model", SIGNED, "link")
    run(write(tmp_path, "participatingAgencies05162025pm.xlsx", xlsx([nassau_row, essex_row])))
    essex = client.get(place("MA", "Essex County").get_absolute_url()).content.decode()
    assert history_of(essex, "Essex County Sheriff's Office") == [
        "Jail Enforcement Model: first on ICE's list of May 16, 2025."
    ]
    nassau = client.get(place("NY", "Nassau County").get_absolute_url()).content.decode()
    assert history_of(nassau, "Nassau County Police Department") == [
        "Task Force Model: already on ICE's list of May 16, 2025, the oldest list we have."
    ]


def test_no_history_before_any_list(client):
    page = client.get(place("FL", "Melbourne").get_absolute_url()).content.decode()
    assert 'id="history"' not in page

"""ICE's date order, with the names of the real lists ICE published from May to July 2025."""

import datetime
import random

import pytest

from assistant.ice_import.history import (
    ListFile,
    history_order,
    pair_history,
    parse_list_name,
)
from assistant.ice_import.sheets import file_date

# The names in ../shared/data/ice-287g/history/, as listed there (copied, not read).
REAL_HISTORY = [
    "participatingAgencies05192025am.xlsx",
    "participatingAgencies05192025pm.xlsx",
    "participatingAgencies05202025pm.xlsx",
    "participatingAgencies05232025am.xlsx",
    "participatingAgencies05232025pm.xlsx",
    "participatingAgencies05282025am.xlsx",
    "participatingAgencies05292025am.xlsx",
    "participatingAgencies06042025am.xlsx",
    "participatingAgencies06062025am.xlsx",
    "participatingAgencies06172025pm.xlsx",
    "participatingAgencies06202025am.xlsx",
    "participatingAgencies06232025am.xlsx",
    "participatingAgencies06262025am.xlsx",
    "participatingAgencies07012025pm.xlsx",
    "participatingAgencies07072025am.xlsx",
    "participatingAgencies07072025pm.xlsx",
    "participatingAgencies07092025am.xlsx",
    "participatingAgencies07092025pm.xlsx",
    "participatingAgencies07112025am.xlsx",
    "participatingAgencies07112025pm.xlsx",
    "participatingAgencies07142025am.xlsx",
    "participatingAgencies07152025am.xlsx",
    "participatingAgencies07182025am.xlsx",
    "participatingAgencies07182025pm.xlsx",
    "pendingAgencies05192025am.xlsx",
    "pendingAgencies05192025pm.xlsx",
    "pendingAgencies05202025pm.xlsx",
    "pendingAgencies05212025pm.xlsx",
    "pendingAgencies05232025am.xlsx",
    "pendingAgencies05232025pm.xlsx",
    "pendingAgencies05282025am.xlsx",
    "pendingAgencies05292025am.xlsx",
    "pendingAgencies05302025pm.xlsx",
    "pendingAgencies06032025am.xlsx",
    "pendingAgencies06032025pm.xlsx",
    "pendingAgencies06062025am.xlsx",
    "pendingAgencies06102025am.xlsx",
    "pendingAgencies06172025pm.xlsx",
    "pendingAgencies06202025am.xlsx",
    "pendingAgencies06232025am.xlsx",
    "pendingAgencies06242025am.xlsx",
    "pendingAgencies06252025am.xlsx",
    "pendingAgencies06262025am.xlsx",
    "pendingAgencies06302025am.xlsx",
    "pendingAgencies07012025pm.xlsx",
    "pendingAgencies07072025am.xlsx",
    "pendingAgencies07072025pm.xlsx",
    "pendingAgencies07092025am.xlsx",
    "pendingAgencies07102025am.xlsx",
    "pendingAgencies07112025am_b.xlsx",
    "pendingAgencies07112025pm.xlsx",
    "pendingAgencies07142025am.xlsx",
    "pendingAgencies07172025am.xlsx",
    "pendingAgencies07182025am.xlsx",
    "pendingAgencies07182025pm.xlsx",
]


def test_parse_list_name():
    assert parse_list_name("pendingAgencies07112025am_b.xlsx") == ListFile(
        name="pendingAgencies07112025am_b.xlsx",
        date=datetime.date(2025, 7, 11),
        half="am",
        suffix="_b",
        kind="pending",
    )
    parsed = parse_list_name("participatingAgencies05162025pm.xlsx")
    assert (parsed.kind, parsed.half, parsed.suffix) == ("participating", "pm", "")
    assert parse_list_name("pendingAgencies07112025am_b.xlsx").base_name == (
        "pendingAgencies07112025am.xlsx"
    )
    assert parse_list_name("participatingAgencies13012025am.xlsx") is None  # no 13th month
    assert parse_list_name("README.md") is None
    assert parse_list_name("participatingAgencies.xlsx") is None
    # ASCII digits only: int() would read these as 05162025.
    assert parse_list_name("participatingAgencies٠٥١٦٢٠٢٥am.xlsx") is None
    assert parse_list_name("participatingAgencies０５１６２０２５am.xlsx") is None
    assert file_date("participatingAgencies05162025am.xlsx") == datetime.date(2025, 5, 16)
    assert file_date("participatingAgencies٠٥١٦٢٠٢٥am.xlsx") is None


def test_real_history_in_ice_order_whatever_the_listing_order():
    shuffled = REAL_HISTORY[:]
    random.Random(287).shuffle(shuffled)
    ordered = history_order(shuffled)
    assert len(ordered) == len(REAL_HISTORY) == 55
    keys = [file.order_key for file in ordered]
    assert keys == sorted(keys)
    names = [file.name for file in ordered]
    assert names[:4] == [
        "pendingAgencies05192025am.xlsx",
        "participatingAgencies05192025am.xlsx",
        "pendingAgencies05192025pm.xlsx",
        "participatingAgencies05192025pm.xlsx",
    ]
    assert names[-2:] == ["pendingAgencies07182025pm.xlsx", "participatingAgencies07182025pm.xlsx"]
    # 11 July: the participating morning list, then the pending list published as "am_b", then pm.
    july_11 = [name for name in names if "07112025" in name]
    assert july_11 == [
        "participatingAgencies07112025am.xlsx",
        "pendingAgencies07112025am_b.xlsx",
        "pendingAgencies07112025pm.xlsx",
        "participatingAgencies07112025pm.xlsx",
    ]


def test_am_before_pm_and_suffix_after_the_plain_name():
    names = [
        "pendingAgencies06012025pm.xlsx",
        "pendingAgencies06012025am_c.xlsx",
        "pendingAgencies06012025am_b.xlsx",
        "pendingAgencies06012025am.xlsx",
        "pendingAgencies05312025pm.xlsx",
    ]
    assert [file.name for file in history_order(names)] == [
        "pendingAgencies05312025pm.xlsx",
        "pendingAgencies06012025am.xlsx",
        "pendingAgencies06012025am_b.xlsx",
        "pendingAgencies06012025am_c.xlsx",
        "pendingAgencies06012025pm.xlsx",
    ]


def test_unknown_names_are_named_or_ignored():
    with pytest.raises(ValueError, match="README.md"):
        history_order([*REAL_HISTORY[:2], "README.md"])
    assert len(history_order([*REAL_HISTORY[:2], "README.md"], ignore_unknown=True)) == 2


def test_each_participating_list_with_the_newest_pending_list_not_newer_than_it():
    pairs = pair_history(history_order(REAL_HISTORY))
    assert len(pairs) == 24
    by_name = {pair.participating.name: pair.pending and pair.pending.name for pair in pairs}
    # Published the same half-day: paired together.
    assert by_name["participatingAgencies05192025am.xlsx"] == "pendingAgencies05192025am.xlsx"
    # No pending list on 4 June: the newest before it (3 June, afternoon).
    assert by_name["participatingAgencies06042025am.xlsx"] == "pendingAgencies06032025pm.xlsx"
    # 21 May's pending list is newer than 20 May pm and older than 23 May am.
    assert by_name["participatingAgencies05232025am.xlsx"] == "pendingAgencies05232025am.xlsx"
    # The pending "am_b" list of 11 July came after the participating morning list.
    assert by_name["participatingAgencies07112025am.xlsx"] == "pendingAgencies07102025am.xlsx"
    assert by_name["participatingAgencies07112025pm.xlsx"] == "pendingAgencies07112025pm.xlsx"
    assert by_name["participatingAgencies07152025am.xlsx"] == "pendingAgencies07142025am.xlsx"
    for pair in pairs:
        assert pair.pending.order_key <= pair.participating.order_key


def test_a_participating_list_older_than_every_pending_list_has_none():
    names = ["participatingAgencies05012025am.xlsx", "pendingAgencies05022025am.xlsx"]
    files = history_order(names)
    assert [(pair.participating.name, pair.pending) for pair in pair_history(files)] == [
        ("participatingAgencies05012025am.xlsx", None)
    ]

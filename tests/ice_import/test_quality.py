"""The quality gate, with the figures of ICE's real lists of 2025."""

import pytest
from django.utils import translation

from assistant.ice_import.quality import (
    HEADER_AS_DATA,
    HEADER_SHIFTED,
    MISSING_COLUMNS,
    ROWS_DROPPED,
    UNPLACED,
    QualityLimits,
    assess_list,
    is_header_like,
)

# Rows read from ICE's real participating lists (tests/fixtures and the history folder).
MAY_16 = 571
MAY_19_AM = 581
JULY_18_PM = 832
# Pending lists are small and swing: 51 rows on 7 July pm, 20 on 9 July am.
PENDING_JULY_7_PM = 51
PENDING_JULY_9_AM = 20

HEADERS = ["STATE", "LAW ENFORCEMENT AGENCY", "TYPE", "COUNTY", "SUPPORT TYPE", "SIGNED"]


def verdict(**figures):
    defaults = {
        "rows_read": MAY_19_AM,
        "previous_rows": MAY_16,
        "missing_columns": [],
        "header_row_index": 0,
        "expected_header_row_index": 0,
        "unplaced": 3,
        "previous_unplaced_ratio": 3 / MAY_16,
    }
    return assess_list(**{**defaults, **figures})


def test_a_real_next_list_is_applied():
    result = verdict()
    assert (result.hold, result.reasons, result.codes) == (False, [], [])


def test_the_first_list_is_applied():
    result = verdict(
        previous_rows=None, previous_unplaced_ratio=None, expected_header_row_index=None
    )
    assert not result.hold


def test_a_list_cut_to_a_fifth_is_held():
    result = verdict(rows_read=MAY_16 // 5)
    assert result.hold
    assert result.codes == [ROWS_DROPPED]
    assert result.reasons == [
        "This list has 114 rows, 20% of the 571 rows of the last list applied. A list under "
        "70% of the last one is held: ICE may have published it incomplete."
    ]


def test_the_ratio_is_a_setting():
    # 500 rows after 832 is 60%: held at the default 70%, applied at 50%.
    assert verdict(rows_read=500, previous_rows=JULY_18_PM).codes == [ROWS_DROPPED]
    lenient = QualityLimits(min_ratio=0.5)
    assert not verdict(rows_read=500, previous_rows=JULY_18_PM, limits=lenient).hold


@pytest.mark.parametrize(
    ("rows", "previous", "held"),
    [(582, JULY_18_PM, True), (583, JULY_18_PM, False), (MAY_19_AM, MAY_16, False)],
)
def test_seventy_percent_of_the_last_good_list(rows, previous, held):
    assert verdict(rows_read=rows, previous_rows=previous).hold is held


def test_a_pending_list_shrinking_as_agreements_are_signed_is_not_held():
    result = verdict(
        rows_read=PENDING_JULY_9_AM,
        previous_rows=PENDING_JULY_7_PM,
        unplaced=0,
        previous_unplaced_ratio=0.0,
    )
    assert not result.hold


def test_missing_columns_are_named():
    result = verdict(missing_columns=["SIGNED", "SUPPORT TYPE"])
    assert result.codes == [MISSING_COLUMNS]
    assert "SIGNED, SUPPORT TYPE" in result.reasons[0]


def test_a_shifted_header_is_held():
    result = verdict(header_row_index=2)
    assert result.codes == [HEADER_SHIFTED]
    assert result.reasons == [
        "The column names are on row 3 of the sheet, not on row 1 as in ICE's earlier lists: "
        "rows may be shifted."
    ]


def test_a_header_row_counted_as_data_is_held():
    assert is_header_like(HEADERS, HEADERS)
    assert is_header_like(["State ", "Law\xa0Enforcement Agency", "type", "", "", ""], HEADERS)
    assert not is_header_like(
        ["TX", "Harris County Sheriff's Office", "County", "Harris", "Jail Enforcement Model"],
        HEADERS,
    )
    result = verdict(header_like_rows=1)
    assert result.codes == [HEADER_AS_DATA]


def test_far_more_unplaced_rows_than_usual_are_held():
    result = verdict(rows_read=600, unplaced=60, previous_unplaced_ratio=12 / 590)
    assert result.codes == [UNPLACED]
    assert result.reasons == [
        "60 of 600 rows (10%) could not be placed on a state, county or city; usually 2%. "
        "ICE may have changed how it writes places."
    ]
    assert not verdict(rows_read=610, unplaced=14, previous_unplaced_ratio=12 / 590).hold
    # A handful of unplaced rows when none were before is not a broken list.
    assert not verdict(unplaced=4, previous_unplaced_ratio=0.0).hold


def test_the_first_list_is_held_only_when_a_quarter_is_unplaced():
    first = {"previous_rows": None, "previous_unplaced_ratio": None}
    assert not verdict(**first, unplaced=100).hold
    assert verdict(**first, unplaced=200).codes == [UNPLACED]


def test_every_reason_at_once():
    result = verdict(
        rows_read=100,
        missing_columns=["SIGNED"],
        header_row_index=1,
        header_like_rows=2,
        unplaced=50,
    )
    assert result.codes == [MISSING_COLUMNS, ROWS_DROPPED, HEADER_SHIFTED, HEADER_AS_DATA, UNPLACED]
    assert len(result.reasons) == 5


def test_limits_are_arguments():
    limits = QualityLimits(min_ratio=0.9)
    assert assess_list(
        rows_read=500,
        previous_rows=MAY_16,
        missing_columns=[],
        header_row_index=0,
        limits=limits,
    ).hold


def test_reasons_are_built_in_the_active_language():
    # The messages go through gettext; the catalogs do not have them yet, so English comes out.
    with translation.override("es"):
        result = verdict(rows_read=MAY_16 // 5)
    assert result.hold and "114" in result.reasons[0]

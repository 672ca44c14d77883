"""The quality gate: a list from ICE that looks broken is held for an organizer, not applied.

ICE has published bad lists more than once (one counted its header row as data); a public
tracker refuses a list that drops below 70% of the last good count. A held list ends nothing.
The figures come from reading the list and from the last list applied; the verdict gives each
reason in words an organizer can act on, and a code for each so the caller can store them.

The row-count rule applies only when the last list had ``min_previous_rows_for_ratio`` rows or
more: ICE's pending lists are small and swing by half on their own (51 rows on 7 July 2025,
20 on 9 July), while its participating lists only grew, from 571 rows to 832 between May and
July 2025.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

ROWS_DROPPED = "rows_dropped"
MISSING_COLUMNS = "missing_columns"
HEADER_SHIFTED = "header_shifted"
HEADER_AS_DATA = "header_as_data"
UNPLACED = "unplaced"


@dataclass(frozen=True)
class QualityLimits:
    """When a list is held. The caller passes settings; these are the defaults."""

    min_ratio: float = 0.7  # of the last good list's rows
    min_previous_rows_for_ratio: int = 100
    unplaced_factor: float = 2.0  # held above twice the usual share of unplaced rows…
    unplaced_margin: float = 0.02  # …and at least 2 points above it
    min_unplaced_rows: int = 5  # a handful of unplaced rows never holds a list
    first_list_max_unplaced_ratio: float = 0.25  # when there is no usual share yet


@dataclass(frozen=True)
class Verdict:
    """Whether to hold the list, and why, in the organizer's words and as codes."""

    hold: bool
    reasons: list[str] = field(default_factory=list)
    codes: list[str] = field(default_factory=list)


def _percent(ratio: float) -> str:
    return f"{ratio * 100:.0f}%"


def _normalize(value) -> str:
    return " ".join(str(value or "").replace("\xa0", " ").split()).upper()


def is_header_like(values: Iterable, headers: Iterable[str], *, at_least: int = 3) -> bool:
    """True when a data row repeats the header: ``at_least`` of its cells are header names."""
    names = {_normalize(header) for header in headers}
    matches = sum(1 for value in values if _normalize(value) in names)
    return matches >= min(at_least, len(names))


def assess_list(
    *,
    rows_read: int,
    previous_rows: int | None,
    missing_columns: list[str],
    header_row_index: int,
    expected_header_row_index: int | None = 0,
    unplaced: int = 0,
    previous_unplaced_ratio: float | None = None,
    header_like_rows: int = 0,
    limits: QualityLimits | None = None,
) -> Verdict:
    """Return the verdict on a list read from ICE.

    ``rows_read``: agency rows read; ``previous_rows``: rows of the last list of the same kind
    that was applied (None for the first). ``header_row_index``: 0 when the header is on the
    sheet's first row, as in every list ICE published in 2025; ``expected_header_row_index``
    is where the last good list had it (None: anywhere). ``unplaced``: rows the import could
    not place; ``previous_unplaced_ratio``: that share in the last good list.
    ``header_like_rows``: data rows that repeat the header (see ``is_header_like``).
    """
    limits = limits or QualityLimits()
    reasons, codes = [], []

    if missing_columns:
        codes.append(MISSING_COLUMNS)
        reasons.append(
            _(
                "Columns are missing from this list: %(columns)s. Without them its rows "
                "cannot be read as ICE's."
            )
            % {"columns": ", ".join(missing_columns)}
        )

    if (
        previous_rows
        and previous_rows >= limits.min_previous_rows_for_ratio
        and rows_read < limits.min_ratio * previous_rows
    ):
        codes.append(ROWS_DROPPED)
        reasons.append(
            _(
                "This list has %(rows)s rows, %(percent)s of the %(previous)s rows of the last "
                "list applied. A list under %(minimum)s of the last one is held: ICE may have "
                "published it incomplete."
            )
            % {
                "rows": f"{rows_read:,}",
                "percent": _percent(rows_read / previous_rows),
                "previous": f"{previous_rows:,}",
                "minimum": _percent(limits.min_ratio),
            }
        )

    if expected_header_row_index is not None and header_row_index != expected_header_row_index:
        codes.append(HEADER_SHIFTED)
        reasons.append(
            _(
                "The column names are on row %(row)s of the sheet, not on row %(expected)s as "
                "in ICE's earlier lists: rows may be shifted."
            )
            % {"row": header_row_index + 1, "expected": expected_header_row_index + 1}
        )

    if header_like_rows:
        codes.append(HEADER_AS_DATA)
        reasons.append(
            _(
                "%(count)s rows repeat the column names, as when ICE counted its header row "
                "as an agency."
            )
            % {"count": header_like_rows}
        )

    if rows_read and unplaced >= limits.min_unplaced_rows:
        ratio = unplaced / rows_read
        if previous_unplaced_ratio is None:
            ceiling = limits.first_list_max_unplaced_ratio
        else:
            ceiling = max(
                previous_unplaced_ratio * limits.unplaced_factor,
                previous_unplaced_ratio + limits.unplaced_margin,
            )
        if ratio > ceiling:
            codes.append(UNPLACED)
            if previous_unplaced_ratio is None:
                usual = _("at most %(ceiling)s") % {"ceiling": _percent(ceiling)}
            else:
                usual = _percent(previous_unplaced_ratio)
            reasons.append(
                _(
                    "%(count)s of %(rows)s rows (%(percent)s) could not be placed on a state, "
                    "county or city; usually %(usual)s. ICE may have changed how it writes "
                    "places."
                )
                % {
                    "count": f"{unplaced:,}",
                    "rows": f"{rows_read:,}",
                    "percent": _percent(ratio),
                    "usual": usual,
                }
            )

    return Verdict(hold=bool(codes), reasons=reasons, codes=codes)

"""ICE's date order: the lists' file names carry the date, the half-day and sometimes a suffix.

ICE names its files ``participatingAgencies<MMDDYYYY><am|pm>.xlsx`` and
``pendingAgencies<MMDDYYYY><am|pm>[_b].xlsx``. A list of the morning comes before the list of the
afternoon of the same day, and ``…am_b`` (a second list published under the name of the first)
comes after ``…am``. Nothing here reads a file: only names.
"""

import datetime
import re
from dataclasses import dataclass

from django.utils.translation import gettext as _

PARTICIPATING = "participating"
PENDING = "pending"

LIST_NAME_RE = re.compile(
    r"^(?P<kind>participating|pending)Agencies"
    r"(?P<month>[0-9]{2})(?P<day>[0-9]{2})(?P<year>[0-9]{4})"  # ASCII digits only
    r"(?P<half>am|pm)?(?P<suffix>_[a-z])?\.(?:xlsx|csv)$",
    re.IGNORECASE,
)
# A list without am/pm is taken for the whole day: before that day's morning list.
HALF_ORDER = {"": 0, "am": 1, "pm": 2}


@dataclass(frozen=True)
class ListFile:
    """One of ICE's lists, known by its file name."""

    name: str
    date: datetime.date
    half: str  # 'am', 'pm' or '' when the name has neither
    suffix: str  # '' for the first list under a name, '_b', '_c'… for later ones
    kind: str  # PARTICIPATING or PENDING

    @property
    def order_key(self) -> tuple:
        """When the list was published: date, then half-day, then suffix."""
        return (self.date, HALF_ORDER[self.half], self.suffix)

    @property
    def base_name(self) -> str:
        """The name ICE published the list under: without our ``_b`` suffix."""
        if not self.suffix:
            return self.name
        stem, dot, extension = self.name.rpartition(".")
        return f"{stem[: -len(self.suffix)]}{dot}{extension}"


@dataclass(frozen=True)
class ListPair:
    """A participating list and the newest pending list published no later than it."""

    participating: ListFile
    pending: ListFile | None


def parse_list_name(name: str) -> ListFile | None:
    """Return the list a file name stands for, or None when it is not one of ICE's names."""
    match = LIST_NAME_RE.match((name or "").strip())
    if not match:
        return None
    try:
        date = datetime.date(int(match["year"]), int(match["month"]), int(match["day"]))
    except ValueError:
        return None
    return ListFile(
        name=name.strip(),
        date=date,
        half=(match["half"] or "").lower(),
        suffix=(match["suffix"] or "").lower(),
        kind=match["kind"].lower(),
    )


def history_order(names: list[str], *, ignore_unknown: bool = False) -> list[ListFile]:
    """Return ICE's lists among ``names`` in the order ICE published them.

    Date, then morning before afternoon, then the plain name before ``_b``; on the same
    half-day the pending list comes before the participating one. A name that is not one of
    ICE's raises ``ValueError`` naming it, unless ``ignore_unknown`` (a README in the folder).
    """
    files, unknown = [], []
    for name in names:
        parsed = parse_list_name(name)
        if parsed is None:
            unknown.append(name)
        else:
            files.append(parsed)
    if unknown and not ignore_unknown:
        raise ValueError(
            _("These files are not named like ICE's lists: %(names)s.")
            % {"names": ", ".join(sorted(unknown))}
        )
    return sorted(files, key=lambda file: (*file.order_key, file.kind != PENDING, file.name))


def pair_history(files: list[ListFile]) -> list[ListPair]:
    """Pair each participating list with the newest pending list not newer than it.

    ``files`` may be in any order; the pairs come in ICE's order. A participating list
    older than every pending list is paired with None.
    """
    ordered = sorted(files, key=lambda file: (*file.order_key, file.kind != PENDING, file.name))
    pairs, newest_pending = [], None
    for file in ordered:
        if file.kind == PENDING:
            newest_pending = file
        else:
            pairs.append(ListPair(participating=file, pending=newest_pending))
    return pairs

"""ICE's lists shipped with the project (public domain), so a new install answers truly.

``make run`` imports the newest of them once, and again only when a newer list is bundled.
"""

from dataclasses import dataclass
from pathlib import Path

from assistant.ice_import.history import history_order, pair_history
from assistant.ice_import.models import ImportSnapshot

BUNDLED_LISTS = Path(__file__).resolve().parent / "data" / "ice-287g" / "history"


@dataclass(frozen=True)
class BundledPair:
    """The newest bundled participating list and the pending list published with it."""

    participating: Path
    pending: Path | None


def bundled_lists_newest(folder: Path = BUNDLED_LISTS) -> BundledPair | None:
    """Return the newest participating list in ``folder`` with its pending list, or None."""
    if not folder.is_dir():
        return None
    names = [path.name for path in folder.iterdir() if path.is_file()]
    pairs = pair_history(history_order(names, ignore_unknown=True))
    if not pairs:
        return None
    newest = pairs[-1]
    return BundledPair(
        participating=folder / newest.participating.name,
        pending=folder / newest.pending.name if newest.pending else None,
    )


def bundled_list_is_new(pair: BundledPair) -> bool:
    """Return True unless this list, or one of a later date, has already been imported."""
    latest = ImportSnapshot.objects.order_by("-as_of", "-imported_at").first()
    if latest is None:
        return True
    if latest.file_name == pair.participating.name:
        return False
    newest = history_order([pair.participating.name])[0]
    return newest.date > latest.as_of or (
        newest.date == latest.as_of and latest.file_name < pair.participating.name
    )

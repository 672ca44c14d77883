"""The import report: what an import of ICE's lists did (or, previewed, would do).

A dataclass, kept as JSON with its snapshot (``to_json`` / ``from_json``) and read by attribute
by the command, the admin preview and the tests. ``import_report_lines`` gives it in plain
lines for the command's output.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import asdict, dataclass, field

from django.utils.translation import gettext as _

# How a row was placed (the matcher's methods).
EXACT = "exact"
SPELLING = "spelling"
ALIAS = "alias"
UNPLACED = "unplaced"


@dataclass
class PlaceRef:
    """Where an entry of the report is, with the ids the admin links from."""

    id: int | None = None
    name: str = ""
    public_url: str = ""


@dataclass
class AgreementEntry:
    """One agreement added, ended, changed, or pending added or removed."""

    state: str
    agency: str
    model: str  # the model's name, as organizers read it
    agency_id: int | None = None
    place: PlaceRef | None = None
    row: int | None = None
    signed_on: str = ""
    last_seen_on: str = ""
    field: str = ""  # for a change: "signed_on" or "model"
    before: str = ""
    after: str = ""
    was: str = ""  # for an agreement back in the list: its status before ("ended", "pending")
    now_active: bool = False  # for a pending agreement removed: because it is now in force


@dataclass
class RenamedEntry:
    """The same agency under a new spelling in ICE's list: one row, its agreements kept."""

    state: str
    before: str
    after: str
    models: list[str] = field(default_factory=list)
    agency_id: int | None = None
    place: PlaceRef | None = None
    row: int | None = None


@dataclass
class UnplacedEntry:
    """A row that could not be placed (or not imported), with the reason and how to fix it."""

    file: str  # "participating" or "pending"
    row: int
    state: str
    agency: str
    county: str
    reason: str
    agency_id: int | None = None
    state_code: str = ""  # the state's postal code, when the state was recognised
    placed: bool = False  # placed, but not imported (its SUPPORT TYPE is not a 287(g) model)


@dataclass
class SpellingEntry:
    """A row placed by reading ICE's misspelling as a real name."""

    file: str
    row: int
    state: str
    agency: str
    original: str
    corrected: str
    place: PlaceRef | None = None


@dataclass
class NoteEntry:
    file: str
    row: int
    note: str


@dataclass
class Placements:
    """How the rows read were placed; the four counts add up to the rows read."""

    exact: int = 0
    spelling: int = 0
    alias: int = 0
    unplaced: int = 0
    spellings: list[SpellingEntry] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.exact + self.spelling + self.alias + self.unplaced


@dataclass
class Diff:
    """What changed against the agreements before this list."""

    added: list[AgreementEntry] = field(default_factory=list)
    ended: list[AgreementEntry] = field(default_factory=list)
    changed: list[AgreementEntry] = field(default_factory=list)
    renamed: list[RenamedEntry] = field(default_factory=list)
    pending_added: list[AgreementEntry] = field(default_factory=list)
    pending_removed: list[AgreementEntry] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not any(getattr(self, f.name) for f in dataclasses.fields(self))


@dataclass
class PreviousImport:
    id: int
    file_name: str
    as_of: str


@dataclass
class ImportReport:
    """What an import did, read by attribute everywhere."""

    file_name: str
    as_of: str
    as_of_source: str
    pending_file_name: str = ""
    published_as: str = ""  # ICE's name, when another list of that name was imported already
    newer_of_day: bool = False
    previous: PreviousImport | None = None
    identical_to: int | None = None
    forced: bool = False
    rows_read: int = 0
    pending_rows_read: int | None = None
    duplicate_rows: int = 0
    agreements_in_list: int = 0
    pending_in_list: int = 0
    by_model: dict[str, int] = field(default_factory=dict)
    by_state: dict[str, int] = field(default_factory=dict)
    pending_by_model: dict[str, int] = field(default_factory=dict)
    placements: Placements = field(default_factory=Placements)
    unplaced: list[UnplacedEntry] = field(default_factory=list)
    notes: list[NoteEntry] = field(default_factory=list)
    invalid_dates: int = 0
    links_updated: int = 0
    agencies_new: int = 0
    agencies_moved: int = 0
    diff: Diff = field(default_factory=Diff)
    active_before: int = 0
    active_now: int = 0
    pending_now: int = 0
    places_flagged: int = 0

    def to_json(self) -> dict:
        """Return the report as plain data, to keep with the snapshot."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> ImportReport:
        """Return the report kept by ``to_json``."""
        return _build(cls, data)


def _build(cls, data):
    hints = typing.get_type_hints(cls)
    values = {}
    for item in dataclasses.fields(cls):
        if item.name in data:
            values[item.name] = _value(hints[item.name], data[item.name])
    return cls(**values)


def _value(hint, value):
    if value is None:
        return None
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        inner = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        return _value(inner[0], value) if len(inner) == 1 else value
    if origin is list:
        (inner,) = typing.get_args(hint)
        return [_value(inner, item) for item in value]
    if dataclasses.is_dataclass(hint):
        return _build(hint, value)
    return value


def import_report_lines(report: ImportReport, *, dry_run: bool = False) -> list[str]:
    """Return the import report as plain-language lines, the changes first."""
    lines = []
    if report.identical_to:
        lines.append(
            _("Same files as import #%(id)s: nothing changed.") % {"id": report.identical_to}
        )
    elif dry_run:
        lines.append(_("Preview only: nothing was written."))
    source = _("from the file name") if report.as_of_source == "file_name" else _("given")
    lines.append(
        _("List of %(date)s (date %(source)s): %(file)s")
        % {"date": report.as_of, "source": source, "file": report.file_name}
    )
    if report.newer_of_day:
        lines.append(
            _(
                "ICE published another list under the name %(name)s, already imported: this "
                "one has other rows and is imported as the newer list of that day."
            )
            % {"name": report.published_as}
        )
    if report.pending_file_name:
        lines.append(_("Pending list: %(file)s") % {"file": report.pending_file_name})
    if report.previous:
        lines.append(
            _("Compared with import #%(id)s (%(file)s, %(date)s).")
            % {
                "id": report.previous.id,
                "file": report.previous.file_name,
                "date": report.previous.as_of,
            }
        )
    else:
        lines.append(_("First import: everything in the list is new."))
    if report.forced:
        lines.append(_("This file is older than the latest import; it was imported on purpose."))
    diff = report.diff
    lines.append(
        _(
            "Changes in this list: %(added)s agreements added, %(ended)s ended, %(changed)s "
            "changed, %(renamed)s agencies renamed; %(pending_added)s pending added, "
            "%(pending_removed)s pending removed."
        )
        % {
            "added": len(diff.added),
            "ended": len(diff.ended),
            "changed": len(diff.changed),
            "renamed": len(diff.renamed),
            "pending_added": len(diff.pending_added),
            "pending_removed": len(diff.pending_removed),
        }
    )
    lines.append(
        _(
            "Active agreements: %(before)s before + %(added)s added − %(ended)s ended = "
            "%(now)s active now."
        )
        % {
            "before": report.active_before,
            "added": len(diff.added),
            "ended": len(diff.ended),
            "now": report.active_now,
        }
    )
    labels = (
        (diff.added, _("Added")),
        (diff.ended, _("Ended")),
        (diff.changed, _("Changed")),
        (diff.pending_added, _("Pending added")),
        (diff.pending_removed, _("Pending removed")),
    )
    for entries, label in labels:
        for entry in entries:
            text = f"  {label}: {entry.agency} ({entry.state}) — {entry.model}"
            if entry.field:
                text += f": {change_field_label(entry.field)} {entry.before or '?'} → "
                text += entry.after or "?"
            if entry.last_seen_on and entries is diff.ended:
                text += " " + _("(last seen %(date)s)") % {"date": entry.last_seen_on}
            lines.append(text)
    for entry in diff.renamed:
        lines.append(
            "  "
            + _("Renamed: %(before)s → %(after)s (%(state)s)")
            % {"before": entry.before, "after": entry.after, "state": entry.state}
        )
    lines.append(
        _("Rows read: %(rows)s participating, %(pending)s pending.")
        % {"rows": report.rows_read, "pending": report.pending_rows_read or 0}
    )
    lines.append(
        _(
            "Agreements in this list: %(count)s (%(duplicates)s rows repeat another row's "
            "agency and model). By model: %(counts)s."
        )
        % {
            "count": report.agreements_in_list,
            "duplicates": report.duplicate_rows,
            "counts": ", ".join(f"{k} {v}" for k, v in report.by_model.items()),
        }
    )
    lines.append(
        _("By state: %(counts)s.")
        % {"counts": ", ".join(f"{k} {v}" for k, v in report.by_state.items())}
    )
    placements = report.placements
    lines.append(
        _(
            "Rows placed exactly: %(exact)s; by spelling: %(spelling)s; by an organizer's "
            "alias: %(alias)s; not placed: %(unplaced)s."
        )
        % {
            "exact": placements.exact,
            "spelling": placements.spelling,
            "alias": placements.alias,
            "unplaced": placements.unplaced,
        }
    )
    for entry in placements.spellings:
        lines.append(
            "  "
            + _("%(file)s row %(row)s: “%(original)s” read as “%(corrected)s”")
            % {
                "file": entry.file,
                "row": entry.row,
                "original": entry.original,
                "corrected": entry.corrected,
            }
        )
    for entry in report.unplaced:
        lines.append(
            "  "
            + _("%(file)s row %(row)s: %(agency)s (%(state)s): %(reason)s")
            % {
                "file": entry.file,
                "row": entry.row,
                "agency": entry.agency,
                "state": entry.state,
                "reason": entry.reason,
            }
        )
    for note in report.notes:
        lines.append(
            "  "
            + _("%(file)s row %(row)s: %(note)s")
            % {"file": note.file, "row": note.row, "note": note.note}
        )
    if report.places_flagged:
        lines.append(
            _("Places flagged for review because their answer changed: %(count)s.")
            % {"count": report.places_flagged}
        )
    return lines


def change_field_label(name: str) -> str:
    """Return the words for a changed field of an agreement."""
    return {"signed_on": _("signing date"), "model": _("model")}.get(name, name)

"""Turn an import report (kept as JSON with its snapshot) into lines an organizer reads."""

from django.utils.translation import gettext as _


def import_report_lines(report: dict, *, dry_run: bool = False) -> list[str]:
    """Return the import report as plain-language lines, the changes first."""
    lines = []
    if report.get("identical_to"):
        lines.append(
            _("Same files as import #%(id)s: nothing changed.") % {"id": report["identical_to"]}
        )
    elif dry_run:
        lines.append(_("Preview only: nothing was written."))
    source = (
        _("from the file name")
        if report["as_of_source"] == "file_name"
        else _("given by the organizer")
    )
    lines.append(
        _("List of %(date)s (date %(source)s): %(file)s")
        % {"date": report["as_of"], "source": source, "file": report["file_name"]}
    )
    if report.get("pending_file_name"):
        lines.append(_("Pending list: %(file)s") % {"file": report["pending_file_name"]})
    if report.get("previous"):
        lines.append(
            _("Compared with import #%(id)s (%(file)s, %(date)s).")
            % {
                "id": report["previous"]["id"],
                "file": report["previous"]["file_name"],
                "date": report["previous"]["as_of"],
            }
        )
    else:
        lines.append(_("First import: everything in the list is new."))
    if report.get("forced"):
        lines.append(_("This file is older than the latest import; it was imported on purpose."))
    diff = report["diff"]
    lines.append(
        _(
            "Changes: %(added)s agreements added, %(ended)s ended, %(changed)s changed; "
            "%(pending_added)s pending added, %(pending_removed)s pending removed."
        )
        % {key: len(value) for key, value in diff.items()}
    )
    labels = {
        "added": _("Added"),
        "ended": _("Ended"),
        "changed": _("Changed"),
        "pending_added": _("Pending added"),
        "pending_removed": _("Pending removed"),
    }
    for key, label in labels.items():
        for entry in diff[key]:
            text = f"  {label}: {entry['agency']} ({entry['state']}) — {entry['model']}"
            if key == "changed":
                text += f": {entry['before'] or '?'} → {entry['after'] or '?'}"
            if key == "ended" and entry.get("last_seen_on"):
                text += " " + _("(last seen %(date)s)") % {"date": entry["last_seen_on"]}
            lines.append(text)
    lines.append(
        _("Rows read: %(rows)s participating, %(pending)s pending.")
        % {"rows": report["rows_read"], "pending": report.get("pending_rows_read") or 0}
    )
    lines.append(
        _("Agreements in this list, by model: %(counts)s.")
        % {"counts": ", ".join(f"{k} {v}" for k, v in report["by_model"].items())}
    )
    lines.append(
        _("By state: %(counts)s.")
        % {"counts": ", ".join(f"{k} {v}" for k, v in report["by_state"].items())}
    )
    lines.append(_("Active agreements now: %(count)s.") % {"count": report["active_agreements"]})
    unmatched = report["unmatched"]
    lines.append(
        _("Matched rows: %(matched)s. Unmatched rows: %(unmatched)s.")
        % {"matched": report["matched_rows"], "unmatched": len(unmatched)}
    )
    for entry in unmatched:
        lines.append(
            "  "
            + _("%(file)s row %(row)s: %(agency)s (%(state)s): %(reason)s")
            % {
                "file": entry["file"],
                "row": entry["row"],
                "agency": entry["agency"],
                "state": entry["state"],
                "reason": entry["reason"],
            }
        )
    if report.get("cities_created"):
        lines.append(
            _("Cities added: %(cities)s.") % {"cities": "; ".join(report["cities_created"])}
        )
    for note in report.get("notes", []):
        lines.append(
            "  "
            + _("%(file)s row %(row)s: %(note)s")
            % {"file": note["file"], "row": note["row"], "note": note["note"]}
        )
    if report.get("places_flagged"):
        lines.append(
            _("Places flagged for review because their answer changed: %(count)s.")
            % {"count": len(report["places_flagged"])}
        )
    return lines

"""History an organizer can read: who, when (local time, in words), what changed, in the
organizer's language; and a version compared with the one it replaces, word by word.

Used by every admin with django-simple-history (guides, notes, organizations, agencies,
agreements) instead of simple-history's own list, which shows raw codes, cut text and
"Deleted user (pk=None)".
"""

import difflib

from django.conf import settings
from django.db import models
from django.template.defaultfilters import date as date_filter
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.text import capfirst
from django.utils.timesince import timesince
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from modeltranslation.utils import build_localized_fieldname

# Bookkeeping fields an organizer never needs to read about.
HIDDEN = {"id", "updated_at", "history_id", "history_date", "history_user", "history_type"}

HISTORY_TYPES = {
    "+": gettext_lazy("created"),
    "~": gettext_lazy("changed"),
    "-": gettext_lazy("deleted"),
}


def _columns(model) -> dict[str, tuple[str, str]]:
    """Return each translated column with its field and language: {"body_es": ("body", "es")}."""
    found = {}
    for field in getattr(model, "TEXT_FIELDS", ()):
        for code, _name in settings.LANGUAGES:
            found[build_localized_fieldname(field, code)] = (field, code)
    return found


def field_label(model, name: str) -> str:
    """Return the organizer's name for a field, with the language for a translated column."""
    columns = _columns(model)
    if name in columns:
        field, code = columns[name]
        base = model._meta.get_field(field).verbose_name
        return f"{capfirst(base)} ({dict(settings.LANGUAGES)[code]})"
    return capfirst(model._meta.get_field(name).verbose_name)


def person(user) -> str:
    """Return how to name a user in history: their name, or who they were if removed."""
    if user is None:
        return _("nobody")
    return user.get_full_name() or user.get_username()


def readable_value(model, name: str, value) -> str:
    """Return a field's value as an organizer reads it (names, not codes)."""
    field = model._meta.get_field(name)
    if value in (None, ""):
        return _("(empty)")
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(field, models.ForeignKey):
        related = field.related_model._default_manager.filter(pk=value).first()
        if related is None:
            return _("(removed)")
        return person(related) if related._meta.model_name == "user" else str(related)
    if isinstance(field, models.BooleanField):
        return _("yes") if value else _("no")
    if isinstance(field, models.DateTimeField):
        return date_filter(timezone.localtime(value), "DATETIME_FORMAT")
    if isinstance(field, models.DateField):
        return date_filter(value, "DATE_FORMAT")
    return str(value)


def word_diff(before: str, after: str):
    """Return ``after`` as HTML with removed words in <del> and added words in <ins>."""
    old, new = before.split(), after.split()
    parts = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=old, b=new, autojunk=False).get_opcodes():
        if op in ("replace", "delete"):
            parts.append(format_html("<del>{}</del>", " ".join(old[i1:i2])))
        if op in ("replace", "insert"):
            parts.append(format_html("<ins>{}</ins>", " ".join(new[j1:j2])))
        if op == "equal":
            parts.append(format_html("{}", " ".join(old[i1:i2])))
    return format_html_join(" ", "{}", ((p,) for p in parts))


def changes_between(model, old: dict, new: dict) -> list[dict]:
    """Return what differs between two sets of field values: label, before, after."""
    rows = []
    for name, after in new.items():
        before = old.get(name)
        if name in HIDDEN or (before in (None, "") and after in (None, "")) or before == after:
            continue
        field = model._meta.get_field(name)
        if isinstance(field, models.TextField):
            shown = word_diff(str(before or ""), str(after or ""))
            rows.append({"field": field_label(model, name), "text": shown})
        else:
            rows.append(
                {
                    "field": field_label(model, name),
                    "old": readable_value(model, name, before),
                    "new": readable_value(model, name, after),
                }
            )
    return rows


def _values(model, record) -> dict:
    # The bare text names (``body``) only mirror the active language's column.
    skip = HIDDEN | set(getattr(model, "TEXT_FIELDS", ()))
    return {
        f.name: getattr(record, f.attname)
        for f in model._meta.concrete_fields
        if f.name not in skip and hasattr(record, f.attname)
    }


def history_entries(model, records) -> list[dict]:
    """Return readable history entries for ``records`` (newest first, as simple-history lists).

    Each entry: who, when (local time and how long ago), what happened, what changed.
    """
    records = list(records)
    entries = []
    now = timezone.now()
    for index, record in enumerate(records):
        older = records[index + 1] if index + 1 < len(records) else None
        if record.history_user_id is None:
            who = _("the system (an import or a script)")
        elif record.history_user is None:
            who = _("an organizer whose account was removed")
        else:
            who = person(record.history_user)
        when = timezone.localtime(record.history_date)
        entries.append(
            {
                "who": who,
                "when": date_filter(when, "DATETIME_FORMAT"),
                "time_zone": when.tzname(),
                "ago": _("%(time)s ago") % {"time": timesince(record.history_date, now)},
                "what": HISTORY_TYPES.get(record.history_type, record.history_type),
                "changes": (
                    changes_between(model, _values(model, older), _values(model, record))
                    if older is not None
                    else []
                ),
            }
        )
    return entries


def version_changes(obj) -> list[dict]:
    """Return what a draft changes in the published version it replaces (every language)."""
    model = type(obj)
    skip = {
        "status",
        "replaces",
        "created_by",
        "last_edited_by",
        "submitted_at",
        "published_at",
        "published_by",
    }
    old = {k: v for k, v in _values(model, obj.replaces).items() if k not in skip}
    new = {k: v for k, v in _values(model, obj).items() if k not in skip}
    return changes_between(model, old, new)


class ReadableHistoryMixin:
    """For a SimpleHistoryAdmin: list history in words instead of simple-history's table."""

    object_history_template = "admin/assistant/object_history.html"
    object_history_list_template = "admin/assistant/object_history_list.html"
    history_list_per_page = 50

    def set_history_delta_changes(self, request, historical_records, foreign_keys_are_objs=True):
        historical_records.readable = history_entries(self.model, historical_records.object_list)

"""Admin for imports of ICE's 287(g) lists: upload, preview, apply; snapshots; unplaced rows;
organizers' aliases ("this row means this place")."""

import base64
import datetime

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from assistant.ice_import.models import (
    AgencyAlias,
    FetchCheck,
    HeldList,
    ImportSnapshot,
    UnmatchedRow,
)
from assistant.ice_import.report import AgreementEntry, ImportReport, change_field_label
from assistant.ice_import.services import (
    IMPORT_ERRORS,
    agency_alias_create,
    held_list_apply,
    held_list_create,
    held_list_reject,
    ice_lists_import,
    list_quality,
)
from assistant.ice_import.sheets import SheetFile
from assistant.places.models import Place

SESSION_KEY = "ice-import-upload"


class ImportUploadForm(forms.Form):
    participating = forms.FileField(
        label=_("Participating agencies (.xlsx or .csv)"),
        help_text=_("ICE's file, e.g. participatingAgencies05162025am.xlsx, unchanged."),
    )
    pending = forms.FileField(
        label=_("Pending agencies (optional)"),
        required=False,
        help_text=_("ICE's file, e.g. pendingAgencies05152025am.xlsx."),
    )
    as_of = forms.DateField(
        label=_("Date of the list"),
        required=False,
        help_text=_("Only needed when the file name does not carry ICE's date."),
    )
    force = forms.BooleanField(
        label=_("Import even if older than the latest import"), required=False
    )

    def clean(self):
        data = super().clean()
        for name in ("participating", "pending"):
            upload = data.get(name)
            if upload is not None and upload.size > settings.ICE_SHEET_MAX_BYTES:
                self.add_error(
                    name,
                    _(
                        "This file is too large to read: %(size)s bytes, the limit is "
                        "%(limit)s. ICE's lists are under 1 MB."
                    )
                    % {
                        "size": f"{upload.size:,}",
                        "limit": f"{settings.ICE_SHEET_MAX_BYTES:,}",
                    },
                )
        return data


class HeldListConfirmForm(forms.Form):
    """The organizer's word that they read the quality gate's warnings on a held list."""

    confirm = forms.BooleanField(
        label=_("I have read the warnings: apply this list anyway"),
        error_messages={"required": _("Tick the box to confirm that you have read the warnings.")},
    )


def _what(entry: AgreementEntry) -> str:
    if entry.field:
        return f"{change_field_label(entry.field)}: {entry.before or '?'} → {entry.after or '?'}"
    if entry.signed_on:
        return gettext("signed %(date)s") % {"date": entry.signed_on}
    if entry.last_seen_on:
        return gettext("last seen %(date)s") % {"date": entry.last_seen_on}
    if entry.now_active:
        return gettext("now in force")
    return ""


def report_context(report: ImportReport) -> dict:
    """Return what the report table shows: one section per kind of change, rows to fix."""
    diff = report.diff
    sections = [
        (gettext("Added in this list"), diff.added),
        (gettext("Ended in this list"), diff.ended),
        (gettext("Changed"), diff.changed),
        (gettext("Pending added"), diff.pending_added),
        (gettext("Pending removed"), diff.pending_removed),
    ]
    state_ids = dict(Place.objects.filter(kind=Place.Kind.STATE).values_list("abbreviation", "id"))
    unplaced = []
    for entry in report.unplaced:
        url = ""
        if not entry.placed and entry.state_code in state_ids:
            url = alias_add_url(state_id=state_ids[entry.state_code], ice_text=entry.agency)
        unplaced.append((entry, url))
    return {
        "report": report,
        "sections": [
            {
                "title": title,
                "entries": [
                    {
                        "agency": e.agency,
                        "state": e.state,
                        "model": e.model,
                        "what": _what(e),
                        "place": e.place,
                    }
                    for e in entries
                ],
            }
            for title, entries in sections
        ],
        "unplaced": unplaced,
    }


def _sheet(upload) -> SheetFile | None:
    if upload is None:
        return None
    return SheetFile(name=upload.name, data=upload.read())


def _encode(sheet: SheetFile | None):
    if sheet is None:
        return None
    return {"name": sheet.name, "data": base64.b64encode(sheet.data).decode()}


def _decode(stored) -> SheetFile | None:
    if not stored:
        return None
    return SheetFile(name=stored["name"], data=base64.b64decode(stored["data"]))


@admin.register(ImportSnapshot)
class ImportSnapshotAdmin(admin.ModelAdmin):
    list_display = ("file_name", "as_of", "pending_file_name", "imported_at", "imported_by",
                    "active_agreements", "unmatched_count")  # fmt: skip
    list_filter = ("as_of_source", "forced")
    date_hierarchy = "as_of"
    fields = ("file_name", "pending_file_name", "as_of", "as_of_source", "forced_words",
              "imported_at", "imported_by", "report_table")  # fmt: skip
    readonly_fields = fields
    change_list_template = "admin/assistant/importsnapshot/change_list.html"

    class Media:
        css = {"all": ("css/ice_import.css",)}

    def has_add_permission(self, request):
        # Snapshots are made by applying an upload, never typed in.
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("active agreements"))
    def active_agreements(self, obj):
        return ImportReport.from_json(obj.report).active_now

    @admin.display(description=_("rows not placed"))
    def unmatched_count(self, obj):
        return ImportReport.from_json(obj.report).placements.unplaced

    @admin.display(description=_("older file imported on purpose"))
    def forced_words(self, obj):
        # Said only when it happened: an empty mark read as if it had.
        if obj.forced:
            return gettext("Yes: this file is older than an import before it.")
        return gettext("No")

    @admin.display(description=_("report"))
    def report_table(self, obj):
        return render_to_string(
            "admin/assistant/importsnapshot/report_table.html",
            report_context(ImportReport.from_json(obj.report)),
        )

    def get_urls(self):
        return [
            path(
                "upload/",
                self.admin_site.admin_view(self.upload_view),
                name="assistant_importsnapshot_upload",
            ),
            path(
                "held/<int:pk>/",
                self.admin_site.admin_view(self.held_view),
                name="assistant_importsnapshot_held",
            ),
            *super().get_urls(),
        ]

    def upload_view(self, request):
        """Upload ICE's files, show what would change (a dry run), then apply it."""
        if not request.user.has_perm("assistant.add_importsnapshot"):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": gettext("Import ICE's 287(g) lists"),
        }
        if request.method == "POST" and request.POST.get("action") == "apply":
            return self._apply(request, context)
        form = ImportUploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            participating = _sheet(form.cleaned_data["participating"])
            pending = _sheet(form.cleaned_data["pending"])
            options = {
                "as_of": form.cleaned_data["as_of"],
                "force": form.cleaned_data["force"],
            }
            try:
                verdict, result = list_quality(participating, pending, **options)
            except IMPORT_ERRORS as error:
                form.add_error(None, str(error))
            else:
                if result is None:  # not readable as ICE's list: nothing to apply
                    form.add_error(None, " ".join(verdict.reasons))
                    context["form"] = form
                    return TemplateResponse(
                        request, "admin/assistant/importsnapshot/upload.html", context
                    )
                if verdict.hold:
                    # Kept as a held list, not in the session: it is applied only once an
                    # organizer has seen the warnings and confirmed (now, or later).
                    held = held_list_create(
                        participating=participating,
                        pending=pending,
                        verdict=verdict,
                        dry=result,
                        source=HeldList.Source.UPLOADED,
                        user=request.user,
                    )
                    return redirect("admin:assistant_importsnapshot_held", held.pk)
                request.session[SESSION_KEY] = {
                    "participating": _encode(participating),
                    "pending": _encode(pending),
                    "as_of": options["as_of"].isoformat() if options["as_of"] else None,
                    "force": options["force"],
                }
                context.update(
                    report_context(result.report), identical=bool(result.report.identical_to)
                )
                return TemplateResponse(
                    request, "admin/assistant/importsnapshot/preview.html", context
                )
        context["form"] = form
        return TemplateResponse(request, "admin/assistant/importsnapshot/upload.html", context)

    def held_view(self, request, pk):
        """Show a held list's warnings and what it would change; apply it once confirmed."""
        if not request.user.has_perm("assistant.add_importsnapshot"):
            raise PermissionDenied
        held = get_object_or_404(HeldList, pk=pk)
        if held.decision != HeldList.Decision.HELD:
            messages.info(
                request,
                gettext("%(name)s was already decided: %(decision)s.")
                % {"name": held.file_name, "decision": held.get_decision_display()},
            )
            return redirect("admin:assistant_heldlist_change", held.pk)
        form = HeldListConfirmForm(request.POST or None)
        if request.method == "POST" and request.POST.get("action") == "reject":
            held_list_reject(held, user=request.user)
            messages.info(request, gettext("%(name)s is rejected.") % {"name": held.file_name})
            return redirect("admin:assistant_heldlist_changelist")
        if request.method == "POST" and form.is_valid():
            try:
                result = held_list_apply(held, user=request.user)
            except IMPORT_ERRORS as error:
                messages.error(request, f"{held.file_name}: {error}")
                return redirect("admin:assistant_heldlist_change", held.pk)
            messages.success(request, gettext("%(name)s is applied.") % {"name": held.file_name})
            return redirect("admin:assistant_importsnapshot_change", result.snapshot.pk)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": gettext("Held ICE list: %(name)s") % {"name": held.file_name},
            "held": held,
            "held_opts": HeldList._meta,
            "form": form,
        }
        pending = (
            SheetFile(name=held.pending_file_name, data=bytes(held.pending_data))
            if held.pending_file_name
            else None
        )
        try:
            dry = ice_lists_import(
                participating=SheetFile(name=held.file_name, data=bytes(held.data)),
                pending=pending,
                as_of=held.as_of,
                force=True,
                dry_run=True,
            )
        except IMPORT_ERRORS as error:
            context["error"] = str(error)
        else:
            context.update(report_context(dry.report))
        return TemplateResponse(request, "admin/assistant/importsnapshot/held.html", context)

    def _apply(self, request, context):
        stored = request.session.pop(SESSION_KEY, None)
        if not stored:
            messages.error(request, gettext("Upload the files again: the preview has expired."))
            return redirect("admin:assistant_importsnapshot_upload")
        try:
            result = ice_lists_import(
                participating=_decode(stored["participating"]),
                pending=_decode(stored["pending"]),
                as_of=datetime.date.fromisoformat(stored["as_of"]) if stored["as_of"] else None,
                force=stored["force"],
                user=request.user,
            )
        except IMPORT_ERRORS as error:
            messages.error(request, str(error))
            return redirect("admin:assistant_importsnapshot_upload")
        if result.snapshot is None:
            messages.info(request, gettext("Same files as the latest import: nothing changed."))
            return redirect("admin:assistant_importsnapshot_changelist")
        messages.success(request, gettext("The import is applied."))
        return redirect(reverse("admin:assistant_importsnapshot_change", args=[result.snapshot.pk]))


def alias_add_url(*, state_id: int | None, ice_text: str) -> str:
    """Return the admin address that adds an alias for ICE's text, the form filled in."""
    query = {"ice_text": ice_text}
    if state_id is not None:
        query["state"] = state_id
    return f"{reverse('admin:assistant_agencyalias_add')}?{urlencode(query)}"


@admin.register(UnmatchedRow)
class UnmatchedRowAdmin(admin.ModelAdmin):
    list_display = ("agency_name", "state_name", "county_name", "file", "row_number", "reason",
                    "snapshot", "place_now", "fix")  # fmt: skip
    list_filter = ("file", "state_name")
    search_fields = ("agency_name", "reason")
    readonly_fields = ("snapshot", "file", "row_number", "agency", "agency_name", "state_name",
                       "county_name", "reason", "place_now", "fix")  # fmt: skip
    fields = readonly_fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description=_("place now"))
    def place_now(self, obj):
        if obj.agency and obj.agency.place:
            return str(obj.agency.place)
        return gettext("not placed yet")

    @admin.display(description=_("fix"))
    def fix(self, obj):
        return format_html(
            '<a href="{}">{}</a>',
            alias_add_url(
                state_id=obj.agency.state_id if obj.agency else None, ice_text=obj.agency_name
            ),
            gettext("Say which place this is"),
        )


@admin.register(AgencyAlias)
class AgencyAliasAdmin(SimpleHistoryAdmin):
    """An organizer says once which place a row of ICE's list means; every later list follows."""

    list_display = ("ice_text", "state", "place", "created_by", "created_at")
    list_filter = ("state",)
    search_fields = ("ice_text", "place__name")
    autocomplete_fields = ("place", "other_places")
    fields = ("state", "ice_text", "place", "other_places", "note")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "state":
            kwargs["queryset"] = Place.objects.filter(kind=Place.Kind.STATE)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        # The service also places the agencies already imported under this name.
        alias = agency_alias_create(
            state=form.cleaned_data["state"],
            ice_text=form.cleaned_data["ice_text"],
            place=form.cleaned_data["place"],
            other_places=list(form.cleaned_data.get("other_places") or []),
            note=form.cleaned_data.get("note", ""),
            user=request.user,
        )
        obj.pk = alias.pk
        obj._state.adding = False

    def save_related(self, request, form, formsets, change):
        # other_places were set by the service.
        pass


@admin.register(HeldList)
class HeldListAdmin(admin.ModelAdmin):
    """Lists held by the quality gate (fetched or uploaded): an organizer applies or rejects them.

    Applying imports the held list with ``force`` (as ``import_287g --force``): it becomes the
    list the answers come from even if a newer list was applied since, and agreements missing
    from it end. Rejecting keeps it out for good (its bytes are known and never fetched again).
    """

    list_display = ("file_name", "as_of", "rows_read", "reasons_text", "source", "fetched_at",
                    "decision", "decided_by", "review")  # fmt: skip
    list_filter = ("decision", "source")
    fields = ("file_name", "pending_file_name", "as_of", "rows_read", "reasons_text", "source",
              "uploaded_by", "fetched_at", "decision", "decided_at", "decided_by", "snapshot",
              "review")  # fmt: skip
    readonly_fields = fields
    actions = ["apply_lists", "reject_lists"]

    def get_queryset(self, request):
        return super().get_queryset(request).defer("data", "pending_data")

    def _may_decide(self, request) -> bool:
        return request.user.has_perm("assistant.add_importsnapshot")

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("assistant.view_importsnapshot")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_decide_permission(self, request):
        return self._may_decide(request)

    @admin.display(description=_("why it is held"))
    def reasons_text(self, obj):
        return " ".join(obj.reasons)

    @admin.display(description=_("decide"))
    def review(self, obj):
        if obj.decision != HeldList.Decision.HELD:
            return ""
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:assistant_importsnapshot_held", args=[obj.pk]),
            gettext("See the warnings and decide"),
        )

    @admin.action(
        description=_("Apply the selected held lists (as ICE's list of their date)"),
        permissions=["decide"],
    )
    def apply_lists(self, request, queryset):
        for held in queryset.filter(decision=HeldList.Decision.HELD).order_by("as_of"):
            held = HeldList.objects.get(pk=held.pk)  # with its bytes
            try:
                held_list_apply(held, user=request.user)
            except IMPORT_ERRORS as error:
                messages.error(request, f"{held.file_name}: {error}")
            else:
                messages.success(
                    request, gettext("%(name)s is applied.") % {"name": held.file_name}
                )

    @admin.action(description=_("Reject the selected held lists"), permissions=["decide"])
    def reject_lists(self, request, queryset):
        for held in queryset.filter(decision=HeldList.Decision.HELD):
            held_list_reject(held, user=request.user)
            messages.info(request, gettext("%(name)s is rejected.") % {"name": held.file_name})


@admin.register(FetchCheck)
class FetchCheckAdmin(admin.ModelAdmin):
    """Each check of ICE's page by fetch_287g: when, and what came of it."""

    list_display = ("checked_at", "outcome", "error")
    list_filter = ("outcome",)
    readonly_fields = ("checked_at", "page_url", "outcome", "error", "files")

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("assistant.view_importsnapshot")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

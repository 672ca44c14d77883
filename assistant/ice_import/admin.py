"""Admin for imports of ICE's 287(g) lists: upload, preview, apply; snapshots; unmatched rows."""

import base64
import datetime

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from assistant.ice_import.models import ImportSnapshot, UnmatchedRow
from assistant.ice_import.report import import_report_lines
from assistant.ice_import.services import ImportRefused, ice_lists_import
from assistant.ice_import.sheets import SheetError, SheetFile

SESSION_KEY = "ice-import-upload"
MAX_UPLOAD_BYTES = 5 * 1024 * 1024


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
            if upload is not None and upload.size > MAX_UPLOAD_BYTES:
                self.add_error(name, _("This file is too large for one of ICE's lists."))
        return data


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
    fields = ("file_name", "pending_file_name", "as_of", "as_of_source", "forced",
              "imported_at", "imported_by", "report_text", "unmatched_list")  # fmt: skip
    readonly_fields = fields
    change_list_template = "admin/assistant/importsnapshot/change_list.html"

    def has_add_permission(self, request):
        # Snapshots are made by applying an upload, never typed in.
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("active agreements"))
    def active_agreements(self, obj):
        return obj.report.get("active_agreements")

    @admin.display(description=_("unmatched rows"))
    def unmatched_count(self, obj):
        return len(obj.report.get("unmatched", []))

    @admin.display(description=_("report"))
    def report_text(self, obj):
        return format_html("<pre>{}</pre>", "\n".join(import_report_lines(obj.report)))

    @admin.display(description=_("unmatched rows"))
    def unmatched_list(self, obj):
        rows = obj.unmatched_rows.all()
        if not rows:
            return gettext("None")
        return format_html(
            "<ul>{}</ul>",
            format_html_join(
                "",
                "<li>{} {}: {} ({}): {}</li>",
                (
                    (r.get_file_display(), r.row_number, r.agency_name, r.state_name, r.reason)
                    for r in rows
                ),
            ),
        )

    def get_urls(self):
        return [
            path(
                "upload/",
                self.admin_site.admin_view(self.upload_view),
                name="assistant_importsnapshot_upload",
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
                result = ice_lists_import(
                    participating=participating, pending=pending, dry_run=True, **options
                )
            except (SheetError, ImportRefused) as error:
                form.add_error(None, str(error))
            else:
                request.session[SESSION_KEY] = {
                    "participating": _encode(participating),
                    "pending": _encode(pending),
                    "as_of": options["as_of"].isoformat() if options["as_of"] else None,
                    "force": options["force"],
                }
                context.update(
                    report_lines=import_report_lines(result.report, dry_run=True),
                    identical=bool(result.report.get("identical_to")),
                )
                return TemplateResponse(
                    request, "admin/assistant/importsnapshot/preview.html", context
                )
        context["form"] = form
        return TemplateResponse(request, "admin/assistant/importsnapshot/upload.html", context)

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
        except (SheetError, ImportRefused) as error:
            messages.error(request, str(error))
            return redirect("admin:assistant_importsnapshot_upload")
        if result.snapshot is None:
            messages.info(request, gettext("Same files as the latest import: nothing changed."))
            return redirect("admin:assistant_importsnapshot_changelist")
        messages.success(request, gettext("The import is applied."))
        return redirect(reverse("admin:assistant_importsnapshot_change", args=[result.snapshot.pk]))


@admin.register(UnmatchedRow)
class UnmatchedRowAdmin(admin.ModelAdmin):
    list_display = ("agency_name", "state_name", "file", "row_number", "reason", "snapshot",
                    "place_now")  # fmt: skip
    list_filter = ("file", "state_name")
    search_fields = ("agency_name", "reason")
    readonly_fields = ("snapshot", "file", "row_number", "agency", "agency_name", "state_name",
                       "reason", "place_now")  # fmt: skip
    fields = readonly_fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description=_("place now"))
    def place_now(self, obj):
        if obj.agency and obj.agency.place:
            return str(obj.agency.place)
        return gettext("not matched yet")

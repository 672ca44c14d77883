"""Admin for alerts: proposed from changed answers, edited per language, approved by a Reviewer.

Organizers never see a subscriber's number: subscriptions are not in the admin at all, and
an alert shows only counts.
"""

from django.contrib import admin, messages
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _

from assistant.alerts.models import Alert, AlertText
from assistant.alerts.selectors import alert_proposals
from assistant.alerts.services import (
    AlertNotAllowed,
    alert_approve,
    alert_create_from_flag,
    alert_progress,
)
from assistant.content.models import ReviewFlag


class AlertTextInline(admin.TabularInline):
    model = AlertText
    extra = 0
    fields = ["language", "body"]

    def has_change_permission(self, request, obj=None):
        return obj is None or obj.status == Alert.Status.DRAFT

    has_add_permission = has_change_permission
    has_delete_permission = has_change_permission


def _progress_field(name: str, label):
    def show(self, obj):
        if not hasattr(obj, "_progress"):
            obj._progress = alert_progress(alert=obj)
        return obj._progress[name]

    show.short_description = label
    return show


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):
    """Alerts: written by one organizer, approved by a Reviewer, sent by a worker."""

    inlines = [AlertTextInline]
    list_display = [
        "place",
        "status",
        "created_by",
        "approved_by",
        "queued_count",
        "sent_count",
        "delivered_count",
        "failed_count",
        "not_sent_count",
        "created_at",
    ]
    list_filter = ["status"]
    actions = ["approve_and_send"]
    readonly_fields = [
        "place",
        "flag",
        "status",
        "created_by",
        "created_at",
        "approved_by",
        "approved_at",
        "finished_at",
        "queued_count",
        "sent_count",
        "delivered_count",
        "failed_count",
        "not_sent_count",
        "not_sent_reason",
    ]
    fields = readonly_fields
    change_list_template = "admin/assistant/alert/change_list.html"

    queued_count = _progress_field("queued", _("queued"))
    sent_count = _progress_field("sent", _("sent"))
    delivered_count = _progress_field("delivered", _("delivered"))
    failed_count = _progress_field("failed", _("failed"))
    not_sent_count = _progress_field("not_sent", _("not sent on WhatsApp"))

    @admin.display(description=_("why not sent"))
    def not_sent_reason(self, obj):
        if not hasattr(obj, "_progress"):
            obj._progress = alert_progress(alert=obj)
        if not obj._progress["not_sent"]:
            return "-"
        languages = ", ".join(obj._progress["not_sent_languages"])
        return _(
            "%(count)s WhatsApp subscriber(s) had not written in the last 24 hours, when "
            "WhatsApp takes only an approved template, and no template is set for: "
            "%(languages)s. Add one to TWILIO_WHATSAPP_ALERT_TEMPLATES."
        ) % {"count": obj._progress["not_sent"], "languages": languages}

    def has_add_permission(self, request):
        # Alerts start from a changed answer (the proposals above the list).
        return False

    def get_urls(self):
        urls = [
            path(
                "from-flag/<int:flag_id>/",
                self.admin_site.admin_view(self.create_from_flag_view),
                name="assistant_alert_from_flag",
            )
        ]
        return urls + super().get_urls()

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "proposals": alert_proposals()}
        return super().changelist_view(request, extra_context)

    def create_from_flag_view(self, request, flag_id: int):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_change_permission(request):
            return HttpResponseRedirect(reverse("admin:index"))
        flag = get_object_or_404(ReviewFlag, pk=flag_id)
        try:
            alert = alert_create_from_flag(flag=flag, user=request.user)
        except AlertNotAllowed as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return HttpResponseRedirect(reverse("admin:assistant_alert_changelist"))
        self.message_user(
            request,
            _("Alert drafted. Check each language, then ask a Reviewer to approve it."),
            messages.SUCCESS,
        )
        return HttpResponseRedirect(reverse("admin:assistant_alert_change", args=[alert.pk]))

    @admin.action(description=_("Approve and send the selected alerts"))
    def approve_and_send(self, request, queryset):
        for alert in queryset:
            try:
                alert_approve(alert=alert, user=request.user)
            except AlertNotAllowed as exc:
                self.message_user(request, f"{alert.place}: {exc}", messages.ERROR)
            else:
                self.message_user(
                    request,
                    _("%(place)s: approved. The messages are being queued.")
                    % {"place": alert.place},
                    messages.SUCCESS,
                )

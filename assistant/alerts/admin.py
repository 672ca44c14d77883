"""Admin for alerts: proposed from changed answers, edited per language, approved by a Reviewer.

Organizers never see a subscriber's number: subscriptions are not in the admin at all, and
an alert shows only counts.
"""

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _

from assistant.alerts.models import Alert, AlertText
from assistant.alerts.selectors import alert_proposals
from assistant.alerts.services import (
    AlertNotAllowed,
    alert_approve,
    alert_authors,
    alert_create_from_flag,
    alert_progress,
    can_approve_alerts,
)
from assistant.content.models import ReviewFlag


class AlertTextInline(admin.TabularInline):
    model = AlertText
    extra = 0
    fields = ["language", "body"]

    def _draft(self, obj) -> bool:
        return obj is None or obj.status == Alert.Status.DRAFT

    def has_change_permission(self, request, obj=None):
        return self._draft(obj) and super().has_change_permission(request, obj)

    def has_add_permission(self, request, obj=None):
        return self._draft(obj) and super().has_add_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._draft(obj) and super().has_delete_permission(request, obj)


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
        "text_authors",
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
    change_form_template = "admin/assistant/alert/change_form.html"

    @admin.display(description=_("texts written or changed by"))
    def text_authors(self, obj):
        users = get_user_model().objects.filter(pk__in=alert_authors(alert=obj))
        return ", ".join(sorted(str(u) for u in users)) or "—"

    def has_approve_permission(self, request):
        return can_approve_alerts(request.user)

    def view_on_site(self, obj):
        return obj.place.get_absolute_url()

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and obj.status == Alert.Status.DRAFT:
            if not can_approve_alerts(request.user):
                context["approve_refusal"] = _(
                    "A Reviewer who did not write it approves this alert and sends it."
                )
            elif request.user.pk in alert_authors(alert=obj):
                context["approve_refusal"] = _(
                    "You wrote or changed a text of this alert, so someone else must approve it."
                )
            else:
                context["approve_url"] = reverse("admin:assistant_alert_approve", args=[obj.pk])
        return super().render_change_form(request, context, add, change, form_url, obj)

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
            ),
            path(
                "<int:alert_id>/approve/",
                self.admin_site.admin_view(self.approve_view),
                name="assistant_alert_approve",
            ),
        ]
        return urls + super().get_urls()

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "proposals": alert_proposals()}
        return super().changelist_view(request, extra_context)

    def create_from_flag_view(self, request, flag_id: int):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_change_permission(request):
            raise PermissionDenied
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

    def approve_view(self, request, alert_id: int):
        """Approve one alert from its own page (the button under its texts)."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        alert = get_object_or_404(Alert, pk=alert_id)
        self.approve_and_send(request, Alert.objects.filter(pk=alert.pk))
        return HttpResponseRedirect(reverse("admin:assistant_alert_change", args=[alert.pk]))

    @admin.action(description=_("Approve and send the selected alerts"), permissions=["approve"])
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

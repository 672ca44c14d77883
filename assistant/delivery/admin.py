from django.contrib import admin

from assistant.delivery.models import OutboundMessage


@admin.register(OutboundMessage)
class OutboundMessageAdmin(admin.ModelAdmin):
    """Where organizers see what was sent and what failed: never a number or a text."""

    list_display = [
        "id",
        "status",
        "purpose",
        "language",
        "segments",
        "attempts",
        "last_error_code",
        "last_error_message",
        "created_at",
        "updated_at",
        "finished_at",
    ]
    list_filter = ["status", "purpose", "channel", "language"]
    search_fields = ["twilio_sid"]
    fields = [
        "status",
        "channel",
        "purpose",
        "language",
        "sender",
        "twilio_sid",
        "segments",
        "encoding",
        "attempts",
        "rate_limits",
        "lookups",
        "last_attempt_at",
        "outcome_unknown",
        "last_error_code",
        "last_error_message",
        "created_at",
        "updated_at",
        "finished_at",
    ]
    readonly_fields = fields
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

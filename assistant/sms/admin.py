"""The SMS side of the admin: conversations (hashes only) and the bot simulator."""

from dataclasses import asdict

from django import forms
from django.contrib import admin
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _

from assistant.delivery.segments import count_segments
from assistant.sms.conversation import State, converse
from assistant.sms.lookup import DbLookup
from assistant.sms.models import Conversation, InboundMessage
from assistant.vocabulary import SMS_MAX_TEXT

SESSION_KEY = "sms_simulator"


class SimulatorForm(forms.Form):
    text = forms.CharField(
        label=_("Message the resident sends"), max_length=SMS_MAX_TEXT, required=False, strip=False
    )


def simulate(*, state: State, text: str) -> tuple[State, list[dict]]:
    """Run the real conversation on ``text``; return the new state and what would be sent."""
    turn = converse(state=state, text=text, lookup=DbLookup())
    replies = []
    for body in turn.replies:
        count = count_segments(body)
        replies.append({"body": body, "encoding": count.encoding, "segments": count.segments})
    return turn.state, replies


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin):
    list_display = ("short_hash", "language", "place", "menu", "updated_at")
    list_filter = ("language",)
    readonly_fields = ("phone_hash", "language", "place", "menu", "choices", "updated_at")

    @admin.display(description=_("number (keyed hash)"))
    def short_hash(self, obj):
        return f"{obj.phone_hash[:12]}…"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_urls(self):
        simulator = path(
            "simulator/",
            self.admin_site.admin_view(self.simulator_view),
            name="assistant_sms_simulator",
        )
        return [simulator, *super().get_urls()]

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "simulator_url": reverse(
            "admin:assistant_sms_simulator")}  # fmt: skip
        return super().changelist_view(request, extra_context)

    def simulator_view(self, request):
        """Chat with the bot as a resident; nothing is sent and nothing is stored but the
        simulator's own session."""
        saved = request.session.get(SESSION_KEY) or {}
        state = State(**{**saved.get("state", {}), "choices": tuple(saved.get("choices", ()))})
        transcript = saved.get("transcript", [])
        form = SimulatorForm(request.POST or None)
        if request.method == "POST" and "reset" in request.POST:
            state, transcript = State(), []
            form = SimulatorForm()
        elif request.method == "POST" and form.is_valid():
            text = form.cleaned_data["text"]
            state, replies = simulate(state=state, text=text)
            transcript = [*transcript, {"text": text, "replies": replies}][-30:]
            form = SimulatorForm()
        data = asdict(state)
        request.session[SESSION_KEY] = {
            "state": {k: v for k, v in data.items() if k != "choices"},
            "choices": list(state.choices),
            "transcript": transcript,
        }
        context = {
            **self.admin_site.each_context(request),
            "title": _("SMS simulator"),
            "opts": self.model._meta,
            "form": form,
            "state": state,
            "transcript": transcript,
            "total_segments": sum(r["segments"] for t in transcript for r in t["replies"]),
        }
        return TemplateResponse(request, "admin/assistant/sms_simulator.html", context)


@admin.register(InboundMessage)
class InboundMessageAdmin(admin.ModelAdmin):
    list_display = ("sid", "outcome", "reply_count", "received_at")
    list_filter = ("outcome",)
    readonly_fields = ("sid", "phone_hash", "outcome", "reply_count", "received_at")
    # Not the encrypted number and text of a message still pending.
    fields = readonly_fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

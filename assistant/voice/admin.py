"""The voice line in the admin: languages (with every prompt to hear or read before it goes
live), organizers' recordings and their review, the day counts and the call simulator."""

from urllib.parse import parse_qsl
from xml.etree import ElementTree

from django import forms
from django.contrib import admin, messages
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import translation
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from assistant.voice import prompts
from assistant.voice.calls import CallRefused, call_respond, call_step_parse
from assistant.voice.models import CallCount, VoiceLanguage, VoiceRecording
from assistant.voice.services import RecordingRefused, recording_approve, recording_upload
from assistant.voice.views import recording_response

SESSION_KEY = "voice_simulator"


def _audio(recording: VoiceRecording) -> str:
    url = reverse("admin:assistant_voicerecording_audio", args=[recording.pk])
    return format_html('<audio controls preload="none" src="{}"></audio>', url)


@admin.register(VoiceLanguage)
class VoiceLanguageAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "say_language", "say_voice", "position", "active")
    list_editable = ("position", "active")
    readonly_fields = ("prompts_preview",)

    @admin.display(description=_("What callers hear"))
    def prompts_preview(self, obj):
        if obj is None or obj.pk is None:
            return "-"
        recordings = {r.prompt: r for r in obj.recordings.defer("audio")}
        rows = []
        for key, text in prompts.RECORDED.items():
            if obj.synthesised:
                with translation.override(obj.code):
                    said = str(text)
                how = f"<Say language={obj.say_language} voice={obj.say_voice or '-'}>"
                rows.append((key, said, how, ""))
            elif key in recordings:
                recording = recordings[key]
                state = _("reviewed") if recording.reviewed else _("not reviewed: not played")
                rows.append((key, str(text), state, _audio(recording)))
            else:
                rows.append((key, str(text), _("no recording: said in Spanish"), ""))
        return format_html(
            "<table><tbody>{}</tbody></table>",
            format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", rows),
        )


class RecordingForm(forms.ModelForm):
    upload = forms.FileField(label=_("audio file (MP3 or WAV)"))

    class Meta:
        model = VoiceRecording
        fields = ["language", "prompt"]


@admin.register(VoiceRecording)
class VoiceRecordingAdmin(admin.ModelAdmin):
    form = RecordingForm
    list_display = ("language", "prompt", "is_reviewed", "uploaded_by", "uploaded_at", "listen")
    list_filter = ("language", ("reviewed_at", admin.EmptyFieldListFilter))
    readonly_fields = ("listen", "uploaded_by", "reviewed_by", "reviewed_at")
    actions = ["approve"]

    def get_queryset(self, request):
        # The list needs no audio: it plays each file from its own address.
        return super().get_queryset(request).defer("audio")

    @admin.display(boolean=True, description=_("reviewed"))
    def is_reviewed(self, obj):
        return obj.reviewed

    @admin.display(description=_("listen"))
    def listen(self, obj):
        return _audio(obj) if obj and obj.pk else "-"

    def get_urls(self):
        audio = path(
            "<int:pk>/audio/",
            self.admin_site.admin_view(self.audio_view),
            name="assistant_voicerecording_audio",
        )
        return [audio, *super().get_urls()]

    def audio_view(self, request, pk: int):
        """Play any recording, reviewed or not, to a signed-in organizer."""
        return recording_response(get_object_or_404(VoiceRecording, pk=pk))

    def save_model(self, request, obj, form, change):
        upload = form.cleaned_data["upload"]
        try:
            saved = recording_upload(
                language=obj.language,
                prompt=obj.prompt,
                audio=upload.read(),
                content_type=upload.content_type or "",
                user=request.user,
            )
        except RecordingRefused as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return
        obj.pk = saved.pk

    @admin.action(description=_("Approve the selected recordings"))
    def approve(self, request, queryset):
        for recording in queryset:
            try:
                recording_approve(recording=recording, user=request.user)
            except RecordingRefused as exc:
                self.message_user(request, f"{recording}: {exc}", messages.ERROR)


class SimulatorForm(forms.Form):
    keys = forms.CharField(label=_("Keys pressed"), max_length=8, required=False)


def simulate(*, query: dict, keys: str) -> tuple[list[dict], dict | None]:
    """Run the real call step; return what the caller hears and the next step's query."""
    twiml = call_respond(call_step_parse(query, keys, counted=False))
    heard: list[dict] = []
    following = None
    # Our own TwiML, just built by VoiceResponse: not untrusted input.
    for element in ElementTree.fromstring(str(twiml)).iter():  # noqa: S314
        if element.tag == "Say":
            heard.append(
                {
                    "say": element.text or "",
                    "language": element.get("language", ""),
                    "voice": element.get("voice", ""),
                }
            )
        elif element.tag == "Play":
            heard.append({"play": element.text or ""})
        elif element.tag == "Gather" and following is None:
            action = element.get("action", "")
            following = dict(parse_qsl(action.partition("?")[2]))
    return heard, following


@admin.register(CallCount)
class CallCountAdmin(admin.ModelAdmin):
    list_display = ("day", "language", "step", "count")
    list_filter = ("language", "step")
    change_list_template = "admin/assistant/callcount/change_list.html"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_urls(self):
        simulator = path(
            "simulator/",
            self.admin_site.admin_view(self.simulator_view),
            name="assistant_voice_simulator",
        )
        return [simulator, *super().get_urls()]

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "simulator_url": reverse("admin:assistant_voice_simulator"),
        }
        return super().changelist_view(request, extra_context)

    def simulator_view(self, request):
        """Walk the voice line's TwiML with keypresses; nothing is counted or stored but the
        simulator's own session."""
        saved = request.session.get(SESSION_KEY) or {}
        query, transcript = saved.get("query"), saved.get("transcript", [])
        form = SimulatorForm(request.POST or None)
        if request.method == "POST" and ("call" in request.POST or query is None):
            query, keys = {}, ""
            transcript = []
        elif request.method == "POST" and form.is_valid():
            keys = form.cleaned_data["keys"]
        else:
            keys = None
        if keys is not None:
            try:
                heard, query = simulate(query=query, keys=keys)
            except CallRefused as exc:
                heard, query = [{"say": str(exc), "language": "", "voice": ""}], None
            transcript = [*transcript, {"keys": keys, "heard": heard}][-20:]
            form = SimulatorForm()
        request.session[SESSION_KEY] = {"query": query, "transcript": transcript}
        context = {
            **self.admin_site.each_context(request),
            "title": _("Call simulator"),
            "opts": self.model._meta,
            "form": form,
            "transcript": transcript,
            "ended": query is None and bool(transcript),
        }
        return TemplateResponse(request, "admin/assistant/voice_simulator.html", context)

"""The organizer start page's "needs attention now" panel, and small admin filters."""

from django import template
from django.conf import settings
from django.urls import reverse

from assistant.alerts.services import can_approve_alerts
from assistant.content.models import TranslatorLanguage
from assistant.organizers.selectors import organizer_attention

register = template.Library()


def _change_url(obj) -> str:
    opts = obj._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])


def start_page_languages(user) -> set[str] | None:
    """Return the languages whose translations ``user``'s start page lists (None: none).

    A Translator sees their own languages; the operator sees theirs, or all of them.
    """
    own = set(TranslatorLanguage.objects.filter(user=user).values_list("language", flat=True))
    if own:
        return own
    if user.is_superuser:
        return {code for code, _name in settings.LANGUAGES}
    return None


@register.inclusion_tag("admin/assistant/attention.html", takes_context=True)
def attention_panel(context):
    """Render what needs this organizer's attention now: only what they may act on."""
    user = context["request"].user
    languages = start_page_languages(user)
    attention = organizer_attention(languages=languages or set())
    names = dict(settings.LANGUAGES)
    flag_list = reverse("admin:assistant_reviewflag_changelist")
    return {
        "can_see_imports": user.has_perm("assistant.view_importsnapshot"),
        "held_lists": [(held, _change_url(held)) for held in attention.held_lists],
        "held_list_url": reverse("admin:assistant_heldlist_changelist") + "?decision__exact=held",
        "can_see_flags": user.has_perm("assistant.view_reviewflag"),
        "can_see_alerts": user.has_perm("assistant.view_alert"),
        "can_write_alerts": user.has_perm("assistant.change_alert"),
        "can_approve_alerts": can_approve_alerts(user),
        "can_see_guides": user.has_perm("assistant.view_guide"),
        "can_translate": languages is not None,
        "my_languages": sorted(names.get(code, code) for code in (languages or ())),
        "simulator_url": (
            reverse("admin:assistant_sms_simulator")
            if user.has_perm("assistant.view_conversation")
            else None
        ),
        "flags": [(flag, _change_url(flag)) for flag in attention.open_flags],
        "flag_count": attention.open_flag_count,
        "flag_reasons": [
            (label, n, f"{flag_list}?open=yes&reason__exact={code}")
            for code, label, n in attention.open_flag_reasons
        ],
        "flag_list_url": f"{flag_list}?open=yes",
        "due": [(guide, _change_url(guide)) for guide in attention.guides_due],
        "in_review": [(obj, _change_url(obj)) for obj in attention.in_review],
        "translations": [
            (p.content, names.get(p.language, p.language), p.state, _change_url(p.content))
            for p in attention.translation_problems[:200]
        ],
        "translation_count": len(attention.translation_problems),
        "guide_list_url": reverse("admin:assistant_guide_changelist"),
        "alert_proposals": [
            (flag, reverse("admin:assistant_alert_from_flag", args=[flag.pk]))
            for flag in attention.alert_proposals
        ],
        "alerts_waiting": [(alert, _change_url(alert)) for alert in attention.alerts_waiting],
        "alert_list_url": reverse("admin:assistant_alert_changelist"),
        # The "Write an alert" buttons post a form (they create a draft).
        "csrf_token": context.get("csrf_token"),
    }


@register.filter
def minutes(delta) -> int:
    """Return a timedelta in whole minutes (for the lockout page)."""
    return int(delta.total_seconds() // 60) if delta else 0

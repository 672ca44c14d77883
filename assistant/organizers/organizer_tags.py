"""The organizer start page's "needs attention now" panel."""

from django import template
from django.conf import settings
from django.urls import reverse

from assistant.organizers.selectors import organizer_attention

register = template.Library()


def _change_url(obj) -> str:
    opts = obj._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])


@register.inclusion_tag("admin/assistant/attention.html", takes_context=True)
def attention_panel(context):
    """Render what needs an organizer's attention now."""
    attention = organizer_attention()
    names = dict(settings.LANGUAGES)
    return {
        "flags": [(flag, _change_url(flag)) for flag in attention.open_flags],
        "due": [(guide, _change_url(guide)) for guide in attention.guides_due],
        "in_review": [(obj, _change_url(obj)) for obj in attention.in_review],
        "translations": [
            (p.content, names.get(p.language, p.language), p.state, _change_url(p.content))
            for p in attention.translation_problems[:200]
        ],
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

from django import template
from django.utils.formats import date_format
from django.utils.html import format_html

from assistant.explanations import SCOPE_LABELS, model_label

register = template.Library()


@register.filter
def when(value):
    """Render a date in the page's language, kept readable inside right-to-left text."""
    if not value:
        return ""
    return format_html(
        '<time datetime="{}"><bdi>{}</bdi></time>', value.isoformat(), date_format(value)
    )


@register.filter
def agreement_model(code):
    """Return the plain name of a 287(g) model in the page's language."""
    return model_label(code)


@register.filter
def scope_label(scope):
    """Return how far an agency's work reaches, when it is not the place itself."""
    return SCOPE_LABELS.get(scope, "")

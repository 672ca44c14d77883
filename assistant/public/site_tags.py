from django import template
from django.utils import translation
from django.utils.formats import date_format
from django.utils.html import format_html

from assistant.public.explanations import SCOPE_LABELS, guide_section_title, model_label

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


@register.filter
def section_title(key):
    """Return the heading of a guide section in the page's language."""
    return guide_section_title(key)


@register.filter
def tel(number):
    """Return a phone number as dialable characters for a ``tel:`` link."""
    return "".join(ch for ch in str(number or "") if ch.isdigit() or ch == "+")


@register.filter
def language_name(code):
    """Return a language's name in the page's language ("francés" on a Spanish page)."""
    try:
        return translation.get_language_info(code)["name_translated"]
    except KeyError:
        return code


@register.simple_tag(takes_context=True)
def lang_attrs(context, shown):
    """Mark text shown in another language than the page's: its lang and, if needed, dir.

    ``shown`` is a ``selectors.content.ShownText``; nothing is output when it is in the
    page's own language.
    """
    page_language = translation.get_language()
    if not shown or shown.language == page_language:
        return ""
    direction = "rtl" if translation.get_language_info(shown.language)["bidi"] else "ltr"
    page_direction = "rtl" if translation.get_language_bidi() else "ltr"
    if direction == page_direction:
        return format_html(' lang="{}"', shown.language)
    return format_html(' lang="{}" dir="{}"', shown.language, direction)

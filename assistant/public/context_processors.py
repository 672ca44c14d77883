from django.conf import settings
from django.urls import Resolver404, resolve, reverse, translate_url
from django.utils.translation import get_language, get_language_info, override

from assistant.content.models import InterfaceTranslationReview


def _language_links(request) -> list[dict]:
    try:
        match = resolve(request.path)
    except Resolver404:
        match = None
    # Only the (uncached) search page carries its query over to the other languages; a
    # cached page must not keep one visitor's query string for the next.
    path = request.path
    if match and match.url_name == "search" and len(request.get_full_path()) <= 300:
        path = request.get_full_path()
    links = []
    for code, _name in settings.LANGUAGES:
        if match:
            url = translate_url(path, code)
        else:
            with override(code):
                url = reverse("home")
        info = get_language_info(code)
        links.append(
            {
                "code": code,
                "name_local": info["name_local"],
                "dir": "rtl" if info["bidi"] else "ltr",
                "url": url,
                "current": code == get_language(),
            }
        )
    return links


def _interface_unreviewed() -> bool:
    language = get_language()
    if not language or language == settings.LANGUAGE_CODE:
        return False
    return not InterfaceTranslationReview.objects.filter(language=language).exists()


def site(request):
    """Give every page the language picker and whether its translation is unreviewed.

    Both are callables, so templates that do not use them (the admin) cost nothing.
    """
    return {
        "language_links": lambda: _language_links(request),
        "interface_unreviewed": _interface_unreviewed,
    }

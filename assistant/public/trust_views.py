"""Residents' pages for issue 18: report a mistake, forum calendars, open data of facts and forums.

The report form is its own page, not part of the cached place page: a CSRF token must never
be cached and handed to every visitor.
"""

import hashlib

from django import forms
from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from assistant.ops.client_ip import client_ip
from assistant.places.models import Place
from assistant.public.page_cache import cached_public_page
from assistant.trust.calendar import forums_calendar
from assistant.trust.models import MistakeReport
from assistant.trust.selectors import (
    agency_facts_open_data,
    forums_for_calendar,
    forums_open_data,
)
from assistant.trust.services import REPORT_MAX_LENGTH, mistake_report_create

REPORTS_PER_HOUR = 5


class MistakeReportForm(forms.Form):
    text = forms.CharField(
        label=_("What is wrong?"),
        max_length=REPORT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("Do not write your name or phone number. We do not need them."),
    )


def _place_or_404(state_code: str, slug: str) -> Place:
    return get_object_or_404(
        Place.objects.select_related("state"),
        state__abbreviation=state_code.upper(),
        slug=slug,
        kind__in=[Place.Kind.COUNTY, Place.Kind.CITY],
    )


def _rate_key(request) -> str:
    # The address is kept only as a keyed digest, and only for an hour, in the cache.
    digest = hashlib.blake2b(
        client_ip(request).encode(), key=settings.SECRET_KEY.encode()[:64], digest_size=16
    ).hexdigest()
    return f"mistake-report:{digest}"


def _over_limit(request) -> bool:
    key = _rate_key(request)
    cache.add(key, 0, timeout=60 * 60)
    try:
        count = cache.incr(key)
    except ValueError:
        cache.set(key, 1, timeout=60 * 60)
        count = 1
    return count > REPORTS_PER_HOUR


@never_cache
@require_http_methods(["GET", "POST"])
def place_report(request, state_code, slug):
    """Show the report-a-mistake form for a place, and keep what a resident sends."""
    place = _place_or_404(state_code, slug)
    status = 200
    if request.method == "POST":
        form = MistakeReportForm(request.POST)
        if form.is_valid():
            if _over_limit(request):
                return render(
                    request,
                    "assistant/report_mistake.html",
                    {"place": place, "form": form, "limited": True},
                    status=429,
                )
            mistake_report_create(
                place_id=place.pk,
                text=form.cleaned_data["text"],
                language=request.LANGUAGE_CODE,
                channel=MistakeReport.Channel.WEB,
            )
            return render(request, "assistant/report_mistake.html", {"place": place, "sent": True})
        status = 400
    else:
        form = MistakeReportForm()
    return render(
        request, "assistant/report_mistake.html", {"place": place, "form": form}, status=status
    )


def _calendar_response(*, forums, name: str, filename: str, language: str) -> HttpResponse:
    response = HttpResponse(
        forums_calendar(forums=forums, name=name, language=language),
        content_type="text/calendar; charset=utf-8",
    )
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


@require_GET
@cached_public_page
def place_forums_ics(request, state_code, slug):
    """Return the iCalendar feed of a county's or city's forums."""
    place = _place_or_404(state_code, slug)
    return _calendar_response(
        forums=forums_for_calendar(place=place),
        name=str(place),
        filename=f"{place.state_code.lower()}-{place.slug}-forums.ics",
        language=request.LANGUAGE_CODE,
    )


@require_GET
@cached_public_page
def state_forums_ics(request, state_code):
    """Return the iCalendar feed of every forum in a state."""
    state = get_object_or_404(Place, kind=Place.Kind.STATE, abbreviation=state_code.upper())
    return _calendar_response(
        forums=forums_for_calendar(place=state),
        name=state.name,
        filename=f"{state.abbreviation.lower()}-forums.ics",
        language=request.LANGUAGE_CODE,
    )


@require_GET
@cached_public_page
def agency_facts_json(request):
    """Return every published agency fact with its source (open data)."""
    return JsonResponse(
        {"agency_facts": agency_facts_open_data()}, json_dumps_params={"ensure_ascii": False}
    )


@require_GET
@cached_public_page
def forums_json(request):
    """Return the forums from 90 days ago on, with their announcements (open data)."""
    return JsonResponse({"forums": forums_open_data()}, json_dumps_params={"ensure_ascii": False})

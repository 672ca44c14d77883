"""Open data: every 287(g) agreement as CSV and JSON, and each place's computed answer.

The data is ICE's public list as the import read it (a work of the U.S. government, in the
public domain). Responses are cached like the pages and go stale with them on each import.
"""

import csv
import io

from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_GET

from assistant.ice_import.selectors import OPEN_DATA_FIELDS, agreements_open_data, ice_list_status
from assistant.places.models import Place
from assistant.places.selectors import place_answer
from assistant.public.page_cache import cached_public_page

LICENCE = (
    "Public domain: ICE's 287(g) lists are works of the U.S. government (17 U.S.C. 105); "
    "our compilation is dedicated to the public domain (CC0 1.0)."
)
JSON_OPTIONS = {"ensure_ascii": False}


def _list_meta() -> dict:
    status = ice_list_status()
    return {
        "licence": LICENCE,
        "source": "https://www.ice.gov/identify-and-arrest/287g",
        "ice_list_date": status.as_of.isoformat() if status else None,
        "checked_at": status.checked_at.isoformat() if status and status.checked_at else None,
    }


@require_GET
@cached_public_page
def agreements_csv(request):
    """Return every agreement we know as CSV, one row each (``OPEN_DATA_FIELDS``)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=OPEN_DATA_FIELDS)
    writer.writeheader()
    writer.writerows(agreements_open_data())
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="agreements.csv"'
    return response


@require_GET
@cached_public_page
def agreements_json(request):
    """Return every agreement we know as JSON, with the date of ICE's list and the licence."""
    return JsonResponse(
        {**_list_meta(), "agreements": agreements_open_data()}, json_dumps_params=JSON_OPTIONS
    )


def _fact(fact) -> dict:
    return {
        "agency": fact.agency_name,
        "agency_kind": fact.agency_kind,
        "model": fact.enforcement_model,
        "status": fact.status,
        "scope": fact.scope,
        "signed_on": fact.signed_on.isoformat() if fact.signed_on else None,
        "first_seen_on": fact.first_seen_on.isoformat() if fact.first_seen_on else None,
        "ended_on": fact.ended_on.isoformat() if fact.ended_on else None,
        "agreement_url": fact.agreement_url,
    }


@require_GET
@cached_public_page
def place_json(request, state_code, slug):
    """Return a county's or city's computed answer: the agreements that police it, by scope."""
    if len(state_code) != 2:
        raise Http404
    place = get_object_or_404(
        Place.objects.select_related("state", "county"),
        state__abbreviation=state_code.upper(),
        slug=slug,
        kind__in=[Place.Kind.COUNTY, Place.Kind.CITY],
    )
    answer = place_answer(place=place, ice_list=ice_list_status())
    return JsonResponse(
        {
            **_list_meta(),
            "place": {
                "name": place.name,
                "kind": place.kind,
                "state": place.state.abbreviation,
                "fips": place.fips,
                "county": place.county.name if place.county else None,
                "url": place.get_absolute_url(),
            },
            "has_list": answer.has_list,
            "has_agreement": answer.has_agreement if answer.has_list else None,
            "changed_on": answer.changed_on.isoformat() if answer.changed_on else None,
            "active": [_fact(fact) for fact in answer.active],
            "inside": [_fact(fact) for fact in answer.inside],
            "pending": [_fact(fact) for fact in answer.pending],
            "ended": [_fact(fact) for fact in answer.ended],
        },
        json_dumps_params=JSON_OPTIONS,
    )

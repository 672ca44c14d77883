from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from assistant.content.selectors import (
    guide_for_place,
    help_organizations_for_place,
    policy_notes_for_place,
)
from assistant.ice_import.selectors import ice_list_status
from assistant.ops import health
from assistant.places.models import Place
from assistant.places.selectors import agency_histories, place_answer, place_search
from assistant.public.explanations import models_explained
from assistant.public.page_cache import cached_public_page

# A resident types a ZIP code, a county or a city; nothing real is longer than this.
MAX_QUERY_LENGTH = 100


@never_cache
@require_GET
def healthz(request):
    """Report the database and the broker; 503 when the database cannot be reached.

    ``sms_spool`` counts the texts kept in Redis while the database was down and not yet
    recorded (null when Redis cannot be asked).
    """
    database = health.database_state()
    body = {
        "database": database,
        "broker": health.broker_state(),
        "worker_seconds_since_heartbeat": health.worker_seconds_since_heartbeat(),
        "sms_spool": health.inbound_spool_size(),
    }
    return JsonResponse(body, status=200 if database == "ok" else 503)


@require_GET
@cached_public_page
def home(request):
    """Show the search box and the language picker."""
    return render(request, "assistant/home.html")


@require_GET
def search(request):
    """Send the resident to the place they typed, or help them choose or try again."""
    query = request.GET.get("q", "")
    if not isinstance(query, str):
        query = ""
    query = query.strip()
    context = {"query": query[:60], "query_was_cut": len(query) > 60}
    if not query:
        return render(request, "assistant/search.html", {**context, "problem": "empty"})
    if len(query) > MAX_QUERY_LENGTH:
        return render(
            request, "assistant/search.html", {**context, "problem": "too_long"}, status=400
        )
    found = place_search(query=query, channel="web")
    if found.place is not None:
        return redirect(found.place.get_absolute_url())
    context["zip_code"] = found.zip_code
    if found.kind == "suggestions":
        return render(
            request,
            "assistant/search.html",
            {**context, "problem": "not_found", "suggestions": found.places},
            status=404,
        )
    if found.kind == "none":
        return render(
            request, "assistant/search.html", {**context, "problem": "not_found"}, status=404
        )
    return render(
        request,
        "assistant/search.html",
        {**context, "choices": found.places, "groups": found.by_state if found.grouped else []},
    )


def _state_or_404(state_code: str) -> Place:
    if len(state_code) != 2:
        raise Http404
    return get_object_or_404(Place, kind=Place.Kind.STATE, abbreviation=state_code.upper())


def _explained(answer) -> list[tuple]:
    return models_explained(answer.active + answer.inside + answer.pending)


def _content_for(place: Place, language: str) -> dict:
    """Return the published guide, policy notes and local help for ``place``'s page."""
    guide = guide_for_place(place=place, language=language)
    notes = policy_notes_for_place(place=place, language=language)
    organizations = help_organizations_for_place(place=place, language=language)
    sections = []
    guide_sources = []
    shared_notice = None
    if guide:
        # Each section lists the sources that back it alone; those backing the whole guide
        # are listed once, with the guide's sources.
        sections = [
            {"key": s.key, "shown": s.shown, "sources": [x for x in s.sources if x.section]}
            for s in guide.sections
        ]
        guide_sources = [x for x in guide.sources if not x.section]
        # When every section is in the same language and state, say so once, not six times.
        states = {
            (s.shown.language, s.shown.fell_back, s.shown.fallback_reason, s.shown.reviewed)
            for s in guide.sections
        }
        if len(states) == 1:
            shared_notice = guide.sections[0].shown
    return {
        "guide": guide,
        "guide_sections": sections,
        "guide_sources": guide_sources,
        "guide_notice": shared_notice,
        "policy_notes": notes,
        "help_organizations": organizations,
        "is_demo": bool(
            (guide and guide.is_demo)
            or any(n.is_demo for n in notes)
            or any(o.is_demo for o in organizations)
        ),
    }


@require_GET
@cached_public_page
def state_detail(request, state_code):
    """Show whether state agencies have 287(g) agreements, and which local agencies do."""
    state = _state_or_404(state_code)
    if state_code != state_code.lower():
        return redirect(state.get_absolute_url(), permanent=True)
    answer = place_answer(place=state, ice_list=ice_list_status())
    return render(
        request,
        "assistant/state.html",
        {"place": state, "answer": answer, "model_explanations": _explained(answer)},
    )


@require_GET
@cached_public_page
def place_detail(request, state_code, slug):
    """Show the answer first, then agencies and models, the guide, and the sources."""
    state = _state_or_404(state_code)
    place = get_object_or_404(
        Place.objects.select_related("state", "county"),
        state=state,
        slug=slug,
        kind__in=[Place.Kind.COUNTY, Place.Kind.CITY],
    )
    if state_code != state_code.lower():
        return redirect(place.get_absolute_url(), permanent=True)
    answer = place_answer(place=place, ice_list=ice_list_status())
    return render(
        request,
        "assistant/place.html",
        {
            "place": place,
            "answer": answer,
            "model_explanations": _explained(answer),
            "histories": agency_histories(answer=answer),
            **_content_for(place, request.LANGUAGE_CODE),
        },
    )


def _static_page(template):
    @require_GET
    @cached_public_page
    def view(request):
        return render(request, template)

    view.__doc__ = f"Show {template}."
    return view


explainer_287g = _static_page("assistant/explainer_287g.html")
explainer_reporting = _static_page("assistant/explainer_reporting.html")
explainer_rights = _static_page("assistant/explainer_rights.html")
about = _static_page("assistant/about.html")
privacy = _static_page("assistant/privacy.html")

"""Template tags: agency facts, forums and the report link on place pages; the reports inbox."""

from django import template
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language

from assistant.trust.selectors import (
    PRESENCE_LABELS,
    agency_facts_due,
    agency_facts_for_place,
    forum_text,
    forum_when,
    forums_upcoming,
    mistake_reports_open,
)

register = template.Library()


@register.inclusion_tag("assistant/place/_facts_panel.html")
def agency_facts_panel(place):
    """Render what the agencies policing ``place`` say about language access, status, visas."""
    agencies = agency_facts_for_place(place=place, language=get_language())
    return {"place": place, "agencies": agencies}


@register.inclusion_tag("assistant/place/_forums_panel.html")
def forums_panel(place):
    """Render the next forums for ``place``, its calendar feed and the report-a-mistake link."""
    language = get_language()
    forums = [
        {
            "forum": forum,
            "title": forum_text(forum, "title", language),
            "description": forum_text(forum, "description", language),
            "accessibility": forum_text(forum, "accessibility", language),
            "when": forum_when(forum, language),
            "ice_present": PRESENCE_LABELS[forum.ice_present],
            "unit_287g_present": PRESENCE_LABELS[forum.unit_287g_present],
        }
        for forum in forums_upcoming(place=place, limit=3)
    ]
    kwargs = {"state_code": place.state_code.lower(), "slug": place.slug}
    return {
        "place": place,
        "forums": forums,
        "calendar_url": reverse("place_forums_ics", kwargs=kwargs),
        "report_url": reverse("place_report", kwargs=kwargs),
    }


@register.inclusion_tag("admin/assistant/trust_inbox.html")
def trust_inbox_panel():
    """Render residents' open mistake reports and the agency facts due for review."""
    return {
        "reports": [
            (report, reverse("admin:assistant_mistakereport_change", args=[report.pk]))
            for report in mistake_reports_open()
        ],
        "facts_due": [
            (fact, reverse("admin:assistant_agencyfact_change", args=[fact.pk]))
            for fact in agency_facts_due()[:100]
        ],
        "today": timezone.localdate(),
        "report_list_url": reverse("admin:assistant_mistakereport_changelist"),
    }

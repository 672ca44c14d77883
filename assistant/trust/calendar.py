"""iCalendar feeds of forums (RFC 5545), written with the ``icalendar`` library."""

from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from icalendar import Calendar, Event

from assistant.trust.models import Forum
from assistant.trust.selectors import PRESENCE_LABELS, forum_page_url, forum_text, forum_zone


def _description(forum: Forum, language: str) -> str:
    lines = [forum_text(forum, "description", language)]
    if forum.agency_id:
        lines.append(_("Agency that attends: %(agency)s") % {"agency": forum.agency.name})
    names = dict(settings.LANGUAGES)
    if forum.language_codes:
        languages = ", ".join(str(names.get(code, code)) for code in forum.language_codes)
        lines.append(_("Interpreters: %(languages)s") % {"languages": languages})
    accessibility = forum_text(forum, "accessibility", language)
    if accessibility:
        lines.append(_("Accessibility: %(text)s") % {"text": accessibility})
    lines.append(_("ICE there: %(answer)s") % {"answer": PRESENCE_LABELS[forum.ice_present]})
    lines.append(
        _("The agency's 287(g) unit there: %(answer)s")
        % {"answer": PRESENCE_LABELS[forum.unit_287g_present]}
    )
    if forum.is_free:
        lines.append(_("Free."))
    if forum.source_url:
        lines.append(forum.source_url)
    return "\n".join(line for line in lines if line)


def forums_calendar(*, forums: list[Forum], name: str, language: str) -> bytes:
    """Return an iCalendar file listing ``forums``, its texts in ``language``."""
    calendar = Calendar()
    calendar.add("prodid", "-//Know your police//Forums//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", name)
    host = settings.PUBLIC_BASE_URL.split("://")[-1].split("/")[0] or "localhost"
    with translation.override(language):
        for forum in forums:
            zone = forum_zone(forum)
            event = Event()
            event.add("uid", f"forum-{forum.pk}@{host}")
            event.add("dtstamp", forum.updated_at or timezone.now())
            event.add("dtstart", timezone.localtime(forum.starts_at, zone))
            if forum.ends_at:
                event.add("dtend", timezone.localtime(forum.ends_at, zone))
            event.add("summary", forum_text(forum, "title", language))
            event.add("location", f"{forum.venue}, {forum.address}")
            event.add("description", _description(forum, language))
            event.add("url", forum_page_url(forum, language))
            event.add("status", "CANCELLED" if forum.is_cancelled else "CONFIRMED")
            calendar.add_component(event)
    calendar.add_missing_timezones()
    return calendar.to_ical()

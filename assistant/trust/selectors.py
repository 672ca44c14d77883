"""Reads: agency facts, forums and mistake reports for residents' pages, SMS and open data."""

import datetime
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.db.models import Q
from django.utils import formats, timezone, translation
from django.utils.translation import gettext_lazy as _
from modeltranslation.utils import build_localized_fieldname

from assistant.content.models import PolicyNote, VettedContent
from assistant.content.selectors import ShownText, shown_text, translation_records
from assistant.places.models import Agency, Place
from assistant.trust.models import AgencyFact, Forum, ForumReminderOptIn, MistakeReport

PUBLISHED = VettedContent.Status.PUBLISHED
Topic = AgencyFact.Topic
Answer = AgencyFact.Answer

# What each answer means for each topic, said to a resident. "Unknown" is said as such.
ANSWER_SENTENCES = {
    (Topic.LANGUAGE_ACCESS, Answer.YES): _("It has a language access plan."),
    (Topic.LANGUAGE_ACCESS, Answer.NO): _("It has no language access plan."),
    (Topic.LANGUAGE_ACCESS, Answer.NO_PUBLIC_POLICY): _("No public language access plan found."),
    (Topic.STATUS_QUESTIONS, Answer.YES): _(
        "It may ask victims and witnesses about immigration status."
    ),
    (Topic.STATUS_QUESTIONS, Answer.NO): _(
        "Its written policy: it does not ask victims and witnesses about immigration status."
    ),
    (Topic.STATUS_QUESTIONS, Answer.NO_PUBLIC_POLICY): _("No public policy found."),
    (Topic.VISA_CERTIFICATION, Answer.YES): _("It signs U and T visa certifications."),
    (Topic.VISA_CERTIFICATION, Answer.NO): _("It does not sign U and T visa certifications."),
    (Topic.VISA_CERTIFICATION, Answer.NO_PUBLIC_POLICY): _("No public policy found."),
    (Topic.TRAINING, Answer.YES): _("It has published cultural or language training."),
    (Topic.TRAINING, Answer.NO): _("It says its officers get no such training."),
    (Topic.TRAINING, Answer.NO_PUBLIC_POLICY): _("No published training found."),
    (Topic.ICE_LIMITS, Answer.YES): _("A state or local law limits its work with ICE."),
    (Topic.ICE_LIMITS, Answer.NO): _("No state or local law limits its work with ICE."),
    (Topic.ICE_LIMITS, Answer.NO_PUBLIC_POLICY): _("No such law found."),
}
UNKNOWN_SENTENCE = _("Unknown: we have not found this out yet.")
# Short names of the topics, for the page's headings and for SMS.
TOPIC_TITLES = {
    Topic.LANGUAGE_ACCESS: _("Interpreters"),
    Topic.STATUS_QUESTIONS: _("Immigration status questions"),
    Topic.VISA_CERTIFICATION: _("U and T visas"),
    Topic.TRAINING: _("Training"),
    Topic.ICE_LIMITS: _("Laws that limit work with ICE"),
}
PRESENCE_LABELS = {
    Forum.Presence.YES: _("yes"),
    Forum.Presence.NO: _("no"),
    Forum.Presence.UNKNOWN: _("unknown"),
}
REMINDER = _("Reminder: %(title)s, %(when)s, %(venue)s, %(address)s. Free. More: %(url)s")
REMINDER_NOT_FREE = _("Reminder: %(title)s, %(when)s, %(venue)s, %(address)s. More: %(url)s")


@dataclass(frozen=True)
class FactView:
    """One agency fact as residents see it; ``answer`` is ``"unknown"`` when none is published."""

    topic: str
    title: str
    answer: str
    sentence: str
    detail: ShownText | None
    quote: str
    contact: str
    source_url: str
    source_title: str
    verified_on: datetime.date | None
    review_due_on: datetime.date | None
    policy_note_title: str
    is_demo: bool
    stale: bool


@dataclass(frozen=True)
class AgencyFacts:
    """Every topic for one agency, in reading order."""

    agency: Agency
    facts: list[FactView]

    @property
    def known(self) -> list[FactView]:
        """Return the facts whose answer is known."""
        return [f for f in self.facts if f.answer != Answer.UNKNOWN]


def agencies_for_place(place: Place) -> list[Agency]:
    """Return the agencies that police ``place``: its own, and its county's for a city."""
    ids = [place.pk]
    if place.kind == Place.Kind.CITY and place.county_id:
        ids.append(place.county_id)
    return list(Agency.objects.filter(place_id__in=ids).order_by("name"))


def _answer_sentence(topic: str, answer: str) -> str:
    return str(ANSWER_SENTENCES.get((topic, answer), UNKNOWN_SENTENCE))


def _published_note_title(note: PolicyNote | None, language: str) -> str:
    if note is None:
        return ""
    # The fact points at the version that was current when it was written; show the one
    # published now under the same key.
    current = PolicyNote.objects.filter(key=note.key, status=PUBLISHED).first() or note
    return getattr(current, build_localized_fieldname("title", language)) or current.title_en or ""


def _fact_view(fact: AgencyFact | None, topic: str, language: str, today) -> FactView:
    title = str(TOPIC_TITLES[topic])
    if fact is None:
        return FactView(
            topic=topic, title=title, answer=Answer.UNKNOWN, sentence=str(UNKNOWN_SENTENCE),
            detail=None, quote="", contact="", source_url="", source_title="", verified_on=None,
            review_due_on=None, policy_note_title="", is_demo=False, stale=False,
        )  # fmt: skip
    return FactView(
        topic=topic,
        title=title,
        answer=fact.answer,
        sentence=_answer_sentence(topic, fact.answer),
        detail=shown_text(fact, "detail", language, translation_records(fact)),
        quote=fact.quote,
        contact=fact.contact,
        source_url=fact.source_url,
        source_title=fact.source_title,
        verified_on=fact.verified_on,
        review_due_on=fact.review_due_on,
        policy_note_title=_published_note_title(fact.policy_note, language),
        is_demo=fact.is_demo,
        stale=bool(fact.review_due_on and fact.review_due_on < today),
    )


def agency_facts_for_place(
    *, place: Place, language: str, today: datetime.date | None = None
) -> list[AgencyFacts]:
    """Return, for each agency policing ``place``, its published facts in ``language``.

    Every topic is there: a topic with no published fact is "unknown". A fact past its review
    date is marked stale. Agencies with no published fact at all are left out.
    """
    today = today or timezone.localdate()
    result = []
    with translation.override(language):
        for agency in agencies_for_place(place):
            published = {
                f.topic: f
                for f in AgencyFact.objects.filter(agency=agency, status=PUBLISHED).select_related(
                    "policy_note"
                )
            }
            if not published:
                continue
            facts = [_fact_view(published.get(t), t, language, today) for t in Topic.values]
            result.append(AgencyFacts(agency=agency, facts=facts))
    return result


def agency_facts_due(*, today: datetime.date | None = None, within_days: int = 14):
    """Return the published facts whose review is due within ``within_days`` (or past)."""
    today = today or timezone.localdate()
    return (
        AgencyFact.objects.filter(status=PUBLISHED)
        .filter(
            Q(review_due_on__lte=today + datetime.timedelta(days=within_days))
            | Q(review_due_on__isnull=True)
        )
        .select_related("agency")
        .order_by("review_due_on")
    )


# --- forums ------------------------------------------------------------------------------


def _forum_place_ids(place: Place) -> Q:
    """Return the forums shown for ``place``: its own, its county's, or its cities'."""
    query = Q(place=place)
    if place.kind == Place.Kind.CITY and place.county_id:
        query |= Q(place_id=place.county_id)
    if place.kind == Place.Kind.COUNTY:
        query |= Q(place__county=place)
    return query


def forums_upcoming(*, place: Place, now: datetime.datetime | None = None, limit: int = 5):
    """Return the next forums for ``place`` that have not started, soonest first."""
    now = now or timezone.now()
    return list(
        Forum.objects.filter(_forum_place_ids(place), starts_at__gt=now, is_cancelled=False)
        .select_related("place", "place__state", "agency")
        .order_by("starts_at")[:limit]
    )


def forums_for_calendar(*, place: Place, since: datetime.datetime | None = None):
    """Return the forums of a place's feed (a state's: every forum in it), from 90 days ago."""
    since = since or timezone.now() - datetime.timedelta(days=90)
    forums = Forum.objects.filter(starts_at__gte=since).select_related(
        "place", "place__state", "agency"
    )
    if place.kind == Place.Kind.STATE:
        forums = forums.filter(place__state=place)
    else:
        forums = forums.filter(_forum_place_ids(place))
    return list(forums.order_by("starts_at"))


def forum_subscriptions(*, forum: Forum) -> list:
    """Return the alert subscriptions that asked for forum reminders and should get this one."""
    place = forum.place
    query = Q(subscription__place=place)
    if place.kind == Place.Kind.CITY and place.county_id:
        query |= Q(subscription__place_id=place.county_id)
    if place.kind == Place.Kind.COUNTY:
        query |= Q(subscription__place__county=place)
    return [
        optin.subscription
        for optin in ForumReminderOptIn.objects.filter(query)
        .select_related("subscription")
        .order_by("pk")
    ]


def forum_text(forum: Forum, field_name: str, language: str) -> str:
    """Return a forum's text in ``language``, or in English when it is not translated."""
    for code in (language, settings.MODELTRANSLATION_DEFAULT_LANGUAGE):
        text = getattr(forum, build_localized_fieldname(field_name, code), "") or ""
        if text.strip():
            return text.strip()
    return ""


def forum_zone(forum: Forum):
    """Return the forum's time zone (UTC when its name is not one)."""
    try:
        return ZoneInfo(forum.time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        return datetime.UTC


def forum_when(forum: Forum, language: str) -> str:
    """Return the forum's day and time in its own time zone, written for ``language``."""
    local = timezone.localtime(forum.starts_at, forum_zone(forum))
    with translation.override(language):
        return f"{formats.date_format(local, 'DATE_FORMAT')} {formats.time_format(local)}"


def forum_page_url(forum: Forum, language: str) -> str:
    """Return the full address of the page of the forum's place, in ``language``."""
    with translation.override(language):
        return settings.PUBLIC_BASE_URL + forum.place.get_absolute_url()


def forum_reminder_text(*, forum: Forum, language: str) -> str:
    """Return the reminder SMS for ``forum`` in ``language``."""
    with translation.override(language):
        template = REMINDER if forum.is_free else REMINDER_NOT_FREE
        return str(template) % {
            "title": forum_text(forum, "title", language),
            "when": forum_when(forum, language),
            "venue": forum.venue,
            "address": forum.address,
            "url": forum_page_url(forum, language),
        }


def forum_line(forum: Forum, language: str) -> str:
    """Return one line saying what and when a forum is, for an SMS list."""
    return f"{forum_text(forum, 'title', language)}: {forum_when(forum, language)}, {forum.venue}"


# --- mistake reports -----------------------------------------------------------------------


def mistake_reports_open(*, limit: int = 100) -> list[MistakeReport]:
    """Return the reports no organizer has resolved yet, newest first."""
    return list(
        MistakeReport.objects.filter(resolved_at__isnull=True)
        .select_related("place", "place__state")
        .order_by("-created_at")[:limit]
    )


# --- open data -------------------------------------------------------------------------------


def agency_facts_open_data() -> list[dict]:
    """Return every published agency fact, with its source, for the open-data file."""
    rows = []
    today = timezone.localdate()
    facts = (
        AgencyFact.objects.filter(status=PUBLISHED)
        .select_related("agency", "agency__place", "agency__state", "policy_note")
        .order_by("agency__state__abbreviation", "agency__name", "topic")
    )
    for fact in facts:
        agency = fact.agency
        rows.append(
            {
                "agency": agency.name,
                "state": agency.state.abbreviation,
                "place": str(agency.place) if agency.place_id else "",
                "topic": fact.topic,
                "answer": fact.answer,
                "detail": fact.detail_en or "",
                "quote": fact.quote,
                "contact": fact.contact,
                "policy_note": fact.policy_note.key if fact.policy_note_id else "",
                "source": {"url": fact.source_url, "title": fact.source_title},
                "verified_on": fact.verified_on.isoformat() if fact.verified_on else None,
                "review_due_on": fact.review_due_on.isoformat() if fact.review_due_on else None,
                "stale": bool(fact.review_due_on and fact.review_due_on < today),
                "demo": fact.is_demo,
            }
        )
    return rows


def forums_open_data() -> list[dict]:
    """Return every forum from 90 days ago on, with its announcement, for the open-data file."""
    since = timezone.now() - datetime.timedelta(days=90)
    rows = []
    for forum in (
        Forum.objects.filter(starts_at__gte=since)
        .select_related("place", "place__state", "agency")
        .order_by("starts_at")
    ):
        zone = forum_zone(forum)
        rows.append(
            {
                "id": forum.pk,
                "kind": forum.kind,
                "title": forum.title_en or forum.title,
                "place": str(forum.place),
                "state": forum.place.state_code,
                "starts_at": timezone.localtime(forum.starts_at, zone).isoformat(),
                "ends_at": timezone.localtime(forum.ends_at, zone).isoformat()
                if forum.ends_at
                else None,
                "time_zone": forum.time_zone,
                "venue": forum.venue,
                "address": forum.address,
                "agency": forum.agency.name if forum.agency_id else "",
                "languages_interpreted": forum.language_codes,
                "accessibility": forum.accessibility_en or "",
                "ice_present": forum.ice_present,
                "unit_287g_present": forum.unit_287g_present,
                "free": forum.is_free,
                "cancelled": forum.is_cancelled,
                "source": {"url": forum.source_url, "title": forum.source_title},
                "demo": forum.is_demo,
            }
        )
    return rows

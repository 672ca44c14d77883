"""Writes for agency facts, forums, forum reminders and mistake reports.

Agency facts follow the content workflow (``assistant.content.services``): drafts are saved,
sent for review and sent back by the same services as guides; publishing and new drafts are
here because a fact's identity (agency and topic) and its source (one address and title on the
fact itself) differ from a guide's.
"""

import datetime
import logging
import re

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from assistant.content.models import TranslationRecord, VettedContent
from assistant.content.publication import public_content_changed
from assistant.content.services import (
    ContentRefused,
    authors,
    content_save,
    content_send_back,
    content_submit,
)
from assistant.delivery.services import outbound_queue
from assistant.places.models import Place
from assistant.trust.models import (
    AgencyFact,
    Forum,
    ForumReminderOptIn,
    ForumReminderSent,
    MistakeReport,
)
from assistant.trust.selectors import forum_reminder_text, forum_subscriptions

logger = logging.getLogger(__name__)

REMINDER_BEFORE = datetime.timedelta(days=2)
REPORT_MAX_LENGTH = 1000
# A run of digits, spaces, dots, dashes and brackets that looks like a phone number: residents
# sometimes sign a report with theirs; it must not be kept. "\d" on purpose: any script's
# digits, so "٠١٢٣…" is taken out too.
PHONE_LIKE = re.compile(r"\+?\d[\d\s().-]{6,}\d")

__all__ = [
    "agency_fact_new_draft",
    "agency_fact_publish",
    "agency_fact_save",
    "agency_fact_send_back",
    "agency_fact_submit",
    "forum_post",
    "forum_reminder_opt_in",
    "forum_reminders_send",
    "mistake_report_create",
    "mistake_report_resolve",
]


def agency_fact_save(*, fact: AgencyFact, user) -> AgencyFact:
    """Save a new or changed draft fact written by ``user`` (an Editor or a Reviewer)."""
    return content_save(obj=fact, user=user)


def agency_fact_submit(*, fact: AgencyFact, user) -> AgencyFact:
    """Send a draft fact to the Reviewers."""
    return content_submit(obj=fact, user=user)


def agency_fact_send_back(*, fact: AgencyFact, user) -> AgencyFact:
    """Return a fact in review to draft."""
    return content_send_back(obj=fact, user=user)


def agency_fact_problems(fact: AgencyFact) -> list[str]:
    """Return what keeps ``fact`` from being published, in words an organizer understands."""
    problems = []
    if not fact.verified_on:
        problems.append(_("Fill in “verified on”: the day the fact was checked."))
    if fact.answer != AgencyFact.Answer.UNKNOWN and not (fact.source_url and fact.source_title):
        problems.append(_("Add the source (address and title), or set the answer to “unknown”."))
    return problems


@transaction.atomic
def agency_fact_publish(*, fact: AgencyFact, user) -> AgencyFact:
    """Publish a fact in review, retiring the version it replaces, and refresh the site.

    Refused, changing nothing, to anyone without the Reviewer's permission, to anyone who
    wrote or changed this version, and while the verified date or the source is missing.
    """
    fact = AgencyFact.objects.select_for_update().get(pk=fact.pk)
    if not user.has_perm("assistant.publish_agencyfact"):
        raise ContentRefused(
            _("Only a Reviewer can publish. Send it for review and a Reviewer will publish it.")
        )
    if fact.status != VettedContent.Status.IN_REVIEW:
        raise ContentRefused(
            _("Send it for review first; this version is %(status)s.")
            % {"status": fact.get_status_display()}
        )
    if user.pk in authors(fact):
        raise ContentRefused(
            _("You wrote or changed this version, so another Reviewer must approve it.")
        )
    problems = agency_fact_problems(fact)
    if problems:
        raise ContentRefused(
            _("It cannot be published yet. %(problems)s") % {"problems": " ".join(problems)}
        )
    current = AgencyFact.objects.select_for_update().filter(
        status=VettedContent.Status.PUBLISHED, agency=fact.agency, topic=fact.topic
    )
    for old in current.exclude(pk=fact.pk):
        old.status = VettedContent.Status.RETIRED
        old._history_user = user
        old.save()
    if not fact.review_due_on:
        fact.review_due_on = fact.verified_on + datetime.timedelta(
            days=settings.CONTENT_REVIEW_INTERVAL_DAYS
        )
    fact.status = VettedContent.Status.PUBLISHED
    fact.published_at = timezone.now()
    fact.published_by = user
    fact._history_user = user
    fact.save()
    public_content_changed()
    return fact


@transaction.atomic
def agency_fact_new_draft(*, fact: AgencyFact, user) -> AgencyFact:
    """Start a new draft from a published fact (the published one stays public); return it.

    Copies the answer, text, source and translation records; returns the open draft if one
    exists already.
    """
    fact = AgencyFact.objects.select_for_update().get(pk=fact.pk)
    if not (user.is_superuser or user.has_perm("assistant.change_agencyfact")):
        raise ContentRefused(_("You cannot start a new draft of this."))
    if fact.status != VettedContent.Status.PUBLISHED:
        raise ContentRefused(_("New drafts start from the published version."))
    existing = AgencyFact.objects.filter(
        replaces=fact, status__in=[VettedContent.Status.DRAFT, VettedContent.Status.IN_REVIEW]
    ).first()
    if existing:
        return existing
    draft = AgencyFact(**{f.attname: getattr(fact, f.attname) for f in fact._meta.concrete_fields})
    draft.pk = draft.id = None
    draft.status = VettedContent.Status.DRAFT
    draft.replaces = fact
    draft.created_by = user
    draft.last_edited_by = None
    draft.submitted_at = draft.published_at = draft.published_by = None
    draft.review_due_on = None
    draft._history_user = user
    draft.save()
    for record in TranslationRecord.objects.filter(
        content_type=ContentType.objects.get_for_model(AgencyFact), object_id=fact.pk
    ):
        record.pk = record.id = None
        record.object_id = draft.pk
        record.save()
    return draft


@transaction.atomic
def forum_post(*, forum: Forum, user) -> Forum:
    """Save a forum an organizer posted or changed, and refresh the pages that show it."""
    if not forum.pk:
        forum.posted_by = user
    forum._history_user = user
    forum.full_clean()
    forum.save()
    public_content_changed()
    return forum


@transaction.atomic
def forum_reminder_opt_in(*, subscription_id: int) -> bool:
    """Ask for forum reminders on subscription ``subscription_id``; return False if already."""
    _optin, created = ForumReminderOptIn.objects.get_or_create(subscription_id=subscription_id)
    return created


def forum_reminders_send(*, now: datetime.datetime | None = None) -> int:
    """Queue the reminder of every forum starting within two days, once per subscriber.

    Each reminder is written (``ForumReminderSent``) in the same transaction as its outbound
    message, under a unique constraint: a second run, or two at once, queue nothing more.
    Returns how many reminders were queued.
    """
    now = now or timezone.now()
    forums = Forum.objects.filter(
        is_cancelled=False, starts_at__gt=now, starts_at__lte=now + REMINDER_BEFORE
    ).select_related("place", "place__state")
    queued = 0
    for forum in forums:
        for subscription in forum_subscriptions(forum=forum):
            try:
                with transaction.atomic():
                    ForumReminderSent.objects.create(forum=forum, subscription=subscription)
                    outbound_queue(
                        to=subscription.number(),
                        body=forum_reminder_text(forum=forum, language=subscription.language),
                        purpose="forum_reminder",
                        language=subscription.language,
                    )
            except IntegrityError:
                continue
            queued += 1
    if queued:
        logger.info("Queued %d forum reminder(s).", queued)
    return queued


def _without_numbers(text: str) -> str:
    return PHONE_LIKE.sub("[…]", text)


@transaction.atomic
def mistake_report_create(
    *, place_id: int, text: str, language: str, channel: str
) -> MistakeReport:
    """Keep a resident's report that something about place ``place_id`` is wrong.

    Keeps the words (without anything that looks like a phone number), the language and the
    channel; never who sent it. Refused when the words are empty.
    """
    text = _without_numbers((text or "").strip())[:REPORT_MAX_LENGTH]
    if not text:
        raise ValueError("empty report")
    return MistakeReport.objects.create(
        place=Place.objects.get(pk=place_id), text=text, language=language[:10], channel=channel
    )


@transaction.atomic
def mistake_report_resolve(*, report: MistakeReport, user) -> MistakeReport:
    """Mark a report as dealt with by ``user``."""
    report.resolved_at = timezone.now()
    report.resolved_by = user
    report.save(update_fields=["resolved_at", "resolved_by"])
    return report

"""Reads for the organizer start page: what needs a person's attention now."""

from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db.models import Count, Q
from django.utils import timezone

from assistant.alerts.models import Alert
from assistant.alerts.selectors import alert_proposals
from assistant.content.models import (
    Guide,
    HelpOrganization,
    PolicyNote,
    ReviewFlag,
    TranslationState,
    VettedContent,
)
from assistant.content.selectors import PUBLISHED, translation_states
from assistant.ice_import.selectors import held_lists


@dataclass(frozen=True)
class TranslationProblem:
    """A published text whose translation into ``language`` is stale or missing."""

    content: VettedContent
    language: str
    state: str


@dataclass(frozen=True)
class Attention:
    """What organizers must look at now, for the admin start page."""

    # The newest open flags (a few); ``open_flag_count`` is how many are open in all.
    open_flags: list
    guides_due: list
    in_review: list
    translation_problems: list[TranslationProblem]
    # ANSWER_CHANGED flags whose place has subscribers and no alert yet (with subscriber_count).
    alert_proposals: list = field(default_factory=list)
    # Draft alerts: written, waiting for a Reviewer's approval.
    alerts_waiting: list = field(default_factory=list)
    open_flag_count: int = 0
    open_flag_reasons: list = field(default_factory=list)
    # Lists fetched from ICE and held by the quality gate, with their reasons.
    held_lists: list = field(default_factory=list)


def organizer_attention(
    *,
    today: date | None = None,
    due_within_days: int = 14,
    languages: set[str] | None = None,
    newest_flags: int = 10,
) -> Attention:
    """Return open review flags, guides due for review, content in review, bad translations,
    alerts to write (a changed answer where people subscribed) and alerts waiting for approval.

    ``languages`` limits the translations to those languages (a Translator's own).
    """
    today = today or timezone.localdate()
    open_flags = ReviewFlag.objects.filter(resolved_at__isnull=True)
    flags = list(
        open_flags.select_related("place", "place__state").order_by("-created_at")[:newest_flags]
    )
    reasons = dict(ReviewFlag.Reason.choices)
    by_reason = [
        (code, reasons.get(code, code), n)
        for code, n in open_flags.values_list("reason").annotate(n=Count("pk")).order_by("-n")
    ]
    due = list(
        Guide.objects.filter(status=PUBLISHED)
        .filter(
            Q(review_due_on__lte=today + timedelta(days=due_within_days))
            | Q(review_due_on__isnull=True)
        )
        .select_related("place", "place__state")
        .order_by("review_due_on")
    )
    in_review = [
        *Guide.objects.filter(status=VettedContent.Status.IN_REVIEW).select_related("place"),
        *PolicyNote.objects.filter(status=VettedContent.Status.IN_REVIEW),
        *HelpOrganization.objects.filter(status=VettedContent.Status.IN_REVIEW),
    ]
    problems = []
    published = [
        *Guide.objects.filter(status=PUBLISHED).select_related("place"),
        *PolicyNote.objects.filter(status=PUBLISHED),
    ]
    for obj in published:
        for code, state in translation_states(obj).items():
            if languages is not None and code not in languages:
                continue
            if state in (TranslationState.STALE, TranslationState.MISSING):
                problems.append(TranslationProblem(content=obj, language=code, state=state))
    problems.sort(key=lambda p: (p.state != TranslationState.STALE, str(p.content), p.language))
    return Attention(
        open_flags=flags,
        open_flag_count=open_flags.count(),
        open_flag_reasons=by_reason,
        guides_due=due,
        in_review=in_review,
        translation_problems=problems,
        alert_proposals=list(alert_proposals()[:100]),
        alerts_waiting=list(
            Alert.objects.filter(status=Alert.Status.DRAFT)
            .select_related("place", "place__state")
            .order_by("created_at")[:100]
        ),
        held_lists=held_lists(),
    )

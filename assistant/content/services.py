"""Writes for vetted content: edit drafts, send for review, publish, translate.

Each refusal raises :class:`ContentRefused` with a message an organizer can act on; the
admin shows it as is. Nothing here ever changes a published version in place: edits go to a
new draft, which replaces the published version only when a Reviewer publishes it.
"""

import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import Model
from django.utils import timezone
from django.utils.translation import gettext as _
from modeltranslation.utils import build_localized_fieldname

from assistant.content.models import (
    Guide,
    Source,
    TranslationRecord,
    TranslatorLanguage,
    VettedContent,
    text_fingerprint,
)
from assistant.content.publication import public_content_changed
from assistant.content.review import CLOSED_BY_GUIDE, review_flags_resolve_for_place

SOURCE_LANGUAGE = settings.MODELTRANSLATION_DEFAULT_LANGUAGE
WORKFLOW_FIELDS = {
    "id",
    "status",
    "replaces",
    "created_by",
    "last_edited_by",
    "submitted_at",
    "published_at",
    "published_by",
    "updated_at",
}


class ContentRefused(Exception):
    """An organizer asked for something the workflow does not allow; ``message`` says why."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _model_name(obj: Model) -> str:
    return obj._meta.model_name


def source_link(obj: Model) -> str:
    """Return the name of the Source field that points at ``obj``'s kind of content."""
    return {"guide": "guide", "policynote": "policy_note"}.get(
        _model_name(obj), "help_organization"
    )


def translated_field(field: str, language: str) -> str:
    """Return the column that holds ``field`` in ``language``, e.g. ``your_rights_pt_br``."""
    return build_localized_fieldname(field, language)


def translation_languages() -> list[str]:
    """Return every language content is translated into (all but the source language)."""
    return [code for code in settings.MODELTRANSLATION_LANGUAGES if code != SOURCE_LANGUAGE]


def assigned_languages(user) -> set[str]:
    """Return the languages ``user`` may translate and approve (all of them for a superuser)."""
    if user.is_superuser:
        return set(settings.MODELTRANSLATION_LANGUAGES)
    return set(TranslatorLanguage.objects.filter(user=user).values_list("language", flat=True))


def working_languages(user) -> list[str]:
    """Return the languages whose text ``user``'s forms show: English and their own.

    The operator with no language of their own works in all of them.
    """
    own = set(TranslatorLanguage.objects.filter(user=user).values_list("language", flat=True))
    if user.is_superuser and not own:
        own = set(settings.MODELTRANSLATION_LANGUAGES)
    return [c for c in settings.MODELTRANSLATION_LANGUAGES if c == SOURCE_LANGUAGE or c in own]


def editable_fields(*, user, obj: VettedContent) -> set[str]:
    """Return the names of the fields ``user`` may change on ``obj`` (empty when none).

    Editors and Reviewers write the source-language text and the facts; translation columns
    are open only for the languages a user is assigned to. Only drafts can change.
    """
    if obj.pk and obj.status != VettedContent.Status.DRAFT:
        return set()
    model = type(obj)
    opts = model._meta
    # The untranslated names (``your_rights``) are aliases of the active language's column.
    all_fields = (
        {
            f.name
            for f in opts.get_fields()
            if (getattr(f, "editable", False) and f.concrete)
            or (f.many_to_many and not f.auto_created)
        }
        - WORKFLOW_FIELDS
        - set(model.TEXT_FIELDS)
    )
    per_language = {
        translated_field(field, code): code
        for field in model.TEXT_FIELDS
        for code in settings.MODELTRANSLATION_LANGUAGES
    }
    allowed: set[str] = set()
    if user.is_superuser or user.has_perm(f"{opts.app_label}.add_{opts.model_name}"):
        allowed |= {name for name in all_fields if name not in per_language}
        allowed |= {name for name, code in per_language.items() if code == SOURCE_LANGUAGE}
    if user.has_perm(f"{opts.app_label}.change_{opts.model_name}"):
        languages = assigned_languages(user)
        allowed |= {name for name, code in per_language.items() if code in languages}
    return allowed & all_fields


def _field_values(obj: Model) -> dict:
    values = {}
    skip = WORKFLOW_FIELDS | set(obj.TEXT_FIELDS)
    for field in obj._meta.concrete_fields:
        if field.name not in skip:
            value = getattr(obj, field.attname)
            # Translation columns are nullable: an empty form field and NULL mean the same.
            values[field.name] = None if value == "" else value
    return values


def content_check_edit(*, user, obj: VettedContent, changed: set[str]) -> None:
    """Refuse, with a message naming them, changes to fields ``user`` may not change."""
    if obj.pk and obj.status != VettedContent.Status.DRAFT:
        raise ContentRefused(
            _(
                "This version is %(status)s and cannot be changed. Use “Start a new draft”: "
                "the published version stays public until the new draft is published."
            )
            % {"status": obj.get_status_display()}
        )
    refused = set(changed) - editable_fields(user=user, obj=obj)
    if refused:
        labels = ", ".join(sorted(str(obj._meta.get_field(name).verbose_name) for name in refused))
        raise ContentRefused(
            _(
                "You may not change these fields: %(fields)s. Translators change only the "
                "languages assigned to them; Editors write the English text."
            )
            % {"fields": labels}
        )


@transaction.atomic
def content_save(*, obj: VettedContent, user) -> VettedContent:
    """Save a new or changed draft written by ``user``; refuse what they may not change.

    Records, for each translation that changed, which source text it was written against,
    so a later change to the source marks it stale.
    """
    model = type(obj)
    previous = None
    if obj.pk:
        previous = model.objects.select_for_update().get(pk=obj.pk)
        if previous.status != VettedContent.Status.DRAFT:
            content_check_edit(user=user, obj=previous, changed=set())
        before, after = _field_values(previous), _field_values(obj)
        changed = {name for name in after if after[name] != before[name]}
    else:
        opts = model._meta
        if not (user.is_superuser or user.has_perm(f"{opts.app_label}.add_{opts.model_name}")):
            raise ContentRefused(_("Only Editors and Reviewers can write new content."))
        obj.status = VettedContent.Status.DRAFT
        obj.created_by = user
        defaults = _field_values(model())
        changed = {
            name
            for name, value in _field_values(obj).items()
            if value != defaults.get(name) and value not in ("", None)
        }
    content_check_edit(user=user, obj=obj, changed=changed)
    obj.last_edited_by = user
    obj._history_user = user
    obj.save()
    translations_track(obj=obj, previous=previous)
    return obj


def translations_track(*, obj: VettedContent, previous: VettedContent | None) -> None:
    """Note the source text each changed translation now answers to."""
    ct = _content_type(obj)
    for language in translation_languages():
        changed = {}
        for field in obj.TEXT_FIELDS:
            column = translated_field(field, language)
            text = getattr(obj, column) or ""
            if text and (previous is None or text != (getattr(previous, column) or "")):
                source = getattr(obj, translated_field(field, SOURCE_LANGUAGE))
                changed[field] = text_fingerprint(source)
        if not changed:
            continue
        record, _created = TranslationRecord.objects.select_for_update().get_or_create(
            content_type=ct, object_id=obj.pk, language=language
        )
        record.source_fingerprints = {**record.source_fingerprints, **changed}
        record.save(update_fields=["source_fingerprints"])


def _content_type(obj):
    from django.contrib.contenttypes.models import ContentType

    return ContentType.objects.get_for_model(type(obj))


@transaction.atomic
def translation_approve(*, obj: VettedContent, language: str, user) -> TranslationRecord:
    """Mark ``language``'s translation of ``obj`` as reviewed by ``user``, a Translator.

    Refused for a language the user is not assigned to and for a missing translation.
    """
    if language == SOURCE_LANGUAGE:
        raise ContentRefused(_("English is the source text; a Reviewer approves it by publishing."))
    if language not in assigned_languages(user):
        raise ContentRefused(
            _("You are not assigned to translate %(language)s, so you cannot approve it.")
            % {"language": dict(settings.LANGUAGES).get(language, language)}
        )
    fingerprints, sources = {}, {}
    for field in obj.TEXT_FIELDS:
        text = getattr(obj, translated_field(field, language)) or ""
        if text:
            fingerprints[field] = text_fingerprint(text)
            sources[field] = text_fingerprint(
                getattr(obj, translated_field(field, SOURCE_LANGUAGE))
            )
    if not fingerprints:
        raise ContentRefused(
            _("There is no %(language)s text to approve yet.")
            % {"language": dict(settings.LANGUAGES).get(language, language)}
        )
    record, _created = TranslationRecord.objects.select_for_update().get_or_create(
        content_type=_content_type(obj), object_id=obj.pk, language=language
    )
    record.source_fingerprints = sources
    record.reviewed_fingerprints = fingerprints
    record.reviewed_by = user
    record.reviewed_at = timezone.now()
    record.machine_translated = False
    record.save()
    if obj.status == VettedContent.Status.PUBLISHED:
        public_content_changed()
    return record


def _can_edit(user, obj) -> bool:
    opts = obj._meta
    return user.is_superuser or user.has_perm(f"{opts.app_label}.change_{opts.model_name}")


def _can_publish(user, obj) -> bool:
    opts = obj._meta
    return user.has_perm(f"{opts.app_label}.publish_{opts.model_name}")


@transaction.atomic
def content_submit(*, obj: VettedContent, user) -> VettedContent:
    """Send a draft to the Reviewers."""
    obj = type(obj).objects.select_for_update().get(pk=obj.pk)
    if not _can_edit(user, obj):
        raise ContentRefused(_("You cannot send this for review."))
    if obj.status != VettedContent.Status.DRAFT:
        raise ContentRefused(
            _("Only a draft can be sent for review; this one is %(status)s.")
            % {"status": obj.get_status_display()}
        )
    obj.status = VettedContent.Status.IN_REVIEW
    obj.submitted_at = timezone.now()
    obj._history_user = user
    obj.save()
    return obj


@transaction.atomic
def content_send_back(*, obj: VettedContent, user) -> VettedContent:
    """Return a version in review to its draft state, for more work."""
    obj = type(obj).objects.select_for_update().get(pk=obj.pk)
    if not _can_publish(user, obj):
        raise ContentRefused(_("Only a Reviewer can send content back to draft."))
    if obj.status != VettedContent.Status.IN_REVIEW:
        raise ContentRefused(_("Only content in review can be sent back to draft."))
    obj.status = VettedContent.Status.DRAFT
    obj._history_user = user
    obj.save()
    return obj


def authors(obj: VettedContent) -> set[int]:
    """Return the ids of everyone who wrote or changed this version."""
    ids = {obj.created_by_id, obj.last_edited_by_id}
    ids |= set(obj.history.exclude(history_user=None).values_list("history_user_id", flat=True))
    return {i for i in ids if i is not None}


def publish_problems(obj: VettedContent) -> list[str]:
    """Return what keeps ``obj`` from being published, in words an organizer understands."""
    problems = []
    sources = Source.objects.filter(**{source_link(obj): obj})
    if not sources.exists():
        problems.append(_("Add at least one source (address, title and the day you read it)."))
    if isinstance(obj, Guide):
        if not obj.last_verified_on:
            problems.append(_("Fill in “last verified on”: the day the facts were checked."))
        covered = set(sources.values_list("section", flat=True))
        if "" not in covered and covered:
            missing = [
                str(obj._meta.get_field(field).verbose_name)
                for field in obj.TEXT_FIELDS
                if getattr(obj, translated_field(field, SOURCE_LANGUAGE)) and field not in covered
            ]
            if missing:
                problems.append(
                    _("These sections have no source: %(sections)s.")
                    % {"sections": ", ".join(missing)}
                )
    return problems


def _identity(obj: VettedContent) -> dict:
    return {"place": obj.place} if isinstance(obj, Guide) else {"key": obj.key}


@transaction.atomic
def content_publish(*, obj: VettedContent, user) -> VettedContent:
    """Publish a version in review, retiring the version it replaces, and refresh the site.

    Refused to anyone without the Reviewer's permission, to anyone who wrote or changed this
    version, and while a source or the verified date is missing. A refusal changes nothing.
    """
    model = type(obj)
    obj = model.objects.select_for_update().get(pk=obj.pk)
    if not _can_publish(user, obj):
        raise ContentRefused(
            _("Only a Reviewer can publish. Send it for review and a Reviewer will publish it.")
        )
    if obj.status != VettedContent.Status.IN_REVIEW:
        raise ContentRefused(
            _("Send it for review first; this version is %(status)s.")
            % {"status": obj.get_status_display()}
        )
    if user.pk in authors(obj):
        raise ContentRefused(
            _("You wrote or changed this version, so another Reviewer must approve it.")
        )
    problems = publish_problems(obj)
    if problems:
        raise ContentRefused(
            _("It cannot be published yet. %(problems)s") % {"problems": " ".join(problems)}
        )
    return _publish_now(obj=obj, user=user)


def _publish_now(*, obj: VettedContent, user) -> VettedContent:
    model = type(obj)
    current = (
        model.objects.select_for_update()
        .filter(status=VettedContent.Status.PUBLISHED, **_identity(obj))
        .exclude(pk=obj.pk)
    )
    for old in current:
        old.status = VettedContent.Status.RETIRED
        old._history_user = user
        old.save()
    if isinstance(obj, Guide) and not obj.review_due_on:
        obj.review_due_on = obj.last_verified_on + datetime.timedelta(
            days=settings.CONTENT_REVIEW_INTERVAL_DAYS
        )
    obj.status = VettedContent.Status.PUBLISHED
    obj.published_at = timezone.now()
    obj.published_by = user
    obj._history_user = user
    obj.save()
    if isinstance(obj, Guide):
        review_flags_resolve_for_place(
            place_id=obj.place_id,
            reasons=CLOSED_BY_GUIDE,
            user=user,
            note=_("The place's guide was checked and published."),
        )
    public_content_changed()
    return obj


def translation_only_languages(obj: VettedContent) -> list[str] | None:
    """Return the languages a draft changes, if it changes only translations (else None).

    Compared with the published version it replaces: facts, English text, places and
    sources must be the same.
    """
    if not obj.replaces_id or obj.replaces.status != VettedContent.Status.PUBLISHED:
        return None
    old = obj.replaces
    columns = {
        translated_field(field, code): code
        for field in obj.TEXT_FIELDS
        for code in translation_languages()
    }
    languages = set()
    for name, value in _field_values(obj).items():
        if name in ("replaces", "is_demo") or value == _field_values(old).get(name):
            continue
        if name not in columns:
            return None
        languages.add(columns[name])
    for m2m in obj._meta.many_to_many:
        if set(getattr(obj, m2m.name).all()) != set(getattr(old, m2m.name).all()):
            return None

    def sources(content):
        return sorted(
            content.sources.values_list("section", "url", "title", "accessed_on"), key=str
        )

    if sources(obj) != sources(old):
        return None
    return sorted(languages) or None


@transaction.atomic
def content_publish_translation(*, obj: VettedContent, user) -> VettedContent:
    """Approve and publish a draft that changes only translations in ``user``'s languages.

    The Translator's approval is the review a translation needs; nothing else may differ
    from the published version, so the English and the facts stay as a Reviewer published.
    """
    obj = type(obj).objects.select_for_update().get(pk=obj.pk)
    if obj.status not in (VettedContent.Status.DRAFT, VettedContent.Status.IN_REVIEW):
        raise ContentRefused(_("Only a new draft can be published as a translation."))
    languages = translation_only_languages(obj)
    if languages is None:
        raise ContentRefused(
            _(
                "This draft changes more than translations (the English, the facts or the "
                "sources), so a Reviewer must publish it."
            )
        )
    mine = assigned_languages(user)
    if not _can_edit(user, obj) or not set(languages) <= mine:
        names = ", ".join(str(dict(settings.LANGUAGES)[c]) for c in languages if c not in mine)
        raise ContentRefused(
            _("You are not assigned to translate %(language)s, so you cannot approve it.")
            % {"language": names}
        )
    for language in languages:
        translation_approve(obj=obj, language=language, user=user)
    return _publish_now(obj=obj, user=user)


@transaction.atomic
def content_new_draft(*, obj: VettedContent, user) -> VettedContent:
    """Start a new draft from a published version; the published one stays public.

    Copies the text, facts, places, sources and translation records, so translations that
    were reviewed stay reviewed until their source text changes. Returns the draft that
    already exists if someone started one.
    """
    model = type(obj)
    obj = model.objects.select_for_update().get(pk=obj.pk)
    if not _can_edit(user, obj):
        raise ContentRefused(_("You cannot start a new draft of this."))
    if obj.status != VettedContent.Status.PUBLISHED:
        raise ContentRefused(_("New drafts start from the published version."))
    existing = model.objects.filter(
        replaces=obj,
        status__in=[VettedContent.Status.DRAFT, VettedContent.Status.IN_REVIEW],
    ).first()
    if existing:
        return existing
    draft = model(**{f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields})
    draft.pk = None
    draft.id = None
    draft.status = VettedContent.Status.DRAFT
    draft.replaces = obj
    draft.created_by = user
    draft.last_edited_by = None
    draft.submitted_at = draft.published_at = draft.published_by = None
    draft._history_user = user
    draft.save()
    for m2m in obj._meta.many_to_many:
        getattr(draft, m2m.name).set(getattr(obj, m2m.name).all())
    for source in obj.sources.all():
        source.pk = None
        source.id = None
        setattr(source, source_link(obj), draft)
        source.save()
    ct = _content_type(obj)
    for record in TranslationRecord.objects.filter(content_type=ct, object_id=obj.pk):
        record.pk = None
        record.id = None
        record.object_id = draft.pk
        record.save()
    return draft

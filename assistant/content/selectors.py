"""Reads of vetted content for the site and the SMS bot, and of translation states.

Only published versions are ever returned to residents. Each text says which language it is
really in, whether it fell back from the language asked for (in the order of
``settings.CONTENT_FALLBACK_LANGUAGES``) and whether a person reviewed that translation, so
the page or SMS can say so in the resident's language.
"""

from dataclasses import dataclass, field
from datetime import date, datetime

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db.models import Q
from django.utils import timezone
from modeltranslation.utils import build_localized_fieldname

from assistant.content.models import (
    Guide,
    HelpOrganization,
    PolicyNote,
    Source,
    TranslationRecord,
    TranslationState,
    VettedContent,
    text_fingerprint,
)
from assistant.places.models import Place

SOURCE_LANGUAGE = settings.MODELTRANSLATION_DEFAULT_LANGUAGE
PUBLISHED = VettedContent.Status.PUBLISHED


# --- translation states ---------------------------------------------------------------


def _text(obj, field_name: str, language: str) -> str:
    return (getattr(obj, build_localized_fieldname(field_name, language)) or "").strip()


def translation_records(obj) -> dict[str, TranslationRecord]:
    """Return ``obj``'s translation records keyed by language."""
    ct = ContentType.objects.get_for_model(type(obj))
    return {
        record.language: record
        for record in TranslationRecord.objects.filter(content_type=ct, object_id=obj.pk)
    }


def section_translation_state(
    obj, field_name: str, language: str, record: TranslationRecord | None
) -> str:
    """Return the state of one text field in one language (a ``TranslationState`` value).

    The source language counts as reviewed: a Reviewer approves it by publishing.
    """
    text = _text(obj, field_name, language)
    if not text:
        return TranslationState.MISSING
    if language == SOURCE_LANGUAGE:
        return TranslationState.REVIEWED
    if record is None:
        return TranslationState.UNREVIEWED
    written_against = record.source_fingerprints.get(field_name)
    if written_against and written_against != text_fingerprint(
        _text(obj, field_name, SOURCE_LANGUAGE)
    ):
        return TranslationState.STALE
    if record.reviewed_fingerprints.get(field_name) == text_fingerprint(text):
        return TranslationState.REVIEWED
    return TranslationState.UNREVIEWED


def translation_state(obj, language: str, records: dict | None = None) -> str:
    """Return how far ``language``'s translation of ``obj`` can be trusted, as a whole.

    Stale wins over everything (a fact may have changed), then missing (some section has no
    translation), then unreviewed; reviewed only when every section is.
    """
    if records is None:
        records = translation_records(obj)
    fields = [name for name in obj.TEXT_FIELDS if _text(obj, name, SOURCE_LANGUAGE)]
    states = {
        section_translation_state(obj, name, language, records.get(language)) for name in fields
    }
    if not states or states == {TranslationState.MISSING}:
        return TranslationState.MISSING
    for state in (TranslationState.STALE, TranslationState.MISSING, TranslationState.UNREVIEWED):
        if state in states:
            return state
    return TranslationState.REVIEWED


def translation_states(obj) -> dict[str, str]:
    """Return the state of every translation language of ``obj``, keyed by language code."""
    records = translation_records(obj)
    return {
        code: translation_state(obj, code, records)
        for code in settings.MODELTRANSLATION_LANGUAGES
        if code != SOURCE_LANGUAGE
    }


# --- what residents read ----------------------------------------------------------------


def fallback_chain(language: str) -> list[str]:
    """Return the languages to try for ``language``, in order, ending with the source one."""
    fallbacks = settings.CONTENT_FALLBACK_LANGUAGES
    chain = [language, *fallbacks.get(language, fallbacks.get("default", []))]
    chain.append(SOURCE_LANGUAGE)
    seen: list[str] = []
    for code in chain:
        if code not in seen:
            seen.append(code)
    return seen


@dataclass(frozen=True)
class ShownText:
    """One text as a resident will see it, and what the page or SMS must say about it.

    ``text`` is in ``language``, which differs from ``requested_language`` when
    ``fell_back`` is true: there was no usable text in the requested language
    (``fallback_reason`` is ``"missing"``, or ``"stale"`` when a translation exists but its
    English source changed after it was written, so it may be wrong). ``reviewed`` is true
    when a qualified person approved the text in ``language`` (the English source counts as
    reviewed, since a Reviewer published it); when false, say that the translation has not
    been checked yet.
    """

    text: str
    language: str
    requested_language: str
    fell_back: bool
    reviewed: bool
    fallback_reason: str = ""


@dataclass(frozen=True)
class SourceRef:
    """A public page backing the content: ``section`` is the field it backs, "" for all."""

    url: str
    title: str
    accessed_on: date
    section: str = ""


def shown_text(obj, field_name: str, language: str, records: dict) -> ShownText | None:
    """Return ``field_name`` of ``obj`` in the best language for ``language``, or None."""
    first_state = None
    for code in fallback_chain(language):
        state = section_translation_state(obj, field_name, code, records.get(code))
        if first_state is None:
            first_state = state
        if state in (TranslationState.REVIEWED, TranslationState.UNREVIEWED):
            fell_back = code != language
            return ShownText(
                text=_text(obj, field_name, code),
                language=code,
                requested_language=language,
                fell_back=fell_back,
                reviewed=state == TranslationState.REVIEWED,
                fallback_reason=str(first_state) if fell_back else "",
            )
    return None


def _sources(obj, link: str) -> list[SourceRef]:
    return [
        SourceRef(url=s.url, title=s.title, accessed_on=s.accessed_on, section=s.section)
        for s in Source.objects.filter(**{link: obj}).order_by("section", "title")
    ]


@dataclass(frozen=True)
class GuideSection:
    """One section of a guide: ``key`` is the field name (e.g. ``"your_rights"``), ``shown``
    the text with its language notice, ``sources`` the pages that back it (its own and the
    whole guide's)."""

    key: str
    shown: ShownText
    sources: list[SourceRef]


@dataclass(frozen=True)
class PublishedGuide:
    """The published guide a resident of ``place`` should read, in their language.

    ``guide_place`` is the place the guide was written for: a city without its own guide gets
    its county's (``is_county_guide`` is then true, so say "this is the guide for X County").
    ``sections`` follow the reading order and leave out sections with no text: what 287(g)
    means here, reporting a crime, immigration status, interpreters, U and T visas, your
    rights. Numbers and the online report address are the same in every language.
    ``is_demo`` content must say it is a demo. Whether an agency here works with ICE is not
    in the guide: ask ``selectors.places.place_answer``.
    """

    place: Place
    guide_place: Place
    is_county_guide: bool
    requested_language: str
    sections: list[GuideSection]
    emergency_number: str
    non_emergency_number: str
    online_report_url: str
    language_line_number: str
    sources: list[SourceRef]
    last_verified_on: date | None
    review_due_on: date | None
    published_at: datetime | None
    is_demo: bool

    def section(self, key: str) -> GuideSection | None:
        """Return the section with ``key``, or None when the guide has no text for it."""
        return next((s for s in self.sections if s.key == key), None)

    @property
    def any_fell_back(self) -> bool:
        """Return whether some section is shown in another language than the one asked for."""
        return any(s.shown.fell_back for s in self.sections)

    @property
    def any_unreviewed(self) -> bool:
        """Return whether some section is shown in a translation nobody has checked yet."""
        return any(not s.shown.reviewed for s in self.sections)

    @property
    def review_overdue(self) -> bool:
        """Return whether the facts are past their review date (say so: they may be old)."""
        return bool(self.review_due_on and self.review_due_on < timezone.localdate())


def guide_for_place(*, place: Place, language: str) -> PublishedGuide | None:
    """Return the published guide for ``place`` in ``language``, or None when there is none.

    A city without a published guide falls back to its county's guide; a state or a county
    without one gets None. Drafts and versions in review are never returned.
    """
    guide_place = place
    guide = Guide.objects.filter(place=place, status=PUBLISHED).first()
    if guide is None and place.kind == Place.Kind.CITY and place.county_id:
        guide_place = place.county
        guide = Guide.objects.filter(place=guide_place, status=PUBLISHED).first()
    if guide is None:
        return None
    records = translation_records(guide)
    sources = _sources(guide, "guide")
    sections = []
    for name in Guide.TEXT_FIELDS:
        shown = shown_text(guide, name, language, records)
        if shown is None:
            continue
        sections.append(
            GuideSection(
                key=name,
                shown=shown,
                sources=[s for s in sources if s.section in ("", name)],
            )
        )
    return PublishedGuide(
        place=place,
        guide_place=guide_place,
        is_county_guide=guide_place != place,
        requested_language=language,
        sections=sections,
        emergency_number=guide.emergency_number,
        non_emergency_number=guide.non_emergency_number,
        online_report_url=guide.online_report_url,
        language_line_number=guide.language_line_number,
        sources=sources,
        last_verified_on=guide.last_verified_on,
        review_due_on=guide.review_due_on,
        published_at=guide.published_at,
        is_demo=guide.is_demo,
    )


def _governing_places(place: Place) -> Q:
    ids = [place.pk]
    if place.state_id:
        ids.append(place.state_id)
    if place.kind == Place.Kind.CITY and place.county_id:
        ids.append(place.county_id)
    return Q(places__in=ids)


@dataclass(frozen=True)
class PolicyNoteView:
    """A published state or local law or policy that governs the resident's place.

    ``scope`` says where it comes from: ``"state"`` (a state law), ``"county"`` (the
    county's, shown on a city page) or ``"here"`` (written for this very place). ``title``
    and ``body`` carry their own language notice (see ``ShownText``).
    """

    key: str
    title: ShownText
    body: ShownText
    scope: str
    sources: list[SourceRef]
    is_demo: bool


def policy_notes_for_place(*, place: Place, language: str) -> list[PolicyNoteView]:
    """Return the published policy notes that govern ``place``: state ones first."""
    notes = (
        PolicyNote.objects.filter(_governing_places(place), status=PUBLISHED)
        .prefetch_related("places")
        .distinct()
    )
    order = {"state": 0, "county": 1, "here": 2}
    views = []
    for note in notes:
        ids = {p.pk for p in note.places.all()}
        if place.pk in ids:
            scope = "here"
        elif place.kind == Place.Kind.CITY and place.county_id in ids:
            scope = "county"
        else:
            scope = "state"
        records = translation_records(note)
        title = shown_text(note, "title", language, records)
        body = shown_text(note, "body", language, records)
        if title is None or body is None:
            continue
        views.append(
            PolicyNoteView(
                key=note.key,
                title=title,
                body=body,
                scope=scope,
                sources=_sources(note, "policy_note"),
                is_demo=note.is_demo,
            )
        )
    views.sort(key=lambda v: (order[v.scope], v.key))
    return views


@dataclass(frozen=True)
class HelpOrganizationView:
    """A published local organization that helps residents of the place.

    ``name``, ``phone`` and ``website`` are the same in every language; ``description`` and
    ``hours`` carry their language notice (None when not written). ``languages_spoken`` are
    language codes; ``speaks_requested_language`` says whether staff speak the resident's.
    """

    key: str
    name: str
    description: ShownText | None
    hours: ShownText | None
    phone: str
    website: str
    languages_spoken: list[str]
    speaks_requested_language: bool
    sources: list[SourceRef] = field(default_factory=list)
    is_demo: bool = False


def help_organizations_for_place(*, place: Place, language: str) -> list[HelpOrganizationView]:
    """Return published help organizations serving ``place``, its county or its state.

    Those that speak the resident's language come first.
    """
    organizations = HelpOrganization.objects.filter(
        _governing_places(place), status=PUBLISHED
    ).distinct()
    views = []
    for org in organizations:
        records = translation_records(org)
        codes = org.language_codes
        views.append(
            HelpOrganizationView(
                key=org.key,
                name=org.name,
                description=shown_text(org, "description", language, records),
                hours=shown_text(org, "hours", language, records),
                phone=org.phone,
                website=org.website,
                languages_spoken=codes,
                speaks_requested_language=language in codes,
                sources=_sources(org, "help_organization"),
                is_demo=org.is_demo,
            )
        )
    views.sort(key=lambda v: (not v.speaks_requested_language, v.name))
    return views


def history_fields(model) -> list[str]:
    """Return the fields to compare between two history records of ``model``.

    simple-history compares only the fields it knew about when it built the historical
    model; the translated columns (``your_rights_es``…) are added later, so name them here
    and leave out the bare names, which only mirror the active language.
    """
    history_model = model.history.model
    names = [
        f.name
        for f in history_model.tracked_fields
        if f.editable and f.name not in model.TEXT_FIELDS
    ]
    names += [
        build_localized_fieldname(field_name, code)
        for field_name in model.TEXT_FIELDS
        for code in settings.MODELTRANSLATION_LANGUAGES
    ]
    return names + [f.name for f in history_model._history_m2m_fields]

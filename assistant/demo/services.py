"""Demo content for trying the site: five places, with real public sources.

The content is data, in ``assistant/demo/data/``:

- ``notice.json``: the sentence, per language, put before the first text of every guide,
  policy note and help organisation, so every one says it is demo content;
- ``sources.json``: every public source, by name (``{"url": …, "title": …}``); the other files
  cite sources by these names;
- ``places.json``: the cities the demo adds (the gazetteer has no "New York City" place);
- ``agreements.json``: the 287(g) agreements, with the agencies spelled as ICE's list of
  ``list_date`` spells them;
- ``guides.json``: the sections every guide shares (``common``) and each place's guide; a
  guide's sources are ``[section, source name]`` pairs;
- ``policy_notes.json`` and ``help_organizations.json``;
- ``agency_facts.json``: each demo agency's facts, published and marked demo. ``common`` holds
  a fact for every topic, which an agency's own fact of the same topic replaces; a fact
  without its own text gets the ``unknown`` text. A fact that is not ``unknown`` always cites
  a source; the rest say "unknown" rather than guess.

A place is ``["FL"]`` (a state) or ``["NY", "Nassau County"]`` (a county or city by name).
Texts are in English and Spanish; every translation is marked unreviewed (an AI wrote them).

Loading is idempotent: what exists already (by place, key or ICE name) is left alone, so
running it twice changes nothing and never overwrites an organizer's edits.
"""

import datetime
import json
from dataclasses import dataclass
from pathlib import Path

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify
from modeltranslation.utils import build_localized_fieldname

from assistant.content.models import (
    Guide,
    HelpOrganization,
    PolicyNote,
    Source,
    TranslationRecord,
    VettedContent,
)
from assistant.content.publication import public_content_changed
from assistant.content.services import translations_track
from assistant.ice_import.models import ImportSnapshot
from assistant.places.models import Agency, Agreement, Place, fold_name
from assistant.trust.models import AgencyFact

DATA = Path(__file__).resolve().parent / "data"
LANGUAGES = ("en", "es")


@dataclass(frozen=True)
class DemoReport:
    created: int


def _read(name: str):
    return json.loads((DATA / name).read_text(encoding="utf-8"))


def _place(reference: list[str]) -> Place:
    """Return the place ``["FL"]`` (a state) or ``["NY", "Nassau County"]`` names."""
    if len(reference) == 1:
        return Place.objects.get(kind=Place.Kind.STATE, abbreviation=reference[0])
    state_code, name = reference
    return Place.objects.get(state__abbreviation=state_code, name=name)


def _publish_demo(obj: VettedContent, now) -> None:
    obj.status = VettedContent.Status.PUBLISHED
    obj.is_demo = True
    obj.published_at = now
    obj.save()
    translations_track(obj=obj, previous=None)
    ct = ContentType.objects.get_for_model(type(obj))
    TranslationRecord.objects.filter(content_type=ct, object_id=obj.pk).update(
        machine_translated=True
    )


def _cities_load() -> int:
    created = 0
    for city in _read("places.json")["cities"]:
        state = Place.objects.get(kind=Place.Kind.STATE, abbreviation=city["state"])
        _city, made = Place.objects.get_or_create(
            kind=Place.Kind.CITY,
            state=state,
            slug=slugify(city["name"]),
            defaults={"name": city["name"], "county": _place([city["state"], city["county"]])},
        )
        created += made
    return created


def _agreements_load(sources: dict) -> int:
    data = _read("agreements.json")
    source = sources[data["source"]]
    list_date = datetime.date.fromisoformat(data["list_date"])
    created = 0
    for spec in data["agreements"]:
        county = _place([spec["state"], spec["county"]])
        agency, made = Agency.objects.get_or_create(
            state=county.state,
            ice_name=spec["ice_name"],
            defaults={
                "name": spec["ice_name"],
                "kind": Agency.Kind(spec["kind"]),
                "place": county,
            },
        )
        created += made
        _agreement, made = Agreement.objects.get_or_create(
            agency=agency,
            enforcement_model=Agreement.EnforcementModel(spec["model"]),
            defaults={
                "status": Agreement.Status.ACTIVE,
                "signed_on": datetime.date.fromisoformat(spec["signed_on"]),
                "source_url": source["url"],
                "source_title": source["title"],
                "first_seen_on": list_date,
                "last_seen_on": list_date,
                "changed_on": list_date,
            },
        )
        created += made
    return created


def _guides_load(sources: dict, notice: dict, today: datetime.date, now) -> int:
    data = _read("guides.json")
    common = data["common"]
    created = 0
    for spec in data["guides"]:
        place = _place(spec["place"])
        if Guide.objects.filter(place=place).exists():
            continue
        guide = Guide(
            place=place,
            online_report_url=spec["online_report_url"],
            last_verified_on=today,
            review_due_on=today + datetime.timedelta(days=90),
        )
        for language in LANGUAGES:
            texts = {**common[language], **spec[language]}
            texts["meaning_here"] = notice[language] + texts["meaning_here"]
            for field_name, text in texts.items():
                setattr(guide, build_localized_fieldname(field_name, language), text)
        _publish_demo(guide, now)
        for section, name in [*spec["sources"], *common["sources"]]:
            Source.objects.create(guide=guide, section=section, accessed_on=today, **sources[name])
        created += 1
    return created


def _policy_notes_load(sources: dict, notice: dict, today: datetime.date, now) -> int:
    created = 0
    for spec in _read("policy_notes.json"):
        if PolicyNote.objects.filter(key=spec["key"]).exists():
            continue
        note = PolicyNote(key=spec["key"])
        for language in LANGUAGES:
            texts = spec[language]
            setattr(note, build_localized_fieldname("title", language), texts["title"])
            setattr(
                note, build_localized_fieldname("body", language), notice[language] + texts["body"]
            )
        _publish_demo(note, now)
        note.places.set([_place(reference) for reference in spec["places"]])
        for name in spec["sources"]:
            Source.objects.create(policy_note=note, accessed_on=today, **sources[name])
        created += 1
    return created


def _help_organizations_load(sources: dict, notice: dict, today: datetime.date, now) -> int:
    created = 0
    for spec in _read("help_organizations.json"):
        if HelpOrganization.objects.filter(key=spec["key"]).exists():
            continue
        org = HelpOrganization(
            key=spec["key"],
            name=spec["name"],
            phone=spec["phone"],
            website=spec["website"],
            languages_spoken=spec["languages_spoken"],
        )
        for language in LANGUAGES:
            texts = spec[language]
            description = notice[language] + texts["description"]
            setattr(org, build_localized_fieldname("description", language), description)
            setattr(org, build_localized_fieldname("hours", language), texts["hours"])
        _publish_demo(org, now)
        org.places.set([_place(reference) for reference in spec["places"]])
        for name in spec["sources"]:
            Source.objects.create(help_organization=org, accessed_on=today, **sources[name])
        created += 1
    return created


def _fact_agency(spec: dict, *, may_create: bool) -> tuple[Agency | None, bool]:
    """Return the agency ``spec`` names, found by name in its state (or None), and if it is new.

    Created only when ``may_create`` (no imported ICE list): on top of an import the demo
    attaches facts to the agencies the import holds and adds none of its own.
    """
    place = _place(spec["place"])
    state = place.state if place.kind != Place.Kind.STATE else place
    wanted = fold_name(spec["name"])
    for agency in Agency.objects.filter(state=state).order_by("pk"):
        if wanted in (fold_name(agency.name), fold_name(agency.ice_name)):
            return agency, False
    if not may_create:
        return None, False
    agency = Agency.objects.create(
        name=spec["name"], kind=Agency.Kind(spec["kind"]), state=state, place=place
    )
    return agency, True


def _agency_facts_load(
    sources: dict, notice: dict, today: datetime.date, now, *, may_create: bool
) -> int:
    data = _read("agency_facts.json")
    created = 0
    for spec in data["agencies"]:
        agency, made = _fact_agency(spec, may_create=may_create)
        if agency is None:
            continue
        created += made
        facts = {fact["topic"]: fact for fact in data["common"]}
        facts.update({fact["topic"]: fact for fact in spec["facts"]})
        for topic, fact_spec in facts.items():
            if AgencyFact.objects.filter(agency=agency, topic=topic).exists():
                continue
            source = sources[fact_spec["source"]] if fact_spec.get("source") else None
            note_key = fact_spec.get("policy_note")
            fact = AgencyFact(
                agency=agency,
                topic=AgencyFact.Topic(topic),
                answer=AgencyFact.Answer(fact_spec["answer"]),
                source_url=source["url"] if source else "",
                source_title=source["title"] if source else "",
                policy_note=(
                    PolicyNote.objects.filter(key=note_key, status=VettedContent.Status.PUBLISHED)
                    .order_by("-pk")
                    .first()
                    if note_key
                    else None
                ),
                verified_on=today,
                review_due_on=today + datetime.timedelta(days=90),
            )
            for language in LANGUAGES:
                texts = fact_spec.get(language) or data["unknown"][language]
                setattr(
                    fact,
                    build_localized_fieldname("detail", language),
                    notice[language] + texts["detail"],
                )
            _publish_demo(fact, now)
            created += 1
    return created


@transaction.atomic
def demo_content_load(*, today: datetime.date | None = None) -> DemoReport:
    """Create the demo cities, agencies, agreements, guides, notes, organizations and facts.

    Only what is missing is created; nothing that exists is changed.
    """
    today = today or timezone.localdate()
    now = timezone.now()
    sources = _read("sources.json")
    notice = _read("notice.json")
    created = _cities_load()
    # On top of an imported ICE list (`make run` imports the bundled one first) the demo adds
    # guides, notes and help only: its agreements are for tests and would be invented there.
    may_create = not ImportSnapshot.objects.exists()
    if may_create:
        created += _agreements_load(sources)
    created += _guides_load(sources, notice, today, now)
    created += _policy_notes_load(sources, notice, today, now)
    created += _help_organizations_load(sources, notice, today, now)
    created += _agency_facts_load(sources, notice, today, now, may_create=may_create)
    if created:
        public_content_changed()
    return DemoReport(created=created)

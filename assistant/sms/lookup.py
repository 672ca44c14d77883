"""What the conversation asks of the content, answered from the database by the selectors."""

from dataclasses import replace

from django.conf import settings
from django.urls import NoReverseMatch
from django.utils import translation
from django.utils.translation import gettext_lazy

from assistant.content.selectors import (
    PublishedGuide,
    ShownText,
    guide_for_place,
    help_organizations_for_place,
)
from assistant.ice_import.selectors import ice_list_status
from assistant.places.models import Place
from assistant.places.selectors import place_answer, places_for_query
from assistant.sms.conversation import AnswerInfo, GuideText, PlaceInfo
from assistant.trust.selectors import agency_facts_for_place, forum_line, forums_upcoming
from assistant.vocabulary import SECTION_CRIME, SECTION_FIELDS, SECTION_HELP

NUMBER_LABELS = (
    ("emergency_number", gettext_lazy("Emergency: %(number)s.")),
    ("non_emergency_number", gettext_lazy("Police, not an emergency: %(number)s.")),
    ("language_line_number", gettext_lazy("Interpreter line: %(number)s.")),
)
HELP_TITLE = gettext_lazy("Local help:")
FACT_STALE = gettext_lazy("(may be out of date)")


def _joined(shown: list[ShownText], language: str) -> GuideText:
    """Return several texts as one, with the language notice the reply must give."""
    fallen = next((s for s in shown if s.fell_back), None)
    return GuideText(
        text="\n".join(s.text for s in shown),
        language=fallen.language if fallen else language,
        fell_back=fallen is not None,
        reviewed=all(s.reviewed for s in shown),
        fallback_reason=fallen.fallback_reason if fallen else "",
    )


def _numbers_text(guide: PublishedGuide, said: str) -> str:
    lines = []
    for field_name, label in NUMBER_LABELS:
        number = getattr(guide, field_name)
        # "Call 911" is already in most reporting texts: do not pay for it twice.
        if number and number not in said:
            lines.append(str(label) % {"number": number})
    return " ".join(lines)


def _help_text(*, place: Place, language: str) -> GuideText | None:
    organizations = help_organizations_for_place(place=place, language=language)
    lines = [f"{org.name}: {org.phone}." for org in organizations if org.phone]
    if not lines:
        return None
    with translation.override(language):
        title = str(HELP_TITLE)
    return GuideText(text="\n".join([title, *lines]), language=language, fell_back=False)


def _guide_section_text(*, place: Place, section: str, language: str) -> GuideText | None:
    """Return what the place's published content says for one menu item, or None.

    None sends the conversation to its generic, true-everywhere text.
    """
    if section == SECTION_HELP:
        return _help_text(place=place, language=language)
    guide = guide_for_place(place=place, language=language)
    if guide is None or section not in SECTION_FIELDS:
        return None
    found = [guide.section(key) for key in SECTION_FIELDS[section]]
    shown = [s.shown for s in found if s is not None]
    if not shown:
        return None
    joined = _joined(shown, language)
    if section == SECTION_CRIME:
        with translation.override(language):
            numbers = _numbers_text(guide, shown[0].text)
        if numbers:
            # The numbers go right after how to report, before the longer explanations.
            first, _sep, rest = joined.text.partition("\n")
            joined = replace(joined, text="\n".join(p for p in (first, numbers, rest) if p))
    return joined


class DbLookup:
    """The real ``Lookup``: places, answers and page links from the database."""

    def __init__(self):
        self._places: dict[int, Place] = {}

    def _place(self, place_id: int) -> Place | None:
        if place_id not in self._places:
            self._places[place_id] = (
                Place.objects.select_related("state").filter(pk=place_id).first()
            )
        return self._places[place_id]

    def places(self, *, query: str) -> list[PlaceInfo]:
        """Return the places a ZIP code, county or city name may mean."""
        found = places_for_query(query=query, channel="sms")
        for place in found:
            self._places[place.id] = place
        return [PlaceInfo(id=place.id, label=str(place)) for place in found]

    def place(self, *, place_id: int) -> PlaceInfo | None:
        """Return the place with this id, or None if it no longer exists."""
        place = self._place(place_id)
        return PlaceInfo(id=place.id, label=str(place)) if place else None

    def answer(self, *, place_id: int) -> AnswerInfo:
        """Return the computed 287(g) answer for the place, with the date of ICE's list."""
        place = self._place(place_id)
        answer = place_answer(place=place, ice_list=ice_list_status())
        models = []
        for fact in answer.active:
            if fact.enforcement_model not in models:
                models.append(fact.enforcement_model)
        head = answer.headlines[0] if answer.headlines else None
        local_models = sorted({f.enforcement_model for f in answer.local})
        local_dates = [h.since for h in answer.headlines if h.since]
        return AnswerInfo(
            place=PlaceInfo(id=place.id, label=str(place)),
            has_agreement=answer.has_agreement,
            models=tuple(sorted(models)),
            since=answer.since,
            pending=bool(answer.pending),
            inside=bool(answer.inside),
            list_date=answer.ice_list.as_of if answer.ice_list else None,
            list_stale=bool(answer.ice_list and answer.ice_list.is_stale),
            agency=head.agency_name if head else "",
            agency_models=tuple(local_models),
            agency_since=min(local_dates) if local_dates else None,
            other_agencies=max(len(answer.headlines) - 1, 0),
        )

    def place_url(self, *, place_id: int, language: str) -> str:
        """Return the full address of the place's page in ``language``."""
        place = self._place(place_id)
        with translation.override(language):
            try:
                path = place.get_absolute_url()
            except NoReverseMatch:
                # The place pages are another issue's work; their address is agreed.
                state_code = place.state_code.lower()
                if place.kind == Place.Kind.STATE:
                    path = f"/{language}/places/{state_code}/"
                else:
                    path = f"/{language}/places/{state_code}/{place.slug}/"
        return settings.PUBLIC_BASE_URL + path

    def guide_section(self, *, place_id: int, section: str, language: str) -> GuideText | None:
        """Return the section of the place's published guide, or None if there is none."""
        return _guide_section_text(place=self._place(place_id), section=section, language=language)

    def agency_facts(self, *, place_id: int, language: str) -> str:
        """Return what the agencies policing the place say they do, one line a topic, or ""."""
        place = self._place(place_id)
        if place is None:
            return ""
        lines = []
        with translation.override(language):
            for item in agency_facts_for_place(place=place, language=language):
                lines.append(f"{item.agency.name}:")
                for fact in item.facts:
                    parts = [f"{fact.title}: {fact.sentence}"]
                    if fact.contact:
                        parts.append(fact.contact + ".")
                    if fact.stale:
                        parts.append(str(FACT_STALE))
                    lines.append(" ".join(parts))
        return "\n".join(lines)

    def meetings(self, *, place_id: int, language: str, limit: int) -> list[str]:
        """Return one line for each of the next ``limit`` public meetings for the place."""
        place = self._place(place_id)
        if place is None:
            return []
        return [forum_line(f, language) for f in forums_upcoming(place=place, limit=limit)]

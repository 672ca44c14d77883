"""What the conversation asks of the content, answered from the database by the selectors."""

from django.conf import settings
from django.urls import NoReverseMatch
from django.utils import translation

from assistant.models import Place
from assistant.selectors.places import place_answer, places_for_query
from assistant.sms.conversation import AnswerInfo, GuideText, PlaceInfo


def _guide_section_text(*, place: Place, section: str, language: str) -> GuideText | None:
    # The guides (issue 3) are not in this branch yet; until they are, the conversation
    # answers each section with its generic, true-everywhere text.
    return None


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
        found = places_for_query(query=query)
        for place in found:
            self._places[place.id] = place
        return [PlaceInfo(id=place.id, label=str(place)) for place in found]

    def place(self, *, place_id: int) -> PlaceInfo | None:
        """Return the place with this id, or None if it no longer exists."""
        place = self._place(place_id)
        return PlaceInfo(id=place.id, label=str(place)) if place else None

    def answer(self, *, place_id: int) -> AnswerInfo:
        """Return the computed 287(g) answer for the place."""
        place = self._place(place_id)
        answer = place_answer(place=place)
        models = []
        for fact in answer.active:
            if fact.enforcement_model not in models:
                models.append(fact.enforcement_model)
        return AnswerInfo(
            place=PlaceInfo(id=place.id, label=str(place)),
            has_agreement=answer.has_agreement,
            models=tuple(sorted(models)),
            since=answer.since,
            pending=bool(answer.pending),
            inside=bool(answer.inside),
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

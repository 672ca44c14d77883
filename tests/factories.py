"""factory_boy factories for the content that tests build."""

import datetime

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from assistant.models import Agency, Agreement, ImportSnapshot, Place


def place(state_code: str, name: str) -> Place:
    """Return a place the migrations loaded, e.g. ``place("NY", "Nassau County")``."""
    return Place.objects.get(state__abbreviation=state_code, name=name)


def state(state_code: str) -> Place:
    """Return a state the migrations loaded, e.g. ``state("FL")``."""
    return Place.objects.get(kind=Place.Kind.STATE, abbreviation=state_code)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"organizer{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    is_staff = True
    password = factory.django.Password("a long test password 1")


class AgencyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Agency

    name = factory.Sequence(lambda n: f"Test County Sheriff's Office {n}")
    kind = Agency.Kind.SHERIFF
    place = factory.LazyFunction(lambda: place("NY", "Nassau County"))
    state = factory.LazyAttribute(lambda a: a.place.state if a.place.state_id else a.place)


class AgreementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Agreement

    agency = factory.SubFactory(AgencyFactory)
    enforcement_model = Agreement.EnforcementModel.TASK_FORCE
    status = Agreement.Status.ACTIVE


def user_with_roles(*roles: str, languages: tuple[str, ...] = (), **fields):
    """Return a staff user in the named groups (Editor, Reviewer, Translator), with languages."""
    from django.contrib.auth.models import Group

    from assistant.models import TranslatorLanguage

    user = UserFactory(**fields)
    user.groups.add(*Group.objects.filter(name__in=roles))
    for code in languages:
        TranslatorLanguage.objects.create(user=user, language=code)
    return user


def add_source(content, section: str = ""):
    """Add a source backing ``content`` (a guide, policy note or help organization)."""
    from assistant.content.services import source_link
    from assistant.models import Source

    return Source.objects.create(
        **{source_link(content): content},
        section=section,
        url="https://www.ice.gov/identify-and-arrest/287g",
        title="ICE 287(g) page",
        accessed_on=datetime.date(2026, 11, 1),
    )


def ice_list_snapshot(*, days_old: int = 3):
    """Record an imported ICE list of ``days_old`` days ago: without one no page says yes or no."""
    return ImportSnapshot.objects.create(
        file_name="participatingAgencies-test.xlsx",
        file_sha256="0" * 64,
        as_of=timezone.localdate() - datetime.timedelta(days=days_old),
        as_of_source=ImportSnapshot.DateSource.OPTION,
    )

"""The computed answer: whether agencies policing a place have a 287(g) agreement."""

import datetime

import pytest

from assistant.models import Agency, Agreement
from assistant.places.selectors import place_answer
from tests.factories import AgencyFactory, AgreementFactory, place, state

pytestmark = pytest.mark.django_db


def test_a_place_without_agreements_has_no_agreement():
    answer = place_answer(place=place("NM", "Santa Fe County"))
    assert not answer.has_agreement
    assert answer.active == []


def test_county_answer_comes_from_its_agencies_agreements():
    nassau = place("NY", "Nassau County")
    AgreementFactory(
        agency=AgencyFactory(name="Nassau County Police Department", place=nassau),
        enforcement_model=Agreement.EnforcementModel.TASK_FORCE,
        signed_on=datetime.date(2025, 3, 10),
    )
    AgreementFactory(
        agency=AgencyFactory(name="Nassau County Sheriff's Office", place=nassau),
        enforcement_model=Agreement.EnforcementModel.WARRANT_SERVICE,
        signed_on=datetime.date(2025, 2, 28),
    )
    answer = place_answer(place=nassau)
    assert answer.has_agreement
    assert answer.models == ["Task Force Model", "Warrant Service Officer"]
    assert answer.since == datetime.date(2025, 2, 28)


def test_ended_and_pending_agreements_do_not_make_the_answer_yes():
    county = place("NM", "Santa Fe County")
    agency = AgencyFactory(place=county)
    AgreementFactory(agency=agency, status=Agreement.Status.ENDED)
    AgreementFactory(
        agency=agency,
        status=Agreement.Status.PENDING,
        enforcement_model=Agreement.EnforcementModel.JAIL_ENFORCEMENT,
    )
    answer = place_answer(place=county)
    assert not answer.has_agreement
    assert len(answer.ended) == 1 and len(answer.pending) == 1


def test_a_statewide_agency_counts_for_every_county_in_its_state():
    florida = state("FL")
    AgreementFactory(
        agency=AgencyFactory(
            name="Florida Highway Patrol", kind=Agency.Kind.STATE, place=florida, state=florida
        )
    )
    answer = place_answer(place=place("FL", "Miami-Dade County"))
    assert answer.has_agreement
    assert answer.active[0].scope == "statewide"
    assert not place_answer(place=place("NY", "Nassau County")).has_agreement

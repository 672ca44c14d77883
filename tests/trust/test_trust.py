"""Issue 18: agency facts, public forums with reminders and calendars, reports of mistakes."""

import datetime
import uuid

import icalendar
import pytest
import time_machine
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from assistant.content.services import ContentRefused
from assistant.delivery.backends import locmem
from assistant.models import AgencyFact, Forum, MistakeReport, OutboundMessage, Subscription
from assistant.sms.conversation import State, converse
from assistant.sms.lookup import DbLookup
from assistant.trust.services import (
    agency_fact_publish,
    agency_fact_save,
    agency_fact_submit,
    forum_post,
    forum_reminders_send,
)
from tests.factories import AgencyFactory, UserFactory, place, user_with_roles
from tests.sms_signing import signed_post

pytestmark = pytest.mark.django_db

NUMBER = "+15165550177"
NASSAU_URL = "/{lang}/places/ny/nassau-county/"


@pytest.fixture(autouse=True)
def sms_settings(settings):
    settings.TWILIO_AUTH_TOKEN = "test-auth-token-for-signatures"
    settings.SMS_BACKEND = "assistant.delivery.backends.locmem.LocmemBackend"
    locmem.outbox.clear()
    yield settings
    locmem.outbox.clear()


def _user(name, role):
    user = UserFactory(username=name)
    user.groups.add(Group.objects.get(name=role))
    return user


def _published_fact(agency, *, verified_on, editor=None, reviewer=None):
    editor = editor or _user("editor", "Editor")
    reviewer = reviewer or _user("reviewer", "Reviewer")
    fact = AgencyFact(
        agency=agency,
        topic=AgencyFact.Topic.LANGUAGE_ACCESS,
        answer=AgencyFact.Answer.YES,
        detail_en="Call and ask for Language Line. An interpreter joins the call for free.",
        contact="516-573-8800",
        source_url="https://www.pdcn.org/",
        source_title="Nassau County Police Department",
        verified_on=verified_on,
    )
    agency_fact_save(fact=fact, user=editor)
    _translate(fact)
    agency_fact_submit(fact=fact, user=editor)
    return agency_fact_publish(fact=fact, user=reviewer), editor, reviewer


def _translate(fact):
    """A Translator assigned to Spanish writes the Spanish text of the draft."""
    translator = user_with_roles(
        "Translator", languages=("es",), username=f"translator{uuid.uuid4().hex[:6]}"
    )
    fact = AgencyFact.objects.get(pk=fact.pk)
    fact.detail_es = "Llame y pida Language Line. Un intérprete se une a la llamada gratis."
    agency_fact_save(fact=fact, user=translator)


def _sms(text, state):
    return converse(state=state, text=text, lookup=DbLookup())


def test_agency_fact_drafted_reviewed_published_shown_and_stale_after_review_date(
    client, django_capture_on_commit_callbacks
):
    nassau = place("NY", "Nassau County")
    agency = AgencyFactory(name="Nassau County Police Department", place=nassau)
    editor, reviewer = _user("editor", "Editor"), _user("reviewer", "Reviewer")
    fact = AgencyFact(
        agency=agency,
        topic=AgencyFact.Topic.LANGUAGE_ACCESS,
        answer=AgencyFact.Answer.YES,
        detail_en="Call and ask for Language Line. An interpreter joins the call for free.",
        contact="516-573-8800",
        verified_on=datetime.date(2026, 1, 5),
    )
    agency_fact_save(fact=fact, user=editor)
    _translate(fact)
    # A draft is not public; the Editor cannot publish, and a Reviewer needs it in review.
    assert "Language Line" not in client.get(NASSAU_URL.format(lang="en")).text
    with pytest.raises(ContentRefused):
        agency_fact_publish(fact=fact, user=reviewer)
    agency_fact_submit(fact=fact, user=editor)
    with pytest.raises(ContentRefused):
        agency_fact_publish(fact=fact, user=editor)
    with pytest.raises(ContentRefused, match="source"):
        agency_fact_publish(fact=fact, user=reviewer)
    AgencyFact.objects.filter(pk=fact.pk).update(
        source_url="https://www.pdcn.org/", source_title="Nassau County Police Department"
    )
    with time_machine.travel(datetime.datetime(2026, 2, 1, 12, tzinfo=datetime.UTC), tick=False):
        with django_capture_on_commit_callbacks(execute=True):  # publishing refreshes the pages
            fact = agency_fact_publish(fact=fact, user=reviewer)
        assert fact.status == AgencyFact.Status.PUBLISHED
        assert fact.review_due_on > datetime.date(2026, 2, 1)

        english = client.get(NASSAU_URL.format(lang="en")).text
        assert "It has a language access plan." in english
        assert "ask for Language Line" in english and "516-573-8800" in english
        assert "https://www.pdcn.org/" in english
        # The other topics are said to be unknown, not left blank.
        assert english.count("Unknown: we have not found this out yet.") == 4
        assert "Needs checking again" not in english
        spanish = client.get(NASSAU_URL.format(lang="es")).text
        assert "pida Language Line" in spanish
        assert "Tiene un plan de acceso lingüístico." in spanish

        state = State(language="en", place_id=nassau.pk, menu="place")
        reply = "\n".join(_sms("5", state).replies)
        assert "Nassau County Police Department" in reply
        assert "Interpreters: It has a language access plan." in reply
        reply_es = "\n".join(_sms("5", State(language="es", place_id=nassau.pk)).replies)
        assert "Intérpretes" in reply_es or "Interpretes" in reply_es
        assert "Desconocido" in reply_es

    with time_machine.travel(fact.review_due_on + datetime.timedelta(days=1), tick=False):
        # A rendered page is cached for at most a day (PAGE_TIMEOUT); the review date passed
        # long after this one was rendered.
        cache.clear()
        later = Client().get(NASSAU_URL.format(lang="en")).text
        assert "Needs checking again" in later
        reply = "\n".join(_sms("5", State(language="en", place_id=nassau.pk)).replies)
        assert "(may be out of date)" in reply


def test_unknown_fact_publishes_without_a_source_and_open_data_lists_sources(client):
    agency = AgencyFactory(name="Nassau County Sheriff's Office")
    editor, reviewer = _user("editor", "Editor"), _user("reviewer", "Reviewer")
    fact = AgencyFact(
        agency=agency,
        topic=AgencyFact.Topic.VISA_CERTIFICATION,
        answer=AgencyFact.Answer.UNKNOWN,
        verified_on=datetime.date(2026, 1, 5),
    )
    agency_fact_save(fact=fact, user=editor)
    agency_fact_submit(fact=fact, user=editor)
    agency_fact_publish(fact=fact, user=reviewer)
    _published_fact(AgencyFactory(name="Other PD"), verified_on=datetime.date(2026, 1, 5))
    rows = client.get("/data/agency-facts.json").json()["agency_facts"]
    by_agency = {row["agency"]: row for row in rows}
    assert by_agency["Nassau County Sheriff's Office"]["answer"] == "unknown"
    assert by_agency["Other PD"]["source"] == {
        "url": "https://www.pdcn.org/",
        "title": "Nassau County Police Department",
    }


def _forum(**fields):
    values = {
        "kind": Forum.Kind.POLICE_MEETING,
        "title_en": "Meet the Nassau police",
        "title_es": "Conozca a la policía de Nassau",
        "place": place("NY", "Nassau County"),
        "starts_at": timezone.now() + datetime.timedelta(days=10),
        "time_zone": "America/New_York",
        "venue": "Hempstead Public Library",
        "address": "115 Nichols Ct, Hempstead, NY",
        "languages_interpreted": "es,ht",
        "ice_present": Forum.Presence.NO,
        "unit_287g_present": Forum.Presence.UNKNOWN,
    }
    values.update(fields)
    return forum_post(forum=Forum(**values), user=_user(f"poster{uuid.uuid4().hex[:6]}", "Editor"))


def test_forum_posted_shown_on_the_page_and_in_a_valid_calendar(client):
    forum = _forum(accessibility_en="Wheelchair access through the side door.")
    _forum(title_en="Already happened", starts_at=timezone.now() - datetime.timedelta(days=3))
    page = client.get(NASSAU_URL.format(lang="en")).text
    assert "Meet the Nassau police" in page and "Hempstead Public Library" in page
    assert "Already happened" not in page
    assert "Wheelchair access" in page and "Free." in page
    # The city inside the county shows its county's forum too.
    hempstead_page = client.get("/es/places/ny/nassau-county/").text
    assert "Conozca a la policía de Nassau" in hempstead_page

    for path in ("/en/places/ny/nassau-county/forums.ics", "/en/places/ny/forums.ics"):
        response = client.get(path)
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/calendar")
        calendar = icalendar.Calendar.from_ical(response.content)
        events = calendar.walk("VEVENT")
        titles = {str(e["SUMMARY"]) for e in events}
        assert "Meet the Nassau police" in titles
        event = next(e for e in events if str(e["SUMMARY"]) == "Meet the Nassau police")
        assert event.decoded("DTSTART") == forum.starts_at.replace(microsecond=0)
        assert "Hempstead Public Library" in str(event["LOCATION"])
        assert calendar.walk("VTIMEZONE"), "the time zone is in the file"
    rows = client.get("/data/forums.json").json()["forums"]
    assert {row["title"] for row in rows} >= {"Meet the Nassau police"}


def test_meetings_by_sms_lists_the_next_two_in_the_residents_language():
    nassau = place("NY", "Nassau County")
    for days in (5, 9, 20):
        _forum(
            title_en=f"Forum in {days} days", starts_at=timezone.now() + datetime.timedelta(days)
        )
    reply = "\n".join(_sms("MEETINGS", State(language="en", place_id=nassau.pk)).replies)
    assert "Forum in 5 days" in reply and "Forum in 9 days" in reply
    assert "Forum in 20 days" not in reply
    assert "REMIND" in reply
    reply_es = "\n".join(_sms("REUNIONES", State(language="es", place_id=nassau.pk)).replies)
    assert "Próximas reuniones" in reply_es or "Proximas reuniones" in reply_es


def _text(client, body, django_capture_on_commit_callbacks):
    params = {
        "MessageSid": "SM" + uuid.uuid4().hex,
        "AccountSid": "AC" + "0" * 32,
        "From": NUMBER,
        "To": "+15005550006",
        "Body": body,
        "NumMedia": "0",
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = signed_post(client, "/sms/inbound", params)
    assert response.status_code == 200


def test_reminder_sent_once_two_days_before_to_an_opted_in_subscriber(
    client, django_capture_on_commit_callbacks
):
    for body in ("hola, necesito ayuda", "11501", "RECORDAR"):
        _text(client, body, django_capture_on_commit_callbacks)
    subscription = Subscription.objects.get(place=place("NY", "Nassau County"))
    assert subscription.language == "es"
    assert subscription.forum_reminders is not None
    locmem.outbox.clear()
    start = timezone.now() + datetime.timedelta(days=3)
    _forum(starts_at=start)
    with django_capture_on_commit_callbacks(execute=True):
        assert forum_reminders_send() == 0  # three days before: not yet
    with time_machine.travel(start - datetime.timedelta(days=2, minutes=-5), tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            assert forum_reminders_send() == 1
        with django_capture_on_commit_callbacks(execute=True):
            assert forum_reminders_send() == 0
    reminders = [m for m in locmem.outbox if m.to == NUMBER]
    assert len(reminders) == 1
    assert "Conozca a la policía de Nassau" in reminders[0].body
    assert "Recordatorio" in reminders[0].body
    assert OutboundMessage.objects.filter(purpose="forum_reminder").count() == 1


def test_report_from_the_page_reaches_the_inbox_without_who_sent_it(admin_login):
    csrf_client = Client(enforce_csrf_checks=True)
    url = "/en/places/ny/nassau-county/report"
    assert "/report" in csrf_client.get(NASSAU_URL.format(lang="en")).text
    assert csrf_client.post(url, {"text": "no token"}).status_code == 403
    form = csrf_client.get(url)
    assert "<script" not in form.text
    token = form.cookies["csrftoken"].value
    response = csrf_client.post(
        url,
        {
            "text": "The interpreter number is wrong. Call me at 516-555-0199.",
            "csrfmiddlewaretoken": token,
        },
    )
    assert response.status_code == 200 and "Thank you" in response.text
    report = MistakeReport.objects.get()
    assert report.place == place("NY", "Nassau County")
    assert report.channel == MistakeReport.Channel.WEB
    assert "interpreter number is wrong" in report.text
    assert "516-555-0199" not in report.text

    organizer = UserFactory(username="organizer", is_superuser=True)
    staff = Client()
    admin_login(staff, organizer)
    start_page = staff.get("/admin/").text
    assert "interpreter number is wrong" in start_page
    assert "516-555-0199" not in start_page


def test_report_form_is_rate_limited_per_client_ip(client):
    url = "/en/places/ny/nassau-county/report"
    codes = [client.post(url, {"text": f"report {n}"}).status_code for n in range(7)]
    assert codes[:5] == [200] * 5 and codes[5:] == [429, 429]
    assert MistakeReport.objects.count() == 5
    other = Client(REMOTE_ADDR="198.51.100.7")
    assert other.post(url, {"text": "from elsewhere"}).status_code == 200


def test_report_by_sms_reaches_the_inbox_and_no_number_is_stored(
    client, django_capture_on_commit_callbacks
):
    for body in ("hello, I need help", "11501", "REPORT", "The sheriff has a new phone number."):
        _text(client, body, django_capture_on_commit_callbacks)
    report = MistakeReport.objects.get()
    assert report.channel == MistakeReport.Channel.SMS
    assert report.text == "The sheriff has a new phone number."
    assert report.place == place("NY", "Nassau County")
    replies = [m.body for m in locmem.outbox if m.to == NUMBER]
    assert any("Thank you" in body for body in replies)
    _text(client, "REPORTAR", django_capture_on_commit_callbacks)
    _text(client, "El número de intérpretes no funciona", django_capture_on_commit_callbacks)
    assert MistakeReport.objects.count() == 2
    fields = [str(v) for row in MistakeReport.objects.values() for v in row.values()]
    digits = NUMBER.lstrip("+")
    assert not any(digits in value or digits[1:] in value for value in fields)

"""The roles as shipped: each one's start page offers only what works for them."""

import re
from html import unescape

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from assistant.alerts.models import Alert
from assistant.content.models import ReviewFlag
from assistant.content.review import review_flag_raise
from assistant.sms.models import Subscription
from tests.factories import UserFactory, place, user_with_roles
from tests.support.two_factor import totp_code, totp_device

pytestmark = pytest.mark.django_db


@pytest.fixture
def changed_nassau(django_capture_on_commit_callbacks):
    county = place("NY", "Nassau County")
    subscription = Subscription(place=county, language="es")
    subscription.set_number("+15165550001")
    subscription.save()
    flag = review_flag_raise(place=county, reason=ReviewFlag.Reason.ANSWER_CHANGED, detail="x")
    return county, flag


def role_user(role: str):
    if role == "operator":
        return UserFactory(username="olga", is_superuser=True)
    languages = ("es",) if role == "Translator" else ()
    return user_with_roles(role, username=role.lower(), languages=languages)


def attention_links(page: str) -> list[str]:
    panel = page[page.index('id="attention"') : page.index("</div>", page.index('id="attention"'))]
    return [unescape(url) for url in re.findall(r'href="([^"]+)"', panel)]


def test_the_roles_can_run_alerts_flags_and_the_simulator():
    editor = Group.objects.get(name="Editor").permissions.values_list("codename", flat=True)
    reviewer = Group.objects.get(name="Reviewer").permissions.values_list("codename", flat=True)
    translator = Group.objects.get(name="Translator").permissions.values_list("codename", flat=True)
    assert {"change_alert", "change_alerttext", "change_reviewflag", "view_conversation"} <= set(
        editor
    )
    assert "approve_alert" not in editor and "approve_alert" in reviewer
    assert {"view_alert", "view_reviewflag", "view_conversation"} <= set(translator)
    assert "change_alert" not in translator


@pytest.mark.parametrize("role", ["Editor", "Reviewer", "Translator", "operator"])
def test_every_link_and_button_on_a_roles_start_page_works_for_them(
    client, admin_login, changed_nassau, role
):
    _county, flag = changed_nassau
    user = role_user(role)
    admin_login(client, user)
    page = client.get("/admin/").content.decode()
    links = attention_links(page)
    assert links, role
    for url in links:
        response = client.get(url)
        assert response.status_code == 200, (role, url, response.status_code)
    write_url = reverse("admin:assistant_alert_from_flag", args=[flag.pk])
    if role == "Translator":
        assert write_url not in page
        assert client.post(write_url).status_code == 403
    else:
        assert write_url in page
        response = client.post(write_url, follow=True)
        assert response.status_code == 200
        assert Alert.objects.filter(flag=flag).exists()
    assert reverse("admin:assistant_sms_simulator") in page
    assert client.get(reverse("admin:assistant_sms_simulator")).status_code == 200


def test_the_operator_approves_an_alert_an_editor_wrote(
    client, admin_login, changed_nassau, django_capture_on_commit_callbacks
):
    from assistant.alerts.services import alert_create_from_flag

    _county, flag = changed_nassau
    alert = alert_create_from_flag(flag=flag, user=role_user("Editor"))
    admin_login(client, role_user("operator"))
    page = client.get(reverse("admin:assistant_alert_change", args=[alert.pk])).content.decode()
    assert "Approve and send" in page
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("admin:assistant_alert_approve", args=[alert.pk]))
    alert.refresh_from_db()
    assert alert.status == Alert.Status.SENT


def test_the_admin_uses_words_organizers_use(client, admin_login):
    admin_login(client, UserFactory(username="olga", is_superuser=True))
    page = client.get("/admin/").content.decode()
    for jargon in (
        "AXES",
        "Axes",
        "OTP_TOTP",
        "TOTP devices",
        "Unmatched rows",
        "Translation records",
    ):
        assert jargon not in page, jargon
    assert "Authenticator apps" in page and "Login lockouts" in page


def test_a_right_code_right_after_a_wrong_one_is_accepted(client):
    user = UserFactory(username="wes")
    device = totp_device(user)
    client.post("/admin/login/", {"username": "wes", "password": "a long test password 1"})
    wrong = client.post("/admin/login/code/", {"otp_token": "000000"})
    assert "not right" in wrong.content.decode()
    right = client.post("/admin/login/code/", {"otp_token": totp_code(device)})
    assert right.status_code == 302 and right.url == "/admin/"


def test_the_lockout_page_says_how_long(client, settings):
    user = UserFactory(username="hal")
    totp_device(user)
    for _attempt in range(settings.AXES_FAILURE_LIMIT):
        locked = client.post("/admin/login/", {"username": "hal", "password": "wrong"})
    assert locked.status_code == 429
    assert "Try again in 30 minutes." in locked.content.decode()


def test_place_guide_and_agency_pages_link_to_the_site(client, admin_login):
    from assistant.content.services import content_save
    from assistant.models import Guide
    from tests.factories import AgencyFactory

    root = UserFactory(username="olga", is_superuser=True)
    county = place("NY", "Nassau County")
    guide = content_save(obj=Guide(place=county, meaning_here_en="x"), user=root)
    agency = AgencyFactory(place=county)
    admin_login(client, root)
    for url in (
        f"/admin/assistant/place/{county.pk}/change/",
        f"/admin/assistant/guide/{guide.pk}/change/",
        f"/admin/assistant/agency/{agency.pk}/change/",
    ):
        page = client.get(url).content.decode()
        assert "View on site" in page, url
        target = re.search(r'href="([^"]+)" class="viewsitelink"', page).group(1)
        assert (
            client.get(target, follow=True)
            .request["PATH_INFO"]
            .endswith("/places/ny/nassau-county/")
        ), url

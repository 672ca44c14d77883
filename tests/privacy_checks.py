"""Reusable checks that a phone number never reaches an organizer's screen."""

import re

from django.contrib import admin
from django.urls import reverse


def phone_number_forms(number: str) -> set[str]:
    """Return the ways ``number`` (E.164, e.g. +15551234567) could be written on a page."""
    digits = re.sub(r"\D", "", number)
    national = digits[1:] if len(digits) == 11 and digits.startswith("1") else digits
    forms = {number, digits, national}
    if len(national) == 10:
        area, exchange, line = national[:3], national[3:6], national[6:]
        forms |= {
            f"({area}) {exchange}-{line}",
            f"{area}-{exchange}-{line}",
            f"{area}.{exchange}.{line}",
            f"{area} {exchange} {line}",
        }
    return forms


def assert_no_phone_number(text: str, numbers: list[str], where: str = "") -> None:
    """Fail if any of ``numbers``, in any usual spelling, appears in ``text``."""
    for number in numbers:
        for form in phone_number_forms(number):
            assert form not in text, f"{number} appears as {form!r} in {where or 'the text'}"


def admin_pages(client):
    """Yield (url, response) for the index, every changelist and every object's change form.

    ``client`` must be logged in through the ``admin_login`` fixture as a superuser.
    """
    url = reverse("admin:index")
    yield url, client.get(url)
    for model, model_admin in admin.site._registry.items():
        opts = model._meta
        url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        yield url, client.get(url)
        for obj in model_admin.get_queryset(_superuser_request(client)).order_by("pk")[:20]:
            url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
            yield url, client.get(url)


def _superuser_request(client):
    from django.contrib.auth import get_user_model
    from django.test import RequestFactory

    request = RequestFactory().get("/")
    request.user = get_user_model()._default_manager.filter(is_superuser=True).first()
    return request

"""The organizers' admin site: a password, then a code from an authenticator app, every login.

``OrganizerAdminConfig`` (assistant.organizers.admin_config) replaces ``django.contrib.admin`` in
INSTALLED_APPS and makes ``OrganizerAdminSite`` the default site, so ``admin.site.register``
and ``@admin.register`` work as usual and every model lands behind two-factor login.

The login has two steps. The password step logs nobody in: it only remembers, in the session,
who gave a right password and when. The code step logs the user in and marks the session
verified (``django_otp.login``) only when the code is right. A staff member without an
authenticator app enrolls one instead of the code step: the page shows a QR code, and the
device is confirmed only when a code from it is entered. Wrong passwords and wrong codes both
count toward the django-axes lockout for that username and IP address.
"""

import base64
import time

import django_otp
import segno
from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_lockout_response
from django import forms
from django.conf import settings
from django.contrib import auth
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import REDIRECT_FIELD_NAME, get_user_model
from django.contrib.auth.signals import user_login_failed
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django_otp.admin import OTPAdminSite
from django_otp.plugins.otp_totp.models import TOTPDevice

from assistant.organizers import two_factor

PENDING_USER = "_organizer_login_user"
PENDING_BACKEND = "_organizer_login_backend"
PENDING_SINCE = "_organizer_login_since"
PENDING_NEXT = "_organizer_login_next"
ENROLLMENT_DEVICE = "_organizer_login_enrollment_device"
PENDING_KEYS = (PENDING_USER, PENDING_BACKEND, PENDING_SINCE, PENDING_NEXT, ENROLLMENT_DEVICE)


class TwoFactorCodeForm(forms.Form):
    otp_token = forms.CharField(
        label=_("Code from your authenticator app"),
        max_length=6,
        min_length=6,
        strip=True,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "pattern": "[0-9]{6}",
                "autofocus": True,
            }
        ),
        error_messages={
            "required": _("Enter the 6-digit code your app shows now."),
            "min_length": _("The code has 6 digits."),
            "max_length": _("The code has 6 digits."),
        },
    )


# Names organizers use, for apps and models whose own names are a library's jargon.
APP_NAMES = {
    "axes": _("Login lockouts"),
    "otp_totp": _("Two-factor login"),
    "auth": _("Organizer accounts and roles"),
    "assistant": _("Know your police"),
}
MODEL_NAMES = {
    ("otp_totp", "TOTPDevice"): _("Authenticator apps"),
    ("axes", "AccessAttempt"): _("Locked-out and failed logins"),
    ("axes", "AccessLog"): _("Logins"),
    ("axes", "AccessFailureLog"): _("Failed logins, one by one"),
    ("assistant", "UnmatchedRow"): _("ICE rows not placed on a map"),
    ("assistant", "TranslationRecord"): _("Translation checks (guides and notes)"),
    ("assistant", "InterfaceTranslationReview"): _("Translation checks (menus and buttons)"),
    ("assistant", "Conversation"): _("SMS conversations and the simulator"),
}


def _login_step(view):
    return never_cache(csrf_protect(sensitive_post_parameters()(view)))


class OrganizerAdminSite(OTPAdminSite):
    """The admin site; every page needs a staff user verified by an authenticator app."""

    site_header = _("Know your police: organizers")
    site_title = _("Know your police")
    index_title = _("Organizer admin")
    login_form = AdminAuthenticationForm
    login_template = "admin/login.html"

    def __init__(self, name="admin"):
        super().__init__(name)

    def get_app_list(self, request, app_label=None):
        """Return the apps and models under the names organizers use."""
        apps = super().get_app_list(request, app_label)
        for app in apps:
            app["name"] = APP_NAMES.get(app["app_label"], app["name"])
            for model in app["models"]:
                key = (app["app_label"], model["object_name"])
                model["name"] = MODEL_NAMES.get(key, model["name"])
        return apps

    def get_urls(self):
        return [
            path("login/code/", _login_step(self.login_code), name="login_code"),
            path("login/enroll/", _login_step(self.login_enroll), name="login_enroll"),
            *super().get_urls(),
        ]

    def _url(self, name: str) -> str:
        return reverse(f"admin:{name}", current_app=self.name)

    def _render(self, request, template: str, **context):
        request.current_app = self.name
        context = {**self.each_context(request), "subtitle": None, **context}
        return TemplateResponse(request, template, context)

    # Step 1: the password.

    def login(self, request, extra_context=None):
        return _login_step(self._login_password)(request, extra_context)

    def _login_password(self, request, extra_context=None):
        if request.method == "GET" and self.has_permission(request):
            return HttpResponseRedirect(self._url("index"))
        data = request.POST if request.method == "POST" else None
        form = self.login_form(request, data=data)
        if data is not None and form.is_valid():
            user = form.get_user()
            self._pending_start(request, user, next_url=request.POST.get(REDIRECT_FIELD_NAME, ""))
            if two_factor.totp_device_for_login(user=user) is None:
                return HttpResponseRedirect(self._url("login_enroll"))
            return HttpResponseRedirect(self._url("login_code"))
        next_url = request.POST.get(REDIRECT_FIELD_NAME) or request.GET.get(REDIRECT_FIELD_NAME)
        return self._render(
            request,
            self.login_template,
            form=form,
            title=_("Log in"),
            app_path=request.get_full_path(),
            username=request.user.get_username(),
            next=next_url or self._url("index"),
            **(extra_context or {}),
        )

    # Step 2: the code, or enrolling an authenticator app.

    def login_code(self, request):
        """Ask for the code from the user's authenticator app; log them in when it is right."""
        user = self._pending_user(request)
        if user is None:
            return HttpResponseRedirect(self._url("login"))
        device = two_factor.totp_device_for_login(user=user)
        if device is None:
            return HttpResponseRedirect(self._url("login_enroll"))
        locked = self._lockout(request, user)
        if locked:
            return locked
        form = TwoFactorCodeForm(request.POST if request.method == "POST" else None)
        if form.is_bound and form.is_valid():
            if two_factor.totp_token_check(device=device, token=form.cleaned_data["otp_token"]):
                return self._finish(request, user, device)
            return self._code_failed(request, user, form)
        return self._render(
            request, "admin/two_factor_code.html", form=form, title=_("Enter your code")
        )

    def login_enroll(self, request):
        """Show a new authenticator-app secret; confirm it and log in on the first right code."""
        user = self._pending_user(request)
        if user is None:
            return HttpResponseRedirect(self._url("login"))
        if two_factor.totp_device_for_login(user=user) is not None:
            return HttpResponseRedirect(self._url("login_code"))
        locked = self._lockout(request, user)
        if locked:
            return locked
        device = TOTPDevice.objects.filter(
            pk=request.session.get(ENROLLMENT_DEVICE), user=user, confirmed=False
        ).first()
        if device is None:
            device = two_factor.totp_enrollment_start(user=user)
            if device is None:
                return HttpResponseRedirect(self._url("login_code"))
            request.session[ENROLLMENT_DEVICE] = device.pk
        form = TwoFactorCodeForm(request.POST if request.method == "POST" else None)
        if form.is_bound and form.is_valid():
            token = form.cleaned_data["otp_token"]
            if two_factor.totp_enrollment_confirm(device=device, token=token):
                device.refresh_from_db()
                return self._finish(request, user, device)
            return self._code_failed(request, user, form, device=device)
        return self._enroll_page(request, form, device)

    def _enroll_page(self, request, form, device):
        qr = segno.make(device.config_url, error="m")
        # segno draws with SVG attributes only (no style element, no script), which the
        # Content-Security-Policy allows; the white background keeps it readable in dark mode.
        svg = qr.svg_inline(scale=5, border=4, light="#fff", title=str(_("QR code")))
        secret = base64.b32encode(device.bin_key).decode().rstrip("=")
        return self._render(
            request,
            "admin/two_factor_enroll.html",
            form=form,
            title=_("Set up your authenticator app"),
            qr_svg=mark_safe(svg),  # noqa: S308 (generated by segno from our own data)
            secret=" ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
        )

    # The session between the two steps.

    def _pending_start(self, request, user, *, next_url: str) -> None:
        if request.user.is_authenticated:
            auth.logout(request)
        request.session.cycle_key()
        for key in PENDING_KEYS:
            request.session.pop(key, None)
        request.session[PENDING_USER] = user.pk
        request.session[PENDING_BACKEND] = user.backend
        request.session[PENDING_SINCE] = time.time()
        if url_has_allowed_host_and_scheme(
            next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            request.session[PENDING_NEXT] = next_url

    def _pending_clear(self, request) -> None:
        for key in PENDING_KEYS:
            request.session.pop(key, None)

    def _pending_user(self, request):
        user_id = request.session.get(PENDING_USER)
        since = request.session.get(PENDING_SINCE, 0)
        if user_id is None:
            return None
        if time.time() - since > settings.TWO_FACTOR_PENDING_SECONDS:
            self._pending_clear(request)
            return None
        user = get_user_model()._default_manager.filter(pk=user_id).first()
        if user is None or not user.is_active or not user.is_staff:
            self._pending_clear(request)
            return None
        return user

    def _finish(self, request, user, device):
        backend = request.session[PENDING_BACKEND]
        next_url = request.session.get(PENDING_NEXT) or self._url("index")
        self._pending_clear(request)
        auth.login(request, user, backend=backend)
        django_otp.login(request, device)
        return HttpResponseRedirect(next_url)

    def _lockout(self, request, user):
        credentials = {"username": user.get_username()}
        if AxesProxyHandler.is_locked(request, credentials):
            self._pending_clear(request)
            return get_lockout_response(request, credentials=credentials)
        return None

    def _code_failed(self, request, user, form, device=None):
        form.add_error("otp_token", _("That code is not right. Enter the code your app shows now."))
        # Counts toward the same username-and-IP lockout as a wrong password.
        user_login_failed.send(
            sender=type(self), credentials={"username": user.get_username()}, request=request
        )
        if getattr(request, "axes_locked_out", False):
            self._pending_clear(request)
        if device is not None:
            return self._enroll_page(request, form, device)
        return self._render(
            request, "admin/two_factor_code.html", form=form, title=_("Enter your code")
        )

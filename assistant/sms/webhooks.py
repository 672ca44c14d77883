"""Checks shared by the two Twilio webhooks (/sms/inbound and /sms/status)."""

from functools import wraps

from csp.decorators import csp_exempt
from django.conf import settings
from django.http import HttpResponseForbidden
from django.views.decorators.csrf import csrf_exempt
from twilio.request_validator import RequestValidator, compare


def twilio_signature_is_valid(request) -> bool:
    """Return True when X-Twilio-Signature matches this request.

    The URL Twilio signed is PUBLIC_BASE_URL plus the path it called: behind a proxy the
    Host header and scheme that Django sees are not the ones Twilio used.
    """
    signature = request.headers.get("X-Twilio-Signature", "")
    if not signature or not settings.TWILIO_AUTH_TOKEN:
        return False
    url = settings.PUBLIC_BASE_URL + request.get_full_path()
    params = request.POST if request.method == "POST" else {}
    validator = RequestValidator(settings.TWILIO_AUTH_TOKEN)
    # The URL as we know it first: one HMAC, where validate() always computes two (the URL
    # with its port and without), and parses the URL for each request.
    if compare(validator.compute_signature(url, params), signature):
        return True
    return validator.validate(url, params, signature)


def twilio_webhook(view):
    """Exempt a Twilio webhook from CSRF (Twilio cannot send a token) and require its signature.

    A request whose signature does not match gets 403 before the view runs. These two views
    are the only ones in the project that are exempt from CSRF. They answer Twilio, never a
    browser, so no Content-Security-Policy is built for them (it was 5% of each request).
    """

    @csrf_exempt
    @csp_exempt()
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not twilio_signature_is_valid(request):
            return HttpResponseForbidden("Invalid Twilio signature.", content_type="text/plain")
        return view(request, *args, **kwargs)

    # config.webhooks serves it past the site's middleware, which has nothing to do for it.
    wrapped.twilio_webhook = True
    return wrapped

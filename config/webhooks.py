"""A short path through the middleware for Twilio's webhooks.

Twilio's requests (an incoming text, a status callback, a call) carry no cookie, no session,
no login and no language to negotiate, and their answer is XML for Twilio, not a page for a
browser. The middleware after SecurityMiddleware (sessions, locale, CSRF, authentication,
two-factor, messages, frame options, CSP, history, lockouts) has nothing to do for them, yet
it cost about a third of an incoming text's time in the webhook under a burst.

So ``TwilioWebhookMiddleware``, placed right after SecurityMiddleware, calls the view of a
webhook itself, and every other request goes on down the chain. What a webhook keeps:

- SecurityMiddleware before it (the HTTPS redirect and the security headers);
- the ALLOWED_HOSTS check that CommonMiddleware would have made (400 for a host not
  allowed);
- the site's default language, which LocaleMiddleware would have chosen (Twilio sends no
  Accept-Language and no cookie);
- Django's own handling around the middleware (request_started and request_finished, which
  close stale database connections; an exception in the view becomes a 500, never a dropped
  connection);
- in the view, Twilio's signature check (403) and no CSRF token (``twilio_webhook``).

A webhook is a view wrapped by ``assistant.sms.webhooks.twilio_webhook`` at a route with no
converters; the paths are read from the URLconf once.
"""

from functools import lru_cache

from django.conf import settings
from django.urls import URLPattern, URLResolver, get_resolver, get_urlconf
from django.urls.resolvers import RoutePattern
from django.utils import translation


class TwilioWebhookMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        match = twilio_webhook_routes(get_urlconf() or settings.ROOT_URLCONF).get(request.path_info)
        if match is None:
            return self.get_response(request)
        request.get_host()  # raises DisallowedHost (400) for a host not in ALLOWED_HOSTS
        request.resolver_match = match
        with translation.override(settings.LANGUAGE_CODE):
            return match.func(request, *match.args, **match.kwargs)


@lru_cache(maxsize=8)
def twilio_webhook_routes(urlconf: str) -> dict:
    """Return {path: ResolverMatch} for the Twilio webhooks of ``urlconf``."""
    resolver = get_resolver(urlconf)
    routes = {}
    for path in _webhook_paths(resolver.url_patterns, "/"):
        routes[path] = resolver.resolve(path)
    return routes


def _webhook_paths(patterns, prefix: str):
    for pattern in patterns:
        route = str(pattern.pattern)
        # Plain routes only: no converter, no regular expression, no language prefix.
        if not isinstance(pattern.pattern, RoutePattern) or "<" in route:
            continue
        if isinstance(pattern, URLResolver):
            yield from _webhook_paths(pattern.url_patterns, prefix + route)
        elif isinstance(pattern, URLPattern) and getattr(pattern.callback, "twilio_webhook", False):
            yield prefix + route

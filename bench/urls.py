"""The site's URLs plus ``/bench/floor``: the cheapest Django view, served by the same gunicorn."""

from django.http import HttpResponse
from django.urls import path

from config.urls import urlpatterns as site_urlpatterns


def floor(request):
    return HttpResponse(b"ok", content_type="text/plain")


urlpatterns = [path("bench/floor", floor), *site_urlpatterns]

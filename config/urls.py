from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import include, path

from assistant.public import data_views, trust_views, views
from assistant.sms import views as sms_views
from assistant.voice import views as voice_views

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("sms/inbound", sms_views.inbound, name="sms_inbound"),
    path("sms/status", sms_views.status_callback, name="sms_status"),
    path("voice/inbound", voice_views.inbound, name="voice_inbound"),
    path("voice/recordings/<int:pk>", voice_views.recording, name="voice_recording"),
    path("data/agency-facts.json", trust_views.agency_facts_json, name="agency_facts_json"),
    path("data/forums.json", trust_views.forums_json, name="forums_json"),
    path("data/agreements.csv", data_views.agreements_csv, name="agreements_csv"),
    path("data/agreements.json", data_views.agreements_json, name="agreements_json"),
    path(
        "data/places/<slug:state_code>/<slug:slug>.json",
        data_views.place_json,
        name="place_json",
    ),
]

urlpatterns += i18n_patterns(
    path("", include("assistant.public.urls")),
    prefix_default_language=True,
)

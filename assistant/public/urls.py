from django.urls import path

from assistant.public import trust_views, views

# Places live under "places/" so that a state code (de, in, ar) never stands where a
# language code does: /de/ is an unknown language (404), not Delaware.
urlpatterns = [
    path("", views.home, name="home"),
    path("search", views.search, name="search"),
    path("287g", views.explainer_287g, name="explainer_287g"),
    path("report-a-crime", views.explainer_reporting, name="explainer_reporting"),
    path("your-rights", views.explainer_rights, name="explainer_rights"),
    path("about", views.about, name="about"),
    path("privacy", views.privacy, name="privacy"),
    path("places/<slug:state_code>/", views.state_detail, name="state_detail"),
    path(
        "places/<slug:state_code>/forums.ics",
        trust_views.state_forums_ics,
        name="state_forums_ics",
    ),
    path("places/<slug:state_code>/<slug:slug>/", views.place_detail, name="place_detail"),
    path(
        "places/<slug:state_code>/<slug:slug>/forums.ics",
        trust_views.place_forums_ics,
        name="place_forums_ics",
    ),
    path(
        "places/<slug:state_code>/<slug:slug>/report",
        trust_views.place_report,
        name="place_report",
    ),
]

"""The admin app, with the two-factor organizer site as ``django.contrib.admin.site``.

Kept apart from assistant.organizers.admin_site because INSTALLED_APPS imports this module
before any
model can be imported.
"""

from django.contrib.admin.apps import AdminConfig


class OrganizerAdminConfig(AdminConfig):
    default_site = "assistant.organizers.admin_site.OrganizerAdminSite"

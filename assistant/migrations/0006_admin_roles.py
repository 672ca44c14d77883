"""Give the organizer roles what their start page offers them: alerts, flags, the simulator.

Editors write alerts (from a changed answer) and deal with flags; Reviewers also approve
alerts written by others; Translators read alerts and flags; everyone may try the SMS bot.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

ALERTS_WRITE = ["view_alert", "change_alert"] + [
    f"{a}_alerttext" for a in ("add", "change", "delete", "view")
]
READ = ["view_reviewflag", "view_conversation", "view_alert", "view_alerttext"]

ROLES = {
    "Editor": [*READ, *ALERTS_WRITE, "change_reviewflag"],
    "Reviewer": [*READ, *ALERTS_WRITE, "change_reviewflag", "approve_alert"],
    "Translator": READ,
}


def grant(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in ROLES.items():
        group, _created = Group.objects.get_or_create(name=name)
        permissions = Permission.objects.filter(
            content_type__app_label="assistant", codename__in=codenames
        )
        missing = set(codenames) - set(permissions.values_list("codename", flat=True))
        if missing:
            raise RuntimeError(f"Permissions missing for the {name} role: {sorted(missing)}")
        group.permissions.add(*permissions)


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in ROLES.items():
        group = Group.objects.filter(name=name).first()
        if group is not None:
            group.permissions.remove(
                *Permission.objects.filter(
                    content_type__app_label="assistant", codename__in=codenames
                )
            )


class Migration(migrations.Migration):
    dependencies = [("assistant", "0005_admin_history_and_triage")]

    operations = [migrations.RunPython(grant, revoke)]

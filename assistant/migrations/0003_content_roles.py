"""Create the organizer roles as groups: Editor, Reviewer, Translator."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

VIEW_ONLY = ["place", "zipcodearea", "agency", "agreement"]
CONTENT = ["guide", "policynote", "helporganization", "source"]

ROLES = {
    "Editor": (
        [f"view_{m}" for m in VIEW_ONLY]
        + [f"{a}_{m}" for m in CONTENT for a in ("add", "change", "view")]
        + ["view_reviewflag", "change_reviewflag", "view_translationrecord"]
    ),
    "Reviewer": (
        [f"view_{m}" for m in VIEW_ONLY]
        + [f"{a}_{m}" for m in CONTENT for a in ("add", "change", "view")]
        + ["delete_source", "view_reviewflag", "change_reviewflag", "view_translationrecord"]
        + ["publish_guide", "publish_policynote", "publish_helporganization"]
    ),
    "Translator": (
        [f"view_{m}" for m in VIEW_ONLY]
        + [f"view_{m}" for m in CONTENT]
        + ["change_guide", "change_policynote", "change_helporganization"]
        + ["view_translationrecord", "view_translatorlanguage"]
    ),
}


def create_roles(apps, schema_editor):
    # Permissions are normally made after all migrations; the groups need them now.
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


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("assistant", "0002_load_places"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]

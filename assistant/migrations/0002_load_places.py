"""Load every state, county and ZIP code (see assistant.places.services.places_load)."""

from django.db import migrations

from assistant.places.services import places_load


def load(apps, schema_editor):
    places_load(
        place_model=apps.get_model("assistant", "Place"),
        zip_model=apps.get_model("assistant", "ZipCodeArea"),
    )


class Migration(migrations.Migration):
    dependencies = [("assistant", "0001_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]

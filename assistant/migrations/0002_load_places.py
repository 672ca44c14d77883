from django.db import migrations


def load(apps, schema_editor):
    from assistant.services.places import places_load

    places_load(
        place_model=apps.get_model("assistant", "Place"),
        zip_model=apps.get_model("assistant", "ZipCodeArea"),
    )


class Migration(migrations.Migration):
    dependencies = [("assistant", "0001_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]

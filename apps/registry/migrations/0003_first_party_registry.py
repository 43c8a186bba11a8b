from django.conf import settings
from django.db import migrations


def add_first_party_registry(apps, schema_editor):
    """A fresh install starts with the first-party registry (removable, and restorable from the console)."""
    Registry = apps.get_model("registry", "Registry")
    url = settings.FIRST_PARTY_REGISTRY_URL.rstrip("/") + "/"
    if not Registry.objects.filter(is_first_party=True).exists():
        Registry.objects.create(url=url, name="Kasm Local", auto_update=True, is_first_party=True)


class Migration(migrations.Migration):
    dependencies = [("registry", "0002_registry_details_and_entry_keys")]

    operations = [migrations.RunPython(add_first_party_registry, migrations.RunPython.noop)]

"""The Administrators group: console admins are its members (permission accounts.access_console)."""

from django.db import migrations

ADMINISTRATORS = "Administrators"


def create_administrators_group(apps, schema_editor):
    # Permissions are normally created after migrations; this group needs its permission now.
    content_type, _ = apps.get_model("contenttypes", "ContentType").objects.get_or_create(
        app_label="accounts", model="profile"
    )
    permission, _ = apps.get_model("auth", "Permission").objects.get_or_create(
        codename="access_console", content_type=content_type, defaults={"name": "Can use the admin console"}
    )
    group, _ = apps.get_model("auth", "Group").objects.get_or_create(name=ADMINISTRATORS)
    group.permissions.add(permission)


def remove_administrators_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=ADMINISTRATORS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_administrators_group, remove_administrators_group)]

"""The built-in All Users group (every user, every workspace, as before groups could restrict them)
and a policy for every existing group; Administrators get priority 1."""

from django.db import migrations

ALL_USERS, ADMINISTRATORS = "All Users", "Administrators"


def create_all_users(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    GroupPolicy = apps.get_model("accounts", "GroupPolicy")
    all_users, _ = Group.objects.get_or_create(name=ALL_USERS)
    GroupPolicy.objects.get_or_create(group=all_users, defaults={"priority": 1000, "all_workspaces": True})
    for group in Group.objects.filter(policy__isnull=True):
        GroupPolicy.objects.create(group=group, priority=1 if group.name == ADMINISTRATORS else 100)
    all_users.user_set.add(*apps.get_model("auth", "User").objects.all())


def remove_all_users(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=ALL_USERS).delete()


class Migration(migrations.Migration):
    dependencies = [("accounts", "0004_group_policies_and_audit")]

    operations = [migrations.RunPython(create_all_users, remove_all_users)]

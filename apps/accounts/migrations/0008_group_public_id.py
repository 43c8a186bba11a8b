import uuid

from django.db import migrations, models

GROUP_ID_NAMESPACE = uuid.UUID("6f1d3a52-8c1b-4c39-9d1e-5b8c2f3a7e10")  # as apps.accounts.models has it


def fill_public_ids(apps, schema_editor):
    """The ids the API derived from each group's key until now, stored: integrations keep them."""
    GroupPolicy = apps.get_model("accounts", "GroupPolicy")
    for policy in GroupPolicy.objects.all():
        policy.public_id = uuid.uuid5(GROUP_ID_NAMESPACE, f"group:{policy.group_id}")
        policy.save(update_fields=["public_id"])


class Migration(migrations.Migration):
    dependencies = [("accounts", "0007_web_logins")]

    operations = [
        migrations.AddField(model_name="grouppolicy", name="public_id", field=models.UUIDField(null=True, editable=False)),
        migrations.RunPython(fill_public_ids, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="grouppolicy",
            name="public_id",
            field=models.UUIDField(editable=False, help_text="The group_id of the Developer API.", unique=True),
        ),
    ]

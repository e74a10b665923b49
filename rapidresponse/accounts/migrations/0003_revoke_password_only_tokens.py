"""API tokens issued before the second factor existed were given for a password alone: they
are revoked, and staff get new ones with both factors."""

from django.db import migrations


def revoke(apps, schema_editor):
    apps.get_model("accounts", "ApiToken").objects.all().delete()


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0002_staff_zones"),
    ]

    operations = [
        migrations.RunPython(revoke, migrations.RunPython.noop),
    ]

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("members", "0003_channel_kinds"),
        ("zones", "0001_initial"),
        ("incidents", "0003_zone_moved"),
        ("sms", "0002_zone_moved"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="ZoneCell"),
                migrations.DeleteModel(name="Zone"),
            ],
            database_operations=[],
        ),
    ]

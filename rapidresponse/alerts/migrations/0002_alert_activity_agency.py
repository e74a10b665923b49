from django.db import migrations, models


def copy_from_incidents(apps, schema_editor):
    Alert = apps.get_model("alerts", "Alert")
    for alert in Alert.objects.select_related("incident").iterator():
        Alert.objects.filter(pk=alert.pk).update(activity=alert.incident.activity,
                                                 agency=alert.incident.agency)


class Migration(migrations.Migration):

    dependencies = [
        ("alerts", "0001_initial"),
        ("incidents", "0003_zone_moved"),
    ]

    operations = [
        migrations.AddField(
            model_name="alert",
            name="activity",
            field=models.CharField(blank=True, max_length=12),
        ),
        migrations.AddField(
            model_name="alert",
            name="agency",
            field=models.CharField(blank=True, max_length=10),
        ),
        migrations.RunPython(copy_from_incidents, migrations.RunPython.noop),
    ]

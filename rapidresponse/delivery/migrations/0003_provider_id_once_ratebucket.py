from typing import Any

from django.db import migrations, models
from django.db.models import Count, Min


def forget_shared_provider_ids(apps: Any, schema_editor: Any) -> None:
    """Before the constraint: where several deliveries name the same provider message (a
    reconcile that matched one message twice), the first keeps the id and the others lose it."""
    Delivery = apps.get_model("delivery", "Delivery")
    shared = (Delivery.objects.exclude(provider_id="").values("channel", "provider_id")
              .annotate(n=Count("id"), first=Min("id")).filter(n__gt=1))
    for row in shared:
        Delivery.objects.filter(channel=row["channel"], provider_id=row["provider_id"]).exclude(
            pk=row["first"]).update(provider_id="")


class Migration(migrations.Migration):

    dependencies = [
        ("delivery", "0002_kinds_and_claim_order"),
    ]

    operations = [
        migrations.RunPython(forget_shared_provider_ids, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="delivery",
            constraint=models.UniqueConstraint(
                condition=models.Q(("provider_id", ""), _negated=True),
                fields=("channel", "provider_id"), name="delivery_provider_id_once"),
        ),
        migrations.CreateModel(
            name="RateBucket",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False,
                                           verbose_name="ID")),
                ("key", models.CharField(max_length=200, unique=True)),
                ("tokens", models.FloatField()),
                ("stamp", models.FloatField()),
                ("granted", models.IntegerField(default=0)),
            ],
        ),
    ]

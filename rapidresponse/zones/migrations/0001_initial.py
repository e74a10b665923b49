# Zones move here from members: the tables stay as they are (state only), then are renamed.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ("members", "0003_channel_kinds"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Zone",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True,
                                                   serialize=False, verbose_name="ID")),
                        ("name", models.CharField(max_length=100, unique=True)),
                        ("parent", models.ForeignKey(
                            blank=True, null=True, on_delete=django.db.models.deletion.CASCADE,
                            related_name="children", to="zones.zone")),
                    ],
                    options={"db_table": "members_zone"},
                ),
                migrations.CreateModel(
                    name="ZoneCell",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True,
                                                   serialize=False, verbose_name="ID")),
                        ("cell", models.BigIntegerField(db_index=True)),
                        ("zone", models.ForeignKey(
                            on_delete=django.db.models.deletion.CASCADE, related_name="cells",
                            to="zones.zone")),
                    ],
                    options={"db_table": "members_zonecell"},
                ),
                migrations.AddConstraint(
                    model_name="zonecell",
                    constraint=models.UniqueConstraint(fields=("zone", "cell"),
                                                       name="zone_cell_unique"),
                ),
            ],
            database_operations=[],
        ),
    ]

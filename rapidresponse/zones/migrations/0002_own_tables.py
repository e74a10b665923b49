from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("zones", "0001_initial"),
        ("members", "0004_zones_moved_out"),
    ]

    operations = [
        migrations.AlterModelTable(name="zone", table=None),
        migrations.AlterModelTable(name="zonecell", table=None),
    ]

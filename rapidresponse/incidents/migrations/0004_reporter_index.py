"""Reporters are counted by an index under REPORTER_INDEX_KEY, not the members' key: the
reports that still hold their reporter's contact are re-indexed; the others keep theirs (a
browser's random token, which names no one)."""

from django.db import migrations


def reindex(apps, schema_editor):
    from rapidresponse.lib import crypto

    Report = apps.get_model("incidents", "Report")
    for report in Report.objects.exclude(contact_encrypted="").iterator():
        try:
            contact = crypto.decrypt(report.contact_encrypted)
        except ValueError:
            continue
        kind = "email" if "@" in contact else "sms"
        Report.objects.filter(pk=report.pk).update(
            reporter_key=crypto.reporter_index(kind, contact.lower() if kind == "email"
                                               else contact))


class Migration(migrations.Migration):

    dependencies = [
        ("incidents", "0003_zone_moved"),
    ]

    operations = [migrations.RunPython(reindex, migrations.RunPython.noop)]

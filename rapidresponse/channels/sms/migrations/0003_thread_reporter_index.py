"""Hotline threads are found by an index under REPORTER_INDEX_KEY, not the members' key.
A thread whose number is gone (opted out) cannot be re-indexed and is deleted: it held a
language preference at most."""

from django.db import migrations


def reindex(apps, schema_editor):
    from rapidresponse.lib import crypto

    SmsThread = apps.get_model("sms", "SmsThread")
    for thread in SmsThread.objects.all().iterator():
        try:
            number = crypto.decrypt(thread.number_encrypted) if thread.number_encrypted else ""
        except ValueError:
            number = ""
        if not number:
            thread.delete()
            continue
        SmsThread.objects.filter(pk=thread.pk).update(
            blind_index=crypto.reporter_index("sms", number))


class Migration(migrations.Migration):

    dependencies = [
        ("sms", "0002_zone_moved"),
    ]

    operations = [migrations.RunPython(reindex, migrations.RunPython.noop)]

"""Retention rule of one-time codes (enforced by rapidresponse.jobs)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils.translation import gettext_lazy as _

from rapidresponse.codes.models import OneTimeCode
from rapidresponse.jobs.registry import personal_data, retention
from rapidresponse.jobs.retention import deleted


@retention("one_time_codes", model="codes.OneTimeCode",
           rule=_("deleted a day after they expire; the code itself (encrypted) is erased as "
                "soon as its message is sent, and the payload as soon as the code is used"))
def one_time_codes(now: datetime) -> int:
    return deleted(OneTimeCode.objects.filter(expires_at__lt=now - timedelta(days=1)))


personal_data(
    "codes.OneTimeCode", fields=("destination_index", "member", "contact", "code_hash",
                                 "secret_encrypted", "payload_encrypted"),
    category="codes", purpose=_("confirming that a phone or email is the person's"),
    protection=_("the code as a keyed hash; the code itself encrypted only until sent; the "
               "destination as a blind index of its own; the payload encrypted and erased "
               "once used"), retention=("one_time_codes",),
    encrypted=("secret_encrypted", "payload_encrypted"))

"""Retention rule of one-time codes (enforced by rapidresponse.jobs)."""

from __future__ import annotations

from datetime import datetime, timedelta

from rapidresponse.codes.models import OneTimeCode
from rapidresponse.jobs.registry import retention
from rapidresponse.jobs.retention import deleted


@retention("one_time_codes", model="codes.OneTimeCode",
           rule="deleted a day after they expire; the code itself (encrypted) is erased as "
                "soon as its message is sent, and the payload as soon as the code is used")
def one_time_codes(now: datetime) -> int:
    return deleted(OneTimeCode.objects.filter(expires_at__lt=now - timedelta(days=1)))

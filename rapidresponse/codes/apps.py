from typing import Any

from django.apps import AppConfig
from django.utils import timezone


class CodesConfig(AppConfig):
    """One-time codes: issued for a purpose to a phone or email, sent through the outbox
    without being stored (delivery/sealing.py), checked by id and code."""

    name = "rapidresponse.codes"
    label = "codes"

    def ready(self) -> None:
        # Registers the retention rule and the job that erases spent secrets.
        from rapidresponse.codes import retention  # noqa: F401
        from rapidresponse.codes.keeper import CodeKeeper
        from rapidresponse.codes.models import OneTimeCode
        from rapidresponse.delivery import sealing
        from rapidresponse.members.signals import member_opted_out

        sealing.register(CodeKeeper())

        def forget_codes(member: Any, **_kwargs: Any) -> None:
            # A member who left: no code of theirs works, and what they were for is erased.
            OneTimeCode.objects.filter(member=member).update(
                secret_encrypted="", payload_encrypted="")
            OneTimeCode.objects.filter(member=member, used_at__isnull=True).update(
                used_at=timezone.now())

        member_opted_out.connect(forget_codes, weak=False, dispatch_uid="codes.forget_codes")

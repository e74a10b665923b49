from typing import Any

from django.apps import AppConfig
from django.utils import timezone


class DeliveryConfig(AppConfig):
    name = "rapidresponse.delivery"
    label = "delivery"

    def ready(self) -> None:
        # Registers the outbox's periodic jobs, warm-up and retention rules.
        from rapidresponse.delivery import periodic, retention, tasks  # noqa: F401
        from rapidresponse.delivery.models import Delivery, Status
        from rapidresponse.members.signals import member_opted_out

        def skip_queued(member: Any, **_kwargs: Any) -> None:
            # A member who left gets nothing more, not even what was already queued.
            Delivery.objects.filter(member=member, status=Status.QUEUED).update(
                status=Status.SKIPPED, error="member opted out", updated_at=timezone.now())

        member_opted_out.connect(skip_queued, weak=False, dispatch_uid="delivery.skip_queued")

        tasks.register()  # the outbox wakes the workers through the drain task

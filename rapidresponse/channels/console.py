"""Shared recording logic for the console backends of every channel."""

from __future__ import annotations

from rapidresponse.delivery.models import ConsoleMessage
from rapidresponse.delivery.transport import Attempt, Outbound, Transport


class ConsoleTransport(Transport):
    is_live = False

    def send(self, message: Outbound) -> str:
        record, _created = ConsoleMessage.objects.get_or_create(
            delivery_id=message.delivery_id,
            defaults=dict(
                channel=self.kind, member_id=message.member_id, to_masked=message.to_masked,
                subject=message.subject, text=message.text, language=message.language,
                is_drill=message.is_drill,
            ),
        )
        return f"console-{record.pk}"

    def reconcile(self, attempt: Attempt) -> str | None:
        found = ConsoleMessage.objects.filter(delivery_id=attempt.delivery_id).exists()
        return "sent" if found else "failed"

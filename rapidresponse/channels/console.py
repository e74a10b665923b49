"""Shared recording logic for the console backends of every channel.

The message log (ConsoleMessage) gets what a record may hold: a one-time code is masked
there (Outbound.record_text, see delivery/sealing.py). So that someone trying the demo still
sees their code, the full text of a message that carries one is written to standard output
(the terminal of `make run`), as Django's console email backend does, and nowhere else."""

from __future__ import annotations

import sys
import threading

from rapidresponse.delivery.models import ConsoleMessage
from rapidresponse.delivery.transport import Attempt, Outbound, Transport

_printing = threading.Lock()


class ConsoleTransport(Transport):
    is_live = False

    def send(self, message: Outbound) -> str:
        record, _created = ConsoleMessage.objects.get_or_create(
            delivery_id=message.delivery_id,
            defaults=dict(
                channel=self.kind, member_id=message.member_id, to_masked=message.to_masked,
                subject=message.subject, text=message.record_text, language=message.language,
                is_drill=message.is_drill,
            ),
        )
        if message.redacted is not None:
            self.show(message)
        return f"console-{record.pk}"

    def show(self, message: Outbound) -> None:
        """The whole text, code included, on standard output only (one line per message)."""
        text = " ".join(message.text.split())
        with _printing:
            sys.stdout.write(f"[{self.kind} to {message.to_masked}, member {message.member_id}]"
                             f" {text}\n")
            sys.stdout.flush()

    def reconcile(self, attempt: Attempt) -> str | None:
        found = ConsoleMessage.objects.filter(delivery_id=attempt.delivery_id).exists()
        return "sent" if found else "failed"

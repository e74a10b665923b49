"""Email over SMTP (EMAIL_HOST, EMAIL_PORT, ...), through Django's mail machinery."""

from __future__ import annotations

import re
import smtplib

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.core.mail.message import make_msgid

from rapidresponse.delivery.transport import Outbound, Transport, TransportError


class SmtpEmailBackend(Transport):
    kind = "email"

    def send(self, message: Outbound) -> str:
        msgid = make_msgid(domain=settings.DEFAULT_FROM_EMAIL.rpartition("@")[2] or None)
        email = EmailMessage(
            subject=message.subject, body=message.text,
            from_email=settings.DEFAULT_FROM_EMAIL, to=[message.to],
            headers={"Message-ID": msgid, "Content-Language": message.language,
                     "Auto-Submitted": "auto-generated"},
            connection=get_connection("django.core.mail.backends.smtp.EmailBackend",
                                      fail_silently=False),
        )
        try:
            email.send()
        except smtplib.SMTPRecipientsRefused as exc:
            replies = list(exc.recipients.values())
            # 5xx: the address is refused for good; 4xx (busy, greylisted): try again later.
            permanent = all(500 <= code < 600 for code, _reply in replies)
            reasons = "; ".join(f"{code} {_text(reply)}" for code, reply in replies)
            raise TransportError(_redact(f"recipient refused: {reasons}", message.to),
                                 permanent=permanent) from exc
        except TimeoutError as exc:
            raise TransportError("SMTP server timed out", timed_out=True) from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise TransportError(_redact(f"SMTP error: {exc}", message.to)) from exc
        return msgid


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)


def _redact(text: str, address: str) -> str:
    """Errors are stored: they must not hold the address in clear text."""
    return re.sub(re.escape(address), "***", text, flags=re.IGNORECASE)

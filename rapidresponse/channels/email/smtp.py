"""Email over SMTP (EMAIL_HOST, EMAIL_PORT, ...), through Django's mail machinery."""

from __future__ import annotations

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
            raise TransportError(f"recipient refused: {exc}", permanent=True) from exc
        except TimeoutError as exc:
            raise TransportError("SMTP server timed out", timed_out=True) from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise TransportError(f"SMTP error: {exc}") from exc
        return msgid

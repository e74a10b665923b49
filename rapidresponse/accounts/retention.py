"""Staff accounts' retention rules (enforced by rapidresponse.jobs)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings

from rapidresponse.accounts.models import ApiToken, AuditEntry
from rapidresponse.jobs.registry import retention
from rapidresponse.jobs.retention import deleted


@retention("tokens", model="accounts.ApiToken", rule="deleted once expired")
def tokens(now: datetime) -> int:
    return deleted(ApiToken.objects.filter(expires_at__lt=now))


@retention("audit", model="accounts.AuditEntry", rule="deleted after RETENTION_AUDIT_DAYS")
def audit(now: datetime) -> int:
    return deleted(AuditEntry.objects.filter(
        at__lt=now - timedelta(days=settings.RETENTION_AUDIT_DAYS)))

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.http import HttpRequest
from django.utils import timezone

from rapidresponse.accounts.models import ApiToken
from rapidresponse.lib import crypto


def do_issue_token(user: User) -> tuple[str, datetime]:
    token = "rr_" + secrets.token_urlsafe(32)
    expires = timezone.now() + timedelta(days=settings.API_TOKEN_DAYS)
    ApiToken.objects.create(user=user, key_hash=crypto.token_hash(token), expires_at=expires)
    return token, expires


def bearer_token(request: HttpRequest) -> str | None:
    """The token of an `Authorization: Bearer ...` header, or None without one."""
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return None


def user_for_token(token: str) -> User | None:
    now = timezone.now()
    record = (ApiToken.objects.select_related("user", "user__staff")
              .filter(key_hash=crypto.token_hash(token), expires_at__gt=now).first())
    if record is None or not record.user.is_active:
        return None
    if record.last_used_at is None or now - record.last_used_at > timedelta(minutes=5):
        ApiToken.objects.filter(pk=record.pk).update(last_used_at=now)
    return record.user

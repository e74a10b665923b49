from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AnonymousUser, User

from rapidresponse.accounts.models import AuditEntry


def record(actor: User | AnonymousUser | None, action: str, obj: Any, *,
           from_state: str = "", to_state: str = "", **detail: Any) -> AuditEntry:
    user = actor if actor is not None and actor.is_authenticated else None
    return AuditEntry.objects.create(
        actor=user, action=action, object_type=type(obj).__name__.lower(), object_id=obj.pk,
        from_state=from_state, to_state=to_state, detail=detail)

"""Database connections of background tasks."""

from __future__ import annotations

from django.db import close_old_connections, connection


def refresh_connections() -> None:
    """What a task does before and after its work: drop connections that are broken or past
    CONN_MAX_AGE, as a request would. Not when the task runs inline inside its caller's
    transaction (the immediate task backend, on commit in a test's transaction): closing that
    connection would end the caller's transaction under it."""
    if not connection.in_atomic_block:
        close_old_connections()

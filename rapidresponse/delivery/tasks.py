from __future__ import annotations

from django_tasks import task

from rapidresponse.delivery import outbox


@task()
def drain_outbox() -> int:
    return outbox.drain()

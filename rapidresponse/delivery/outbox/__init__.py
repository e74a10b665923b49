"""The outbox: messages and deliveries written with the action that caused them, delivered
by the worker. Tasks carry no message content, so a lost task or killed worker loses nothing:
the rows are the truth and the sweeps pick up whatever a task did not finish.

A delivery's life:

    queued --claim--> sending --provider took it--> sent
                         |--transient error--> queued (later, backoff with jitter)
                         |--permanent error--> failed  + the member's next channel, queued
                         |--last attempt failed--> dead + the member's next channel, queued
                         |--member opted out--> skipped
                         `--timed out / worker died--> unknown --reconcile--> sent | queued | dead

    "+": written in the same transaction, so a crash never leaves one without the other.
    A sent delivery names the provider's message (provider_id), and no other delivery of
    its channel may name the same one (a unique constraint).

Nothing in `sending` or `unknown` is sent again before the provider has been asked whether
it already has it (Transport.reconcile).

Modules, in the order a delivery meets them:
- enqueue: messages and deliveries are written; the workers are told on commit;
- claims: a worker claims due deliveries, renews its claim, gives back what it cannot start;
- engine, draining: claimed deliveries are sent on the process's sender threads;
- outcomes: what the provider answered is written down;
- fallback: a channel that failed for good hands the message to the member's next one;
- reconcile: lost outcomes are asked about at the provider, within a time budget;
- deadletters: what staff must look at, and "Send again";
- buckets: per-channel rate limits shared through the database when there is no Redis.
"""

from rapidresponse.delivery.outbox.claims import (
    BATCH,
    RENEW_AFTER_S,
    STALE_CLAIM,
    batch_seconds,
    claim_batch,
    due_count,
    has_due,
    lease,
    release,
)
from rapidresponse.delivery.outbox.deadletters import dead_letters, retry
from rapidresponse.delivery.outbox.draining import drain, send_one
from rapidresponse.delivery.outbox.engine import RELEASED, shares_rows_across_threads
from rapidresponse.delivery.outbox.enqueue import (
    add_deliveries,
    create_message,
    delivery_counts,
    schedule_drain,
    send_to_member,
    when_queued,
)
from rapidresponse.delivery.outbox.fallback import FALLBACK_ORDER, fall_back
from rapidresponse.delivery.outbox.outcomes import RECONCILE_DELAY
from rapidresponse.delivery.outbox.reconcile import (
    SWEEP_BUDGET_S,
    SWEEP_LIMIT,
    UNKNOWN_GIVE_UP,
    attempt_of,
    reconcile_unknown,
    sweep_stale_claims,
)
from rapidresponse.delivery.outbox.writes import take_provider_id

__all__ = [
    "BATCH", "FALLBACK_ORDER", "RECONCILE_DELAY", "RELEASED", "RENEW_AFTER_S", "STALE_CLAIM",
    "SWEEP_BUDGET_S", "SWEEP_LIMIT", "UNKNOWN_GIVE_UP", "add_deliveries", "attempt_of",
    "batch_seconds", "claim_batch", "create_message", "dead_letters", "delivery_counts",
    "drain", "due_count", "fall_back", "has_due", "lease", "reconcile_unknown", "release",
    "retry", "schedule_drain", "send_one", "send_to_member", "shares_rows_across_threads",
    "sweep_stale_claims", "take_provider_id", "when_queued",
]

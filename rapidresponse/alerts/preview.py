"""What an alert, all-clear or correction would send, before it is sent: its text in every
language, the members it reaches (by channel and by language), and its SMS cost: recipients
by SMS per language, segments of the text as the SMS channel sends it, and the estimate
recipients x segments x SMS_SEGMENT_COST_CENTS. Pages and the API show this before anyone
confirms, resolves or corrects: it counts recipients with the audience the send writes
(alerts/audience.py), so the preview's count is the send's."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from rapidresponse.alerts import audience
from rapidresponse.alerts.compose import AlertFacts, compose
from rapidresponse.channels.sms.segments import (
    count_segments,
    estimated_cost_cents,
    format_dollars,
    sms_text,
)
from rapidresponse.members.models import Channel

KIND_LABELS = {"alert": _("Alert"), "all_clear": _("All clear"), "correction": _("Correction")}


@dataclass
class LanguageCost:
    language: str
    recipients: int
    encoding: str
    segments: int
    characters: int
    cost_cents: float

    @property
    def cost(self) -> str:
        return format_dollars(self.cost_cents)


@dataclass
class CostPreview:
    kind: str
    rows: list[LanguageCost] = field(default_factory=list)
    # What it says: {"en": {"subject": ..., "text": ...}, "es": {...}}.
    texts: dict[str, dict[str, str]] = field(default_factory=dict)
    # Members it reaches (on any channel), per channel and per language.
    members: int = 0
    by_channel: dict[str, int] = field(default_factory=dict)
    by_language: dict[str, int] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return str(KIND_LABELS[self.kind])

    @property
    def recipients(self) -> int:
        return sum(r.recipients for r in self.rows)

    @property
    def segments(self) -> int:
        return sum(r.recipients * r.segments for r in self.rows)

    @property
    def cost_cents(self) -> float:
        return sum(r.cost_cents for r in self.rows)

    @property
    def cost(self) -> str:
        return format_dollars(self.cost_cents)


def _by_language(per_language: dict[str, int]) -> dict[str, int]:
    codes = [code for code, _name in settings.LANGUAGES]
    counts: dict[str, int] = defaultdict(int)
    for language, n in per_language.items():
        # A language without a text gets the English one (Message.body).
        counts[language if language in codes else "en"] += n
    return dict(counts)


def _counts(facts: AlertFacts, kind: str) -> audience.Counts:
    """Who `kind` would reach: alerts.audience's definition, as the send writes it."""
    if kind == "alert":
        return audience.count_new_alert(facts.cell)
    return audience.count_follow_up(facts.incident_id)


def sms_recipients_of_new_alert(facts: AlertFacts) -> dict[str, int]:
    """Who would get the alert by SMS if it were confirmed now, per language."""
    return _by_language(audience.count_new_alert(facts.cell).on_channel(Channel.SMS))


def sms_recipients_of_follow_up(facts: AlertFacts) -> dict[str, int]:
    """Who would get an all-clear or correction by SMS: the SMS recipients of the alerts."""
    return _by_language(audience.count_follow_up(facts.incident_id).on_channel(Channel.SMS))


def cost_preview(facts: AlertFacts, kind: str) -> CostPreview:
    """What sending `kind` ("alert", "all_clear" or "correction") about these facts now
    would say, to whom, and what it would cost in SMS."""
    counts = _counts(facts, kind)
    recipients = _by_language(counts.on_channel(Channel.SMS))
    bodies = compose(kind, facts)
    preview = CostPreview(kind=kind, texts=bodies, by_channel=counts.by_channel(),
                          by_language=_by_language(counts.by_language))
    preview.members = sum(preview.by_language.values())
    for language, body in bodies.items():
        count = count_segments(sms_text(body["text"]))
        n = recipients.get(language, 0)
        preview.rows.append(LanguageCost(
            language=language, recipients=n, encoding=count.encoding, segments=count.segments,
            characters=count.units,
            cost_cents=estimated_cost_cents(n, count.segments, settings.SMS_SEGMENT_COST_CENTS)))
    return preview

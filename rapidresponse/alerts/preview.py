"""What an alert, all-clear or correction would send, before it is sent: its text in every
language, the members it reaches (by channel and by language), and its SMS cost: recipients
by SMS per language, segments of the text as the SMS channel sends it, and the estimate
recipients x segments x SMS_SEGMENT_COST_CENTS. Pages and the API show this before anyone
confirms, resolves or corrects: it counts recipients as the fan-out (alerts/actions.py)
finds them."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db.models import Count, F, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from rapidresponse.alerts.actions import alert_rings, max_watch_rings
from rapidresponse.alerts.compose import AlertFacts, compose
from rapidresponse.alerts.models import Alert
from rapidresponse.channels.sms.segments import (
    count_segments,
    estimated_cost_cents,
    format_dollars,
    sms_text,
)
from rapidresponse.delivery.models import Delivery
from rapidresponse.lib import geo
from rapidresponse.members.models import Channel, ContactPoint, Member, WatchArea

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


def _by_language(rows: list[dict[str, object]]) -> dict[str, int]:
    codes = [code for code, _name in settings.LANGUAGES]
    counts: dict[str, int] = defaultdict(int)
    for row in rows:
        language = str(row["lang"])
        # A language without a text gets the English one (Message.body).
        counts[language if language in codes else "en"] += int(str(row["n"]))
    return dict(counts)


def _reached_by_new_alert(facts: AlertFacts) -> QuerySet[WatchArea, Any]:
    """The ids of members whose watch areas meet the alert area (as alerts.fan_out finds
    them), as a subquery."""
    center = geo.parent(facts.cell, settings.H3_MEMBER_RESOLUTION)
    rings = alert_rings()
    by_distance: dict[int, list[int]] = defaultdict(list)
    for cell, distance in geo.rings(center, rings + max_watch_rings()):
        by_distance[distance].append(cell)
    reach = Q()
    for distance, cells in by_distance.items():
        reach |= Q(cell__in=cells, rings__gte=distance - rings)
    return WatchArea.objects.filter(reach).values("member_id")


def _new_alert_channels(facts: AlertFacts) -> QuerySet[ContactPoint]:
    """Every (member, channel) the alert would go to: each usable contact point."""
    return ContactPoint.objects.usable().filter(member_id__in=_reached_by_new_alert(facts))


def _follow_up_channels(facts: AlertFacts) -> QuerySet[Delivery]:
    """Every (member, channel) an all-clear or correction would go to: the deliveries of the
    alerts to members still active."""
    originals = Alert.objects.filter(incident_id=facts.incident_id,
                                     kind=Alert.Kind.ALERT).values("message_id")
    return Delivery.objects.filter(message_id__in=originals,
                                   member__status=Member.Status.ACTIVE)


def sms_recipients_of_new_alert(facts: AlertFacts) -> dict[str, int]:
    """Who would get the alert by SMS if it were confirmed now (as alerts.fan_out counts)."""
    rows = (_new_alert_channels(facts).filter(kind=Channel.SMS)
            .values(lang=F("member__language")).annotate(n=Count("member_id", distinct=True)))
    return _by_language(list(rows))


def sms_recipients_of_follow_up(facts: AlertFacts) -> dict[str, int]:
    """Who would get an all-clear or correction by SMS: the SMS recipients of the alerts."""
    rows = (_follow_up_channels(facts).filter(channel=Channel.SMS)
            .values(lang=F("member__language")).annotate(n=Count("member_id", distinct=True)))
    return _by_language(list(rows))


def _audience(preview: CostPreview, facts: AlertFacts) -> None:
    """Members reached, in all, per channel and per language."""
    if preview.kind == "alert":
        targets: QuerySet[ContactPoint] | QuerySet[Delivery] = _new_alert_channels(facts)
        channel = "kind"
    else:
        targets = _follow_up_channels(facts)
        channel = "channel"
    preview.by_channel = {
        str(row[channel]): int(row["n"]) for row in
        targets.values(channel).annotate(n=Count("member_id", distinct=True)).order_by(channel)}
    preview.by_language = _by_language(list(
        targets.values(lang=F("member__language"))
        .annotate(n=Count("member_id", distinct=True))))
    preview.members = sum(preview.by_language.values())


def cost_preview(facts: AlertFacts, kind: str) -> CostPreview:
    """What sending `kind` ("alert", "all_clear" or "correction") about these facts now
    would say, to whom, and what it would cost in SMS."""
    recipients = (sms_recipients_of_new_alert(facts) if kind == "alert"
                  else sms_recipients_of_follow_up(facts))
    bodies = compose(kind, facts)
    preview = CostPreview(kind=kind, texts=bodies)
    _audience(preview, facts)
    for language, body in bodies.items():
        count = count_segments(sms_text(body["text"]))
        n = recipients.get(language, 0)
        preview.rows.append(LanguageCost(
            language=language, recipients=n, encoding=count.encoding, segments=count.segments,
            characters=count.units,
            cost_cents=estimated_cost_cents(n, count.segments, settings.SMS_SEGMENT_COST_CENTS)))
    return preview

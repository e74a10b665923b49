"""What an alert, all-clear or correction will cost in SMS before it is sent: recipients by
SMS per language, segments of the text as the SMS channel sends it, and the estimate
recipients x segments x SMS_SEGMENT_COST_CENTS."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Count, F, Q
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


def sms_recipients_of_new_alert(facts: AlertFacts) -> dict[str, int]:
    """Who would get the alert by SMS if it were confirmed now (as alerts.fan_out counts)."""
    center = geo.parent(facts.cell, settings.H3_MEMBER_RESOLUTION)
    rings = alert_rings()
    by_distance: dict[int, list[int]] = defaultdict(list)
    for cell, distance in geo.rings(center, rings + max_watch_rings()):
        by_distance[distance].append(cell)
    reach = Q()
    for distance, cells in by_distance.items():
        reach |= Q(cell__in=cells, rings__gte=distance - rings)
    members = WatchArea.objects.filter(reach).values("member_id")
    rows = (ContactPoint.objects.usable().filter(kind=Channel.SMS, member_id__in=members)
        .values(lang=F("member__language")).annotate(n=Count("member_id", distinct=True)))
    return _by_language(list(rows))


def sms_recipients_of_follow_up(facts: AlertFacts) -> dict[str, int]:
    """Who would get an all-clear or correction by SMS: the SMS recipients of the alerts."""
    originals = Alert.objects.filter(incident_id=facts.incident_id,
                                     kind=Alert.Kind.ALERT).values("message_id")
    rows = (Delivery.objects.filter(message_id__in=originals, channel=Channel.SMS,
                                    member__status=Member.Status.ACTIVE)
            .values(lang=F("member__language")).annotate(n=Count("member_id", distinct=True)))
    return _by_language(list(rows))


def cost_preview(facts: AlertFacts, kind: str) -> CostPreview:
    """What sending `kind` ("alert", "all_clear" or "correction") about these facts now
    would cost in SMS."""
    recipients = (sms_recipients_of_new_alert(facts) if kind == "alert"
                  else sms_recipients_of_follow_up(facts))
    bodies = compose(kind, facts)
    preview = CostPreview(kind=kind)
    for language, body in bodies.items():
        count = count_segments(sms_text(body["text"]))
        n = recipients.get(language, 0)
        preview.rows.append(LanguageCost(
            language=language, recipients=n, encoding=count.encoding, segments=count.segments,
            characters=count.units,
            cost_cents=estimated_cost_cents(n, count.segments, settings.SMS_SEGMENT_COST_CENTS)))
    return preview

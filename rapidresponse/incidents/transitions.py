"""The incident state machine, written once: which action may happen in which state, where
it leads, what it records and what it sends. Actions (actions.py), the console and the
verifier's page (views.py), the API and the cost previews all read this table.

    reported --request verification--> verifying
    reported | verifying --finding: confirmed (enough verifiers, see below)--> confirmed [alert]
    reported | verifying --finding: not ICE / false alarm / unverifiable--> that state
    reported | verifying --no new report for INCIDENT_EXPIRY_MINUTES--> expired
    confirmed --resolve--> resolved   [all-clear to whoever got the alert]
    confirmed | resolved --correct--> false_alarm   [correction to whoever got the alert]

Who may take the steps that carry a finding (actions.finding_refusal, checked under the
incident's lock by do_record_verification): a verifier, dispatcher or coordinator who was
asked to verify the incident or who works its zone. CONFIRM needs VERIFICATIONS_REQUIRED
distinct people's confirmations, none of them from the author of one of the incident's
reports (Report.entered_by): whoever typed in a call or reported through the API cannot
also confirm it, so one person alone cannot raise an alert. Pages show what a step that
sends (CONFIRM, RESOLVE, CORRECT) would send, and ask once more, before taking it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from rapidresponse.incidents.models import UNVERIFIED_STATES, Incident, Outcome, State


class Step(StrEnum):
    REQUEST_VERIFICATION = "request_verification"
    RECORD_FINDING = "record_finding"
    CONFIRM = "confirm"
    RULE_OUT = "rule_out"  # a finding other than "confirmed"
    RESOLVE = "resolve"
    CORRECT = "correct"
    EXPIRE = "expire"


@dataclass(frozen=True)
class Transition:
    step: Step
    allowed_from: tuple[str, ...]
    to: str | None  # None: the state the finding names (RULE_OUT), or no change
    audit: str  # the audit action ("incident.…"); "" for RULE_OUT: incident.<outcome>
    sends: str = ""  # the message it sends to members: alert, all_clear or correction


TABLE: dict[Step, Transition] = {t.step: t for t in (
    Transition(Step.REQUEST_VERIFICATION, UNVERIFIED_STATES, State.VERIFYING,
               "incident.verification_requested"),
    Transition(Step.RECORD_FINDING, UNVERIFIED_STATES, None,
               "incident.verification_recorded"),
    Transition(Step.CONFIRM, UNVERIFIED_STATES, State.CONFIRMED, "incident.confirmed",
               sends="alert"),
    Transition(Step.RULE_OUT, UNVERIFIED_STATES, None, ""),
    Transition(Step.RESOLVE, (State.CONFIRMED,), State.RESOLVED, "incident.resolved",
               sends="all_clear"),
    Transition(Step.CORRECT, (State.CONFIRMED, State.RESOLVED), State.FALSE_ALARM,
               "incident.corrected", sends="correction"),
    Transition(Step.EXPIRE, UNVERIFIED_STATES, State.EXPIRED, "incident.expired"),
)}

#: The outcomes a verifier can record that rule the incident out, with the state each leads to.
RULED_OUT = {Outcome.NOT_ICE: State.NOT_ICE, Outcome.FALSE_ALARM: State.FALSE_ALARM,
             Outcome.UNVERIFIABLE: State.UNVERIFIABLE}


def allowed(incident: Incident | str, step: Step) -> bool:
    state = incident if isinstance(incident, str) else incident.state
    return state in TABLE[step].allowed_from


def possible(incident: Incident) -> dict[str, bool]:
    """Every step by name, and whether the incident's state allows it (for templates)."""
    return {step.value: allowed(incident, step) for step in Step}


def next_messages(incident: Incident, *, alerted: bool) -> list[str]:
    """What the incident may send members next: an alert (once, before there is one), then
    the all-clear and the correction (only after an alert)."""
    kinds = []
    for step in (Step.CONFIRM, Step.RESOLVE, Step.CORRECT):
        transition = TABLE[step]
        if allowed(incident, step) and alerted == (transition.sends != "alert"):
            kinds.append(transition.sends)
    return kinds

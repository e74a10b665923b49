"""Verification requests use shifts and the verifier skill (registered with
incidents.actions.verifier_finder): the verifiers on shift for the incident's zone first
(primary, then backup), then everyone with a current verifier training who is available,
nearest first, alongside the verifiers with "on call" set. Only staff whose role lets them
record a finding (coordinators, dispatchers, verifiers) are asked: a responder-role login
with the skill is not, until it may open the verifier's page."""

from __future__ import annotations

from rapidresponse.accounts.access import VERIFY_ROLES
from rapidresponse.accounts.models import Staff
from rapidresponse.incidents.actions import ANYONE, ON_SHIFT_BACKUP, ON_SHIFT_PRIMARY
from rapidresponse.incidents.models import Incident
from rapidresponse.responders.models import Skill
from rapidresponse.responders.queries import FAR, available_responders, on_call_now


def verifiers_for_incident(incident: Incident) -> list[tuple[Staff, int, int]]:
    found: list[tuple[Staff, int, int]] = []
    nearby = available_responders(Skill.VERIFIER, incident.cell, zone=incident.zone)
    distance = {n.staff.pk: FAR if n.distance is None else n.distance for n in nearby}
    if incident.zone is not None:
        for entry in on_call_now(incident.zone, Skill.VERIFIER):
            rank = ON_SHIFT_PRIMARY if entry.is_primary else ON_SHIFT_BACKUP
            found.append((entry.staff, rank, distance.get(entry.staff.pk, FAR)))
    found += [(n.staff, ANYONE, distance[n.staff.pk]) for n in nearby]
    return [(staff, rank, d) for staff, rank, d in found if staff.role in VERIFY_ROLES]

"""What people report and alerts say, as fixed choices: never free text (see compose.py)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Activity(models.TextChoices):
    ARRESTS = "arrests", _("Arrests or detentions")
    HOME = "home", _("Agents at a home")
    WORKPLACE = "workplace", _("Workplace operation")
    CHECKPOINT = "checkpoint", _("Checkpoint or traffic stop")
    PATROL = "patrol", _("Agents patrolling or waiting")
    STAGING = "staging", _("Vehicles gathering (staging)")
    OTHER = "other", _("Other activity")


class Agency(models.TextChoices):
    ICE = "ice", _("ICE")
    CBP = "cbp", _("Border Patrol / CBP")
    HSI = "hsi", _("HSI")
    POLICE = "police", _("Local police or sheriff")
    UNMARKED = "unmarked", _("Unmarked / plain clothes")
    UNKNOWN = "unknown", _("Not sure")


#: Agencies an alert names; others are "immigration agents" without a name.
IMMIGRATION_AGENCIES = {Agency.ICE, Agency.CBP, Agency.HSI}

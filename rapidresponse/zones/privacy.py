"""Zones in the privacy manifest (rapidresponse.jobs.registry)."""

from django.utils.translation import gettext_lazy as _

from rapidresponse.jobs.registry import not_personal

not_personal("zones.Zone", fields=("name",), why=_("the name of a neighbourhood or region"))
not_personal("zones.ZoneCell", fields=("cell",), why=_("the cells that make up a zone's area"))

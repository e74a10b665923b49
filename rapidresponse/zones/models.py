from __future__ import annotations

from django.db import models


class Zone(models.Model):
    """A named area made of H3 cells (resolution 8), possibly inside a larger zone."""

    name = models.CharField(max_length=100, unique=True)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE,
                               related_name="children")

    def __str__(self) -> str:
        return self.name


class ZoneCell(models.Model):
    zone = models.ForeignKey(Zone, on_delete=models.CASCADE, related_name="cells")
    cell = models.BigIntegerField(db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["zone", "cell"], name="zone_cell_unique")]

"""Read models for the pages: per-site daily status totals, derived from stored intervals."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from linda.registry.models import Site


class SiteDay(models.Model):
    """Seconds per state of one site on one WIB day, for a day the monitor has closed.

    A cache of `monitoring.StatusInterval` (appended, never edited), filled lazily by
    `linda.web.rollups`; it lets the dashboard sum a month of a large fleet in SQL.
    """

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="+")
    day = models.DateField(_("tanggal (WIB)"))
    up_s = models.PositiveIntegerField(default=0)
    down_s = models.PositiveIntegerField(default=0)
    unknown_s = models.PositiveIntegerField(default=0)
    excluded_s = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("ringkasan harian situs")
        constraints = [
            models.UniqueConstraint(fields=["site", "day"], name="siteday_unique_day"),
        ]
        indexes = [models.Index(fields=["day"], name="siteday_day")]

    def __str__(self) -> str:
        return f"{self.site_id} {self.day}"

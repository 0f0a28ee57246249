"""The program, its budget lines, its priority villages and their lifecycle history."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from linda.domain.lifecycle import Stage

STAGE_LABELS = {
    Stage.BLANKSPOT: _("blankspot"),
    Stage.PLANNED: _("direncanakan"),
    Stage.SURVEYED: _("disurvei"),
    Stage.INSTALLED: _("terpasang"),
    Stage.ACTIVE: _("aktif"),
    Stage.SUSPENDED: _("ditangguhkan"),
    Stage.DECOMMISSIONED: _("dibongkar"),
}
STAGE_CHOICES = [(stage.value, STAGE_LABELS[stage]) for stage in Stage]


class Program(models.Model):
    name = models.CharField(_("nama"), max_length=200, unique=True)
    owner_office = models.CharField(_("instansi pemilik"), max_length=200)
    regency = models.ForeignKey(
        "registry.Region", verbose_name=_("kabupaten"), on_delete=models.PROTECT,
        related_name="programs",
    )
    target_date = models.DateField(_("tanggal target"))
    is_demo = models.BooleanField(_("data demo"), default=False)

    class Meta:
        ordering = ["name"]
        verbose_name = _("program")
        verbose_name_plural = _("program")

    def __str__(self) -> str:
        return self.name


class BudgetLine(models.Model):
    program = models.ForeignKey(
        Program, verbose_name=_("program"), on_delete=models.PROTECT, related_name="budget_lines"
    )
    code = models.CharField(_("kode"), max_length=40)
    name = models.CharField(_("nama"), max_length=200, blank=True)
    year = models.PositiveIntegerField(_("tahun"))
    amount_idr = models.PositiveBigIntegerField(_("pagu (Rp)"), null=True, blank=True)

    class Meta:
        ordering = ["program", "year", "code"]
        verbose_name = _("mata anggaran")
        verbose_name_plural = _("mata anggaran")
        constraints = [
            models.UniqueConstraint(fields=["program", "code"], name="budget_line_unique_code"),
        ]

    def __str__(self) -> str:
        return self.code


class PriorityVillage(models.Model):
    """A village the program will connect, with its current stage (derived from history)."""

    program = models.ForeignKey(
        Program, verbose_name=_("program"), on_delete=models.PROTECT,
        related_name="priority_villages",
    )
    village = models.ForeignKey(
        "registry.Region", verbose_name=_("desa/kelurahan"), on_delete=models.PROTECT,
        related_name="priorities",
    )
    stage = models.CharField(
        _("tahap"), max_length=16, choices=STAGE_CHOICES, default=Stage.BLANKSPOT.value
    )
    stage_since = models.DateField(_("sejak"))
    budget_line = models.ForeignKey(
        BudgetLine, verbose_name=_("mata anggaran"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="villages",
    )
    bast_number = models.CharField(_("nomor BAST"), max_length=80, blank=True)
    bast_date = models.DateField(_("tanggal BAST"), null=True, blank=True)

    class Meta:
        ordering = ["program", "village__code"]
        verbose_name = _("desa prioritas")
        verbose_name_plural = _("desa prioritas")
        constraints = [
            models.UniqueConstraint(fields=["program", "village"], name="priority_unique_village"),
        ]

    def __str__(self) -> str:
        return f"{self.village.name} ({self.stage})"


class StageTransition(models.Model):
    """One dated, attributed move in a priority village's lifecycle. Append-only."""

    priority_village = models.ForeignKey(
        PriorityVillage, verbose_name=_("desa prioritas"), on_delete=models.PROTECT,
        related_name="transitions",
    )
    from_stage = models.CharField(_("dari"), max_length=16, choices=STAGE_CHOICES)
    to_stage = models.CharField(_("ke"), max_length=16, choices=STAGE_CHOICES)
    effective_on = models.DateField(_("tanggal"))
    recorded_at = models.DateTimeField(_("dicatat"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("oleh"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )
    actor_username = models.CharField(_("nama pengguna"), max_length=150)
    budget_line = models.ForeignKey(
        BudgetLine, verbose_name=_("mata anggaran"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="+",
    )
    bast_number = models.CharField(_("nomor BAST"), max_length=80, blank=True)
    bast_date = models.DateField(_("tanggal BAST"), null=True, blank=True)
    note = models.CharField(_("catatan"), max_length=500, blank=True)

    class Meta:
        ordering = ["priority_village", "effective_on", "id"]
        verbose_name = _("perpindahan tahap")
        verbose_name_plural = _("riwayat tahap")

    def __str__(self) -> str:
        return f"{self.priority_village.village.name}: {self.from_stage} → {self.to_stage}"

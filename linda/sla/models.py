"""SLA records: operators' corrections of outage attribution, and stored monthly reports.

Both are append-only. Writes go through `linda.sla.services`; reads through
`linda.sla.selectors`. The figures themselves are never stored row by row: they are computed
from the status intervals (the record of truth) and frozen, with their hash, in a report.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from linda.domain.attribution import Cause
from linda.registry.models import Contract, ContractTerms, Region, Responsibility, Site


class CauseChoice(models.TextChoices):
    """The probable causes of decision 5 (values are `linda.domain.attribution.Cause`)."""

    POWER = Cause.POWER.value, _("listrik")
    LINK = Cause.LINK.value, _("tautan")
    UPSTREAM = Cause.UPSTREAM.value, _("hulu (insiden massal)")
    UNKNOWN = Cause.UNKNOWN.value, _("tidak diketahui")


class OutageOverride(models.Model):
    """An operator's correction of one outage's cause and/or responsibility, with a reason.

    The outage is named by its site and its start on the continuous timeline. Appended, never
    edited: the latest override of an outage applies, the earlier ones stay as history.
    """

    site = models.ForeignKey(
        Site, verbose_name=_("situs"), on_delete=models.PROTECT, related_name="outage_overrides"
    )
    outage_start = models.DateTimeField(_("awal gangguan"))
    cause = models.CharField(
        _("penyebab"), max_length=16, choices=CauseChoice.choices, blank=True
    )
    responsibility = models.CharField(
        _("penanggung jawab"), max_length=16, choices=Responsibility.choices, blank=True
    )
    reason = models.CharField(_("alasan"), max_length=500)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("pembuat"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )
    author_username = models.CharField(_("nama pengguna"), max_length=150)
    created_at = models.DateTimeField(_("dibuat"))

    class Meta:
        ordering = ["site", "outage_start", "created_at", "id"]
        verbose_name = _("koreksi gangguan")
        verbose_name_plural = _("koreksi gangguan")
        indexes = [
            models.Index(fields=["site", "outage_start"], name="override_site_outage"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(cause="") | ~Q(responsibility=""),
                name="override_sets_cause_or_responsibility",
            ),
            models.CheckConstraint(condition=~Q(reason=""), name="override_has_reason"),
        ]

    def __str__(self) -> str:
        what = "/".join(v for v in (self.cause, self.responsibility) if v)
        return f"{self.site.code} {self.outage_start:%Y-%m-%d %H:%M:%S}: {what}"


class SlaReport(models.Model):
    """One generation of a contract's (or one kecamatan's) monthly SLA report.

    `content_json` is the canonical JSON of every figure (sorted keys, no floats);
    `content_sha256` its SHA-256, so a regeneration can be verified bit for bit. The latest
    generation of a (contract, kecamatan, month) is the current one.
    """

    contract = models.ForeignKey(
        Contract, verbose_name=_("kontrak"), on_delete=models.PROTECT, related_name="sla_reports"
    )
    kecamatan = models.ForeignKey(
        Region, verbose_name=_("kecamatan"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="sla_reports", limit_choices_to={"level": "district"},
    )
    month = models.DateField(_("bulan"), help_text=_("hari pertama bulan (WIB)"))
    terms = models.ForeignKey(
        ContractTerms, verbose_name=_("ketentuan kontrak"), on_delete=models.PROTECT,
        related_name="sla_reports",
    )
    rule_version = models.CharField(_("versi aturan"), max_length=200)
    generated_at = models.DateTimeField(_("dibuat"))
    generated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("pembuat"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )
    generated_by_username = models.CharField(_("nama pengguna"), max_length=150)
    is_final = models.BooleanField(
        _("final"), help_text=_("dibuat setelah masa tunggu bukti sesudah akhir bulan")
    )
    manual_signoff_required = models.BooleanField(_("perlu persetujuan manual"))
    site_count = models.PositiveIntegerField(_("jumlah situs"))
    fee_due_idr = models.PositiveBigIntegerField(_("biaya terutang (Rp)"))
    restitution_idr = models.PositiveBigIntegerField(_("restitusi (Rp)"))
    payable_idr = models.PositiveBigIntegerField(_("dibayar (Rp)"))
    content_json = models.TextField(_("isi (JSON kanonik)"))
    content_sha256 = models.CharField(_("SHA-256 isi"), max_length=64)

    class Meta:
        ordering = ["-generated_at", "-id"]
        verbose_name = _("laporan SLA")
        verbose_name_plural = _("laporan SLA")
        indexes = [
            models.Index(fields=["contract", "month"], name="slareport_contract_month"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(payable_idr=models.F("fee_due_idr") - models.F("restitution_idr")),
                name="slareport_payable_is_fee_minus_restitution",
            ),
        ]

    def __str__(self) -> str:
        scope = f" {self.kecamatan.name}" if self.kecamatan_id and self.kecamatan else ""
        return f"SLA {self.contract.number}{scope} {self.month:%Y-%m}"

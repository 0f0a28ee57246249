"""The official registry: regions, sites, equipment, vendors and contracts."""

from __future__ import annotations

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

REGION_CODE_VALIDATOR = RegexValidator(
    r"^\d{2}(\.\d{2}(\.\d{2}(\.\d{4})?)?)?$",
    _("Kode wilayah Kemendagri harus berbentuk 62, 62.05, 62.05.05 atau 62.05.05.2011."),
)


BOTH_OR_NEITHER_COORDINATE = (Q(latitude__isnull=True) & Q(longitude__isnull=True)) | (
    Q(latitude__isnull=False) & Q(longitude__isnull=False)
)


class RegionLevel(models.TextChoices):
    PROVINCE = "province", _("provinsi")
    REGENCY = "regency", _("kabupaten/kota")
    DISTRICT = "district", _("kecamatan")
    DESA = "desa", _("desa")
    KELURAHAN = "kelurahan", _("kelurahan")


VILLAGE_LEVELS = (RegionLevel.DESA, RegionLevel.KELURAHAN)
LEVEL_DEPTH = {
    RegionLevel.PROVINCE: 1,
    RegionLevel.REGENCY: 2,
    RegionLevel.DISTRICT: 3,
    RegionLevel.DESA: 4,
    RegionLevel.KELURAHAN: 4,
}


class Region(models.Model):
    """A Kemendagri administrative unit: province, regency, kecamatan or village."""

    code = models.CharField(
        _("kode"), max_length=13, unique=True, validators=[REGION_CODE_VALIDATOR]
    )
    parent = models.ForeignKey(
        "self", verbose_name=_("induk"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="children",
    )
    level = models.CharField(_("tingkat"), max_length=16, choices=RegionLevel.choices)
    name = models.CharField(_("nama"), max_length=120)
    latitude = models.DecimalField(
        _("lintang"), max_digits=9, decimal_places=6, null=True, blank=True,
        validators=[MinValueValidator(Decimal(-90)), MaxValueValidator(Decimal(90))],
    )
    longitude = models.DecimalField(
        _("bujur"), max_digits=9, decimal_places=6, null=True, blank=True,
        validators=[MinValueValidator(Decimal(-180)), MaxValueValidator(Decimal(180))],
    )

    class Meta:
        ordering = ["code"]
        verbose_name = _("wilayah")
        verbose_name_plural = _("wilayah")
        constraints = [
            models.CheckConstraint(
                condition=BOTH_OR_NEITHER_COORDINATE,
                name="region_coordinates_both_or_neither",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def is_village(self) -> bool:
        return self.level in VILLAGE_LEVELS


class Vendor(models.Model):
    name = models.CharField(_("nama"), max_length=120, unique=True)
    contact_email = models.EmailField(_("e-mail kontak"), blank=True)
    contact_phone = models.CharField(_("telepon kontak"), max_length=32, blank=True)
    is_demo = models.BooleanField(_("data demo"), default=False)

    class Meta:
        ordering = ["name"]
        verbose_name = _("vendor")
        verbose_name_plural = _("vendor")

    def __str__(self) -> str:
        return self.name


class Technology(models.TextChoices):
    VSAT = "vsat", _("VSAT")
    RADIO = "radio", _("radio")
    FIBER = "fiber", _("serat optik")
    CELLULAR = "cellular", _("seluler")


class PowerProfile(models.TextChoices):
    PLN_24H = "pln_24h", _("PLN 24 jam")
    PLN_PARTIAL = "pln_partial", _("PLN sebagian")
    OFF_GRID = "off_grid", _("tanpa PLN")


class BatteryChemistry(models.TextChoices):
    LFP = "lfp", _("LiFePO4")
    LEAD_ACID = "lead_acid", _("aki timbal (VRLA)")


class Site(models.Model):
    """One installation in a village, usually the village office."""

    code = models.SlugField(_("kode situs"), max_length=40, unique=True)
    village = models.ForeignKey(
        Region, verbose_name=_("desa/kelurahan"), on_delete=models.PROTECT, related_name="sites",
        limit_choices_to={"level__in": VILLAGE_LEVELS},
    )
    name = models.CharField(_("nama"), max_length=120, default="Kantor Desa")
    latitude = models.DecimalField(
        _("lintang"), max_digits=9, decimal_places=6, null=True, blank=True,
        validators=[MinValueValidator(Decimal(-90)), MaxValueValidator(Decimal(90))],
    )
    longitude = models.DecimalField(
        _("bujur"), max_digits=9, decimal_places=6, null=True, blank=True,
        validators=[MinValueValidator(Decimal(-180)), MaxValueValidator(Decimal(180))],
    )
    technology = models.CharField(
        _("teknologi"), max_length=16, choices=Technology.choices, default=Technology.VSAT
    )
    bandwidth_down_mbps = models.DecimalField(
        _("bandwidth unduh (Mbps)"), max_digits=8, decimal_places=2, default=Decimal(10),
        validators=[MinValueValidator(Decimal(0))],
    )
    bandwidth_up_mbps = models.DecimalField(
        _("bandwidth unggah (Mbps)"), max_digits=8, decimal_places=2, default=Decimal(2),
        validators=[MinValueValidator(Decimal(0))],
    )
    power_profile = models.CharField(
        _("profil daya"), max_length=16, choices=PowerProfile.choices,
        default=PowerProfile.PLN_24H,
    )
    pln_on_from = models.TimeField(_("PLN menyala dari (WIB)"), null=True, blank=True)
    pln_on_until = models.TimeField(_("PLN menyala sampai (WIB)"), null=True, blank=True)
    solar_pv_wp = models.PositiveIntegerField(_("panel surya (Wp)"), null=True, blank=True)
    battery_wh = models.PositiveIntegerField(_("baterai (Wh)"), null=True, blank=True)
    battery_chemistry = models.CharField(
        _("jenis baterai"), max_length=16, choices=BatteryChemistry.choices, blank=True
    )
    expected_interval_s = models.PositiveIntegerField(
        _("interval heartbeat (detik)"), default=60, validators=[MinValueValidator(10)]
    )
    grace_s = models.PositiveIntegerField(
        _("toleransi (detik)"), default=180, validators=[MinValueValidator(0)]
    )
    is_demo = models.BooleanField(_("data demo"), default=False)

    class Meta:
        ordering = ["code"]
        verbose_name = _("situs")
        verbose_name_plural = _("situs")
        constraints = [
            models.CheckConstraint(
                condition=BOTH_OR_NEITHER_COORDINATE,
                name="site_coordinates_both_or_neither",
            ),
            models.CheckConstraint(
                condition=~Q(power_profile="pln_partial")
                | (Q(pln_on_from__isnull=False) & Q(pln_on_until__isnull=False)),
                name="site_partial_pln_has_hours",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} ({self.name}, {self.village.name})"


class EquipmentType(models.TextChoices):
    ROUTER = "router", _("router")
    VSAT_MODEM = "vsat_modem", _("modem VSAT")
    ANTENNA = "antenna", _("antena")
    ACCESS_POINT = "access_point", _("access point")
    SOLAR_PANEL = "solar_panel", _("panel surya")
    CHARGE_CONTROLLER = "charge_controller", _("solar charge controller")
    BATTERY = "battery", _("baterai")
    INVERTER = "inverter", _("inverter")
    OTHER = "other", _("lainnya")


class Equipment(models.Model):
    site = models.ForeignKey(
        Site, verbose_name=_("situs"), on_delete=models.PROTECT, related_name="equipment"
    )
    type = models.CharField(_("jenis"), max_length=24, choices=EquipmentType.choices)
    model = models.CharField(_("model"), max_length=120)
    serial = models.CharField(_("nomor seri"), max_length=120, blank=True)
    installed_on = models.DateField(_("tanggal pasang"), null=True, blank=True)

    class Meta:
        ordering = ["site__code", "type", "id"]
        verbose_name = _("perangkat")
        verbose_name_plural = _("perangkat")
        constraints = [
            models.UniqueConstraint(
                fields=["type", "serial"], condition=~Q(serial=""), name="equipment_unique_serial"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_type_display()} {self.model} {self.serial}".strip()


class Contract(models.Model):
    """A vendor's contract for a set of sites; its money terms live in versioned rules."""

    vendor = models.ForeignKey(
        Vendor, verbose_name=_("vendor"), on_delete=models.PROTECT, related_name="contracts"
    )
    number = models.CharField(_("nomor kontrak"), max_length=80, unique=True)
    title = models.CharField(_("judul"), max_length=200, blank=True)
    starts_on = models.DateField(_("mulai"))
    ends_on = models.DateField(_("berakhir"))
    sites = models.ManyToManyField(
        Site, verbose_name=_("situs"), related_name="contracts", blank=True
    )
    is_demo = models.BooleanField(_("data demo"), default=False)

    class Meta:
        ordering = ["number"]
        verbose_name = _("kontrak")
        verbose_name_plural = _("kontrak")
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gte=models.F("starts_on")), name="contract_period_ordered"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} ({self.vendor.name})"


class Responsibility(models.TextChoices):
    VENDOR = "vendor", _("vendor")
    REGENCY = "regency", _("pemerintah kabupaten")
    FORCE_MAJEURE = "force_majeure", _("keadaan kahar")


class RestitutionKind(models.TextChoices):
    TIERED = "tiered", _("berjenjang")
    PROPORTIONAL = "proportional", _("proporsional")


class ContractTerms(models.Model):
    """One version of a contract's money rules. Versions are appended, never edited.

    `restitution_tiers` is a list of {"min_availability_pct": "98", "deduct_pct": "0"};
    `allowance_pct` is the share of the window the proportional rule forgives.
    """

    contract = models.ForeignKey(
        Contract, verbose_name=_("kontrak"), on_delete=models.PROTECT, related_name="terms"
    )
    version = models.PositiveIntegerField(_("versi"))
    effective_from = models.DateField(_("berlaku sejak"))
    monthly_fee_idr = models.PositiveBigIntegerField(_("biaya bulanan per situs (Rp)"))
    sla_target_pct = models.DecimalField(
        _("target SLA (%)"), max_digits=6, decimal_places=3,
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(100))],
    )
    power_outage_responsibility = models.CharField(
        _("penanggung jawab gangguan listrik"), max_length=16, choices=Responsibility.choices,
        default=Responsibility.REGENCY,
    )
    restitution_kind = models.CharField(
        _("aturan restitusi"), max_length=16, choices=RestitutionKind.choices
    )
    restitution_tiers = models.JSONField(_("jenjang restitusi"), default=list, blank=True)
    allowance_pct = models.DecimalField(
        _("toleransi gangguan (%)"), max_digits=6, decimal_places=3, null=True, blank=True,
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(100))],
    )
    loss_threshold_pct = models.DecimalField(
        _("ambang packet loss (%)"), max_digits=5, decimal_places=2, default=Decimal(5)
    )
    rtt_threshold_ms = models.PositiveIntegerField(_("ambang latensi (ms)"), default=1500)
    created_at = models.DateTimeField(_("dibuat"), auto_now_add=True)

    class Meta:
        ordering = ["contract", "version"]
        verbose_name = _("ketentuan kontrak")
        verbose_name_plural = _("ketentuan kontrak")
        constraints = [
            models.UniqueConstraint(fields=["contract", "version"], name="terms_unique_version"),
            models.UniqueConstraint(
                fields=["contract", "effective_from"], name="terms_unique_effective_from"
            ),
            models.CheckConstraint(
                condition=~Q(restitution_kind="proportional") | Q(allowance_pct__isnull=False),
                name="terms_proportional_has_allowance",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.contract.number} v{self.version}"

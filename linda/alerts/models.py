"""Alerts: channels (Apprise URLs), routing rules, the monitor's status-change events, incidents,
notifications and their delivery attempts.

The flow, all of it durable: `AlertEvent` (written by the monitor through
`services.record_status_change`) → `Incident` (grouping, flapping, maintenance and coverage
decided by the planner) → `Notification` (one per channel, stored before it is sent) →
`DeliveryAttempt` (one per try). Writes go through `linda.alerts.services`, the planner and the
delivery module; reads through `linda.alerts.selectors`.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from linda.accounts.models import Role
from linda.domain.alerting import Kind, Severity, mask_url
from linda.registry.models import Contract, Region, RegionLevel, Site, Vendor


class Language(models.TextChoices):
    ID = "id", _("Bahasa Indonesia")
    EN = "en", _("English")


class Channel(models.Model):
    """Where messages go: one Apprise URL (a Telegram group or forum topic, a WhatsApp number,
    an e-mail list, a webhook…). A secret may be kept out of the database as `{env:NAME}`;
    the URL is only ever shown masked."""

    name = models.CharField(_("nama"), max_length=120, unique=True)
    url = models.TextField(_("URL Apprise"))
    language = models.CharField(
        _("bahasa"), max_length=2, choices=Language.choices, default=Language.ID
    )
    resend_in_doubt = models.BooleanField(
        _("kirim ulang bila tidak pasti (at-least-once)"), default=False,
        help_text=_("Hanya untuk penerima yang membuang duplikat menurut "
                    "header X-Linda-Notification (webhook sendiri)."),
    )
    is_active = models.BooleanField(_("aktif"), default=True)
    created_at = models.DateTimeField(_("dibuat"), auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("kanal")
        verbose_name_plural = _("kanal")

    def __str__(self) -> str:
        return self.name

    @property
    def masked_url(self) -> str:
        return mask_url(self.url)

    @property
    def scheme(self) -> str:
        return self.url.partition("://")[0].lower()


class AudienceChoice(models.TextChoices):
    """The audiences of `linda.domain.alerting.Audience`, named as the roles they are."""

    ADMIN = Role.ADMIN.value, Role.ADMIN.label
    OPERATOR = Role.OPERATOR.value, Role.OPERATOR.label
    VENDOR = Role.VENDOR.value, Role.VENDOR.label
    VILLAGE_HEAD = Role.VILLAGE_HEAD.value, Role.VILLAGE_HEAD.label
    VIEWER = Role.VIEWER.value, Role.VIEWER.label


class SeverityChoice(models.IntegerChoices):
    INFO = Severity.INFO.value, _("info")
    WARNING = Severity.WARNING.value, _("peringatan")
    CRITICAL = Severity.CRITICAL.value, _("kritis")


class KindChoice(models.TextChoices):
    SITE_DOWN = Kind.SITE_DOWN.value, _("situs mati")
    UPSTREAM = Kind.UPSTREAM.value, _("gangguan hulu vendor")
    FLAPPING = Kind.FLAPPING.value, _("naik-turun (flapping)")
    MONITOR_GAP = Kind.MONITOR_GAP.value, _("pemantauan terputus")
    MONITOR_SUSPECT = Kind.MONITOR_SUSPECT.value, _("pemantau/hulu dicurigai")
    POWER_RISK = Kind.POWER_RISK.value, _("akan padam malam ini")
    SUMMARY = Kind.SUMMARY.value, _("ringkasan harian")


class Rule(models.Model):
    """Who hears about what: an audience (role) with optional scope filters, a channel, and the
    escalation level it belongs to (0 = at once; n > 0 = after `escalate_after_s` without an
    acknowledgement)."""

    name = models.CharField(_("nama"), max_length=120)
    channel = models.ForeignKey(
        Channel, verbose_name=_("kanal"), on_delete=models.PROTECT, related_name="rules"
    )
    audience = models.CharField(_("peran penerima"), max_length=16, choices=AudienceChoice.choices)
    level = models.PositiveSmallIntegerField(_("tingkat eskalasi"), default=0)
    escalate_after_s = models.PositiveIntegerField(
        _("eskalasi setelah (detik tanpa pengakuan)"), default=0
    )
    renotify_every_s = models.PositiveIntegerField(
        _("ingatkan ulang tiap (detik, 0 = tidak)"), default=0
    )
    min_severity = models.PositiveSmallIntegerField(
        _("keparahan minimum"), choices=SeverityChoice.choices, default=SeverityChoice.INFO
    )
    kinds = models.JSONField(
        _("jenis insiden (kosong = semua)"), default=list, blank=True,
        help_text=_('Mis. ["site_down", "upstream"]. Ringkasan harian hanya dikirim bila '
                    'disebut: ["summary"]. "power_risk" = akan padam malam ini.'),
    )
    causes = models.JSONField(_("dugaan penyebab (kosong = semua)"), default=list, blank=True)
    kecamatan = models.ForeignKey(
        Region, verbose_name=_("kecamatan"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="+", limit_choices_to={"level": RegionLevel.DISTRICT},
    )
    village = models.ForeignKey(
        Region, verbose_name=_("desa/kelurahan"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="+",
        limit_choices_to={"level__in": [RegionLevel.DESA, RegionLevel.KELURAHAN]},
    )
    vendor = models.ForeignKey(
        Vendor, verbose_name=_("vendor"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )
    contract = models.ForeignKey(
        Contract, verbose_name=_("kontrak"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )
    is_active = models.BooleanField(_("aktif"), default=True)

    class Meta:
        ordering = ["level", "name"]
        verbose_name = _("aturan rute")
        verbose_name_plural = _("aturan rute")
        constraints = [
            models.CheckConstraint(
                condition=~Q(audience="vendor") | Q(vendor__isnull=False),
                name="alertrule_vendor_has_vendor",
            ),
            models.CheckConstraint(
                condition=~Q(audience="village_head") | Q(village__isnull=False),
                name="alertrule_village_head_has_village",
            ),
            models.CheckConstraint(
                condition=Q(level=0, escalate_after_s=0) | Q(level__gt=0, escalate_after_s__gt=0),
                name="alertrule_escalation_has_delay",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} → {self.channel}"


class EventOutcome(models.TextChoices):
    PENDING = "", _("menunggu")
    OPENED = "opened", _("membuka insiden")
    GROUPED = "grouped", _("digabung ke insiden")
    RECOVERED = "recovered", _("pulih")
    FLAPPING = "flapping", _("ditahan: naik-turun")
    MAINTENANCE = "maintenance", _("ditahan: pemeliharaan")
    MONITOR = "monitor", _("ditahan: gangguan pemantauan")
    IGNORED = "ignored", _("tidak perlu pemberitahuan")


class AlertEvent(models.Model):
    """A site's live state changed (as reported by the monitor). Appended, never edited except
    to record how the planner handled it."""

    site = models.ForeignKey(
        Site, verbose_name=_("situs"), on_delete=models.PROTECT, related_name="alert_events"
    )
    old_state = models.CharField(_("status lama"), max_length=8)
    new_state = models.CharField(_("status baru"), max_length=8)
    at = models.DateTimeField(_("sejak"))
    cause_hint = models.CharField(_("petunjuk penyebab"), max_length=40, blank=True)
    recorded_at = models.DateTimeField(_("dicatat"))
    processed_at = models.DateTimeField(_("diproses"), null=True, blank=True)
    outcome = models.CharField(
        _("hasil"), max_length=12, choices=EventOutcome.choices, blank=True
    )
    incident = models.ForeignKey(
        "Incident", verbose_name=_("insiden"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="events",
    )

    class Meta:
        ordering = ["at", "pk"]
        verbose_name = _("peristiwa status")
        verbose_name_plural = _("peristiwa status")
        indexes = [
            models.Index(fields=["processed_at", "at"], name="alertevent_pending"),
            models.Index(fields=["new_state", "at"], name="alertevent_state_at"),
            models.Index(fields=["site", "at"], name="alertevent_site_at"),
        ]

    def __str__(self) -> str:
        return f"{self.site_id}: {self.old_state} → {self.new_state} @ {self.at:%Y-%m-%d %H:%M:%S}"


class Incident(models.Model):
    """What people are told about, acknowledge, and escalate: one site down, one vendor's
    upstream outage, one flapping site, or the monitor's own trouble."""

    kind = models.CharField(_("jenis"), max_length=16, choices=KindChoice.choices)
    severity = models.PositiveSmallIntegerField(_("keparahan"), choices=SeverityChoice.choices)
    cause = models.CharField(_("dugaan penyebab"), max_length=40, default="unknown")
    vendor = models.ForeignKey(
        Vendor, verbose_name=_("vendor"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )
    key = models.CharField(_("kunci unik"), max_length=80, unique=True, null=True, blank=True)
    opened_at = models.DateTimeField(_("mulai"))
    closed_at = models.DateTimeField(_("selesai"), null=True, blank=True)
    last_change_at = models.DateTimeField(_("perubahan terakhir"))
    announced_at = models.DateTimeField(_("pertama dikabarkan"), null=True, blank=True)
    announced_size = models.PositiveIntegerField(_("jumlah situs saat terakhir dikabarkan"),
                                                 default=0)
    last_update_at = models.DateTimeField(_("pembaruan terakhir dikabarkan"), null=True,
                                          blank=True)
    acknowledged_at = models.DateTimeField(_("diakui"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("diakui oleh"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="+",
    )
    acknowledged_name = models.CharField(_("nama yang mengakui"), max_length=120, blank=True)
    ack_token = models.CharField(_("token pengakuan"), max_length=64, unique=True)

    class Meta:
        ordering = ["-opened_at"]
        verbose_name = _("insiden")
        verbose_name_plural = _("insiden")
        indexes = [models.Index(fields=["kind", "closed_at"], name="incident_kind_open")]
        constraints = [
            models.CheckConstraint(
                condition=Q(closed_at__isnull=True) | Q(closed_at__gte=models.F("opened_at")),
                name="incident_closed_after_opened",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_kind_display()} {self.opened_at:%Y-%m-%d %H:%M}"

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


class IncidentSite(models.Model):
    """A site swept into an incident: when it went down, and when it came back."""

    incident = models.ForeignKey(
        Incident, verbose_name=_("insiden"), on_delete=models.CASCADE, related_name="members"
    )
    site = models.ForeignKey(
        Site, verbose_name=_("situs"), on_delete=models.PROTECT, related_name="+"
    )
    down_at = models.DateTimeField(_("mati sejak"))
    recovered_at = models.DateTimeField(_("pulih"), null=True, blank=True)

    class Meta:
        ordering = ["incident", "down_at", "site"]
        verbose_name = _("situs insiden")
        verbose_name_plural = _("situs insiden")
        constraints = [
            models.UniqueConstraint(fields=["incident", "site"], name="incidentsite_unique"),
        ]

    def __str__(self) -> str:
        return f"#{self.incident_id} {self.site_id}"


class NotificationStatus(models.TextChoices):
    PENDING = "pending", _("menunggu")
    SENDING = "sending", _("sedang dikirim")
    SENT = "sent", _("terkirim")
    IN_DOUBT = "in_doubt", _("tidak pasti (pekerja berhenti saat mengirim)")
    FAILED = "failed", _("gagal")


class NotificationKind(models.TextChoices):
    OPEN = "open", _("pembukaan")
    UPDATE = "update", _("pembaruan")
    CLOSE = "close", _("pemulihan")
    ESCALATE = "escalate", _("eskalasi")
    REMIND = "remind", _("pengingat")
    TEST = "test", _("uji kanal")
    SUMMARY = Kind.SUMMARY.value, _("ringkasan harian")
    POWER_RISK = Kind.POWER_RISK.value, _("akan padam malam ini")


class Notification(models.Model):
    """One message to one channel, stored before it is sent. `dedupe_key` makes creating it
    idempotent; the claim (`status` pending → sending with `claim_token`) makes sending it
    single-handed."""

    incident = models.ForeignKey(
        Incident, verbose_name=_("insiden"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="notifications",
    )
    rule = models.ForeignKey(
        Rule, verbose_name=_("aturan"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="notifications",
    )
    channel = models.ForeignKey(
        Channel, verbose_name=_("kanal"), on_delete=models.PROTECT, related_name="notifications"
    )
    kind = models.CharField(_("jenis"), max_length=16, choices=NotificationKind.choices)
    level = models.PositiveSmallIntegerField(_("tingkat"), default=0)
    dedupe_key = models.CharField(_("kunci duplikat"), max_length=120, unique=True)
    title = models.CharField(_("judul"), max_length=250)
    body = models.TextField(_("isi"))
    notify_type = models.CharField(_("tipe Apprise"), max_length=8, default="info")
    created_at = models.DateTimeField(_("dibuat"))
    status = models.CharField(
        _("status"), max_length=8, choices=NotificationStatus.choices,
        default=NotificationStatus.PENDING,
    )
    next_attempt_at = models.DateTimeField(_("coba berikutnya"))
    attempts = models.PositiveSmallIntegerField(_("percobaan"), default=0)
    claim_token = models.CharField(_("token klaim"), max_length=32, blank=True)
    claimed_at = models.DateTimeField(_("diklaim"), null=True, blank=True)
    sent_at = models.DateTimeField(_("terkirim"), null=True, blank=True)
    last_error = models.TextField(_("galat terakhir"), blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("notifikasi")
        verbose_name_plural = _("notifikasi")
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="notification_due"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="sending") | (~Q(claim_token="") & Q(claimed_at__isnull=False)),
                name="notification_sending_is_claimed",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} → {self.channel_id}"


class AttemptOutcome(models.TextChoices):
    STARTED = "started", _("dimulai")
    OK = "ok", _("berhasil")
    ERROR = "error", _("gagal")
    IN_DOUBT = "in_doubt", _("tidak pasti")


class DeliveryAttempt(models.Model):
    """One try at sending a notification: written before the network call, finished after."""

    notification = models.ForeignKey(
        Notification, verbose_name=_("notifikasi"), on_delete=models.CASCADE,
        related_name="attempts_log",
    )
    number = models.PositiveSmallIntegerField(_("ke-"))
    claim_token = models.CharField(_("token klaim"), max_length=32)
    worker = models.CharField(_("pekerja"), max_length=80)
    started_at = models.DateTimeField(_("mulai"))
    finished_at = models.DateTimeField(_("selesai"), null=True, blank=True)
    outcome = models.CharField(
        _("hasil"), max_length=8, choices=AttemptOutcome.choices, default=AttemptOutcome.STARTED
    )
    error = models.TextField(_("galat"), blank=True)

    class Meta:
        ordering = ["notification", "number"]
        verbose_name = _("percobaan kirim")
        verbose_name_plural = _("log pengiriman")
        constraints = [
            models.UniqueConstraint(fields=["notification", "number"],
                                    name="deliveryattempt_unique_number"),
        ]

    def __str__(self) -> str:
        return f"{self.notification_id}#{self.number} {self.outcome}"


class PlannerState(models.Model):
    """The single planner's lease (several workers may run; one plans at a time), how far
    it has read the monitor's coverage marks, and when it last forecast the batteries."""

    name = models.CharField(max_length=32, primary_key=True)
    holder = models.CharField(max_length=80, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    coverage_checked_at = models.DateTimeField(null=True, blank=True)
    power_risk_checked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("status perencana")
        verbose_name_plural = _("status perencana")

    def __str__(self) -> str:
        return f"{self.name}: {self.holder}"

"""Monitoring: site keys, raw heartbeats, live state, the coverage ledger and the SLA record.

Writes go through `linda.monitoring.services`; reads through `linda.monitoring.selectors`.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from linda.domain.status import State
from linda.registry.models import Contract, Region, Site


class StateChoice(models.TextChoices):
    """The four states of decision 3 (values are `linda.domain.status.State`)."""

    UP = State.UP.value, _("aktif")
    DOWN = State.DOWN.value, _("mati")
    UNKNOWN = State.UNKNOWN.value, _("tidak diketahui")
    EXCLUDED = State.EXCLUDED.value, _("dikecualikan")


class PowerSource(models.TextChoices):
    GRID = "grid", _("PLN")
    SOLAR = "solar", _("surya")
    BATTERY = "battery", _("baterai")


class Channel(models.TextChoices):
    """How a heartbeat reached the server."""

    HB = "hb", _("HTTP /hb/<kunci>")
    API = "api", _("HTTP API JSON")
    MQTT = "mqtt", _("MQTT")
    IMPORT = "import", _("impor historis")
    CHECK = "check", _("pemeriksaan aktif")


class SiteKey(models.Model):
    """A site's intake secret, stored only as its SHA-256; the key itself is shown once."""

    site = models.ForeignKey(
        Site, verbose_name=_("situs"), on_delete=models.PROTECT, related_name="keys"
    )
    key_hash = models.CharField(_("hash kunci (SHA-256)"), max_length=64, unique=True)
    prefix = models.CharField(_("awalan"), max_length=8)
    created_at = models.DateTimeField(_("dibuat"))
    revoked_at = models.DateTimeField(_("dicabut"), null=True, blank=True)

    class Meta:
        ordering = ["site", "-created_at"]
        verbose_name = _("kunci situs")
        verbose_name_plural = _("kunci situs")

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.site.code})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class Heartbeat(models.Model):
    """One raw heartbeat as received. Immutable; `received_at` is the server's clock (UTC).

    `late` marks a store-and-forward upload: evidence for metrics and attribution that never
    counts as reachability (decision 1).
    """

    # No index of its own: heartbeat_site_received (site, received_at) serves every lookup
    # by site, and one index fewer is one less to update per stored heartbeat.
    site = models.ForeignKey(
        Site, verbose_name=_("situs"), on_delete=models.PROTECT, related_name="heartbeats",
        db_index=False,
    )
    received_at = models.DateTimeField(_("diterima (server)"))
    device_at = models.DateTimeField(_("waktu perangkat"), null=True, blank=True)
    channel = models.CharField(_("jalur"), max_length=8, choices=Channel.choices)
    late = models.BooleanField(_("terlambat (simpan-teruskan)"), default=False)
    seq = models.BigIntegerField(_("nomor urut"), null=True, blank=True)
    uptime_s = models.BigIntegerField(_("uptime (detik)"), null=True, blank=True)
    supply_voltage_v = models.FloatField(_("tegangan suplai (V)"), null=True, blank=True)
    battery_voltage_v = models.FloatField(_("tegangan baterai (V)"), null=True, blank=True)
    battery_soc_pct = models.FloatField(_("SoC baterai (%)"), null=True, blank=True)
    power_source = models.CharField(
        _("sumber daya"), max_length=8, choices=PowerSource.choices, blank=True
    )
    lvd = models.BooleanField(_("low-voltage disconnect"), null=True, blank=True)
    temperature_c = models.FloatField(_("suhu (°C)"), null=True, blank=True)
    cpu_load_pct = models.FloatField(_("beban CPU (%)"), null=True, blank=True)
    wan = models.JSONField(_("penghitung WAN"), null=True, blank=True)
    hotspot_users = models.PositiveIntegerField(_("pengguna hotspot"), null=True, blank=True)
    dhcp_leases = models.PositiveIntegerField(_("lease DHCP"), null=True, blank=True)
    rtt_ms = models.FloatField(_("RTT (ms)"), null=True, blank=True)
    loss_pct = models.FloatField(_("packet loss (%)"), null=True, blank=True)

    class Meta:
        ordering = ["site", "received_at"]
        verbose_name = _("heartbeat")
        verbose_name_plural = _("heartbeat")
        indexes = [
            models.Index(fields=["site", "received_at"], name="heartbeat_site_received"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["site", "seq"], condition=Q(seq__isnull=False),
                name="heartbeat_unique_site_seq",
            ),
            models.CheckConstraint(
                condition=Q(loss_pct__isnull=True) | Q(loss_pct__gte=0, loss_pct__lte=100),
                name="heartbeat_loss_pct_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.site_id} @ {self.received_at:%Y-%m-%d %H:%M:%S}"


class CheckKind(models.TextChoices):
    TCP = "tcp", _("TCP connect")
    HTTP = "http", _("HTTP(S) GET")
    ICMP = "icmp", _("ping ICMP")


class CheckTarget(models.Model):
    """An active check of a site with a reachable address (docs/checks.md).

    A successful probe is stored as a `Heartbeat` with channel `check` and its `rtt_ms`; a
    failure stores nothing (absence of success makes DOWN, as for pushed heartbeats) but
    leaves its reason in `last_error`. `next_due_at` is claimed with a conditional UPDATE, so
    several `linda checks` processes never probe one target twice in a round.
    """

    site = models.ForeignKey(
        Site, verbose_name=_("situs"), on_delete=models.PROTECT, related_name="check_targets"
    )
    kind = models.CharField(_("jenis"), max_length=8, choices=CheckKind.choices)
    host = models.CharField(_("host (TCP, ping)"), max_length=253, blank=True)
    port = models.PositiveIntegerField(
        _("port (TCP)"), null=True, blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(65535)],
    )
    url = models.CharField(_("URL (HTTP)"), max_length=500, blank=True)
    expect_status = models.PositiveSmallIntegerField(
        _("status HTTP yang diharapkan"), null=True, blank=True, default=200,
        validators=[MinValueValidator(100), MaxValueValidator(599)],
        help_text=_("Kosongkan untuk menerima status apa pun di bawah 400."),
    )
    interval_s = models.PositiveIntegerField(
        _("interval (detik)"), default=60, validators=[MinValueValidator(10)]
    )
    timeout_ms = models.PositiveIntegerField(
        _("batas waktu (ms)"), default=5000,
        validators=[MinValueValidator(100), MaxValueValidator(60_000)],
    )
    enabled = models.BooleanField(_("aktif"), default=True)
    next_due_at = models.DateTimeField(_("jadwal berikutnya"), null=True, blank=True)
    last_checked_at = models.DateTimeField(_("terakhir diperiksa"), null=True, blank=True)
    last_ok_at = models.DateTimeField(_("terakhir berhasil"), null=True, blank=True)
    last_rtt_ms = models.FloatField(_("RTT terakhir (ms)"), null=True, blank=True)
    last_error = models.CharField(_("galat terakhir"), max_length=300, blank=True)

    class Meta:
        ordering = ["site", "kind", "pk"]
        verbose_name = _("target pemeriksaan")
        verbose_name_plural = _("target pemeriksaan")
        indexes = [
            models.Index(fields=["enabled", "next_due_at"], name="checktarget_due"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(kind="tcp", port__isnull=False) & ~Q(host="")
                    | Q(kind="http") & ~Q(url="")
                    | Q(kind="icmp") & ~Q(host="")
                ),
                name="checktarget_address_for_kind",
            ),
            models.CheckConstraint(
                condition=Q(timeout_ms__lte=F("interval_s") * 1000),
                name="checktarget_timeout_within_interval",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.site_id} {self.kind} {self.address}"

    @property
    def address(self) -> str:
        if self.kind == CheckKind.HTTP:
            return self.url
        if self.kind == CheckKind.TCP:
            return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"
        return self.host

    def clean(self) -> None:
        errors: dict[str, object] = {}
        if self.kind in (CheckKind.TCP, CheckKind.ICMP) and not self.host:
            errors["host"] = _("Wajib untuk pemeriksaan TCP dan ping.")
        if self.kind == CheckKind.TCP and self.port is None:
            errors["port"] = _("Wajib untuk pemeriksaan TCP.")
        if self.kind == CheckKind.HTTP and not self.url.startswith(("http://", "https://")):
            errors["url"] = _("Wajib, diawali http:// atau https://.")
        if self.timeout_ms is not None and self.interval_s is not None \
                and self.timeout_ms > self.interval_s * 1000:
            errors["timeout_ms"] = _("Batas waktu harus lebih pendek dari interval.")
        if errors:
            raise ValidationError(errors)


class SiteState(models.Model):
    """The live view of one site, kept by intake (UP) and the monitor (DOWN, UNKNOWN, EXCLUDED).

    A cache for dashboards and alerts; the SLA record is `StatusInterval`. Every change bumps
    `version`, and writers change a row only if its version is still the one they read.
    """

    site = models.OneToOneField(
        Site, verbose_name=_("situs"), on_delete=models.PROTECT, related_name="monitoring_state",
        primary_key=True,
    )
    activated_at = models.DateTimeField(_("pemantauan mulai"))
    last_live_at = models.DateTimeField(_("heartbeat langsung terakhir"), null=True, blank=True)
    state = models.CharField(
        _("status"), max_length=8, choices=StateChoice.choices, default=StateChoice.UNKNOWN
    )
    state_since = models.DateTimeField(_("sejak"))
    version = models.PositiveBigIntegerField(_("versi"), default=0)
    materialized_until = models.DateTimeField(
        _("interval tersimpan sampai"), null=True, blank=True
    )
    materialized_anchor = models.DateTimeField(
        _("titik hidup terakhir sebelum batas tersimpan"), null=True, blank=True
    )

    class Meta:
        ordering = ["site"]
        verbose_name = _("status situs")
        verbose_name_plural = _("status situs")
        constraints = [
            models.CheckConstraint(
                condition=Q(materialized_until__isnull=True)
                | Q(materialized_anchor__lte=F("materialized_until")),
                name="sitestate_anchor_before_until",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.site_id}: {self.state}"


class CoverageMark(models.Model):
    """"The monitor was alive and the database wrote at `at`" (decision 2)."""

    at = models.DateTimeField(_("waktu"), db_index=True)
    monitor_id = models.CharField(_("monitor"), max_length=64)

    class Meta:
        ordering = ["at"]
        verbose_name = _("tanda cakupan")
        verbose_name_plural = _("tanda cakupan")

    def __str__(self) -> str:
        return f"{self.monitor_id} @ {self.at:%Y-%m-%d %H:%M:%S}"


class StatusInterval(models.Model):
    """The stored SLA record: [start, end) of one site in one state. Appended, never edited."""

    site = models.ForeignKey(
        Site, verbose_name=_("situs"), on_delete=models.PROTECT, related_name="intervals"
    )
    start = models.DateTimeField(_("mulai"))
    end = models.DateTimeField(_("selesai"))
    state = models.CharField(_("status"), max_length=8, choices=StateChoice.choices)
    degraded = models.BooleanField(_("kualitas turun"), default=False)
    source = models.CharField(_("sumber"), max_length=8, default="live",
                              choices=[("live", _("pemantauan langsung")),
                                       ("import", _("impor historis"))])

    class Meta:
        ordering = ["site", "start"]
        verbose_name = _("interval status")
        verbose_name_plural = _("interval status")
        constraints = [
            models.UniqueConstraint(fields=["site", "start"], name="interval_unique_start"),
            models.CheckConstraint(condition=Q(end__gt=F("start")), name="interval_ordered"),
            models.CheckConstraint(
                condition=Q(degraded=False) | Q(state=StateChoice.UP),
                name="interval_only_up_degraded",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.site_id} {self.state} {self.start:%Y-%m-%d %H:%M:%S} to {self.end:%H:%M:%S}"


class MaintenanceWindow(models.Model):
    """Scheduled maintenance or declared force majeure: EXCLUDED time for one site, every site
    of a kecamatan, or every site of a contract."""

    site = models.ForeignKey(
        Site, verbose_name=_("situs"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="maintenance_windows",
    )
    kecamatan = models.ForeignKey(
        Region, verbose_name=_("kecamatan"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="maintenance_windows", limit_choices_to={"level": "district"},
    )
    contract = models.ForeignKey(
        Contract, verbose_name=_("kontrak"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="maintenance_windows",
    )
    start = models.DateTimeField(_("mulai"))
    end = models.DateTimeField(_("selesai"))
    reason = models.CharField(_("alasan"), max_length=300)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("pembuat"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="+",
    )
    created_at = models.DateTimeField(_("dibuat"), auto_now_add=True)

    class Meta:
        ordering = ["-start"]
        verbose_name = _("jendela pemeliharaan")
        verbose_name_plural = _("jendela pemeliharaan")
        constraints = [
            models.CheckConstraint(condition=Q(end__gt=F("start")), name="maintenance_ordered"),
            models.CheckConstraint(
                condition=(
                    Q(site__isnull=False, kecamatan__isnull=True, contract__isnull=True)
                    | Q(site__isnull=True, kecamatan__isnull=False, contract__isnull=True)
                    | Q(site__isnull=True, kecamatan__isnull=True, contract__isnull=False)
                ),
                name="maintenance_exactly_one_scope",
            ),
        ]

    def __str__(self) -> str:
        scope = self.site or self.kecamatan or self.contract
        return f"{scope}: {self.start:%Y-%m-%d %H:%M} to {self.end:%Y-%m-%d %H:%M} {self.reason}"


# --- metrics retention and roll-ups (docs/devices.md, "Retention and roll-ups") --------------


class MetricRollup(models.Model):
    """One site's heartbeat metrics over one bucket [bucket_start, bucket_start + size), by
    measurement time (device time, else receive time). Written only by
    `linda.monitoring.retention`.

    Averages come with the number of samples behind them (`*_n`) so buckets merge exactly.
    `rx_bytes`/`tx_bytes` sum the WAN counter increases of the beats in the bucket (each beat
    against the one before it; after a counter reset the new value counts), and `wan_span_s`
    is the time those increases cover, so `rx_bytes * 8 / wan_span_s` is the mean bit rate.
    """

    site = models.ForeignKey(Site, verbose_name=_("situs"), on_delete=models.CASCADE,
                             related_name="+")
    bucket_start = models.DateTimeField(_("awal ember (UTC)"))
    count = models.PositiveIntegerField(_("jumlah heartbeat"))
    rtt_n = models.PositiveIntegerField(_("sampel RTT"), default=0)
    rtt_min_ms = models.FloatField(_("RTT min (ms)"), null=True, blank=True)
    rtt_avg_ms = models.FloatField(_("RTT rata-rata (ms)"), null=True, blank=True)
    rtt_max_ms = models.FloatField(_("RTT maks (ms)"), null=True, blank=True)
    loss_n = models.PositiveIntegerField(_("sampel loss"), default=0)
    loss_avg_pct = models.FloatField(_("loss rata-rata (%)"), null=True, blank=True)
    loss_max_pct = models.FloatField(_("loss maks (%)"), null=True, blank=True)
    battery_n = models.PositiveIntegerField(_("sampel tegangan baterai"), default=0)
    battery_min_v = models.FloatField(_("tegangan baterai min (V)"), null=True, blank=True)
    battery_avg_v = models.FloatField(_("tegangan baterai rata-rata (V)"), null=True,
                                      blank=True)
    soc_n = models.PositiveIntegerField(_("sampel SoC"), default=0)
    battery_soc_min_pct = models.FloatField(_("SoC min (%)"), null=True, blank=True)
    battery_soc_avg_pct = models.FloatField(_("SoC rata-rata (%)"), null=True, blank=True)
    rx_bytes = models.BigIntegerField(_("WAN diterima (byte)"), default=0)
    tx_bytes = models.BigIntegerField(_("WAN dikirim (byte)"), default=0)
    wan_span_s = models.FloatField(_("rentang penghitung WAN (detik)"), default=0)
    hotspot_users_max = models.PositiveIntegerField(_("pengguna hotspot maks"), null=True,
                                                    blank=True)

    class Meta:
        abstract = True
        ordering = ["site", "bucket_start"]

    def __str__(self) -> str:
        return f"{self.site_id} @ {self.bucket_start:%Y-%m-%d %H:%M}"


class MetricRollup5m(MetricRollup):
    """Five-minute roll-up, kept LINDA_ROLLUP_5M_RETENTION_DAYS. `wan_last`/`wan_last_at` are
    the site's latest WAN counters as of the bucket's end (carried over from earlier buckets),
    the starting point for the next bucket's increases."""

    wan_last = models.JSONField(_("penghitung WAN terakhir"), null=True, blank=True)
    wan_last_at = models.DateTimeField(_("waktu penghitung WAN terakhir"), null=True,
                                       blank=True)

    class Meta(MetricRollup.Meta):
        verbose_name = _("ringkasan metrik 5 menit")
        verbose_name_plural = _("ringkasan metrik 5 menit")
        constraints = [
            models.UniqueConstraint(fields=["site", "bucket_start"], name="rollup5m_unique"),
        ]


class MetricRollup1h(MetricRollup):
    """Hourly roll-up, from the five-minute ones; kept forever."""

    class Meta(MetricRollup.Meta):
        verbose_name = _("ringkasan metrik per jam")
        verbose_name_plural = _("ringkasan metrik per jam")
        constraints = [
            models.UniqueConstraint(fields=["site", "bucket_start"], name="rollup1h_unique"),
        ]


class MetricsCursor(models.Model):
    """Progress of the metrics maintenance (one row, name "metrics").

    `rolled_until`: heartbeats received before it are in the roll-ups. `raw_sealed_before`:
    five-minute buckets before it are final (raw rows may be pruned); late beats for them are
    added, never recomputed. `rollup_5m_pruned_before`: five-minute rows before it are gone,
    so hourly buckets before it are final.
    """

    name = models.CharField(_("nama"), max_length=32, primary_key=True)
    rolled_until = models.DateTimeField(_("diringkas sampai"), null=True, blank=True)
    raw_sealed_before = models.DateTimeField(_("mentah final sebelum"), null=True, blank=True)
    rollup_5m_pruned_before = models.DateTimeField(_("5 menit dipangkas sebelum"), null=True,
                                                   blank=True)

    class Meta:
        verbose_name = _("kursor metrik")
        verbose_name_plural = _("kursor metrik")

    def __str__(self) -> str:
        return self.name


class CoverageSpan(models.Model):
    """A watched stretch [start, end] compacted from coverage marks older than a day.

    The stretch's first and last marks stay as `CoverageMark` rows; only the marks between
    them are deleted, so readers that union these spans with the remaining marks see exactly
    the stretches the marks gave.
    """

    start = models.DateTimeField(_("mulai"))
    end = models.DateTimeField(_("selesai"), db_index=True)

    class Meta:
        ordering = ["start"]
        verbose_name = _("rentang cakupan")
        verbose_name_plural = _("rentang cakupan")
        constraints = [
            models.CheckConstraint(condition=Q(end__gte=F("start")), name="coverage_span_ordered"),
        ]

    def __str__(self) -> str:
        return f"{self.start:%Y-%m-%d %H:%M:%S} to {self.end:%Y-%m-%d %H:%M:%S}"

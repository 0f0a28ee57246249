"""Read models for the web pages: one row per site with its village, stage and status."""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

from django.core.cache import cache
from django.db.models import (
    Count,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce

from linda.accounts.selectors import User
from linda.domain.lifecycle import Stage
from linda.domain.sla import availability
from linda.domain.status import Interval, State, clip, totals_s
from linda.registry.models import Site
from linda.registry.selectors import visible_sites
from linda.rollout.models import STAGE_LABELS, PriorityVillage

WIB = ZoneInfo("Asia/Jakarta")


@dataclass(frozen=True)
class SiteRow:
    pk: int
    code: str
    name: str
    village_code: str
    village: str
    kecamatan_code: str
    kecamatan: str
    latitude: Decimal | None
    longitude: Decimal | None
    stage: str
    stage_label: str
    status: str  # up / down / unknown / excluded / "" (not monitored)
    status_since_iso: str


ROW_FIELDS = {
    "pk": "pk", "code": "code", "name": "name", "village_code": "village__code",
    "village": "village__name", "kecamatan_code": "village__parent__code",
    "kecamatan": "village__parent__name", "site_lat": "latitude", "site_lon": "longitude",
    "village_lat": "village__latitude", "village_lon": "village__longitude",
    "stage": "stage", "status": "monitoring_state__state",
    "since": "monitoring_state__state_since",
}


def site_rows(
    user: User, *, q: str = "", kecamatan: str = "", stage: str = "", status: str = "",
    sort: str = "code",
) -> QuerySet[Site]:
    """Visible sites with village, stage and live status, filtered and sorted in SQL; one
    query however many sites. Turn rows into SiteRow with `to_site_row`."""
    stage_of = PriorityVillage.objects.filter(village_id=OuterRef("village_id")).order_by(
        "-program_id"
    ).values("stage")[:1]
    qs = visible_sites(user).annotate(stage=Coalesce(Subquery(stage_of), Value("")))
    if q:
        qs = qs.filter(Q(code__icontains=q) | Q(village__name__icontains=q)
                       | Q(village__parent__name__icontains=q))
    if kecamatan:
        qs = qs.filter(village__parent__code=kecamatan)
    if stage:
        qs = qs.filter(stage=stage)
    if status == "none":
        qs = qs.filter(monitoring_state__isnull=True)
    elif status:
        qs = qs.filter(monitoring_state__state=status)
    key = SORT_FIELDS.get(sort.lstrip("-"), "code")
    order = [f"-{key}" if sort.startswith("-") else key, "code"]
    return qs.order_by(*order).values(*ROW_FIELDS.values())  # type: ignore[return-value]


SORT_FIELDS = {"code": "code", "village": "village__name", "kecamatan": "village__parent__name",
               "status": "monitoring_state__state", "stage": "stage"}


def to_site_row(values: dict[str, object]) -> SiteRow:
    v = {name: values[field] for name, field in ROW_FIELDS.items()}
    since = v["since"]
    stage = str(v["stage"] or "")
    lat = v["site_lat"] if v["site_lat"] is not None else v["village_lat"]
    lon = v["site_lon"] if v["site_lat"] is not None else v["village_lon"]
    return SiteRow(
        pk=int(v["pk"]), code=str(v["code"]), name=str(v["name"]),  # type: ignore[call-overload]
        village_code=str(v["village_code"]), village=str(v["village"]),
        kecamatan_code=str(v["kecamatan_code"] or ""), kecamatan=str(v["kecamatan"] or ""),
        latitude=lat,  # type: ignore[arg-type]
        longitude=lon,  # type: ignore[arg-type]
        stage=stage, stage_label=str(STAGE_LABELS[Stage(stage)]) if stage else "",
        status=str(v["status"] or ""),
        status_since_iso=since.isoformat() if isinstance(since, datetime) else "",
    )


def list_site_rows(user: User, **filters: str) -> list[SiteRow]:
    return [to_site_row(values) for values in site_rows(user, **filters)]


# --- status history for pages -----------------------------------------------------------------


def site_history(site: Site, start: datetime, end: datetime, now: datetime) -> list[Interval]:
    """The site's intervals in [start, min(end, now)): stored rows for closed time, the status
    engine for the open tail (the same rule; see linda.monitoring.monitor)."""
    from linda.monitoring.models import SiteState, StatusInterval
    from linda.monitoring.selectors import get_site_intervals

    until = min(end, now)
    if until <= start:
        return []
    state = SiteState.objects.filter(site=site).first()
    if state is None:
        return []
    closed = min(state.materialized_until or state.activated_at, until)
    stored = [
        Interval(max(r.start, start), min(r.end, closed), State(r.state), r.degraded)
        for r in StatusInterval.objects.filter(site=site, start__lt=closed, end__gt=start)
        .order_by("start")
        if min(r.end, closed) > max(r.start, start)
    ]
    tail = get_site_intervals(site, max(start, closed), until, now) if closed < until else []
    return _merge([*stored, *tail])


def _merge(intervals: list[Interval]) -> list[Interval]:
    merged: list[Interval] = []
    for iv in intervals:
        last = merged[-1] if merged else None
        if last and last.end == iv.start and (last.state, last.degraded) == (iv.state, iv.degraded):
            merged[-1] = Interval(last.start, iv.end, last.state, last.degraded)
        else:
            merged.append(iv)
    return merged


@dataclass(frozen=True)
class DayBar:
    day: date
    availability: Fraction | None  # UP / (UP + DOWN) that day, None when nothing observed
    down_s: int
    unknown_s: int
    up_s: int = 0

    @property
    def pct(self) -> str:
        return "" if self.availability is None else f"{float(self.availability) * 100:.2f}"

    @property
    def level(self) -> str:
        if self.availability is None:
            return "none"
        if self.availability >= Fraction(99, 100):
            return "good"
        return "fair" if self.availability >= Fraction(95, 100) else "bad"


def daily_bars(intervals: list[Interval], *, days: int, today: date) -> list[DayBar]:
    """One bar per WIB day, oldest first, ending with `today`."""
    bars = []
    for offset in range(days - 1, -1, -1):
        day = today - timedelta(days=offset)
        start = datetime.combine(day, time(0), tzinfo=WIB)
        parts = totals_s(clip(intervals, start, start + timedelta(days=1)))
        up, down = parts[State.UP], parts[State.DOWN]
        bars.append(DayBar(day, availability(up_s=up, down_s=down), down, parts[State.UNKNOWN],
                           up))
    return bars


def period_availability(
    intervals: list[Interval], start: datetime, end: datetime
) -> Fraction | None:
    parts = totals_s(clip(intervals, start, end))
    return availability(up_s=parts[State.UP], down_s=parts[State.DOWN])


@dataclass(frozen=True)
class Segment:
    state: str
    degraded: bool
    start: datetime
    end: datetime
    left_pct: float
    width_pct: float


def timeline(intervals: list[Interval], start: datetime, end: datetime) -> list[Segment]:
    """Bar segments of [start, end) positioned in percent; uncovered time stays blank."""
    total = (end - start).total_seconds()
    return [
        Segment(
            state=str(iv.state), degraded=iv.degraded, start=iv.start, end=iv.end,
            left_pct=round((iv.start - start).total_seconds() / total * 100, 3),
            width_pct=round(iv.duration.total_seconds() / total * 100, 3),
        )
        for iv in clip(intervals, start, end)
    ]


def metric_series(site: Site, *, since: datetime) -> dict[str, list[object]]:
    """Columns for the site page's charts: one row per heartbeat (live and late) since `since`,
    traffic as bits per second from the WAN byte counters of consecutive beats."""
    from linda.monitoring.models import Heartbeat

    rows = Heartbeat.objects.filter(site=site, received_at__gte=since).order_by(
        "device_at", "received_at"
    ).values_list("received_at", "device_at", "rtt_ms", "loss_pct", "battery_voltage_v",
                  "battery_soc_pct", "hotspot_users", "wan")
    out: dict[str, list[object]] = {k: [] for k in (
        "t", "rtt_ms", "loss_pct", "battery_voltage_v", "battery_soc_pct", "hotspot_users",
        "rx_bps", "tx_bps")}
    previous: tuple[float, int, int] | None = None
    for received, device, rtt, loss, volt, soc, users, wan in rows:
        t = (device or received).timestamp()
        rx, tx = _wan_totals(wan)
        rx_bps = tx_bps = None
        if previous is not None and rx is not None and tx is not None and t > previous[0]:
            dt_s = t - previous[0]
            if rx >= previous[1] and tx >= previous[2]:  # a counter reset (reboot) gives no rate
                rx_bps = round((rx - previous[1]) * 8 / dt_s)
                tx_bps = round((tx - previous[2]) * 8 / dt_s)
        if rx is not None and tx is not None:
            previous = (t, rx, tx)
        for key, value in (("t", round(t)), ("rtt_ms", rtt), ("loss_pct", loss),
                           ("battery_voltage_v", volt), ("battery_soc_pct", soc),
                           ("hotspot_users", users), ("rx_bps", rx_bps), ("tx_bps", tx_bps)):
            out[key].append(value)
    return out


def hourly_metric_series(site: Site, *, since: datetime) -> dict[str, list[object]]:
    """`metric_series` in one point per hour (for the 7-day charts: 168 points instead of
    one per heartbeat): the hour's mean RTT, loss, voltage and SoC, its most hotspot users,
    and traffic as the mean rate from the hour's first beat to the next hour's first beat
    (the WAN counters are cumulative; a counter reset gives no rate). Aggregated in SQL."""
    from django.db.models import Avg, Min

    from linda.monitoring.models import Heartbeat
    from linda.web.rollups import EpochHour

    at = Coalesce("device_at", "received_at")
    hours = list(
        Heartbeat.objects.filter(site=site, received_at__gte=since)
        .annotate(hour=EpochHour(at)).values("hour")
        .annotate(rtt=Avg("rtt_ms"), loss=Avg("loss_pct"), volt=Avg("battery_voltage_v"),
                  soc=Avg("battery_soc_pct"), users=Max("hotspot_users"), first=Min("id"))
        .order_by("hour")
    )
    firsts = {pk: (wan, when.timestamp()) for pk, wan, when in Heartbeat.objects.filter(
        pk__in=[h["first"] for h in hours]).annotate(at=at).values_list("pk", "wan", "at")}
    out: dict[str, list[object]] = {k: [] for k in (
        "t", "rtt_ms", "loss_pct", "battery_voltage_v", "battery_soc_pct", "hotspot_users",
        "rx_bps", "tx_bps")}
    counters = [(_wan_totals(firsts[h["first"]][0]), firsts[h["first"]][1]) for h in hours]
    for h in hours:
        h["hour"] = datetime.fromtimestamp(h["hour"] * 3600, tz=WIB)
    for n, h in enumerate(hours):
        rx_bps = tx_bps = None
        if n + 1 < len(counters):
            (rx0, tx0), t0 = counters[n]
            (rx1, tx1), t1 = counters[n + 1]
            if None not in (rx0, tx0, rx1, tx1) and t1 > t0 and rx1 >= rx0 and tx1 >= tx0:  # type: ignore[operator]
                rx_bps = round((rx1 - rx0) * 8 / (t1 - t0))  # type: ignore[operator]
                tx_bps = round((tx1 - tx0) * 8 / (t1 - t0))  # type: ignore[operator]
        for key, value in (("t", round(h["hour"].timestamp())), ("rtt_ms", h["rtt"]),
                           ("loss_pct", h["loss"]), ("battery_voltage_v", h["volt"]),
                           ("battery_soc_pct", h["soc"]), ("hotspot_users", h["users"]),
                           ("rx_bps", rx_bps), ("tx_bps", tx_bps)):
            out[key].append(value)
    return out


def _wan_totals(wan: object) -> tuple[int | None, int | None]:
    if not isinstance(wan, dict) or not wan:
        return None, None
    rx = sum(int(v.get("rx_bytes", 0)) for v in wan.values() if isinstance(v, dict))
    tx = sum(int(v.get("tx_bytes", 0)) for v in wan.values() if isinstance(v, dict))
    return rx, tx


@dataclass(frozen=True)
class PublicRow:
    village: str
    kecamatan: str
    status: str
    since_iso: str
    availability_30: Fraction | None
    availability_90: Fraction | None
    bars: list[DayBar]
    bars_html: str = ""  # the bars drawn once, cached with the row


PUBLIC_STATUS_ORDER = ("down", "unknown", "excluded", "up")  # a village shows its worst site


def public_village_rows(*, now: datetime, today: date, days: int = 90) -> list[PublicRow]:
    """Connected priority villages (active or suspended) that have a monitored site, one row
    per village: its worst site's status now, its 30- and 90-day availability (the last 30
    and 90 WIB days, today included) and one bar per day, summed over its sites from the
    daily totals (SiteDay) and today's stored intervals, in a fixed number of queries;
    cached until anything it shows may have changed."""
    from linda.monitoring.models import SiteState, StatusInterval
    from linda.web.rollups import version

    connected = PriorityVillage.objects.filter(
        stage__in=[Stage.ACTIVE, Stage.SUSPENDED]
    ).values("village_id")
    sites = Site.objects.filter(village_id__in=connected, monitoring_state__isnull=False)
    # The same page for everyone until a status changes (every change bumps its SiteState's
    # version), an interval or a daily total is stored, or the set of villages changes.
    live = SiteState.objects.filter(site__in=sites.values("pk")).aggregate(
        n=Count("pk"), v=Sum("version"), s=Sum("site_id"))
    latest = StatusInterval.objects.aggregate(m=Max("id"))["m"]
    key = (f"linda:public:{today}:{days}:{live['n']}:{live['v']}:{live['s']}:{latest}:"
           f"{version()}")
    cached: list[PublicRow] | None = cache.get(key)
    if cached is not None:
        return cached
    rows = _public_village_rows(sites, now=now, today=today, days=days)
    cache.set(key, rows, 600)
    return rows


def _public_village_rows(sites: QuerySet[Site], *, now: datetime, today: date,
                         days: int) -> list[PublicRow]:
    from linda.web.rollups import (
        closed_village_days,
        fill_site_days_now_and_then,
        open_days_cached,
    )
    from linda.web.templatetags.linda_tags import day_bars

    villages: dict[int, dict[str, object]] = {}
    site_village: dict[int, int] = {}
    for pk, village_id, village, kecamatan, state, since in sites.order_by(
        "village__parent__name", "village__name", "code"
    ).values_list("pk", "village_id", "village__name", "village__parent__name",
                  "monitoring_state__state", "monitoring_state__state_since"):
        site_village[pk] = village_id
        row = villages.setdefault(village_id, {"village": village, "kecamatan": kecamatan or "",
                                               "status": state, "since": since})
        rank, current = PUBLIC_STATUS_ORDER.index, str(row["status"])
        earlier = since < row["since"]  # type: ignore[operator]
        if rank(state) < rank(current) or (state == current and earlier):
            row.update(status=state, since=since)
    all_days = [today - timedelta(days=offset) for offset in range(days - 1, -1, -1)]
    fill_site_days_now_and_then(all_days[:-1], WIB)
    totals = closed_village_days(sites.values("pk"), all_days)
    site_ids = sites.values("pk")
    for day, per_site in open_days_cached(site_ids, all_days[-2:], now, WIB, scope="public",
                                          refresh_s=0).items():
        for site_id, parts in per_site.items():
            cell = totals.setdefault((site_village[site_id], day), [0, 0, 0])
            cell[0] += parts["up_s"]
            cell[1] += parts["down_s"]
            cell[2] += parts["unknown_s"]
    rows = []
    for village_id, v in villages.items():
        cells = [totals.get((village_id, day), [0, 0, 0]) for day in all_days]
        bars = [DayBar(day, availability(up_s=up, down_s=down), down, unknown, up)
                for day, (up, down, unknown) in zip(all_days, cells, strict=True)]
        rows.append(PublicRow(
            village=str(v["village"]), kecamatan=str(v["kecamatan"]), status=str(v["status"]),
            since_iso=v["since"].isoformat(),  # type: ignore[attr-defined]
            availability_30=_bars_availability(bars[-30:]),
            availability_90=_bars_availability(bars),
            bars=bars, bars_html=day_bars(bars),
        ))
    return rows


def _bars_availability(bars: list[DayBar]) -> Fraction | None:
    return availability(up_s=sum(b.up_s for b in bars), down_s=sum(b.down_s for b in bars))


@dataclass(frozen=True)
class FleetSummary:
    counts: dict[str, int]
    availability_month: Fraction | None
    trend: list[DayBar]  # fleet-wide, one per day
    worst: list[tuple[SiteRow, Fraction]]
    incidents: list[SiteRow]  # the oldest MAX_INCIDENTS sites DOWN now
    incident_count: int = 0


MAX_INCIDENTS = 50


def scope_key(user: User) -> str:
    """Who sees which sites, as a cache key: the role and its vendor or village."""
    profile = getattr(user, "profile", None)
    if profile is None or getattr(user, "is_superuser", False):
        return "all"
    return f"{profile.role}:{profile.vendor_id}:{profile.village_id}"


def fleet_summary(user: User, *, now: datetime, today: date, days: int = 30) -> FleetSummary:
    """The dashboard's figures over the sites the user may see, in a fixed number of queries
    whatever the fleet's size: live counts and incidents from SiteState; closed days from the
    daily totals (SiteDay, summed once per SiteDay version and cached); the open days (the
    monitor closes a day a few minutes after midnight) from that day's stored intervals.
    Time after the monitor's last stored interval (a few minutes) is not counted yet."""
    from linda.monitoring.models import SiteState
    from linda.web.rollups import (
        closed_day_totals,
        fill_site_days_now_and_then,
        open_days_cached,
    )

    visible = visible_sites(user)
    site_ids = visible.values("pk")
    counts = dict.fromkeys(("up", "down", "unknown", "excluded"), 0)
    counts.update(SiteState.objects.filter(site__in=site_ids).values("state")
                  .annotate(n=Count("pk")).order_by().values_list("state", "n"))
    trend_days = [today - timedelta(days=offset) for offset in range(days - 1, -1, -1)]
    month_days = [today.replace(day=d) for d in range(1, today.day + 1)]
    all_days = sorted(set(trend_days) | set(month_days))
    fill_site_days_now_and_then(all_days[:-1], WIB)
    fingerprint = visible.aggregate(n=Count("pk"), s=Sum("pk"))
    scope = f"{scope_key(user)}:{fingerprint['n']}:{fingerprint['s']}"
    closed_days, closed_sites = closed_day_totals(site_ids, all_days, month_days[0],
                                                  scope=scope)
    per_day: dict[date, dict[str, int]] = {
        d: dict(closed_days.get(d, {"up": 0, "down": 0, "unknown": 0})) for d in all_days}
    per_site: dict[int, list[int]] = {pk: [u, d] for pk, (u, d) in closed_sites.items()}
    open_days = all_days[-2:]
    for day, live in open_days_cached(site_ids, open_days, now, WIB, scope=scope).items():
        for site_id, parts in live.items():
            up, down = parts["up_s"], parts["down_s"]
            per_day[day]["up"] += up
            per_day[day]["down"] += down
            per_day[day]["unknown"] += parts["unknown_s"]
            if day >= month_days[0]:
                both = per_site.setdefault(site_id, [0, 0])
                both[0] += up
                both[1] += down
    trend = [
        DayBar(d, availability(up_s=per_day[d]["up"], down_s=per_day[d]["down"]),
               per_day[d]["down"], per_day[d]["unknown"], per_day[d]["up"])
        for d in trend_days
    ]
    month_up = sum(per_day[d]["up"] for d in month_days)
    month_down = sum(per_day[d]["down"] for d in month_days)
    worst_ids = heapq.nsmallest(
        10, ((up / (up + down), pk) for pk, (up, down) in per_site.items() if up + down),
    )
    worst_rows: Any = site_rows(user).filter(pk__in=[pk for _, pk in worst_ids])
    by_pk = {int(v["pk"]): to_site_row(v) for v in worst_rows}
    worst = [(by_pk[pk], Fraction(per_site[pk][0], sum(per_site[pk])))
             for _, pk in worst_ids if pk in by_pk]
    worst.sort(key=lambda item: (item[1], item[0].code))
    down_now: Any = site_rows(user, status="down").order_by("monitoring_state__state_since",
                                                            "code")
    incidents = [to_site_row(v) for v in down_now[:MAX_INCIDENTS]]
    return FleetSummary(counts, availability(up_s=month_up, down_s=month_down), trend,
                        worst, incidents, counts["down"])


@dataclass(frozen=True)
class NightOutlook:
    soc_pct: float
    measured_at: datetime
    hours_p10: float | None
    hours_p50: float | None
    night_end_h: int
    goes_dark_tonight: bool


def night_outlook(site: Site, *, now: datetime) -> NightOutlook | None:
    """Will the battery last the night? From the latest reported state of charge (within the
    last 2 hours) and the site's energy model; None without a battery or a recent reading."""
    from linda.energy.selectors import forecast_site_autonomy, get_site_energy
    from linda.monitoring.models import Heartbeat

    if not site.battery_wh:
        return None
    latest = Heartbeat.objects.filter(
        site=site, battery_soc_pct__isnull=False, received_at__gte=now - timedelta(hours=2)
    ).order_by("-received_at").values_list("battery_soc_pct", "received_at").first()
    if latest is None:
        return None
    soc, at = latest
    forecast = forecast_site_autonomy(
        get_site_energy(site, years=1), at=now, soc_fraction=soc / 100, scenarios=100
    )
    return NightOutlook(soc, at, forecast.hours_p10, forecast.hours_p50, forecast.night_end_h,
                        forecast.goes_dark_tonight)

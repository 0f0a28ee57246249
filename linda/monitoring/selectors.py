"""Monitoring reads, and the adapters that feed database rows to `linda.domain.status`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.db.models.functions import ExtractHour, Floor, TruncDay
from django.utils import timezone

from linda.domain.status import (
    Interval,
    Observation,
    Span,
    clip,
    compute_intervals,
    merge_spans,
    require_aware,
    watched_from_marks,
)
from linda.monitoring import retention
from linda.monitoring.models import (
    CoverageMark,
    CoverageSpan,
    Heartbeat,
    MaintenanceWindow,
    MetricRollup1h,
    MetricRollup5m,
    MetricsCursor,
    SiteState,
)
from linda.registry.models import ContractTerms, Site


def max_gap() -> timedelta:
    return timedelta(seconds=settings.LINDA_MONITOR_MAX_GAP_S)


def site_timing(site: Site) -> tuple[timedelta, timedelta]:
    """The site's expected heartbeat interval I and grace G."""
    return timedelta(seconds=site.expected_interval_s), timedelta(seconds=site.grace_s)


# --- quality thresholds ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Thresholds:
    """One contract-terms version's DEGRADED limits, valid for the dates [starts_on, ends_on]."""

    starts_on: dt.date
    ends_on: dt.date
    loss_pct: float
    rtt_ms: float


class QualityRule:
    """Whether a heartbeat's loss or latency exceeds its site's contract thresholds that day.

    A site under no contract on a day is never DEGRADED that day. Under several contracts
    the strictest limits apply.
    """

    def __init__(self, thresholds: Sequence[Thresholds]) -> None:
        self._thresholds = list(thresholds)
        self._by_day: dict[dt.date, tuple[float, float] | None] = {}

    @classmethod
    def for_site(cls, site: Site) -> QualityRule:
        terms = ContractTerms.objects.filter(contract__sites=site).select_related("contract")
        rows: list[Thresholds] = []
        by_contract: dict[int, list[ContractTerms]] = {}
        for term in terms.order_by("contract_id", "effective_from"):
            by_contract.setdefault(term.contract_id, []).append(term)
        for versions in by_contract.values():
            for i, term in enumerate(versions):
                contract = term.contract
                start = max(term.effective_from, contract.starts_on)
                nxt = versions[i + 1].effective_from - dt.timedelta(days=1) \
                    if i + 1 < len(versions) else contract.ends_on
                end = min(nxt, contract.ends_on)
                if start <= end:
                    rows.append(Thresholds(start, end, float(Decimal(term.loss_threshold_pct)),
                                           float(term.rtt_threshold_ms)))
        return cls(rows)

    def _limits(self, day: dt.date) -> tuple[float, float] | None:
        if day not in self._by_day:
            live = [t for t in self._thresholds if t.starts_on <= day <= t.ends_on]
            self._by_day[day] = (
                (min(t.loss_pct for t in live), min(t.rtt_ms for t in live)) if live else None
            )
        return self._by_day[day]

    def degraded(self, at: datetime, rtt_ms: float | None, loss_pct: float | None) -> bool:
        # Contract dates are calendar days in WIB (UTC+7), the regency's time.
        limits = self._limits((at + timedelta(hours=7)).date())
        if limits is None:
            return False
        loss_limit, rtt_limit = limits
        return (loss_pct is not None and loss_pct > loss_limit) or (
            rtt_ms is not None and rtt_ms > rtt_limit
        )


# --- inputs of the status engine ------------------------------------------------------------


def site_observations(
    site: Site, start: datetime, until: datetime, rule: QualityRule | None = None
) -> list[Observation]:
    """Live heartbeats' server receive times in [start, until); late uploads are not points."""
    rule = rule or QualityRule.for_site(site)
    rows = Heartbeat.objects.filter(
        site=site, late=False, received_at__gte=start, received_at__lt=until
    ).values_list("received_at", "rtt_ms", "loss_pct")
    return [Observation(at, rule.degraded(at, rtt, loss)) for at, rtt, loss in rows]


def watched_spans(start: datetime, until: datetime) -> list[Span]:
    """Stretches the monitor watched, from the coverage marks around [start, until)."""
    gap = max_gap()
    marks = CoverageMark.objects.filter(at__gte=start - gap, at__lte=until + gap).values_list(
        "at", flat=True
    )
    spans = watched_from_marks(marks, max_gap=gap)
    compacted = compacted_spans(start - gap, until + gap)  # old marks compacted by retention
    return merge_spans([*spans, *compacted]) if compacted else spans


def maintenance_spans(site: Site, start: datetime, until: datetime) -> list[Span]:
    """EXCLUDED spans for `site`: its own windows, its kecamatan's and its contracts'."""
    windows = MaintenanceWindow.objects.filter(
        Q(site=site) | Q(kecamatan_id=site.village.parent_id) | Q(contract__sites=site),
        start__lt=until, end__gt=start,
    ).values_list("start", "end").distinct()
    return merge_spans(Span(s, e) for s, e in windows)


def excluded_site_ids(now: datetime) -> dict[int, datetime]:
    """Sites inside a maintenance window at `now`, with the earliest start of their windows."""
    out: dict[int, datetime] = {}
    active = MaintenanceWindow.objects.filter(start__lte=now, end__gt=now)
    for window in active.select_related("kecamatan", "contract"):
        if window.site_id is not None:
            ids: Iterable[int] = [window.site_id]
        elif window.kecamatan_id is not None:
            ids = Site.objects.filter(village__parent_id=window.kecamatan_id).values_list(
                "pk", flat=True
            )
        else:
            ids = Site.objects.filter(contracts=window.contract_id).values_list("pk", flat=True)
        for site_id in ids:
            out[site_id] = min(out.get(site_id, window.start), window.start)
    return out


@dataclass(frozen=True, slots=True)
class EngineInput:
    observations: list[Observation]
    watched: list[Span]
    excluded: list[Span]
    activated_at: datetime
    until: datetime
    interval: timedelta
    grace: timedelta

    def compute(self) -> list[Interval]:
        return compute_intervals(
            observations=self.observations, watched=self.watched, excluded=self.excluded,
            activated_at=self.activated_at, until=self.until, interval=self.interval,
            grace=self.grace,
        )

    def last_point(self, at_or_before: datetime) -> datetime:
        """The last moment the site was known alive at or before `at_or_before` (a stretch
        start or a live heartbeat, after activation); `at_or_before` itself if it lies outside
        coverage. Computing again from that point gives the same intervals after it."""
        for span in reversed(merge_spans(self.watched)):
            s = max(span.start, self.activated_at)
            if s > at_or_before or s >= span.end:
                continue
            if at_or_before >= span.end:
                return at_or_before
            beats = [o.at for o in self.observations if s <= o.at <= at_or_before]
            return max([s, *beats])
        return at_or_before


def engine_input(site: Site, *, start: datetime, until: datetime) -> EngineInput:
    """Everything `compute_intervals` needs for `site` over [start, until) from the live path.

    `start` must be the site's activation or a point it was known alive (see `last_point`).
    """
    interval, grace = site_timing(site)
    return EngineInput(
        observations=site_observations(site, start, until),
        watched=watched_spans(start, until),
        excluded=maintenance_spans(site, start, until),
        activated_at=start, until=until, interval=interval, grace=grace,
    )


def get_site_intervals(
    site: Site, start: datetime, end: datetime, now: datetime
) -> list[Interval]:
    """The site's intervals inside [start, min(end, now)), on the continuous timeline.

    Computed from the site's activation (or from the last materialized anchor, when that is
    before `start`), then cut to the period, so the answer does not depend on the period.
    """
    start, end, now = (require_aware(v, n) for v, n in ((start, "start"), (end, "end"),
                                                          (now, "now")))
    state = SiteState.objects.filter(site=site).first()
    if state is None:
        return []
    origin = state.activated_at
    if state.materialized_anchor is not None and state.materialized_anchor <= start:
        origin = max(origin, state.materialized_anchor)
    until = min(end, now)
    if until <= max(origin, start):
        return []
    return clip(engine_input(site, start=origin, until=until).compute(), start, until)


def current_states(site_ids: Sequence[int]) -> dict[int, tuple[str, str]]:
    """Live state per site id: (state, since as ISO 8601). Unmonitored sites are absent."""
    rows = SiteState.objects.filter(site_id__in=site_ids).values_list(
        "site_id", "state", "state_since"
    )
    return {site_id: (state, since.isoformat()) for site_id, state, since in rows}


# --- metrics over a range (raw, five-minute or hourly) ---------------------------------------

METRIC_COLUMNS = (
    "t", "rtt_ms", "loss_pct", "battery_voltage_v", "battery_soc_pct", "hotspot_users",
    "rx_bps", "tx_bps", "count", "rtt_min_ms", "rtt_max_ms", "loss_max_pct", "battery_min_v",
    "battery_soc_min_pct",
)


@dataclass(frozen=True)
class MetricSeries:
    """Columns for charts, one row per point; the same columns at every resolution.

    `resolution` is "raw", "5m" or "1h"; `bucket_s` the seconds each point covers (0 for raw,
    a multiple of 3600 when hourly buckets were merged to stay within `max_points`). `t` is
    the point's start (epoch seconds). For buckets the main columns are averages, except
    `hotspot_users` (the maximum); `rx_bps`/`tx_bps` are mean WAN rates; `count` is the
    number of heartbeats; the `_min`/`_max` columns bound the values (equal to the value for
    raw rows).
    """

    resolution: str
    bucket_s: int
    columns: dict[str, list[Any]]

    def as_json(self) -> dict[str, Any]:
        return {"resolution": self.resolution, "bucket_s": self.bucket_s, **self.columns}


def compacted_spans(start: datetime, end: datetime) -> list[Span]:
    """Compacted watched stretches (`CoverageSpan`) overlapping [start, end], cut to it."""
    rows = CoverageSpan.objects.filter(start__lte=end, end__gte=start).values_list("start", "end")
    return [Span(max(s, start), min(e, end)) for s, e in rows if min(e, end) > max(s, start)]


def site_metrics(site_id: int, start: datetime, end: datetime, max_points: int = 1500, *,
                 now: datetime | None = None) -> MetricSeries:
    """A site's metrics measured in [start, end): raw heartbeats when at most `max_points` are
    expected and still kept, else five-minute roll-ups when they fit and are kept, else hourly
    roll-ups (merged in groups of whole hours to fit). Buckets the roll-up run has not
    reached yet are computed from the raw rows on the fly."""
    start, end = require_aware(start, "start"), require_aware(end, "end")
    now = require_aware(now or timezone.now(), "now")
    end = min(end, now + retention.skew())
    span_s = max((end - start).total_seconds(), 0.0)
    interval_s = Site.objects.values_list("expected_interval_s", flat=True).get(pk=site_id)
    cursor = MetricsCursor.objects.filter(name=retention.METRICS).first()
    sealed = cursor.raw_sealed_before if cursor else None
    pruned = cursor.rollup_5m_pruned_before if cursor else None
    if span_s / max(interval_s, 1) <= max_points and (sealed is None or start >= sealed):
        return _raw_series(site_id, start, end)
    rolled = cursor.rolled_until if cursor else None
    tail = retention.floor_hour(rolled - timedelta(minutes=10)) if rolled else \
        retention.floor_hour(start)
    if span_s / 300 <= max_points and (pruned is None or start >= pruned):
        rows = _rollup_rows(MetricRollup5m, site_id, retention.floor_5m(start), min(end, tail))
        rows += sorted(retention.compute_5m([site_id], max(tail, retention.floor_5m(start)),
                                            None).items())
        return _bucket_series("5m", 300, [(t, s) for (_, t), s in rows if t < end])
    group = _hour_group(span_s, max_points)
    points = _hour_points(site_id, retention.floor_hour(start), min(end, tail), group)
    for (_, t), stats in retention.compute_5m([site_id], max(tail, retention.floor_hour(start)),
                                              None).items():
        if t < end:
            points.append((t, stats))
    return _bucket_series("1h", 3600 * group, points)


HOUR_GROUPS = (1, 2, 3, 4, 6, 8, 12, 24)


def _hour_group(span_s: float, max_points: int) -> int:
    """Hours per point so that a span of `span_s` gives at most `max_points` points: a divisor
    of 24 (points stay aligned to UTC days), else whole days."""
    need = -(-(int(span_s) // 3600 + 1) // max(max_points, 1))
    return next((g for g in HOUR_GROUPS if g >= need), 24 * -(-need // 24))


def _hour_points(site_id: int, start: datetime, end: datetime, group: int
                 ) -> list[tuple[datetime, dict[str, Any]]]:
    """Hourly roll-ups in [start, end), summed in the database into groups of
    min(group, 24) hours aligned to UTC days."""
    if group == 1:
        return [(t, s) for (_, t), s in _rollup_rows(MetricRollup1h, site_id, start, end)]
    size = min(group, 24)
    rows = MetricRollup1h.objects.filter(
        site_id=site_id, bucket_start__gte=start, bucket_start__lt=end
    ).values(d=TruncDay("bucket_start", tzinfo=dt.UTC),
             q=Floor(ExtractHour("bucket_start", tzinfo=dt.UTC) / size)
             ).annotate(**retention.ROLLUP_AGG).order_by("d", "q")
    return [(retention.floor_hour(r["d"]) + timedelta(hours=size * int(r["q"])),
             retention.from_rollup_agg(r)) for r in rows]


def _rollup_rows(model: type[MetricRollup5m] | type[MetricRollup1h], site_id: int,
                 start: datetime, end: datetime
                 ) -> list[tuple[tuple[int, datetime], dict[str, Any]]]:
    rows = model.objects.filter(site_id=site_id, bucket_start__gte=start, bucket_start__lt=end
                                ).order_by("bucket_start").values("bucket_start",
                                                                  *retention.STAT_FIELDS)
    return [((site_id, r["bucket_start"]), r) for r in rows]


def _bucket_series(resolution: str, bucket_s: int, points: list[tuple[datetime, dict[str, Any]]]
                   ) -> MetricSeries:
    if resolution == "1h":  # merge into buckets of `bucket_s`, aligned to the epoch
        merged: dict[int, tuple[datetime, dict[str, Any]]] = {}
        for t, stats in points:
            index = int(t.timestamp()) // bucket_s
            if index in merged:
                merged[index] = (merged[index][0], retention.merge_stats(merged[index][1], stats))
            else:
                merged[index] = (datetime.fromtimestamp(index * bucket_s, dt.UTC), stats)
        points = [merged[i] for i in sorted(merged)]
    out: dict[str, list[Any]] = {k: [] for k in METRIC_COLUMNS}
    for t, s in points:
        span = s["wan_span_s"]
        row = {
            "t": round(t.timestamp()), "rtt_ms": s["rtt_avg_ms"], "loss_pct": s["loss_avg_pct"],
            "battery_voltage_v": s["battery_avg_v"], "battery_soc_pct": s["battery_soc_avg_pct"],
            "hotspot_users": s["hotspot_users_max"],
            "rx_bps": round(s["rx_bytes"] * 8 / span) if span else None,
            "tx_bps": round(s["tx_bytes"] * 8 / span) if span else None,
            "count": s["count"], "rtt_min_ms": s["rtt_min_ms"], "rtt_max_ms": s["rtt_max_ms"],
            "loss_max_pct": s["loss_max_pct"], "battery_min_v": s["battery_min_v"],
            "battery_soc_min_pct": s["battery_soc_min_pct"],
        }
        for k in METRIC_COLUMNS:
            out[k].append(row[k])
    return MetricSeries(resolution, bucket_s, out)


def _raw_series(site_id: int, start: datetime, end: datetime) -> MetricSeries:
    rows = Heartbeat.objects.filter(
        site_id=site_id, received_at__gte=start - retention.skew()
    ).annotate(m=retention.measured()).filter(m__gte=start, m__lt=end).order_by(
        "m", "received_at", "id"
    ).values_list("m", "rtt_ms", "loss_pct", "battery_voltage_v", "battery_soc_pct",
                  "hotspot_users", "wan")
    out: dict[str, list[Any]] = {k: [] for k in METRIC_COLUMNS}
    counters: dict[str, dict[str, int]] | None = None
    last_at: datetime | None = None
    for at, rtt, loss, volt, soc, users, wan in rows:
        rx_bps = tx_bps = None
        if wan is not None:
            rx, tx, compared, counters = retention.wan_step(counters, wan)
            if compared and last_at is not None and at > last_at:
                dt_s = (at - last_at).total_seconds()
                rx_bps, tx_bps = round(rx * 8 / dt_s), round(tx * 8 / dt_s)
            last_at = at
        row = {"t": round(at.timestamp()), "rtt_ms": rtt, "loss_pct": loss,
               "battery_voltage_v": volt, "battery_soc_pct": soc, "hotspot_users": users,
               "rx_bps": rx_bps, "tx_bps": tx_bps, "count": 1, "rtt_min_ms": rtt,
               "rtt_max_ms": rtt, "loss_max_pct": loss, "battery_min_v": volt,
               "battery_soc_min_pct": soc}
        for k in METRIC_COLUMNS:
            out[k].append(row[k])
    return MetricSeries("raw", 0, out)

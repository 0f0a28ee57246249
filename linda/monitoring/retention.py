"""Metrics retention: five-minute and hourly roll-ups of raw heartbeats, pruning of old raw
rows and five-minute roll-ups, and compaction of old coverage marks (docs/devices.md,
"Retention and roll-ups").

`maintain_metrics(now)` does all three; the monitor loop calls it every LINDA_ROLLUP_EVERY_S
and `linda metrics-maintain` runs it once. Every step is idempotent and claims its work by
locking one `MetricsCursor` row (`SKIP LOCKED`), so several monitors may call it at once.

Buckets are by measurement time: the device's time, else the server's receive time. Which
buckets to recompute is found by receive time: every heartbeat received since the last run
marks its site dirty from its bucket on, so a late store-and-forward batch recomputes the old
buckets it lands in. Five-minute buckets older than the raw retention are sealed before their
raw rows are deleted; a heartbeat that still arrives for a sealed bucket is added to it (its
WAN bytes are already counted by its neighbours' counter increases).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import (
    Avg,
    Count,
    ExpressionWrapper,
    F,
    FloatField,
    Max,
    Min,
    Q,
    Sum,
)
from django.db.models.functions import Coalesce, ExtractMinute, Floor, TruncHour

from linda.domain.status import require_aware
from linda.monitoring.models import (
    CoverageMark,
    CoverageSpan,
    Heartbeat,
    MetricRollup,
    MetricRollup1h,
    MetricRollup5m,
    MetricsCursor,
)
from linda.registry.models import Site

log = logging.getLogger("linda.metrics")

FIVE_MIN = timedelta(minutes=5)
HOUR = timedelta(hours=1)
LAG = timedelta(minutes=2)  # heartbeats received this recently may still be committing
CHUNK = timedelta(hours=6)  # the most receive time one roll-up transaction covers
SITE_BATCH = 500
COVERAGE_AGE = timedelta(days=1)
METRICS = "metrics"
COVERAGE = "coverage"

Stats = dict[str, Any]
Key = tuple[int, datetime]
T = TypeVar("T")

SUMS = ("count", "rtt_n", "loss_n", "battery_n", "soc_n", "rx_bytes", "tx_bytes", "wan_span_s")
MINS = ("rtt_min_ms", "battery_min_v", "battery_soc_min_pct")
MAXES = ("rtt_max_ms", "loss_max_pct", "hotspot_users_max")
AVGS = {"rtt_avg_ms": "rtt_n", "loss_avg_pct": "loss_n", "battery_avg_v": "battery_n",
        "battery_soc_avg_pct": "soc_n"}
STAT_FIELDS = (*SUMS, *MINS, *MAXES, *AVGS)
WAN_FIELDS = ("wan_last", "wan_last_at")

# Per raw field: (samples, min, avg, max) names in the roll-up (None: not kept).
RAW_METRICS = {
    "rtt_ms": ("rtt_n", "rtt_min_ms", "rtt_avg_ms", "rtt_max_ms"),
    "loss_pct": ("loss_n", None, "loss_avg_pct", "loss_max_pct"),
    "battery_voltage_v": ("battery_n", "battery_min_v", "battery_avg_v", None),
    "battery_soc_pct": ("soc_n", "battery_soc_min_pct", "battery_soc_avg_pct", None),
}


# --- small helpers ---------------------------------------------------------------------------


def floor_5m(t: datetime) -> datetime:
    t = t.astimezone(UTC)
    return t.replace(minute=t.minute - t.minute % 5, second=0, microsecond=0)


def floor_hour(t: datetime) -> datetime:
    return t.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def skew() -> timedelta:
    """How far a device's time may run ahead of the server's receive time (intake refuses
    more), so a beat measured at or after t was received at or after t - skew()."""
    return timedelta(seconds=settings.LINDA_HB_FUTURE_SKEW_S)


def measured() -> Coalesce:
    return Coalesce("device_at", "received_at")


def chunks(items: Sequence[T], size: int = SITE_BATCH) -> Iterator[Sequence[T]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def _lock(name: str) -> MetricsCursor | None:
    """The cursor row, locked for this transaction; None while another process holds it."""
    if not MetricsCursor.objects.filter(name=name).exists():
        try:
            with transaction.atomic():
                MetricsCursor.objects.create(name=name)
        except IntegrityError:
            pass
    return MetricsCursor.objects.select_for_update(skip_locked=True).filter(name=name).first()


# --- statistics ------------------------------------------------------------------------------


def empty_stats() -> Stats:
    out: Stats = dict.fromkeys(STAT_FIELDS)
    out.update(dict.fromkeys(SUMS, 0))
    out["wan_span_s"] = 0.0
    return out


def merge_stats(a: Mapping[str, Any], b: Mapping[str, Any]) -> Stats:
    """The statistics of two disjoint sets of beats taken together."""
    out: Stats = {k: a[k] + b[k] for k in SUMS}
    for k in MINS:
        out[k] = min((v for v in (a[k], b[k]) if v is not None), default=None)
    for k in MAXES:
        out[k] = max((v for v in (a[k], b[k]) if v is not None), default=None)
    for k, n in AVGS.items():
        parts = [(a[k], a[n]), (b[k], b[n])]
        weight = sum(w for v, w in parts if v is not None)
        out[k] = sum(v * w for v, w in parts if v is not None) / weight if weight else None
    return out


def beat_stats(row: Mapping[str, Any]) -> Stats:
    """The statistics of one heartbeat (a `values()` row with the raw metric fields)."""
    out = empty_stats()
    out["count"] = 1
    for raw, (n, low, avg, high) in RAW_METRICS.items():
        value = row[raw]
        if value is None:
            continue
        out[n] = 1
        for name in (low, avg, high):
            if name is not None:
                out[name] = value
    out["hotspot_users_max"] = row["hotspot_users"]
    return out


def stats_of(row: MetricRollup | Mapping[str, Any]) -> Stats:
    if isinstance(row, MetricRollup):
        return {k: getattr(row, k) for k in STAT_FIELDS}
    return {k: row[k] for k in STAT_FIELDS}


RAW_AGG = {
    "count": Count("id"),
    "rtt_n": Count("rtt_ms"), "rtt_min_ms": Min("rtt_ms"), "rtt_avg_ms": Avg("rtt_ms"),
    "rtt_max_ms": Max("rtt_ms"),
    "loss_n": Count("loss_pct"), "loss_avg_pct": Avg("loss_pct"), "loss_max_pct": Max("loss_pct"),
    "battery_n": Count("battery_voltage_v"), "battery_min_v": Min("battery_voltage_v"),
    "battery_avg_v": Avg("battery_voltage_v"),
    "soc_n": Count("battery_soc_pct"), "battery_soc_min_pct": Min("battery_soc_pct"),
    "battery_soc_avg_pct": Avg("battery_soc_pct"),
    "hotspot_users_max": Max("hotspot_users"),
}


def _weighted(avg: str, n: str) -> Sum:
    return Sum(ExpressionWrapper(F(avg) * F(n), output_field=FloatField()))


# Aliases differ from the field names: an aggregate may not reuse a field's name that
# another aggregate of the same query reads.
ROLLUP_AGG: dict[str, Any] = {
    **{f"agg_{k}": Sum(k) for k in SUMS},
    **{f"agg_{k}": Min(k) for k in MINS},
    **{f"agg_{k}": Max(k) for k in MAXES},
    **{f"wsum_{k}": _weighted(k, n) for k, n in AVGS.items()},
}


def from_rollup_agg(g: Mapping[str, Any]) -> Stats:
    out: Stats = {k: int(g[f"agg_{k}"] or 0) for k in SUMS}
    out["wan_span_s"] = float(g["agg_wan_span_s"] or 0)
    for k in (*MINS, *MAXES):
        out[k] = g[f"agg_{k}"]
    for k, n in AVGS.items():
        weighted = g[f"wsum_{k}"]
        out[k] = float(weighted) / out[n] if out[n] and weighted is not None else None
    return out


# --- WAN counters ----------------------------------------------------------------------------

Counters = dict[str, dict[str, int]]


def wan_step(before: Counters | None, now: object) -> tuple[int, int, bool, Counters | None]:
    """Byte increases from `before` to `now` summed over interfaces and counters present in
    both (a counter lower than before was reset: its whole value is the increase), whether
    any counter could be compared, and the counters carried forward."""
    if not isinstance(now, dict):
        return 0, 0, False, before
    carried: Counters = {k: dict(v) for k, v in (before or {}).items()}
    rx = tx = 0
    compared = False
    for iface, counters in now.items():
        if not isinstance(counters, dict):
            continue
        old = carried.setdefault(str(iface), {})
        for key, value in counters.items():
            if key not in ("rx_bytes", "tx_bytes"):
                continue
            value = int(value)
            if key in old:
                increase = value - old[key] if value >= old[key] else value
                compared = True
                if key == "rx_bytes":
                    rx += increase
                else:
                    tx += increase
            old[key] = value
    return rx, tx, compared, carried


# --- five-minute and hourly buckets ----------------------------------------------------------


def _wan_context(site_ids: Sequence[int], lo: datetime) -> dict[int, tuple[Counters | None,
                                                                          datetime | None]]:
    """Each site's WAN counters as of `lo`, from its latest five-minute row before `lo`."""
    out: dict[int, tuple[Counters | None, datetime | None]] = {}
    recent = MetricRollup5m.objects.filter(
        site_id__in=site_ids, bucket_start__lt=lo, bucket_start__gte=lo - HOUR
    ).order_by("site_id", "bucket_start").values_list("site_id", "wan_last", "wan_last_at")
    for site_id, wan, at in recent:
        out[site_id] = (wan, at)
    for site_id in site_ids:
        if site_id not in out:
            row = MetricRollup5m.objects.filter(site_id=site_id, bucket_start__lt=lo).order_by(
                "-bucket_start").values_list("wan_last", "wan_last_at").first()
            out[site_id] = row if row is not None else (None, None)
    return out


def compute_5m(site_ids: Sequence[int], lo: datetime,
               received_before: datetime | None) -> dict[Key, Stats]:
    """Five-minute buckets from `lo` (aligned) on, for beats received before
    `received_before` (all beats if None), with WAN fields."""
    beats = Heartbeat.objects.filter(site_id__in=site_ids, received_at__gte=lo - skew())
    if received_before is not None:
        beats = beats.filter(received_at__lt=received_before)
    beats = beats.annotate(m=measured()).filter(m__gte=lo)
    groups = beats.annotate(
        h=TruncHour("m", tzinfo=UTC), q=Floor(ExtractMinute("m", tzinfo=UTC) / 5)
    ).values("site_id", "h", "q").annotate(**RAW_AGG).order_by()
    out: dict[Key, Stats] = {}
    for g in groups:
        stats = empty_stats()
        stats.update({k: v for k, v in g.items() if k in RAW_AGG})
        out[(g["site_id"], floor_hour(g["h"]) + FIVE_MIN * int(g["q"]))] = stats
    wan_rows: dict[Key, list[tuple[datetime, object]]] = defaultdict(list)
    for site_id, at, wan in beats.filter(wan__isnull=False).order_by(
        "site_id", "m", "received_at", "id"
    ).values_list("site_id", "m", "wan"):
        wan_rows[(site_id, floor_5m(at))].append((at, wan))
    context = _wan_context(sorted({s for s, _ in out}), lo)
    for key in sorted(out):
        counters, last_at = context[key[0]]
        stats = out[key]
        for at, wan in wan_rows.get(key, []):
            rx, tx, compared, counters = wan_step(counters, wan)
            if compared and last_at is not None and at > last_at:
                stats["rx_bytes"] += rx
                stats["tx_bytes"] += tx
                stats["wan_span_s"] += (at - last_at).total_seconds()
            last_at = at
        stats["wan_last"], stats["wan_last_at"] = counters, last_at
        context[key[0]] = (counters, last_at)
    return out


def compute_1h(site_ids: Sequence[int], lo: datetime, hi: datetime) -> dict[Key, Stats]:
    """Hourly buckets in [lo, hi) (aligned) from the five-minute rows."""
    groups = MetricRollup5m.objects.filter(
        site_id__in=site_ids, bucket_start__gte=lo, bucket_start__lt=hi
    ).values("site_id", h=TruncHour("bucket_start", tzinfo=UTC)).annotate(**ROLLUP_AGG).order_by()
    return {(g["site_id"], floor_hour(g["h"])): from_rollup_agg(g) for g in groups}


def _replace(model: type[MetricRollup5m] | type[MetricRollup1h], out: Mapping[Key, Stats],
             site_ids: Sequence[int], lo: datetime, hi: datetime) -> None:
    """Make `model`'s rows of `site_ids` in [lo, hi) exactly `out` (upsert, delete the rest)."""
    stale = [pk for pk, site_id, start in model.objects.filter(
        site_id__in=site_ids, bucket_start__gte=lo, bucket_start__lt=hi
    ).values_list("pk", "site_id", "bucket_start") if (site_id, start) not in out]
    if stale:
        model.objects.filter(pk__in=stale).delete()
    fields = [*STAT_FIELDS, *(WAN_FIELDS if model is MetricRollup5m else ())]
    rows = [model(site_id=site_id, bucket_start=start, **{k: stats[k] for k in fields})
            for (site_id, start), stats in out.items()]
    model.objects.bulk_create(rows, batch_size=1000, update_conflicts=True,  # type: ignore[arg-type]
                              unique_fields=["site", "bucket_start"], update_fields=fields)


def _group_by(values: Mapping[int, datetime]) -> dict[datetime, list[int]]:
    groups: dict[datetime, list[int]] = defaultdict(list)
    for site_id, at in sorted(values.items()):
        groups[at].append(site_id)
    return groups


def recompute_5m(starts: Mapping[int, datetime], received_before: datetime | None
                 ) -> dict[int, datetime]:
    """Recompute each site's five-minute buckets from its start on; return each site's first
    touched hour (for `recompute_1h`)."""
    hours: dict[int, datetime] = {}
    for lo, ids in _group_by({s: floor_5m(t) for s, t in starts.items()}).items():
        for batch in chunks(ids):
            out = compute_5m(batch, lo, received_before)
            hi = max((start for _, start in out), default=lo) + FIVE_MIN
            _replace(MetricRollup5m, out, batch, lo, hi)
            for site_id in batch:
                hours[site_id] = floor_hour(lo)
    return hours


def recompute_1h(starts: Mapping[int, datetime], floor: datetime | None) -> int:
    """Recompute each site's hourly buckets from its start hour on (never before `floor`,
    where five-minute rows are gone). Returns the number of hourly rows written."""
    written = 0
    for lo, ids in _group_by({s: max(t, floor) if floor else t for s, t in starts.items()}
                             ).items():
        for batch in chunks(ids):
            hi = MetricRollup5m.objects.filter(site_id__in=batch, bucket_start__gte=lo).aggregate(
                m=Max("bucket_start"))["m"]
            hi = floor_hour(hi) + HOUR if hi is not None else lo + HOUR
            out = compute_1h(batch, lo, hi)
            _replace(MetricRollup1h, out, batch, lo, hi)
            written += len(out)
    return written


# --- the roll-up run -------------------------------------------------------------------------


@dataclass
class RollupResult:
    chunks: int = 0
    sites: int = 0
    hourly_rows: int = 0
    late_added: int = 0
    late_dropped: int = 0


def _merge_sealed(rows: Iterable[Mapping[str, Any]], floor_5m_rows: datetime | None,
                  result: RollupResult) -> dict[int, datetime]:
    """Add beats for sealed five-minute buckets to those buckets; their first hours."""
    hours: dict[int, datetime] = {}
    for row in rows:
        bucket = floor_5m(row["m"])
        if floor_5m_rows is not None and bucket < floor_5m_rows:
            result.late_dropped += 1  # older than the five-minute retention
            continue
        stats = beat_stats(row)
        existing = MetricRollup5m.objects.filter(site_id=row["site_id"],
                                                 bucket_start=bucket).first()
        if existing is not None:
            merged = merge_stats(stats_of(existing), stats)
            MetricRollup5m.objects.filter(pk=existing.pk).update(**merged)
        else:
            before = MetricRollup5m.objects.filter(
                site_id=row["site_id"], bucket_start__lt=bucket
            ).order_by("-bucket_start").values_list("wan_last", "wan_last_at").first()
            wan_last, wan_last_at = before or (None, None)
            MetricRollup5m.objects.create(site_id=row["site_id"], bucket_start=bucket,
                                          wan_last=wan_last, wan_last_at=wan_last_at, **stats)
        result.late_added += 1
        hour = floor_hour(bucket)
        hours[row["site_id"]] = min(hours.get(row["site_id"], hour), hour)
    return hours


def _roll(cursor: MetricsCursor, start: datetime, upper: datetime, result: RollupResult) -> None:
    sealed = cursor.raw_sealed_before
    site_ids = list(Site.objects.order_by("pk").values_list("pk", flat=True))
    for batch in chunks(site_ids):
        new = Heartbeat.objects.filter(
            site_id__in=batch, received_at__gte=start, received_at__lt=upper
        ).annotate(m=measured())
        fresh = new if sealed is None else new.filter(m__gte=sealed)
        starts = dict(fresh.values("site_id").annotate(lo=Min("m")).order_by().values_list(
            "site_id", "lo"))
        hours = recompute_5m(starts, upper)
        if sealed is not None:
            late = new.filter(m__lt=sealed).values("site_id", "m", *RAW_METRICS, "hotspot_users")
            for site_id, hour in _merge_sealed(late, cursor.rollup_5m_pruned_before,
                                               result).items():
                hours[site_id] = min(hours.get(site_id, hour), hour)
        result.hourly_rows += recompute_1h(hours, cursor.rollup_5m_pruned_before)
        result.sites += len(starts)


def rollup_metrics(now: datetime) -> RollupResult:
    """Bring the roll-ups up to heartbeats received before `now` - LAG. Idempotent; works in
    transactions of at most CHUNK of receive time; returns at once while another process
    is rolling up."""
    target = require_aware(now, "now") - LAG
    result = RollupResult()
    while True:
        with transaction.atomic():
            cursor = _lock(METRICS)
            if cursor is None:
                return result
            start = cursor.rolled_until or Heartbeat.objects.aggregate(m=Min("received_at"))["m"]
            if start is None or start >= target:
                if cursor.rolled_until is None:
                    cursor.rolled_until = target
                    cursor.save(update_fields=["rolled_until"])
                return result
            upper = min(target, start + CHUNK)
            _roll(cursor, start, upper, result)
            cursor.rolled_until = upper
            cursor.save(update_fields=["rolled_until"])
            result.chunks += 1
        if upper >= target:
            return result


def rollup_range(site_ids: Sequence[int], start: datetime) -> None:
    """Recompute the given sites' roll-ups from `start` on, from the raw rows already rolled
    (for writers that store heartbeats with old receive times, such as a history import)."""
    with transaction.atomic():
        cursor = MetricsCursor.objects.select_for_update().filter(name=METRICS).first()
        if cursor is None or cursor.rolled_until is None:
            return  # the first roll-up run will see every row
        lo = max(start, cursor.raw_sealed_before) if cursor.raw_sealed_before else start
        hours = recompute_5m(dict.fromkeys(site_ids, lo), cursor.rolled_until)
        recompute_1h(hours, cursor.rollup_5m_pruned_before)


# --- pruning ---------------------------------------------------------------------------------


@dataclass
class PruneResult:
    raw_deleted: int = 0
    rollups_5m_deleted: int = 0
    reconciled_sites: int = 0


def _reconcile(old: datetime | None, until: datetime, rolled: datetime,
               floor: datetime | None) -> int:
    """Recompute the five-minute buckets in [old, until) whose beat count differs from the
    raw rows (rows stored with an old receive time); returns the number of sites fixed."""
    fixed = 0
    site_ids = list(Site.objects.order_by("pk").values_list("pk", flat=True))
    for batch in chunks(site_ids):
        raw = Heartbeat.objects.filter(site_id__in=batch, received_at__lt=rolled)
        rolled_up = MetricRollup5m.objects.filter(site_id__in=batch, bucket_start__lt=until)
        if old is not None:
            raw = raw.filter(received_at__gte=old - skew())
            rolled_up = rolled_up.filter(bucket_start__gte=old)
        raw = raw.annotate(m=measured()).filter(m__lt=until, **({"m__gte": old} if old else {}))
        counts: dict[Key, int] = {}
        for g in raw.annotate(
            h=TruncHour("m", tzinfo=UTC), q=Floor(ExtractMinute("m", tzinfo=UTC) / 5)
        ).values("site_id", "h", "q").annotate(n=Count("id")).order_by():
            counts[(g["site_id"], floor_hour(g["h"]) + FIVE_MIN * int(g["q"]))] = g["n"]
        stored = {(s, b): n for s, b, n in rolled_up.values_list("site_id", "bucket_start",
                                                                 "count")}
        starts: dict[int, datetime] = {}
        for key in counts.keys() | stored.keys():
            if counts.get(key) != stored.get(key):
                starts[key[0]] = min(starts.get(key[0], key[1]), key[1])
        if starts:
            log.warning("metrics: recomputing roll-ups of %d sites before pruning", len(starts))
            hours = recompute_5m(starts, rolled)
            recompute_1h(hours, floor)
            fixed += len(starts)
    return fixed


def prune_raw(now: datetime) -> PruneResult:
    """Delete raw heartbeats older than LINDA_RAW_RETENTION_DAYS once their buckets are rolled
    up and sealed, and five-minute roll-ups older than LINDA_ROLLUP_5M_RETENTION_DAYS (hourly
    roll-ups are kept forever)."""
    now = require_aware(now, "now")
    rollup_metrics(now)
    result = PruneResult()
    with transaction.atomic():
        cursor = _lock(METRICS)
        if cursor is None or cursor.rolled_until is None:
            return result
        rolled = cursor.rolled_until
        seal = min(floor_hour(now - timedelta(days=settings.LINDA_RAW_RETENTION_DAYS)),
                   floor_hour(rolled - skew()))
        old = cursor.raw_sealed_before
        if old is None or seal > old:
            result.reconciled_sites = _reconcile(old, seal, rolled,
                                                 cursor.rollup_5m_pruned_before)
            cursor.raw_sealed_before = seal
        floor = floor_hour(now - timedelta(days=settings.LINDA_ROLLUP_5M_RETENTION_DAYS))
        if cursor.rollup_5m_pruned_before is None or floor > cursor.rollup_5m_pruned_before:
            cursor.rollup_5m_pruned_before = min(floor, cursor.raw_sealed_before or floor)
        cursor.save(update_fields=["raw_sealed_before", "rollup_5m_pruned_before"])
        sealed: datetime | None = cursor.raw_sealed_before
        pruned: datetime | None = cursor.rollup_5m_pruned_before
    site_ids = list(Site.objects.order_by("pk").values_list("pk", flat=True))
    for batch in chunks(site_ids):
        if sealed is not None:
            result.raw_deleted += Heartbeat.objects.filter(
                Q(device_at__isnull=True) | Q(device_at__lt=sealed),
                site_id__in=batch, received_at__lt=sealed,
            ).delete()[0]
        if pruned is not None:
            result.rollups_5m_deleted += MetricRollup5m.objects.filter(
                site_id__in=batch, bucket_start__lt=pruned).delete()[0]
    return result


# --- coverage compaction ---------------------------------------------------------------------


@dataclass
class _Run:
    first: datetime
    first_id: int
    last: datetime
    last_id: int
    interior: list[int] = field(default_factory=list)


def compact_coverage(now: datetime) -> int:
    """Replace the coverage marks older than COVERAGE_AGE inside each watched stretch by one
    `CoverageSpan`, keeping each stretch's first and last mark. Returns the marks deleted."""
    now = require_aware(now, "now")
    gap = timedelta(seconds=settings.LINDA_MONITOR_MAX_GAP_S)
    deleted = 0
    with transaction.atomic():
        if _lock(COVERAGE) is None:
            return 0
        latest = CoverageSpan.objects.order_by("-end").first()
        marks = CoverageMark.objects.filter(at__lt=now - COVERAGE_AGE)
        if latest is not None:
            marks = marks.filter(at__gte=latest.end)
        run: _Run | None = None
        for pk, at in marks.order_by("at", "pk").values_list("pk", "at").iterator(5000):
            if run is not None and at - run.last <= gap:
                if run.last_id != run.first_id:
                    run.interior.append(run.last_id)
                run.last, run.last_id = at, pk
                if len(run.interior) >= 5000:  # keep the current mark as a span end
                    deleted += _flush(run)
                    run = _Run(at, pk, at, pk)
                continue
            if run is not None:
                deleted += _flush(run)
            run = _Run(at, pk, at, pk)
        if run is not None:
            deleted += _flush(run)
    return deleted


def _flush(run: _Run) -> int:
    if run.last <= run.first:
        return 0
    extended = CoverageSpan.objects.filter(end=run.first).update(end=run.last)
    if not extended:
        CoverageSpan.objects.create(start=run.first, end=run.last)
    return CoverageMark.objects.filter(pk__in=run.interior).delete()[0] if run.interior else 0


# --- the maintenance hook --------------------------------------------------------------------


@dataclass
class MaintenanceResult:
    rollup: RollupResult
    prune: PruneResult
    coverage_marks_deleted: int


def maintain_metrics(now: datetime) -> MaintenanceResult:
    """Roll up, prune and compact: what the monitor loop runs every LINDA_ROLLUP_EVERY_S."""
    now = require_aware(now, "now")
    rollup = rollup_metrics(now)
    prune = prune_raw(now)
    marks = compact_coverage(now)
    if rollup.chunks or prune.raw_deleted or marks:
        log.info("metrics: %d sites rolled up, %d raw heartbeats and %d five-minute rows "
                 "pruned, %d coverage marks compacted", rollup.sites, prune.raw_deleted,
                 prune.rollups_5m_deleted, marks)
    return MaintenanceResult(rollup, prune, marks)

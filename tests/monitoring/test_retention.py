"""Metrics roll-ups, raw pruning, `site_metrics` and coverage compaction, on the real database."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.management import call_command

from linda.domain.status import State
from linda.monitoring.models import (
    Channel,
    CoverageMark,
    CoverageSpan,
    Heartbeat,
    MetricRollup1h,
    MetricRollup5m,
    MetricsCursor,
    SiteState,
)
from linda.monitoring.retention import (
    compact_coverage,
    maintain_metrics,
    prune_raw,
    rollup_metrics,
    wan_step,
)
from linda.monitoring.selectors import engine_input, get_site_intervals, site_metrics
from linda.registry.models import Site
from tests.monitoring.conftest import T0, new_site

pytestmark = pytest.mark.django_db
S = dt.timedelta(seconds=1)
M = dt.timedelta(minutes=1)
H = dt.timedelta(hours=1)
D = dt.timedelta(days=1)


def beat(site: Site, at: dt.datetime, *, device_at: dt.datetime | None = None,
         late: bool = False, rx: int | None = None, tx: int | None = None,
         **metrics: Any) -> Heartbeat:
    wan = {"ether1": {"rx_bytes": rx, "tx_bytes": tx}} if rx is not None else None
    return Heartbeat.objects.create(site=site, received_at=at, device_at=device_at, late=late,
                                    channel=Channel.HB, wan=wan, **metrics)


def row(model: type[MetricRollup5m] | type[MetricRollup1h], site: Site,
        start: dt.datetime) -> Any:
    return model.objects.get(site=site, bucket_start=start)


def hand_made_beats(site: Site) -> None:
    """Seven beats over 03:00–03:07 UTC, with a WAN counter reset at 03:03."""
    values = [  # minute, rtt, loss, battery, soc, users, rx, tx
        (0, 10.0, 0.0, 12.5, 80.0, 3, 1000, 100),
        (1, 20.0, 10.0, 12.0, 79.0, 7, 3000, 200),
        (2, None, 0.0, 12.2, 78.0, 2, 6000, 300),
        (3, 30.0, 0.0, None, 77.0, None, 500, 50),  # router rebooted: counters restart
        (4, 40.0, 5.0, 11.9, 76.0, 5, 1500, 150),
        (5, 50.0, None, None, None, None, 2500, 250),
        (6, 60.0, None, None, None, None, 4500, 350),
    ]
    for minute, rtt, loss, volt, soc, users, rx, tx in values:
        beat(site, T0 + minute * M, rtt_ms=rtt, loss_pct=loss, battery_voltage_v=volt,
             battery_soc_pct=soc, hotspot_users=users, rx=rx, tx=tx)


# --- roll-up values --------------------------------------------------------------------------


def test_wan_step_counts_a_reset_counter_from_zero() -> None:
    before = {"ether1": {"rx_bytes": 6000, "tx_bytes": 300}, "lte1": {"rx_bytes": 10}}
    rx, tx, compared, carried = wan_step(before, {"ether1": {"rx_bytes": 500, "tx_bytes": 400}})
    assert (rx, tx, compared) == (500, 100, True)
    assert carried == {"ether1": {"rx_bytes": 500, "tx_bytes": 400}, "lte1": {"rx_bytes": 10}}
    assert wan_step(None, {"ether1": {"rx_bytes": 5}})[:3] == (0, 0, False)


def test_five_minute_and_hourly_rollups_of_hand_made_beats(site: Site) -> None:
    hand_made_beats(site)
    rollup_metrics(T0 + 20 * M)

    first = row(MetricRollup5m, site, T0)
    assert first.count == 5
    assert (first.rtt_n, first.rtt_min_ms, first.rtt_avg_ms, first.rtt_max_ms) == (4, 10, 25, 40)
    assert (first.loss_n, first.loss_avg_pct, first.loss_max_pct) == (5, 3, 10)
    assert first.battery_n == 4 and first.battery_min_v == 11.9
    assert first.battery_avg_v == pytest.approx(12.15)
    assert (first.battery_soc_min_pct, first.battery_soc_avg_pct) == (76, 78)
    assert first.hotspot_users_max == 7
    # 1000→3000→6000, reset to 500, →1500: 2000 + 3000 + 500 + 1000 over four minutes
    assert (first.rx_bytes, first.tx_bytes, first.wan_span_s) == (6500, 350, 240)

    second = row(MetricRollup5m, site, T0 + 5 * M)
    assert second.count == 2 and second.loss_n == 0 and second.loss_avg_pct is None
    assert (second.rx_bytes, second.tx_bytes, second.wan_span_s) == (3000, 200, 120)
    assert second.wan_last == {"ether1": {"rx_bytes": 4500, "tx_bytes": 350}}

    hour = row(MetricRollup1h, site, T0)
    assert (hour.count, hour.rtt_n, hour.rtt_min_ms, hour.rtt_max_ms) == (7, 6, 10, 60)
    assert hour.rtt_avg_ms == pytest.approx(35)
    assert hour.loss_avg_pct == pytest.approx(3) and hour.battery_min_v == 11.9
    assert (hour.rx_bytes, hour.tx_bytes, hour.wan_span_s) == (9500, 550, 360)
    assert hour.hotspot_users_max == 7


def test_rollup_is_incremental_and_idempotent(site: Site) -> None:
    hand_made_beats(site)
    rollup_metrics(T0 + 20 * M)
    assert rollup_metrics(T0 + 20 * M).chunks == 0
    beat(site, T0 + 21 * M, rtt_ms=5.0, rx=5000, tx=400)  # a new bucket, counters continue
    rollup_metrics(T0 + 30 * M)
    assert MetricRollup5m.objects.filter(site=site).count() == 3
    new = row(MetricRollup5m, site, T0 + 20 * M)
    assert (new.count, new.rx_bytes, new.wan_span_s) == (1, 500, 15 * 60)
    assert row(MetricRollup5m, site, T0).count == 5
    assert row(MetricRollup1h, site, T0).count == 8


def test_late_batch_recomputes_the_already_rolled_bucket(site: Site) -> None:
    hand_made_beats(site)
    rollup_metrics(T0 + 20 * M)
    assert row(MetricRollup5m, site, T0).count == 5
    # Uploaded at 03:40 from the router's buffer: measured at 03:01:30, between two beats.
    beat(site, T0 + 40 * M, device_at=T0 + 90 * S, late=True, rtt_ms=100.0, loss_pct=50.0,
         rx=4500, tx=250)
    rollup_metrics(T0 + 45 * M)
    first = row(MetricRollup5m, site, T0)
    assert (first.count, first.rtt_max_ms, first.loss_max_pct) == (6, 100, 50)
    assert first.rtt_avg_ms == pytest.approx((10 + 20 + 30 + 40 + 100) / 5)
    # Its counters lie between its neighbours': the bytes were already counted.
    assert (first.rx_bytes, first.tx_bytes) == (6500, 350)
    hour = row(MetricRollup1h, site, T0)
    assert (hour.count, hour.rtt_max_ms) == (8, 100)
    before = list(MetricRollup5m.objects.values())
    rollup_metrics(T0 + 45 * M)
    assert list(MetricRollup5m.objects.values()) == before


def test_rollups_keep_sites_apart(site: Site) -> None:
    other = new_site("lemo-3")
    beat(site, T0, rtt_ms=10.0)
    beat(other, T0 + M, rtt_ms=90.0)
    rollup_metrics(T0 + H)
    assert row(MetricRollup5m, site, T0).rtt_max_ms == 10
    assert row(MetricRollup5m, other, T0).rtt_max_ms == 90


# --- pruning ---------------------------------------------------------------------------------


@pytest.fixture
def short_retention(settings: Any) -> None:
    settings.LINDA_RAW_RETENTION_DAYS = 2
    settings.LINDA_ROLLUP_5M_RETENTION_DAYS = 3


def test_prune_deletes_only_raw_rows_already_rolled_up(site: Site, short_retention: None) -> None:
    for i in range(4 * 24):  # one beat an hour for four days
        beat(site, T0 + i * H, rtt_ms=float(i))
    rollup_metrics(T0 + 4 * D)
    # Stored with an old receive time after the roll-up passed it (a history import): not
    # rolled up yet, so pruning must roll it up before deleting it.
    beat(site, T0 + 30 * M, rtt_ms=999.0)
    assert not MetricRollup5m.objects.filter(site=site, bucket_start=T0 + 30 * M).exists()

    now = T0 + 4 * D + 10 * M
    result = prune_raw(now)
    seal = T0 + 2 * D  # floor_hour(now - 2 days)
    assert result.raw_deleted == 2 * 24 + 1
    assert not Heartbeat.objects.filter(received_at__lt=seal).exists()
    assert Heartbeat.objects.filter(site=site).count() == 2 * 24
    assert result.reconciled_sites == 1
    imported = row(MetricRollup1h, site, T0)  # its five-minute row is past retention now
    assert (imported.count, imported.rtt_max_ms) == (2, 999)
    assert sum(MetricRollup1h.objects.values_list("count", flat=True)) == 4 * 24 + 1
    cursor = MetricsCursor.objects.get()
    assert cursor.raw_sealed_before == seal
    # Five-minute rows older than three days are gone, hourly rows stay.
    assert not MetricRollup5m.objects.filter(bucket_start__lt=T0 + D).exists()
    assert MetricRollup5m.objects.filter(bucket_start__gte=T0 + D).count() == 3 * 24
    assert MetricRollup1h.objects.count() == 4 * 24


def test_late_beat_for_a_sealed_bucket_is_added_not_recomputed(
    site: Site, short_retention: None
) -> None:
    for i in range(4 * 24):
        beat(site, T0 + i * H, rtt_ms=10.0)
    now = T0 + 4 * D
    prune_raw(now)
    target = T0 + D + 10 * H  # sealed (raw gone), five-minute row still kept
    assert row(MetricRollup5m, site, target).count == 1
    beat(site, now + M, device_at=target + 2 * M, late=True, rtt_ms=70.0)
    result = rollup_metrics(now + 10 * M)
    assert result.late_added == 1
    bucket = row(MetricRollup5m, site, target)
    assert (bucket.count, bucket.rtt_avg_ms, bucket.rtt_max_ms) == (2, 40, 70)
    hour = row(MetricRollup1h, site, target)
    assert (hour.count, hour.rtt_max_ms) == (2, 70)
    assert rollup_metrics(now + 10 * M).late_added == 0  # counted once


def test_prune_before_any_rollup_rolls_up_first(site: Site, short_retention: None) -> None:
    beat(site, T0, rtt_ms=1.0)
    beat(site, T0 + 3 * D, rtt_ms=2.0)
    prune_raw(T0 + 3 * D + H)
    assert list(Heartbeat.objects.values_list("rtt_ms", flat=True)) == [2.0]
    assert row(MetricRollup1h, site, T0).count == 1


# --- site_metrics ----------------------------------------------------------------------------


@pytest.fixture
def two_days(site: Site) -> Site:
    """A beat every two minutes for two days from T0, counters rising 1000 bytes a beat."""
    Heartbeat.objects.bulk_create(
        Heartbeat(site=site, received_at=T0 + i * 2 * M, channel=Channel.HB,
                  rtt_ms=float(i % 100), wan={"ether1": {"rx_bytes": 1000 * i, "tx_bytes": 0}})
        for i in range(24 * 30 * 2)
    )
    return site


def test_site_metrics_picks_raw_then_five_minute_then_hourly(two_days: Site) -> None:
    site = two_days
    now = T0 + 2 * D
    rollup_metrics(now)
    short = site_metrics(site.pk, T0 + H, T0 + 2 * H, max_points=100, now=now)
    medium = site_metrics(site.pk, T0 + H, T0 + 7 * H, max_points=100, now=now)
    long = site_metrics(site.pk, T0, T0 + 2 * D, max_points=100, now=now)
    assert (short.resolution, medium.resolution, long.resolution) == ("raw", "5m", "1h")
    assert (short.bucket_s, medium.bucket_s, long.bucket_s) == (0, 300, 3600)
    assert short.columns.keys() == medium.columns.keys() == long.columns.keys()
    assert len(short.columns["t"]) == 30 and len(medium.columns["t"]) == 72
    assert len(long.columns["t"]) == 48
    assert sum(short.columns["count"]) == 30 and sum(medium.columns["count"]) == 180
    assert sum(long.columns["count"]) == 24 * 30 * 2
    assert medium.columns["t"][0] == int((T0 + H).timestamp())
    # 1000 bytes every 120 s is 66.7 bit/s at every resolution.
    for series in (short, medium, long):
        rates = [v for v in series.columns["rx_bps"] if v is not None]
        assert rates and set(rates) == {67}
    assert long.columns["rtt_max_ms"][0] == 29 and long.columns["rtt_min_ms"][0] == 0
    squeezed = site_metrics(site.pk, T0, T0 + 2 * D, max_points=10, now=now)
    # 49 hours in at most 10 points: groups of 6 hours (a divisor of a day), aligned to UTC days
    assert squeezed.bucket_s == 6 * 3600 and len(squeezed.columns["t"]) <= 10
    assert all(t % (6 * 3600) == 0 for t in squeezed.columns["t"])
    assert sum(squeezed.columns["count"]) == 24 * 30 * 2
    json = long.as_json()
    assert json["resolution"] == "1h" and json["t"] == long.columns["t"]


def test_site_metrics_fills_buckets_not_rolled_up_yet(two_days: Site) -> None:
    site = two_days
    rollup_metrics(T0 + D)  # half the data rolled up
    now = T0 + 2 * D
    medium = site_metrics(site.pk, T0 + D - 3 * H, T0 + D + 3 * H, max_points=100, now=now)
    long = site_metrics(site.pk, T0, T0 + 2 * D, max_points=100, now=now)
    assert medium.resolution == "5m" and sum(medium.columns["count"]) == 180
    assert long.resolution == "1h" and sum(long.columns["count"]) == 24 * 30 * 2
    assert len(long.columns["t"]) == 48 and len(set(long.columns["t"])) == 48


def test_site_metrics_uses_rollups_where_raw_rows_are_pruned(
    two_days: Site, settings: Any
) -> None:
    settings.LINDA_RAW_RETENTION_DAYS = 1
    now = T0 + 2 * D
    prune_raw(now)
    series = site_metrics(two_days.pk, T0 + H, T0 + 2 * H, max_points=100, now=now)
    assert series.resolution == "5m" and sum(series.columns["count"]) == 30
    recent = site_metrics(two_days.pk, T0 + D + H, T0 + D + 2 * H, max_points=100, now=now)
    assert recent.resolution == "raw"


# --- coverage compaction ---------------------------------------------------------------------


def coverage_world(site: Site) -> None:
    """Twelve hours from T0: marks every 5 s (a second monitor for two hours, and two monitor
    outages), a beat a minute with a silence that turns the site DOWN."""
    marks: list[CoverageMark] = []
    t = T0
    while t < T0 + 12 * H:
        if not (T0 + 3 * H <= t < T0 + 3 * H + 20 * M or T0 + 8 * H <= t < T0 + 8 * H + 90 * S):
            marks.append(CoverageMark(at=t, monitor_id="m1"))
            if T0 + 5 * H <= t < T0 + 7 * H:
                marks.append(CoverageMark(at=t + 2 * S, monitor_id="m2"))
        t += 5 * S
    CoverageMark.objects.bulk_create(marks)
    beats = [T0 + 30 * S + i * M for i in range(12 * 60)
             if not T0 + 6 * H <= T0 + i * M < T0 + 6 * H + 30 * M]
    Heartbeat.objects.bulk_create(Heartbeat(site=site, received_at=at, channel=Channel.HB)
                                  for at in beats)
    SiteState.objects.create(site=site, activated_at=T0 + 10 * S, state_since=T0)


def intervals_seen(site: Site) -> list[Any]:
    windows = [(T0, T0 + 12 * H), (T0 + 2 * H + 7 * M + 3 * S, T0 + 9 * H),
               (T0 + 3 * H + 10 * M, T0 + 3 * H + 40 * M), (T0 + 6 * H, T0 + 6 * H + H),
               (T0 + 8 * H + 30 * S, T0 + 11 * H + 59 * M)]
    now = T0 + 12 * H
    out = [get_site_intervals(site, start, end, now=now) for start, end in windows]
    # Computing from a point inside a stretch (what materialization does) must agree too.
    for start in (T0 + 4 * H + 17 * S, T0 + 8 * H + 2 * M):
        out.append(engine_input(site, start=start, until=T0 + 11 * H).compute())
    return out


def test_compaction_leaves_the_computed_intervals_identical(site: Site) -> None:
    coverage_world(site)
    before = intervals_seen(site)
    states = {iv.state for ivs in before for iv in ivs}
    assert {State.UP, State.DOWN, State.UNKNOWN} <= states
    marks_before = CoverageMark.objects.count()

    # The day-old cutoff first falls inside a stretch (05:30), then past everything.
    deleted = compact_coverage(T0 + 5 * H + 30 * M + D)
    assert deleted > 0 and CoverageSpan.objects.exists()
    assert intervals_seen(site) == before
    deleted += compact_coverage(T0 + 13 * H + D)
    assert intervals_seen(site) == before
    assert compact_coverage(T0 + 13 * H + D) == 0  # nothing left to do
    assert CoverageMark.objects.count() == marks_before - deleted < 20
    assert CoverageSpan.objects.count() == 3  # three stretches between two monitor outages


def test_compaction_keeps_marks_younger_than_a_day(site: Site) -> None:
    coverage_world(site)
    count = CoverageMark.objects.count()
    assert compact_coverage(T0 + 12 * H) == 0
    assert CoverageMark.objects.count() == count and not CoverageSpan.objects.exists()


# --- the hook and the command ----------------------------------------------------------------


def test_maintain_and_the_command_run_every_step(site: Site) -> None:
    hand_made_beats(site)
    result = maintain_metrics(T0 + 20 * M)
    assert result.rollup.chunks == 1 and MetricRollup1h.objects.count() == 1
    call_command("metrics_maintain", stdout=(out := __import__("io").StringIO()))
    assert "rolled up" in out.getvalue()

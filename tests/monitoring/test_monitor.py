"""The monitor loop and the interval selector, driven with injected times."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.core.management import call_command
from django.db import connection

from linda.domain.status import State
from linda.monitoring.models import (
    Channel,
    CoverageMark,
    Heartbeat,
    SiteState,
    StatusInterval,
)
from linda.monitoring.monitor import Flip, flip, materialize_intervals, tick
from linda.monitoring.payload import Reading
from linda.monitoring.selectors import get_site_intervals
from linda.monitoring.services import record_batch, record_heartbeat, schedule_maintenance
from linda.registry.models import Region, Site, Vendor
from tests.factories import make_contract
from tests.monitoring.conftest import T0, new_site
from tests.monitoring.timeline import STEP, World, merged

pytestmark = pytest.mark.django_db
S = dt.timedelta(seconds=1)
M = dt.timedelta(minutes=1)
UP, DOWN, UNKNOWN, EXCLUDED = State.UP, State.DOWN, State.UNKNOWN, State.EXCLUDED


@pytest.fixture
def world(site: Site) -> World:
    return World(site)


def test_up_goes_down_after_interval_plus_grace_backdated_to_the_missed_beat(world: World) -> None:
    world.run(T0 + 240 * S, beats=[T0])
    assert world.state.state == "up" and world.flips == []  # exactly I + G: still UP
    world.run(T0 + 245 * S)
    assert [(f.old, f.new, f.since) for f in world.flips] == [("up", "down", T0 + M)]
    assert (world.state.state, world.state.state_since) == ("down", T0 + M)


def test_down_comes_back_up_with_the_next_live_heartbeat(world: World) -> None:
    world.run(T0 + 10 * M, beats=[T0, T0 + 10 * M - S])
    state = world.state
    assert (state.state, state.state_since) == ("up", T0 + 10 * M - S)
    assert world.intervals(T0, T0 + 10 * M) == [
        (T0, T0 + M, UP), (T0 + M, T0 + 10 * M - S, DOWN), (T0 + 10 * M - S, T0 + 10 * M, UP)]


def test_unknown_comes_up_with_a_heartbeat(world: World) -> None:
    world.run(T0, beats=[T0])
    SiteState.objects.filter(site=world.site).update(state="unknown")
    world.run(T0 + M, beats=[T0 + 40 * S])
    assert (world.state.state, world.state.state_since) == ("up", T0 + 40 * S)


def test_maintenance_window_excludes_then_returns_unknown(world: World) -> None:
    schedule_maintenance(site=world.site, start=T0 + 2 * M, end=T0 + 4 * M,
                         reason="ganti baterai", author=None)
    world.run(T0 + 6 * M, beats=[T0 + n * M for n in range(0, 7) if n != 4])
    assert [(f.old, f.new, f.since) for f in world.flips] == [
        ("up", "excluded", T0 + 2 * M), ("excluded", "unknown", T0 + 4 * M)]
    assert world.state.state == "up"  # the 10:05 beat
    assert world.intervals(T0, T0 + 6 * M) == [
        (T0, T0 + 2 * M, UP), (T0 + 2 * M, T0 + 4 * M, EXCLUDED), (T0 + 4 * M, T0 + 6 * M, UP)]


def test_maintenance_never_becomes_down_and_ends_down_if_still_silent(world: World) -> None:
    kecamatan = Region.objects.get(code="62.05.05")
    schedule_maintenance(kecamatan=kecamatan, start=T0 + M, end=T0 + 30 * M,
                         reason="PLN padam terjadwal", author=None)
    world.run(T0 + 31 * M, beats=[T0])
    assert [(f.old, f.new) for f in world.flips] == [("up", "excluded"), ("excluded", "down")]
    assert world.intervals(T0, T0 + 31 * M) == [
        (T0, T0 + M, UP), (T0 + M, T0 + 30 * M, EXCLUDED), (T0 + 30 * M, T0 + 31 * M, DOWN)]


def test_contract_wide_window_covers_every_site_of_the_contract(world: World) -> None:
    other = new_site("lemo-2-b")
    contract = make_contract(Vendor.objects.create(name="PT Satelit"), [world.site, other])
    schedule_maintenance(contract=contract, start=T0 + M, end=T0 + 2 * M,
                         reason="pemeliharaan satelit", author=None)
    record_heartbeat(site_id=other.pk, reading=Reading(), channel=Channel.HB, now=T0)
    world.run(T0 + 70 * S, beats=[T0])
    assert {f.site_id for f in world.flips if f.new == "excluded"} == {world.site.pk, other.pk}


def test_restart_gap_is_unknown_and_never_down(world: World) -> None:
    dark = (T0 + 3 * M, T0 + 40 * M)
    beats = [T0, T0 + M, T0 + 2 * M] + [T0 + 40 * M + 30 * S + n * M for n in range(5)]
    world.run(T0 + 45 * M, beats=beats, dark=dark)
    assert world.restarts == [T0 - 25 * S, T0 + 40 * M]  # the very first mark, the restart
    assert [(f.new, f.since) for f in world.flips] == []  # the restart itself is a bulk reset
    assert world.state.state == "up"
    last_mark_before = T0 + 3 * M - STEP
    assert world.intervals(T0, T0 + 44 * M) == [
        (T0, last_mark_before, UP), (last_mark_before, T0 + 40 * M, UNKNOWN),
        (T0 + 40 * M, T0 + 44 * M, UP)]


def test_after_a_restart_a_silent_site_gets_a_fresh_interval_and_grace(world: World) -> None:
    world.run(T0 + 40 * M, beats=[T0], dark=(T0 + 5 * M, T0 + 40 * M))
    assert [f.new for f in world.flips] == ["down"]  # before the gap, as due
    assert (world.state.state, world.state.state_since) == ("unknown", T0 + 40 * M)
    world.run(T0 + 44 * M)
    assert world.state.state == "unknown"  # 40:00 + I + G = 44:00, not yet overdue
    world.run(T0 + 44 * M + STEP)
    assert (world.state.state, world.state.state_since) == ("down", T0 + 41 * M)
    assert world.intervals(T0 + 30 * M, T0 + 45 * M)[-2:] == [
        (T0 + 40 * M, T0 + 41 * M, UP), (T0 + 41 * M, T0 + 44 * M + STEP, DOWN)]


def test_late_batch_gains_no_uptime_and_keeps_its_metrics(world: World) -> None:
    world.run(T0 + 20 * M, beats=[T0])
    buffered = [Reading(seq=n, device_at=T0 + n * M, battery_voltage_v=12.6 - n / 50)
                for n in range(1, 18)]  # 18 and 19 would be within the 120 s live window
    record_batch(site_id=world.site.pk, readings=[*buffered, Reading(seq=20)],
                 channel=Channel.API, now=T0 + 20 * M)
    world.run(T0 + 21 * M)
    assert world.intervals(T0, T0 + 21 * M) == [
        (T0, T0 + M, UP), (T0 + M, T0 + 20 * M, DOWN), (T0 + 20 * M, T0 + 21 * M, UP)]
    assert Heartbeat.objects.filter(late=True).count() == 17
    assert Heartbeat.objects.get(seq=17).battery_voltage_v == pytest.approx(12.26)


def test_degraded_comes_from_the_contract_thresholds(world: World) -> None:
    make_contract(Vendor.objects.create(name="PT V"), [world.site])  # loss 5 %, rtt 1500 ms
    world.run(T0 + 3 * M, beats=[])
    world.beat(T0, rtt_ms=700.0)
    world.beat(T0 + M, rtt_ms=1600.0)
    world.beat(T0 + 2 * M, loss_pct=5.0)
    got = get_site_intervals(world.site, T0, T0 + 3 * M, now=world.now)
    assert [(iv.start, iv.degraded) for iv in got] == [
        (T0, False), (T0 + M, True), (T0 + 2 * M, False)]


def test_two_monitors_reading_the_same_row_flip_it_once(world: World) -> None:
    world.run(T0 + 4 * M, beats=[T0])
    seen_by_a = SiteState.objects.get(site=world.site)
    seen_by_b = SiteState.objects.get(site=world.site)
    results = [flip(seen_by_a, "down", T0 + M), flip(seen_by_b, "down", T0 + M)]
    assert sum(r is not None for r in results) == 1
    assert SiteState.objects.get(site=world.site).version == seen_by_a.version + 1


@pytest.mark.django_db(transaction=True)
def test_two_monitors_running_at_once_flip_once() -> None:
    site = new_site()
    world = World(site)
    world.run(T0 + 4 * M, beats=[T0])
    barrier = threading.Barrier(2)
    flips: list[Flip] = []
    errors: list[BaseException] = []

    def monitor(name: str) -> None:
        try:
            barrier.wait()
            flips.extend(tick(monitor_id=name, now=T0 + 4 * M + STEP).flips)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=monitor, args=(n,)) for n in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert [(f.site_id, f.new) for f in flips] == [(site.pk, "down")]
    assert CoverageMark.objects.filter(at=T0 + 4 * M + STEP).count() == 2


def test_materialized_rows_equal_one_computation_whatever_the_steps(world: World) -> None:
    beats = [T0 + n * M for n in range(10)] + [T0 + 30 * M + n * M for n in range(20)]
    world.run(T0 + 60 * M, beats=beats, dark=(T0 + 35 * M, T0 + 38 * M))
    for until in (T0 + 7 * M, T0 + 21 * M, T0 + 21 * M, T0 + 36 * M, T0 + 60 * M):
        materialize_intervals(world.site, until)
    stored = merged(StatusInterval.objects.filter(site=world.site).order_by("start"))
    state = world.state
    whole = get_site_intervals(world.site, state.activated_at, state.materialized_until,
                               now=world.now)
    assert stored == [(iv.start, iv.end, iv.state, iv.degraded) for iv in whole]
    assert state.materialized_until == T0 + 56 * M
    assert {s for _, _, s, _ in stored} == {"up", "down", "unknown"}


def test_monitor_command_once_writes_a_mark_and_flips(site: Site) -> None:
    record_heartbeat(site_id=site.pk, reading=Reading(), channel=Channel.HB,
                     now=T0 - dt.timedelta(days=1))
    call_command("monitor", "--once", "--monitor-id", "test")
    assert CoverageMark.objects.filter(monitor_id="test").count() == 1
    assert SiteState.objects.get(site=site).state == "unknown"  # first mark: a fresh start

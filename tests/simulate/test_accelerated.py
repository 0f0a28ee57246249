"""A simulated day of the demo fleet, accelerated, against the real server and the real monitor,
scored against the simulator's ground truth (issue 4, first acceptance point).

The clock is virtual: time-machine (`travel(tick=False)`) patches time.time and datetime.now
for the whole process, so the live server's thread stamps each heartbeat's `received_at`
with the virtual time; time.monotonic is left alone, so sockets and timeouts work as usual.
The twin plays the demo fleet, the 37 on-air sites `make demo` simulates (every power design:
PLN 24 h without a battery, PLN at night with solar, off-grid well-sized and undersized;
every client: the RouterOS script, the Linux agent, a bare `/tool fetch`), through one
wet-season day: about 50,000 heartbeat requests. Each beat is handed to its router
(`Devices`: its queue, store-and-forward batches after a link outage) at the instant it
reaches the server (measured + one-way latency), and sent by `HttpSender` over loopback HTTP
to the real Django app (`pooled_live_server`: threads that keep their database connections,
as under gunicorn), with the virtual clock moved to that instant first. One request at a
time: the server stores a beat before the next one is sent.

The monitor is the real `tick()` on the virtual clock, run on the 5-second grid of a
`linda monitor` loop started at the day's start, but only at the grid points where
something can happen:
* every MARK_EVERY_S, for the coverage marks (LINDA_MONITOR_MAX_GAP_S is raised to twice
  that, so coverage stays one continuous stretch), and
* at the first grid point after a site's deadline: from the SiteState rows tick() reads,
  max(last live time, activation, stretch start) + I + G, for every site not DOWN.
Why this gives the flips of a 5-second loop, at the same instants: between two heartbeat
arrivals nothing tick() reads changes but `now` (and its own marks and flips), and whether a
site is overdue only goes from no to yes as `now` grows. A grid tick left out here comes
before every site's deadline, so it would have written a mark and flipped nothing; the
first grid tick past a deadline is run here and decides what the loop's would. The marks
left out do not matter either: the stretch start stays far behind every live site's last
heartbeat (the loop's about I + G + 2 × gap back, here more), so it moves no deadline; the
test checks that no tick after the first restarts coverage. Idealised: the loop's passes
take no time and do not drift, and intervals are not stored (`materialize_all` decides no
flip).

The intake's rate limits are off: their token buckets run on the monotonic clock, to which
a day in a few minutes is a flood (tests/monitoring covers them).
"""

from __future__ import annotations

import datetime as dt
import heapq
import itertools
import math
import time
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.db.models import Max, Min

from linda.monitoring import views
from linda.monitoring.models import Heartbeat, SiteState, StateChoice
from linda.monitoring.monitor import tick
from linda.monitoring.services import _KEY_CACHE
from linda.rollout.demo import load_demo
from linda.simulate.clients import Devices, HttpSender
from linda.simulate.engine import Twin
from linda.simulate.faults import DEFAULT_RATES, Cause
from linda.simulate.fleet import AGENT, FETCH, SCRIPT
from linda.simulate.groundtruth import Reported, TruthWriter, merge_truth, read_truth, score
from linda.simulate.sites import ensure_keys, fleet_for, list_simulated_sites
from tests.simulate.conftest import PooledLiveServer
from tests.simulate.fleets import WET_SEASON

pytestmark = pytest.mark.django_db(transaction=True)

SEED = 6205
DAY_S = 86400.0
PERIOD_S = 5.0  # LINDA_MONITOR_MARK_PERIOD_S: the monitor loop's grid
MARK_EVERY_S = 300.0


def at(t: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(t, dt.UTC)


def next_grid(x: float, origin: float) -> float:
    """The first point of the monitor loop's grid strictly after x."""
    return origin + (math.floor((x - origin) / PERIOD_S) + 1) * PERIOD_S


class Deadlines:
    """For each site not DOWN, when tick() could flip it: from the SiteState row tick()
    reads, max(last live time, activation, stretch start) + I + G.

    Reading every row before each request would cost more than the request. A heartbeat only
    moves a site's deadline later (last_live_at never goes back; a DOWN site it wakes is not
    due before now + I + G), so after one the old value is kept as a lower bound and the
    row is read again only when that bound is the earliest of all. After a tick (flips, a
    new stretch) every row is read.
    """

    def __init__(self, wait_s: dict[int, float], origin: float) -> None:
        self.wait_s = wait_s
        self.origin = origin
        self.stretch_start = origin
        self.due: dict[int, float] = {}
        self.stale: set[int] = set()

    def refresh(self, stretch_start: float, site_ids: list[int] | None = None) -> None:
        self.stretch_start = stretch_start
        rows = SiteState.objects.values_list("site_id", "state", "last_live_at", "activated_at")
        if site_ids is None:
            self.due.clear()
        else:
            rows = rows.filter(site_id__in=site_ids)
            for site_id in site_ids:
                self.due.pop(site_id, None)
        for site_id, state, last, activated in rows:
            self.stale.discard(site_id)
            if state == StateChoice.DOWN:
                continue
            point = max(p.timestamp() for p in (last, activated, at(stretch_start)) if p)
            self.due[site_id] = point + self.wait_s[site_id]
        if site_ids is None:
            self.stale.clear()

    def touched(self, site_id: int, now: float) -> None:
        self.due.setdefault(site_id, now + self.wait_s[site_id])
        self.stale.add(site_id)

    def next(self, now: float) -> float:
        """The first grid point after `now` at which tick() could flip a site."""
        while self.due:
            site_id = min(self.due, key=self.due.__getitem__)
            if site_id not in self.stale:
                return max(next_grid(self.due[site_id], self.origin),
                           next_grid(now, self.origin))
            self.refresh(self.stretch_start, [site_id])
        return math.inf


def test_a_day_accelerated_against_the_real_server_and_monitor(
        barito_utara: None, pooled_live_server: PooledLiveServer, settings: Any,
        tmp_path: Path) -> None:
    settings.LINDA_MONITOR_MAX_GAP_S = 2 * MARK_EVERY_S
    settings.LINDA_HB_KEY_RATE_PER_MIN = 0
    settings.LINDA_HB_ADDR_RATE_PER_MIN = 0
    views._bucket.cache_clear()
    _KEY_CACHE.clear()
    load_demo()
    sites = list_simulated_sites()  # the demo's on-air sites: what `make demo` simulates
    fleet = fleet_for(sites, seed=SEED, mqtt=False)
    assert len(sites) == 37
    assert set(fleet.styles) == {AGENT, FETCH, SCRIPT}
    assert {s.power_profile for s in sites} == {"pln_24h", "pln_partial", "off_grid"}
    assert {(s.expected_interval_s, s.grace_s) for s in sites} == {(60, 180)}
    keys, _ = ensure_keys(sites, tmp_path / "keys.json")
    start, until = WET_SEASON, WET_SEASON + DAY_S
    # A stormy day: every fault rate × 3 (vendor hub outages take a vendor's sites down
    # together, the ground truth's "upstream"), plus two faults for sure: a 30-minute PLN cut at a site without a
    # battery (the router boots, the modem re-acquires) and a 20-minute rain fade at a site
    # whose script keeps its beats and sends them as a batch when the link is back.
    twin = Twin(fleet, seed=SEED, start=start, rates=DEFAULT_RATES.scaled(3))
    twin.inject("kd-6205012009", start + 3 * 3600, start + 3 * 3600 + 1800, Cause.POWER,
                "pln_cut")
    twin.inject("kd-6205012005", start + 9 * 3600, start + 9 * 3600 + 1200, Cause.LINK,
                "rain_fade")
    truth_path = tmp_path / "truth.jsonl"
    truth = TruthWriter(truth_path, fleet.codes)
    devices = Devices(fleet)
    sender = HttpSender(pooled_live_server.url, keys)
    timing = {s.code: (s.expected_interval_s, s.grace_s) for s in sites}
    wait_s = {s.pk: float(s.expected_interval_s + s.grace_s) for s in sites}
    code_of = {s.pk: s.code for s in sites}
    site_of = {s.code: s.pk for s in sites}
    deadlines = Deadlines(wait_s, origin=start)

    arrivals: list[tuple[float, int, dict[str, Any]]] = []  # beats by arrival at the server
    order = itertools.count()

    def plan() -> None:
        chunk = twin.advance(min(until, twin.t + 600.0))
        truth.write(chunk.faults)
        for row in chunk.beats.rows():
            heapq.heappush(arrivals, (row["recv"], next(order), row))

    downs: list[tuple[int, dt.datetime, dt.datetime]] = []  # site, since, declared
    restarts: list[float] = []
    ticks = sends = 0
    stretch_start = start

    def run_tick(now: float) -> None:
        nonlocal ticks, stretch_start
        result = tick(monitor_id="accelerated", now=at(now))
        ticks += 1
        stretch_start = result.stretch_start.timestamp()
        if result.restarted:
            restarts.append(now)
        downs.extend((f.site_id, f.since, at(now)) for f in result.flips
                     if f.new == StateChoice.DOWN)

    wall = time.monotonic()
    with time_machine.travel(at(start), tick=False) as clock:
        run_tick(start)
        deadlines.refresh(stretch_start)
        next_mark = start + MARK_EVERY_S
        now = start
        while True:
            tick_at = min(next_mark, deadlines.next(now))
            while True:  # every beat reaching the server before tick_at is planned
                beat_at = arrivals[0][0] if arrivals else math.inf
                if twin.t >= min(beat_at, tick_at) + 1.0 or twin.t >= until:
                    break
                plan()
            now = min(beat_at, tick_at)
            if now >= until:
                break
            clock.move_to(at(now))
            if tick_at <= beat_at:
                run_tick(now)
                deadlines.refresh(stretch_start)
                if now >= next_mark:
                    next_mark += MARK_EVERY_S
                continue
            send = devices.beat(heapq.heappop(arrivals)[2])
            if send is not None:
                devices.done(send, sender.send(send))
                deadlines.touched(site_of[send.code], now)
                sends += 1
        # The wall clock went through the day; the monotonic one, which time-machine leaves
        # alone, through the real minutes it took.
        assert until - 60 < time.time() < until and time.monotonic() - wall < DAY_S / 20
    sender.close()
    wall_s = time.monotonic() - wall
    # The simulator runs on until every fault begun within the day is over, so the truth
    # has them all (their beats are not sent: the day is over).
    while any(f.start < until for f in twin.open_faults()) and twin.t < until + DAY_S:
        truth.write(f for f in twin.advance(twin.t + 3600.0).faults if f.start < until)
    truth.close()

    # A DOWN run ends at the site's first live heartbeat after it was declared.
    reported = []
    for site_id, since, declared in downs:
        back = (Heartbeat.objects.filter(site_id=site_id, late=False, received_at__gt=declared)
                .order_by("received_at").values_list("received_at", flat=True).first())
        reported.append(Reported(code_of[site_id], since, back or at(until),
                                 declared_at=declared))
    faults = list(read_truth(truth_path))
    result = score(faults, reported, timing, start=at(start), end=at(until))
    causes = sorted({span.causes[0] for span in merge_truth(faults)
                     if span.duration.total_seconds() > 242})
    print(f"\n{len(sites)} sites, a day in {wall_s:.0f} s: {devices.stats.line()}; "
          f"{sends} requests, {ticks} monitor ticks, {len(downs)} DOWN flips; "
          f"{result.summary()}; shorter outages also seen DOWN {result.short_detected}; "
          f"causes {causes}")

    # The live server's thread read the virtual clock too.
    stamped = Heartbeat.objects.aggregate(first=Min("received_at"), last=Max("received_at"))
    assert start <= stamped["first"].timestamp() and stamped["last"].timestamp() < until
    assert restarts == [start]  # coverage was one stretch: no tick after the first restarted it
    assert devices.stats.measured > len(sites) * 1400
    assert devices.stats.queued_beats >= 1  # store-and-forward batches after link outages
    assert 1 <= Heartbeat.objects.filter(late=True).count() <= devices.stats.queued_beats
    assert result.expected >= len(sites), result.summary()  # not vacuous (73 with this seed)
    assert causes == ["link", "power", "upstream"]
    assert result.detection_ratio >= 0.99, result.missed
    assert result.false == [], result.false
    assert len(result.delays_s) == result.detected
    grace_s = max(g for _, g in timing.values())
    assert result.max_delay_s <= grace_s + 5, result.delays_s
    assert min(result.delays_s) > grace_s  # never before the grace was over
    # Backdated to when the first missing heartbeat was due.
    assert all(abs(offset) < 0.01 for offset in result.start_offsets_s), result.start_offsets_s

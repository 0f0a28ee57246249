"""The digital twin: every simulated site's power, router and link, second by second.

`Twin.advance(until)` moves the whole fleet forward and returns a `Chunk`: every heartbeat the
routers *measured* in that stretch (with the telemetry the physics gives, and whether the
link was up to send it live) and the faults that closed in it (the ground truth). The same
seed, fleet and start give the same faults, whatever stretches the caller advances by;
telemetry noise comes from a second generator so it never shifts the faults.

Each hour (WIB hours are whole UTC hours) the twin draws the hour's faults
(`linda.simulate.faults`), steps the energy balance of every site with a battery
(`linda.simulate.power`, i.e. `linda.domain.energy`), and turns a battery at its
low-voltage disconnect, or no PLN at a site without a battery, into a power fault. Within
the hour, a site with nothing happening sends on its schedule (vectorised); a site with
something happening walks through its events one by one: power off and on (the router
boots, the VSAT modem re-acquires the satellite), reboots (uptime starts again), link down
(beats measured meanwhile are queued for store-and-forward), PLN cut with the battery
carrying the load, rain.

No Django, no clock, no I/O.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from linda.domain.energy import Bools, Floats
from linda.simulate import power
from linda.simulate.faults import (
    DEFAULT_RATES,
    Action,
    Cause,
    Effect,
    Fault,
    FaultRates,
    FaultSampler,
)
from linda.simulate.fleet import Fleet, Ints, stable_fraction
from linda.simulate.telemetry import Measurements, telemetry

HOUR_S = 3600.0
INF = math.inf
STARTUP_S = (2.0, 10.0)  # from boot to the scheduler's first run and its fetch
UPTIME_AT_START_S = (2 * 3600.0, 30 * 86400.0)


def floor_hour(t: float) -> float:
    return math.floor(t / HOUR_S) * HOUR_S


@dataclass(eq=False)
class Chunk:
    """What happened in [start, end): measurements in time order and the faults that ended."""

    start: float
    end: float
    beats: Measurements
    faults: list[Fault] = field(default_factory=list)


@dataclass(eq=False)
class _Hour:
    start: float = -INF
    local_hour: int = 0
    grid_sched: Bools = field(default_factory=lambda: np.zeros(0, dtype=bool))
    pv_w: Floats = field(default_factory=lambda: np.zeros(0))
    soc0: Floats = field(default_factory=lambda: np.zeros(0))
    soc1: Floats = field(default_factory=lambda: np.zeros(0))


class Twin:
    def __init__(self, fleet: Fleet, *, seed: int, start: float,
                 rates: FaultRates = DEFAULT_RATES, warmup_days: int = 10) -> None:
        self.fleet = fleet
        self.seed = seed
        self.t = floor_hour(start)
        self.rng = np.random.default_rng([seed, 0])  # faults: the ground truth
        self.noise = np.random.default_rng([seed, 1])  # telemetry
        self.sampler = FaultSampler(fleet, self.rng, rates)
        n = fleet.n
        init = np.random.default_rng([seed, 2])
        self.powered = np.ones(n, dtype=bool)
        self.on_at = np.full(n, -INF)
        self.modem_at = np.full(n, -INF)
        self.boot_at = self.t - init.uniform(*UPTIME_AT_START_S, size=n)
        self.next_beat = self.t + init.uniform(0, 1, size=n) * fleet.interval_s
        self.last_ok = np.full(n, -INF)
        self.lvd_pending = np.zeros(n, dtype=bool)
        self.counter_rx = init.uniform(1e8, 5e10, size=n)
        self.counter_tx = self.counter_rx * init.uniform(0.08, 0.2, size=n)
        self.counter_at = np.full(n, self.t)
        self.counter_boot = self.boot_at.copy()
        self.soc_wh = fleet.battery_wh.copy()
        self.connected = np.ones(n, dtype=bool)
        self.pending: dict[int, list[Action]] = {}
        self.next_action = np.full(n, INF)
        self.open_dark: dict[int, Action] = {}
        self.unclosed: list[Fault] = []
        self.hour = _Hour()
        self._battery_sites = np.flatnonzero(fleet.has_battery)
        self._warm_up(warmup_days)

    # --- setup -----------------------------------------------------------------------------

    def _warm_up(self, days: int) -> None:
        """Charge and LVD state at the start: `days` of scheduled PLN and weather, begun full,
        computed once per distinct site design."""
        f = self.fleet
        hours = [self.t - (days * 24 - i) * HOUR_S for i in range(days * 24)]
        memo: dict[tuple[object, ...], tuple[float, bool]] = {}
        for s in self._battery_sites.tolist():
            cell, pv_wp, cap = int(f.cell[s]), float(f.pv_wp[s]), float(f.battery_wh[s])
            chem, load = f.chemistry[s], float(f.load_w[s])
            key = (cell, pv_wp, cap, chem, load, tuple(f.grid_hours[s].tolist()))
            if key not in memo:
                lat, lon = f.cells[cell]
                _, yields = power.cell_weather(lat, lon, self.seed)
                pv = np.array([yields[power.hour_of_year(h)] for h in hours]) * pv_wp
                grid = np.array([f.grid_hours[s][power.local_hour(h)] for h in hours])
                memo[key] = power.warm_up(pv_wh_by_hour=pv, grid_on_by_hour=grid,
                                          capacity_wh=cap, chemistry=chem, load_w=load)
            self.soc_wh[s], self.connected[s] = memo[key]

    # --- scripted faults (tests, demo scenarios) ---------------------------------------------

    def inject(self, code: str, start: float, end: float, cause: Cause | str,
               detail: str = "scripted", incident: str | None = None) -> Fault:
        """Add a fault of your own; `start` must not be in the twin's past."""
        if start < self.t:
            raise ValueError("a fault cannot start before the twin's present")
        site = self.fleet.index[code]
        cause = Cause(cause)
        fault = Fault(id=self.sampler.next_id, site=site, start=start, end=end, cause=cause,
                      detail=detail, incident=incident, cause_end=end)
        self.sampler.next_id += 1
        if cause is Cause.POWER:
            lo, hi = self.sampler.rates.boot_s, self.sampler.rates.acquire_s
            fault.boot_s, fault.acquire_s = float(np.mean(lo)), float(np.mean(hi))
            fault.end = end + max(fault.boot_s, fault.acquire_s)
            action = Action(Effect.OFF, site, start, end, fault)
        elif cause is Cause.REBOOT:
            fault.boot_s = end - start
            action = Action(Effect.REBOOT, site, start, end, fault)
        else:
            action = Action(Effect.LINK, site, start, end, fault)
        self._add([action], [fault])
        return fault

    def _add(self, actions: list[Action], faults: list[Fault]) -> None:
        self.unclosed.extend(faults)
        for action in actions:
            self.pending.setdefault(action.site, []).append(action)
            self.next_action[action.site] = min(self.next_action[action.site], action.start)

    # --- time ------------------------------------------------------------------------------

    def advance(self, until: float) -> Chunk:
        """Simulate [now, until) and return what was measured and which faults ended."""
        start = self.t
        parts: list[Measurements] = []
        while self.t < until:
            if self.t >= self.hour.start + HOUR_S:
                self._begin_hour(floor_hour(self.t))
            end = min(until, self.hour.start + HOUR_S)
            parts.append(self._run(self.t, end))
            self.t = end
        closed = [f for f in self.unclosed if f.final and f.end <= self.t]
        if closed:
            done = {id(f) for f in closed}
            self.unclosed = [f for f in self.unclosed if id(f) not in done]
            closed.sort(key=lambda f: (f.start, f.id))
        return Chunk(start, self.t, Measurements.concat(parts), closed)

    def open_faults(self) -> list[Fault]:
        """Faults not yet over (their end lies ahead, or the battery is still flat)."""
        return sorted(self.unclosed, key=lambda f: (f.start, f.id))

    def _begin_hour(self, h: float) -> None:
        f = self.fleet
        local = power.local_hour(h)
        weather = power.weather_for_hour(f.cells, self.seed, h)
        pv_wh = f.pv_wp * weather.yield_wh_per_wp[f.cell]
        sched = f.grid_hours[:, local].copy()
        drawn = self.sampler.sample(h, local, weather.clearness, sched)
        self._add(drawn.actions, drawn.faults)
        grid = sched & ~self._cut_most_of_hour(h)
        soc0 = self.soc_wh.copy()
        sites = self._battery_sites
        if len(sites):
            result = power.step_hour(
                pv_wh=pv_wh, grid_on=grid, capacity_wh=f.battery_wh, chemistry=f.chemistry,
                load_w=f.load_w, soc_wh=self.soc_wh, connected=self.connected, sites=sites,
            )
            self.soc_wh[sites] = result.soc_wh
            self.connected[sites] = result.connected
            dark = np.zeros(f.n)
            dark[sites] = result.dark_fraction
        else:
            dark = np.zeros(f.n)
        no_battery_dark = ~f.has_battery & ~sched
        dark[no_battery_dark] = 1.0
        self._power_faults(h, dark, no_battery_dark)
        self.hour = _Hour(h, local, sched, pv_wh, soc0, self.soc_wh.copy())  # Wh in 1 h = W

    def _cut_most_of_hour(self, h: float) -> Bools:
        """Battery sites whose PLN cuts cover at least half of the hour: the hourly balance
        counts that hour without PLN."""
        out = np.zeros(self.fleet.n, dtype=bool)
        for site, actions in self.pending.items():
            covered = sum(max(0.0, min(a.end, h + HOUR_S) - max(a.start, h))
                          for a in actions if a.effect is Effect.GRID_CUT)
            out[site] = covered >= HOUR_S / 2
        return out

    def _power_faults(self, h: float, dark: Floats, scheduled_off: Bools) -> None:
        """Turn this hour's dark fraction into power faults, extending last hour's."""
        end = h + HOUR_S
        for site, action in list(self.open_dark.items()):
            if dark[site] >= 1.0 and action.end == h:
                action.end = end  # still dark: the same fault goes on
                continue
            self._finish_dark(site, action)
        for site in np.flatnonzero(dark > 0).tolist():
            if site in self.open_dark:
                continue
            start = end - dark[site] * HOUR_S
            self._open_dark(site, start, end, "pln_schedule" if scheduled_off[site] else "lvd")

    def _open_dark(self, site: int, start: float, end: float, detail: str) -> None:
        r = self.sampler.rates
        fault = Fault(id=self.sampler.next_id, site=site, start=start, end=end,
                      cause=Cause.POWER, detail=detail, cause_end=end,
                      boot_s=float(self.rng.uniform(*r.boot_s)),
                      acquire_s=float(self.rng.uniform(*r.acquire_s)), final=False)
        self.sampler.next_id += 1
        action = Action(Effect.OFF, site, start, end, fault)
        self.open_dark[site] = action
        self._add([action], [fault])

    def _finish_dark(self, site: int, action: Action) -> None:
        fault = action.fault
        assert fault is not None
        fault.cause_end = action.end
        fault.end = action.end + max(fault.boot_s, fault.acquire_s)
        fault.final = True
        del self.open_dark[site]

    # --- one stretch inside an hour ----------------------------------------------------------

    def _run(self, a: float, b: float) -> Measurements:
        f = self.fleet
        busy = ((self.next_action < b) | ~self.powered | (self.on_at > a)
                | (self.modem_at > a) | self.lvd_pending)
        quiet = np.flatnonzero(~busy)
        rows = _Rows()
        self._quiet(quiet, a, b, rows)
        for site in np.flatnonzero(busy).tolist():
            self._eventful(site, a, b, rows)
        beats = rows.finish()
        return telemetry(self, beats, f, self.hour, self.noise)

    def _quiet(self, sites: Ints, a: float, b: float, rows: _Rows) -> None:
        f = self.fleet
        if not len(sites):
            return
        first = self.next_beat[sites]
        step = f.interval_s[sites]
        count = np.maximum(np.ceil((b - first) / step), 0).astype(np.int64)
        total = int(count.sum())
        self.next_beat[sites] = first + count * step
        has = count > 0
        self.last_ok[sites[has]] = (first[has] + (count[has] - 1) * step[has]
                                    + f.latency_s[sites[has]])
        if not total:
            return
        site = np.repeat(sites, count)
        offsets = np.arange(total) - np.repeat(np.cumsum(count) - count, count)
        t = np.repeat(first, count) + offsets * np.repeat(step, count)
        rows.add_block(site, t, self.boot_at[site], self.hour.grid_sched[site])

    def _eventful(self, s: int, a: float, b: float, rows: _Rows) -> None:
        f = self.fleet
        # An action ending exactly at `a` still matters: its power comes back at `a`.
        acts = [x for x in self.pending.get(s, ()) if x.start < b and x.end >= a]
        interval = float(f.interval_s[s])
        latency = float(f.latency_s[s])
        events: list[tuple[float, int, str, Action | Fault | None]] = []
        for start, end, last in _merge_off([x for x in acts if x.effect is Effect.OFF]):
            if start >= a:
                events.append((start, 1, "off", None))
            if end < b:
                events.append((end, 0, "on", last))
        for x in acts:
            if x.effect is Effect.REBOOT and a <= x.start < b:
                events.append((x.start, 2, "reboot", x))
            fault = x.fault
            if fault is not None and a <= fault.start < b and fault.due_at is None \
                    and x.effect is not Effect.GRID_CUT and x.effect is not Effect.WET:
                events.append((fault.start, 3, "due", fault))
        events.sort(key=lambda e: (e[0], e[1]))
        links = [(x.start, x.end) for x in acts if x.effect is Effect.LINK]
        cuts = [(x.start, x.end) for x in acts if x.effect is Effect.GRID_CUT]
        wets = [(x.start, x.end, x.severity) for x in acts if x.effect is Effect.WET]
        sched = bool(self.hour.grid_sched[s])
        powered = bool(self.powered[s])
        on_at, modem_at = float(self.on_at[s]), float(self.modem_at[s])
        boot_at, last_ok = float(self.boot_at[s]), float(self.last_ok[s])
        lvd_pending = bool(self.lvd_pending[s])
        t = float(self.next_beat[s]) if powered else INF
        i = 0
        while True:
            te = events[i][0] if i < len(events) else INF
            if t < b and t < te:
                link = t >= modem_at and not any(l0 <= t < l1 for l0, l1 in links)
                on_grid = sched and not any(c0 <= t < c1 for c0, c1 in cuts)
                wet = max((w for w0, w1, w in wets if w0 <= t < w1), default=0.0)
                rows.add(s, t, link, boot_at, on_grid, wet, lvd_pending)
                lvd_pending = False
                if link:
                    last_ok = t + latency
                t += interval
                continue
            if te >= b:
                break
            _, _, kind, what = events[i]
            i += 1
            if kind == "off":
                powered, t = False, INF
            elif kind == "on":
                assert isinstance(what, Action) and what.fault is not None
                fault = what.fault
                powered = True
                boot_at = te
                on_at, modem_at = te + fault.boot_s, te + fault.acquire_s
                t = on_at + self._startup_s(s, te)
                lvd_pending = lvd_pending or fault.detail == "lvd"
            elif kind == "reboot":
                assert isinstance(what, Action) and what.fault is not None
                if powered and te >= on_at:
                    boot_at, on_at = te, what.end
                    t = on_at + self._startup_s(s, te)
                else:
                    what.fault.outage = False  # the router was already off or booting
            elif kind == "due":
                assert isinstance(what, Fault)
                what.due_at = last_ok + interval if math.isfinite(last_ok) else None
        self.powered[s], self.on_at[s], self.modem_at[s] = powered, on_at, modem_at
        self.boot_at[s], self.last_ok[s], self.lvd_pending[s] = boot_at, last_ok, lvd_pending
        self.next_beat[s] = t
        self._prune(s, b)

    def _startup_s(self, site: int, boot_at: float) -> float:
        """From boot to the first beat; a function of the seed, the site and the boot time
        only, so the ground truth does not depend on how the caller slices time."""
        lo, hi = STARTUP_S
        return lo + (hi - lo) * stable_fraction("startup", self.seed, site, round(boot_at, 3))

    def _prune(self, s: int, b: float) -> None:
        actions = self.pending.get(s)
        if actions is None:
            return
        keep = [x for x in actions if x.end >= b or (x.fault is not None and not x.fault.final)]
        if keep:
            self.pending[s] = keep
            self.next_action[s] = min(x.start for x in keep)
        else:
            del self.pending[s]
            self.next_action[s] = INF


def _merge_off(actions: list[Action]) -> list[tuple[float, float, Action]]:
    """Merge overlapping power-off spans; each keeps the action that ends last (its recovery
    times apply when the power comes back)."""
    out: list[tuple[float, float, Action]] = []
    for x in sorted(actions, key=lambda x: (x.start, x.end)):
        if out and x.start <= out[-1][1]:
            start, end, _last = out[-1]
            if x.end > end:
                out[-1] = (start, x.end, x)
        else:
            out.append((x.start, x.end, x))
    return out


class _Rows:
    """Measurements collected in one stretch, before the telemetry is computed."""

    def __init__(self) -> None:
        self.blocks: list[tuple[Ints, Floats, Floats, Bools]] = []
        self.site: list[int] = []
        self.t: list[float] = []
        self.link: list[bool] = []
        self.boot: list[float] = []
        self.grid: list[bool] = []
        self.wet: list[float] = []
        self.lvd: list[bool] = []

    def add_block(self, site: Ints, t: Floats, boot: Floats, grid: Bools) -> None:
        self.blocks.append((site, t, boot, grid))

    def add(self, site: int, t: float, link: bool, boot: float, grid: bool, wet: float,
            lvd: bool) -> None:
        self.site.append(site)
        self.t.append(t)
        self.link.append(link)
        self.boot.append(boot)
        self.grid.append(grid)
        self.wet.append(wet)
        self.lvd.append(lvd)

    def finish(self) -> RawBeats:
        sites = [b[0] for b in self.blocks] + [np.array(self.site, dtype=np.int64)]
        n_block = sum(len(b[0]) for b in self.blocks)
        raw = RawBeats(
            site=np.concatenate(sites),
            t=np.concatenate([b[1] for b in self.blocks] + [np.array(self.t)]),
            link=np.concatenate([np.ones(n_block, dtype=bool), np.array(self.link, dtype=bool)]),
            boot=np.concatenate([b[2] for b in self.blocks] + [np.array(self.boot)]),
            grid=np.concatenate([b[3] for b in self.blocks]
                                + [np.array(self.grid, dtype=bool)]),
            wet=np.concatenate([np.zeros(n_block), np.array(self.wet)]),
            lvd=np.concatenate([np.zeros(n_block, dtype=bool), np.array(self.lvd, dtype=bool)]),
        )
        return raw.sorted()


@dataclass(eq=False)
class RawBeats:
    site: Ints
    t: Floats
    link: Bools
    boot: Floats
    grid: Bools
    wet: Floats
    lvd: Bools

    def sorted(self) -> RawBeats:
        order = np.lexsort((self.site, self.t))
        return RawBeats(self.site[order], self.t[order], self.link[order], self.boot[order],
                        self.grid[order], self.wet[order], self.lvd[order])

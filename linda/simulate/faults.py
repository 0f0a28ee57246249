"""What goes wrong in a village, and how often: the fault processes of the digital twin.

Each hour the engine asks `sample_hour` for the faults that *start* in that hour. A fault is
the ground-truth record (site, start, end, cause); its `effects` are what the engine applies
to the site's power, router and link. The engine itself adds the faults that come out of the
energy balance (a battery reaching its low-voltage disconnect, no PLN on a site without a
battery) and fills in `due_at` (when the first missing heartbeat was due).

The rates are assumptions chosen to look like a rural regency served over VSAT, and to give a
lively demo; they are parameters, not findings (docs/simulator.md lists them).
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass, field, replace

import numpy as np

from linda.domain.energy import Bools, Floats
from linda.simulate.fleet import Fleet

DAY_S = 86400.0
HOUR_S = 3600.0


class Cause(enum.StrEnum):
    """The ground truth's cause; the platform's attribution (decision 5) should find it."""

    POWER = "power"  # the router lost power: PLN cut, PLN off-hours, low-voltage disconnect
    LINK = "link"  # the router had power, the link was down: rain fade, modem failure, flapping
    UPSTREAM = "upstream"  # the vendor's hub or backbone: many sites of the vendor at once
    REBOOT = "reboot"  # the router restarted (watchdog, someone pulled the plug for a moment)


class Effect(enum.IntEnum):
    OFF = 1  # the router (and the modem) has no power from start until end
    LINK = 2  # the link is down from start until end
    REBOOT = 3  # the router is off from start until end, then boots; the modem stays locked
    GRID_CUT = 4  # PLN is off, a battery carries the load (no outage by itself)
    WET = 5  # heavy rain or a flapping link: more loss and latency, no outage by itself


@dataclass(slots=True, eq=False)
class Fault:
    """One injected fault. `start`/`end` bound the time the site cannot reach the server
    because of it: for a power fault from the cut until the router has booted *and* the
    modem has re-acquired the satellite. `outage` is False for faults that did not take the
    site off the air (a PLN cut carried by the battery)."""

    id: int
    site: int
    start: float
    end: float
    cause: Cause
    detail: str
    incident: str | None = None
    outage: bool = True
    cause_end: float = math.nan  # power back, link back (before recovery)
    boot_s: float = 0.0
    acquire_s: float = 0.0
    due_at: float | None = None  # the first missing heartbeat's due time (set by the engine)
    final: bool = True  # False while the energy balance may still extend it


@dataclass(slots=True, eq=False)
class Action:
    """What a fault does to one site."""

    effect: Effect
    site: int
    start: float
    end: float
    fault: Fault | None = None
    severity: float = 0.0


def _lognormal(rng: np.random.Generator, median_s: float, sigma: float, lo: float,
               hi: float) -> float:
    return float(min(max(median_s * math.exp(sigma * rng.standard_normal()), lo), hi))


@dataclass(frozen=True, slots=True)
class FaultRates:
    # PLN: cuts per PLN site a day (only while PLN is scheduled on); feeder trips per feeder.
    pln_cut_per_day: float = 0.12
    pln_cut_median_s: float = 25 * 60
    feeder_cut_per_day: float = 0.01
    # Heavy rain: chance a cell has a storm starting in a given hour, before the afternoon
    # peak and cloudiness factors; a VSAT site under the storm fades with `rain_fade_p`.
    rain_cell_hour_p: float = 0.012
    rain_fade_p: float = 0.6
    rain_fade_median_s: float = 10 * 60
    # The vendor: hub or backbone incidents per vendor a day, hitting a share of its sites.
    upstream_per_day: float = 0.08
    upstream_median_s: float = 35 * 60
    upstream_share: tuple[float, float] = (0.5, 1.0)
    # One site: modem/BUC failures until a technician comes; reboots; flapping episodes.
    equipment_per_day: float = 1 / 90
    equipment_median_s: float = 20 * 3600
    reboot_per_day: float = 0.15
    flap_per_day: float = 0.06
    # Recovery: router boot after power returns, modem re-acquisition, a reboot's length.
    boot_s: tuple[float, float] = (30.0, 60.0)
    acquire_s: tuple[float, float] = (90.0, 240.0)
    reboot_s: tuple[float, float] = (35.0, 75.0)

    def scaled(self, factor: float) -> FaultRates:
        """Every rate times `factor` (durations unchanged)."""
        if factor < 0:
            raise ValueError("factor must not be negative")
        return replace(
            self,
            pln_cut_per_day=self.pln_cut_per_day * factor,
            feeder_cut_per_day=self.feeder_cut_per_day * factor,
            rain_cell_hour_p=min(self.rain_cell_hour_p * factor, 0.5),
            upstream_per_day=self.upstream_per_day * factor,
            equipment_per_day=self.equipment_per_day * factor,
            reboot_per_day=self.reboot_per_day * factor,
            flap_per_day=self.flap_per_day * factor,
        )


DEFAULT_RATES = FaultRates()

# Convective rain over Kalimantan peaks in the afternoon and evening (WIB hour -> factor).
RAIN_BY_HOUR = (0.6,) * 6 + (0.4,) * 6 + (1.0,) * 2 + (2.5,) * 6 + (1.2,) * 4


@dataclass
class HourFaults:
    faults: list[Fault] = field(default_factory=list)
    actions: list[Action] = field(default_factory=list)


class FaultSampler:
    """Draws the faults starting in each hour, in a fixed order, from one generator."""

    def __init__(self, fleet: Fleet, rng: np.random.Generator, rates: FaultRates) -> None:
        self.fleet = fleet
        self.rng = rng
        self.rates = rates
        self.next_id = 1
        self._feeder_sites = [np.flatnonzero(fleet.feeder == f) for f in range(len(fleet.feeders))]
        self._vendor_sites = [np.flatnonzero(fleet.vendor == v) for v in range(len(fleet.vendors))]
        self._cell_sites = [fleet.sites_of_cell(c) for c in range(len(fleet.cells))]

    def _fault(self, out: HourFaults, **kwargs: object) -> Fault:
        fault = Fault(id=self.next_id, **kwargs)  # type: ignore[arg-type]
        self.next_id += 1
        out.faults.append(fault)
        return fault

    def _uniform(self, bounds: tuple[float, float]) -> float:
        return float(self.rng.uniform(*bounds))

    def _per_site(self, rate_per_day: float, eligible: Bools | None = None) -> list[int]:
        """Sites with an event this hour (at most one each), in site order."""
        p = rate_per_day / 24.0
        hits = self.rng.random(self.fleet.n) < p
        if eligible is not None:
            hits &= eligible
        return np.flatnonzero(hits).tolist()

    def sample(self, start: float, local_hour: int, clearness_by_cell: Floats,
               grid_sched: Bools) -> HourFaults:
        out = HourFaults()
        self._pln(out, start, grid_sched)
        self._rain(out, start, local_hour, clearness_by_cell)
        self._upstream(out, start)
        self._equipment(out, start)
        self._reboots(out, start)
        self._flaps(out, start)
        return out

    # --- power ---------------------------------------------------------------------------

    def _cut(self, out: HourFaults, site: int, at: float, end: float, detail: str,
             incident: str | None) -> None:
        """A PLN cut at one site: the router goes dark, unless a battery carries it."""
        r = self.rates
        boot, acquire = self._uniform(r.boot_s), self._uniform(r.acquire_s)
        if self.fleet.has_battery[site]:
            fault = self._fault(out, site=site, start=at, end=end, cause=Cause.POWER,
                                detail=detail, incident=incident, outage=False, cause_end=end)
            out.actions.append(Action(Effect.GRID_CUT, site, at, end, fault))
            return
        fault = self._fault(out, site=site, start=at, end=end + max(boot, acquire),
                            cause=Cause.POWER, detail=detail, incident=incident, cause_end=end,
                            boot_s=boot, acquire_s=acquire)
        out.actions.append(Action(Effect.OFF, site, at, end, fault))

    def _pln(self, out: HourFaults, start: float, grid_sched: Bools) -> None:
        r = self.rates
        for site in self._per_site(r.pln_cut_per_day, grid_sched):
            at = start + self.rng.uniform(0, HOUR_S)
            length = _lognormal(self.rng, r.pln_cut_median_s, 1.0, 60, 12 * HOUR_S)
            self._cut(out, site, at, at + length, "pln_cut", None)
        p = r.feeder_cut_per_day / 24.0
        for feeder in np.flatnonzero(self.rng.random(len(self._feeder_sites)) < p).tolist():
            at = start + self.rng.uniform(0, HOUR_S)
            length = _lognormal(self.rng, r.pln_cut_median_s * 2, 0.8, 5 * 60, 12 * HOUR_S)
            incident = f"pln-feeder-{self.fleet.feeders[feeder] or feeder}-{int(at)}"
            for site in self._feeder_sites[feeder].tolist():
                if grid_sched[site]:
                    jitter = self.rng.uniform(0, 3)
                    self._cut(out, site, at + jitter, at + length + self.rng.uniform(0, 30),
                              "pln_feeder", incident)

    # --- link ----------------------------------------------------------------------------

    def _rain(self, out: HourFaults, start: float, local_hour: int,
              clearness_by_cell: Floats) -> None:
        r = self.rates
        dull = np.clip((1.3 - clearness_by_cell) / 0.6, 0.3, 2.0)
        p = np.minimum(r.rain_cell_hour_p * RAIN_BY_HOUR[local_hour] * dull, 0.9)
        storms = np.flatnonzero(self.rng.random(len(p)) < p).tolist()
        for cell in storms:
            at = start + self.rng.uniform(0, HOUR_S)
            storm_s = self.rng.uniform(20 * 60, 70 * 60)
            incident = f"rain-{cell}-{int(at)}"
            for site in self._cell_sites[cell].tolist():
                offset = self.rng.uniform(0, 15 * 60)  # the storm crosses the cell
                fades = self.fleet.vsat[site] and self.rng.random() < r.rain_fade_p
                if not fades:
                    out.actions.append(Action(Effect.WET, site, at + offset, at + offset + storm_s,
                                              None, 0.4))
                    continue
                fade_at = at + offset + self.rng.uniform(0, 10 * 60)
                length = _lognormal(self.rng, r.rain_fade_median_s, 0.7, 60, 90 * 60)
                fault = self._fault(out, site=site, start=fade_at, end=fade_at + length,
                                    cause=Cause.LINK, detail="rain_fade", incident=incident,
                                    cause_end=fade_at + length)
                out.actions.append(Action(Effect.LINK, site, fade_at, fade_at + length, fault))
                # Loss and latency climb before the fade and linger after it.
                out.actions.append(Action(Effect.WET, site, fade_at - 600, fade_at + length + 600,
                                          None, 1.0))

    def _upstream(self, out: HourFaults, start: float) -> None:
        r = self.rates
        p = r.upstream_per_day / 24.0
        for vendor in np.flatnonzero(self.rng.random(len(self._vendor_sites)) < p).tolist():
            sites = self._vendor_sites[vendor]
            at = start + self.rng.uniform(0, HOUR_S)
            length = _lognormal(self.rng, r.upstream_median_s, 0.8, 5 * 60, 8 * HOUR_S)
            share = self._uniform(r.upstream_share)
            hit = sites[self.rng.random(len(sites)) < share].tolist()
            incident = f"upstream-{self.fleet.vendors[vendor] or vendor}-{int(at)}"
            for site in hit:
                s0 = at + self.rng.uniform(0, 50)  # all within a minute
                s1 = at + length + self.rng.uniform(0, 90)  # sessions come back one by one
                fault = self._fault(out, site=site, start=s0, end=s1, cause=Cause.UPSTREAM,
                                    detail="vendor_hub", incident=incident, cause_end=s1)
                out.actions.append(Action(Effect.LINK, site, s0, s1, fault))

    def _equipment(self, out: HourFaults, start: float) -> None:
        r = self.rates
        for site in self._per_site(r.equipment_per_day):
            at = start + self.rng.uniform(0, HOUR_S)
            length = _lognormal(self.rng, r.equipment_median_s, 0.6, 3 * HOUR_S, 5 * DAY_S)
            fault = self._fault(out, site=site, start=at, end=at + length, cause=Cause.LINK,
                                detail="equipment", cause_end=at + length)
            out.actions.append(Action(Effect.LINK, site, at, at + length, fault))

    def _reboots(self, out: HourFaults, start: float) -> None:
        r = self.rates
        for site in self._per_site(r.reboot_per_day):
            at = start + self.rng.uniform(0, HOUR_S)
            length = self._uniform(r.reboot_s)
            fault = self._fault(out, site=site, start=at, end=at + length, cause=Cause.REBOOT,
                                detail="watchdog", cause_end=at + length, boot_s=length)
            out.actions.append(Action(Effect.REBOOT, site, at, at + length, fault))

    def _flaps(self, out: HourFaults, start: float) -> None:
        r = self.rates
        for site in self._per_site(r.flap_per_day):
            at = start + self.rng.uniform(0, HOUR_S)
            until = at + self.rng.uniform(20 * 60, 90 * 60)
            incident = f"flap-{self.fleet.codes[site]}-{int(at)}"
            out.actions.append(Action(Effect.WET, site, at, until, None, 0.6))
            t = at
            while True:
                t += self.rng.exponential(240.0)
                if t >= until:
                    break
                length = _lognormal(self.rng, 45.0, 0.9, 5.0, 600.0)
                fault = self._fault(out, site=site, start=t, end=t + length, cause=Cause.LINK,
                                    detail="flap", incident=incident, cause_end=t + length)
                out.actions.append(Action(Effect.LINK, site, t, t + length, fault))
                t += length

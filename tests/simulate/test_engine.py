"""The twin's physics and faults, without the database."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from typing import Any

import numpy as np
import pytest

from linda.simulate import power
from linda.simulate.engine import Twin
from linda.simulate.faults import DEFAULT_RATES, Cause
from linda.simulate.groundtruth import to_json
from linda.simulate.telemetry import SOURCES, Measurements
from tests.simulate.fleets import WET_SEASON, mixed_fleet

DAY = 86400.0


def run(twin: Twin, until: float, step: float) -> tuple[Measurements, list[str]]:
    beats, lines = [], []
    while twin.t < until:
        chunk = twin.advance(min(until, twin.t + step))
        beats.append(chunk.beats)
        lines += [json.dumps(to_json(f, twin.fleet.codes), sort_keys=True)
                  for f in chunk.faults]
    return Measurements.concat(beats), lines


def test_same_seed_same_ground_truth_however_time_is_sliced() -> None:
    fleet = mixed_fleet()
    rates = DEFAULT_RATES.scaled(3)
    _, hourly = run(Twin(fleet, seed=11, start=WET_SEASON, rates=rates), WET_SEASON + DAY,
                    3600)
    _, again = run(Twin(fleet, seed=11, start=WET_SEASON, rates=rates), WET_SEASON + DAY,
                   3600)
    _, by_minute = run(Twin(fleet, seed=11, start=WET_SEASON, rates=rates),
                       WET_SEASON + DAY, 37)
    _, other = run(Twin(fleet, seed=12, start=WET_SEASON, rates=rates), WET_SEASON + DAY,
                   3600)
    assert len(hourly) > 30
    assert hourly == again
    assert sorted(hourly) == sorted(by_minute)  # due_at included: the beats are the same
    assert other != hourly


Month = tuple[Twin, Measurements, list[dict[str, Any]]]


@pytest.fixture(scope="module")
def month() -> Month:
    """A wet-season month of the mixed fleet, physics only (no injected faults)."""
    fleet = mixed_fleet()
    twin = Twin(fleet, seed=6205, start=WET_SEASON, rates=DEFAULT_RATES.scaled(0))
    beats, lines = run(twin, WET_SEASON + 30 * DAY, 3600)
    return twin, beats, [json.loads(line) for line in lines]


def test_undersized_solar_goes_dark_on_cloudy_nights_well_sized_does_not(month: Month) -> None:
    _, _, faults = month
    dark = Counter(str(f["site"]).rsplit("-", 1)[0] for f in faults)
    assert set(dark) == {"small"}  # only the 400 Wp / 1200 Wh sites
    assert all(f["cause"] == "power" and f["detail"] == "lvd" for f in faults)
    nights = {(f["site"], str(f["start"])[:10]) for f in faults}
    assert 5 <= len(nights) / 3 <= 28  # on some nights of the month, not every night
    # The LVD opens in the night (or late on a dull afternoon), never in the morning sun.
    hours = [power.local_hour(unix(f["start"])) for f in faults]
    assert not [h for h in hours if 8 <= h < 14]
    assert sum(h >= 18 or h < 6 for h in hours) >= 0.8 * len(hours)


def unix(iso: str) -> float:
    return dt.datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def test_telemetry_follows_the_physics(month: Month) -> None:
    twin, beats, _ = month
    fleet = twin.fleet
    battery = fleet.has_battery[beats.site]
    soc = beats.battery_soc_pct[battery]
    assert soc.min() >= 10.0 - 0.5 and soc.max() <= 100.0  # never below the LFP LVD floor
    assert np.isnan(beats.battery_soc_pct[~battery]).all()
    source = np.array(SOURCES)[beats.source]
    hours = ((beats.t + power.WIB_OFFSET_S) // 3600) % 24
    pln_24h = np.array([fleet.codes[s].startswith("pln") for s in beats.site])
    assert (source[pln_24h] == "grid").all()
    partial = np.array([fleet.codes[s].startswith("partial") for s in beats.site])
    assert (source[partial & ((hours >= 18) | (hours < 6))] == "grid").all()
    solar = np.array([fleet.codes[s].startswith("solar") for s in beats.site])
    noon = solar & (hours >= 11) & (hours < 13)
    night = solar & (hours >= 20)
    assert (source[noon] == "solar").mean() > 0.6  # some days are too dull even at noon
    assert (source[night] == "battery").all()
    # Users follow the village day: the evening is busier than the small hours.
    evening = beats.hotspot_users[(hours >= 19) & (hours < 21)].mean()
    small_hours = beats.hotspot_users[(hours >= 2) & (hours < 4)].mean()
    assert evening > 5 * small_hours
    # Satellite latency. No link faults here: the link is down only while the modem
    # re-acquires the satellite after a dark spell.
    assert 550 < np.nanmedian(beats.rtt_ms) < 800
    assert (beats.uptime_s[~beats.link] < 300).all()


def test_counters_climb_and_uptime_resets_only_at_boot(month: Month) -> None:
    twin, beats, faults = month
    small = twin.fleet.index["small-0"]
    mine = beats.select(beats.site == small)
    steps = np.diff(mine.uptime_s)
    resets = np.flatnonzero(steps < 0)
    lvd_nights = [f for f in faults if f["site"] == "small-0"]
    assert len(resets) == len(lvd_nights) > 0  # the router reboots after each dark spell
    rx = np.diff(mine.rx_bytes)
    assert (rx[steps >= 0] >= 0).all() and (rx[resets] < 0).all()
    # The first beat after an LVD reconnect says so.
    assert mine.lvd.sum() == len(lvd_nights)
    assert (mine.lvd[resets + 1] == 1).all()


def test_injected_faults_have_their_effects() -> None:
    fleet = mixed_fleet(1)
    twin = Twin(fleet, seed=5, start=WET_SEASON, rates=DEFAULT_RATES.scaled(0))
    t0 = WET_SEASON + 3 * 3600
    link = twin.inject("pln-0", t0, t0 + 900, Cause.LINK, "rain_fade")
    cut = twin.inject("partial-0", t0, t0 + 600, Cause.POWER)  # 10:00 WIB: no PLN anyway
    beats, lines = run(twin, t0 + 3600, 600)
    assert {json.loads(line)["id"] for line in lines} == {link.id, cut.id}

    pln = beats.select(beats.site == fleet.index["pln-0"])
    inside = (pln.t >= t0) & (pln.t < t0 + 900)
    assert inside.sum() >= 14 and not pln.link[inside].any()  # measured, queued
    assert (pln.loss_pct[inside] == 100).all() and np.isnan(pln.rtt_ms[inside]).all()
    assert (np.diff(pln.uptime_s) > 0).all()  # the router kept its power: uptime went on
    assert link.due_at is not None and t0 <= link.due_at < t0 + 60 + 1

    part = beats.select(beats.site == fleet.index["partial-0"])
    assert not ((part.t >= t0) & (part.t < t0 + 600)).any()  # no power, no beats
    back = part.select(part.t >= t0 + 600)
    assert back.uptime_s[0] <= cut.boot_s + 11  # booted, then the scheduler's first run
    assert not back.link[0]  # the modem is still looking for the satellite...
    recovered = back.select(back.link)
    assert recovered.t[0] >= cut.end  # ...until the fault's end
    assert cut.end == pytest.approx(t0 + 600 + max(cut.boot_s, cut.acquire_s))

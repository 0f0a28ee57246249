"""What each simulated router reports: telemetry that follows the physics, and its encodings.

Battery voltage and charge come from the energy balance, the uptime from the last boot, the
power source from PLN, the sun and the battery; the WAN byte counters climb with the hotspot's
users along a village day (quiet at night, busy in the evening) and restart at a reboot; loss
and latency are those of a geostationary satellite, worse under heavy rain and in the evening
peak. A beat measured while the link was down has 100 % loss and no round-trip time.

`Measurements` holds one stretch as columns; `json_reading` and `query_params` give one beat
in heartbeat format v1 (the field and parameter names come from `linda.monitoring.payload`,
which is the contract).
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from linda.domain.energy import Bools, Floats
from linda.monitoring.payload import NUMBERS
from linda.simulate.power import HOUR_S, WIB_OFFSET_S, battery_voltage_v

if TYPE_CHECKING:
    from linda.simulate.engine import RawBeats, Twin, _Hour
    from linda.simulate.fleet import Fleet

Ints = npt.NDArray[np.int64]
SOURCES = ("grid", "solar", "battery")
QUERY_NAME = {n.name: n.query for n in NUMBERS}

# Share of the evening peak's hotspot users, by WIB hour (office hours, then the evening).
USERS_BY_HOUR = (0.15, 0.08, 0.05, 0.03, 0.03, 0.08, 0.2, 0.35, 0.55, 0.6, 0.6, 0.65,
                 0.7, 0.65, 0.6, 0.6, 0.65, 0.75, 0.9, 1.0, 1.0, 0.9, 0.6, 0.3)
USER_DOWN_BPS = 150e3  # what one active hotspot user pulls on average
USER_UP_BPS = 25e3
BACKGROUND_BPS = 16e3  # the router's own chatter, updates, the heartbeat itself


@dataclass(eq=False)
class Measurements:
    """Beats measured in one stretch, in time order; NaN / -1 where a field is absent."""

    site: Ints
    t: Floats  # measured at (Unix seconds, the device's clock = true time)
    recv: Floats  # when it reaches the server if sent right away
    link: Bools  # the link was up: sent live; otherwise queued (store-and-forward)
    seq: Ints
    uptime_s: Ints
    supply_voltage_v: Floats
    battery_voltage_v: Floats
    battery_soc_pct: Floats
    source: Ints  # index into SOURCES
    lvd: Ints  # -1 unknown (no battery), 0, 1
    temperature_c: Floats
    cpu_load_pct: Floats
    rx_bytes: Ints
    tx_bytes: Ints
    hotspot_users: Ints
    dhcp_leases: Ints
    rtt_ms: Floats
    loss_pct: Floats

    def __len__(self) -> int:
        return len(self.site)

    @classmethod
    def empty(cls) -> Measurements:
        kinds = {f.name: (np.int64 if f.type in ("Ints",) else
                          bool if f.type == "Bools" else np.float64) for f in fields(cls)}
        return cls(**{name: np.zeros(0, dtype=kind) for name, kind in kinds.items()})

    @classmethod
    def concat(cls, parts: Sequence[Measurements]) -> Measurements:
        parts = [p for p in parts if len(p)]
        if not parts:
            return cls.empty()
        if len(parts) == 1:
            return parts[0]
        return cls(**{f.name: np.concatenate([getattr(p, f.name) for p in parts])
                      for f in fields(cls)})

    def select(self, mask: Bools | Ints) -> Measurements:
        return Measurements(**{f.name: getattr(self, f.name)[mask] for f in fields(self)})

    def rows(self) -> list[dict[str, Any]]:
        """Each beat as a plain dict of Python values (columns converted once)."""
        cols = {f.name: getattr(self, f.name).tolist() for f in fields(self)}
        names = list(cols)
        return [dict(zip(names, values, strict=True)) for values in zip(*cols.values(),
                                                                         strict=True)]


def _local_hours(t: Floats) -> Floats:
    hours: Floats = ((t + WIB_OFFSET_S) / HOUR_S) % 24.0
    return hours


def _weekend(t: Floats) -> Bools:
    days = np.floor((t + WIB_OFFSET_S) / 86400.0).astype(np.int64)
    weekday = (days + 3) % 7  # 1970-01-01 was a Thursday (3, Monday = 0)
    out: Bools = weekday >= 5
    return out


def users_mean(peak: Floats, t: Floats) -> Floats:
    hours = _local_hours(t)
    curve = np.interp(hours, np.arange(25) + 0.5 - 1, (USERS_BY_HOUR[-1], *USERS_BY_HOUR),
                      period=24)
    out: Floats = peak * curve * np.where(_weekend(t) & (hours > 8) & (hours < 17), 1.25, 1.0)
    return out


def ambient_c(t: Floats) -> Floats:
    hours = _local_hours(t)
    out: Floats = 24.5 + 7.5 * np.maximum(0.0, np.sin(math.pi * (hours - 7.0) / 12.0))
    return out


def _counters(twin: Twin, raw: RawBeats, rate_rx: Floats, rate_tx: Floats) -> tuple[Ints, Ints]:
    """Cumulative WAN byte counters per beat, continuing each site's counter; a reboot starts
    it again from zero, as RouterOS does."""
    n = len(raw.site)
    order = np.lexsort((raw.t, raw.site))
    s, t, boot = raw.site[order], raw.t[order], raw.boot[order]
    first = np.ones(n, dtype=bool)
    first[1:] = s[1:] != s[:-1]
    prev_t = np.where(first, twin.counter_at[s], np.roll(t, 1))
    prev_boot = np.where(first, twin.counter_boot[s], np.roll(boot, 1))
    reset = boot != prev_boot
    start = first | reset
    idx = np.cumsum(start) - 1
    pos = np.flatnonzero(start)
    dt_s = np.maximum(np.where(reset, t - boot, t - prev_t), 0.0)
    out = []
    for rate, state in ((rate_rx[order], twin.counter_rx), (rate_tx[order], twin.counter_tx)):
        inc = rate * dt_s
        cs = np.cumsum(inc)
        base = np.where(reset[pos], 0.0, state[s[pos]])
        value = base[idx] + cs - (cs[pos] - inc[pos])[idx]
        last = np.ones(n, dtype=bool)
        last[:-1] = s[1:] != s[:-1]
        state[s[last]] = value[last]
        result = np.empty(n, dtype=np.int64)
        result[order] = np.floor(value).astype(np.int64)
        out.append(result)
    last = np.ones(n, dtype=bool)
    last[:-1] = s[1:] != s[:-1]
    twin.counter_at[s[last]] = t[last]
    twin.counter_boot[s[last]] = boot[last]
    return out[0], out[1]


def telemetry(twin: Twin, raw: RawBeats, fleet: Fleet, hour: _Hour,
              rng: np.random.Generator) -> Measurements:
    n = len(raw.site)
    if not n:
        return Measurements.empty()
    s, t = raw.site, raw.t
    z = rng.standard_normal((4, n))
    battery = fleet.has_battery[s]
    cap = np.where(battery, fleet.battery_wh[s], 1.0)
    part = np.clip((t - hour.start) / HOUR_S, 0.0, 1.0)
    soc = np.clip((hour.soc0[s] + (hour.soc1[s] - hour.soc0[s]) * part) / cap, 0.0, 1.0)
    pv_w = hour.pv_w[s]
    load = fleet.load_w[s]
    source = np.where(raw.grid, 0, np.where(pv_w >= load, 1, 2))
    source = np.where(battery, source, 0)
    charging = raw.grid | (pv_w > load)
    volts = battery_voltage_v(soc, fleet.lfp[s], charging, 0.02 * z[0])
    supply = np.where(battery, volts - 0.05, 24.0 + 0.08 * z[0])

    peak = fleet.users_peak[s]
    users = rng.poisson(users_mean(peak, t)).astype(np.int64)
    congestion = np.clip(users / np.maximum(peak, 1.0), 0.0, 1.5) ** 2
    link_factor = np.where(raw.link, 1.0, 0.01)
    rate_rx = (np.minimum(users * USER_DOWN_BPS, 0.85 * fleet.down_bps[s]) * link_factor
               + BACKGROUND_BPS) / 8.0
    rate_tx = (np.minimum(users * USER_UP_BPS, 0.85 * fleet.up_bps[s]) * link_factor
               + BACKGROUND_BPS) / 8.0
    rx, tx = _counters(twin, raw, rate_rx, rate_tx)

    vsat = fleet.vsat[s]
    wet = raw.wet
    rtt = np.where(vsat, 590.0 + 25.0 * np.abs(z[1]) + 220.0 * congestion,
                   25.0 + 5.0 * np.abs(z[1]) + 40.0 * congestion)
    rtt = rtt + wet * rng.uniform(150.0, 600.0, n)
    loss = (rng.exponential(0.25, n) + 1.5 * congestion + wet * rng.uniform(2.0, 25.0, n))
    loss = np.where(raw.link, np.clip(loss, 0.0, 100.0), 100.0)
    rtt = np.where(raw.link, rtt, np.nan)
    cpu = np.clip(2.0 + 0.35 * users + 1.5 * np.abs(z[2]), 1.0, 100.0)
    temp = ambient_c(t) + 9.0 + 0.4 * z[3] - 1.5 * (wet > 0)
    leases = users + 3 + rng.poisson(1.5, n)
    return Measurements(
        site=s, t=t, recv=t + fleet.latency_s[s], link=raw.link,
        seq=np.floor(t * 1000.0).astype(np.int64),
        uptime_s=np.maximum(np.floor(t - raw.boot), 0).astype(np.int64),
        supply_voltage_v=np.round(supply, 2).astype(np.float64),
        battery_voltage_v=np.where(battery, np.round(volts, 2), np.nan),
        battery_soc_pct=np.where(battery, np.round(soc * 100.0, 1), np.nan),
        source=source.astype(np.int64),
        lvd=np.where(battery, raw.lvd.astype(np.int64), -1),
        temperature_c=np.round(temp, 1), cpu_load_pct=np.round(cpu, 0),
        rx_bytes=rx, tx_bytes=tx, hotspot_users=users, dhcp_leases=leases.astype(np.int64),
        rtt_ms=np.round(rtt, 0).astype(np.float64),
        loss_pct=np.round(loss, 1).astype(np.float64),
    )


# --- heartbeat format v1 ---------------------------------------------------------------------

WAN = "ether1"


def iso(t: float) -> str:
    """Unix seconds as ISO 8601 UTC with milliseconds, e.g. 2024-10-15T03:00:00.250Z."""
    ms = round(t * 1000.0)
    seconds, millis = divmod(ms, 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{millis:03d}Z"


def iso_array(t: Floats) -> list[str]:
    """`iso` for many times at once (numpy's formatting, rounded the same way)."""
    ms = np.round(np.asarray(t) * 1000.0).astype(np.int64).astype("datetime64[ms]")
    return [text + "Z" for text in np.datetime_as_string(ms, unit="ms").tolist()]


def json_reading(row: dict[str, Any], *, device_at: bool = True,
                 age_s: float | None = None) -> dict[str, Any]:
    """One beat as a JSON v1 object. `device_at`: the measurement time (a device with a
    synchronised clock); `age_s`: seconds since the measurement (the RouterOS script)."""
    out: dict[str, Any] = {"seq": row["seq"], "uptime_s": row["uptime_s"],
                           "supply_voltage_v": row["supply_voltage_v"]}
    if row["lvd"] >= 0:
        out["battery_voltage_v"] = row["battery_voltage_v"]
        out["battery_soc_pct"] = row["battery_soc_pct"]
        out["lvd"] = bool(row["lvd"])
    out["power_source"] = SOURCES[row["source"]]
    out["temperature_c"] = row["temperature_c"]
    out["cpu_load_pct"] = row["cpu_load_pct"]
    out["wan"] = {WAN: {"rx_bytes": row["rx_bytes"], "tx_bytes": row["tx_bytes"]}}
    out["hotspot_users"] = row["hotspot_users"]
    out["dhcp_leases"] = row["dhcp_leases"]
    if not math.isnan(row["rtt_ms"]):
        out["rtt_ms"] = row["rtt_ms"]
    out["loss_pct"] = row["loss_pct"]
    if age_s is not None:
        out["age_s"] = round(max(age_s, 0.0), 1)
    elif device_at:
        out["device_at"] = iso(row["t"])
    return out


def query_params(row: dict[str, Any]) -> dict[str, str]:
    """One beat as `/hb/<key>` query parameters (what a `/tool fetch` URL carries)."""
    reading = json_reading(row, device_at=False)
    wan = reading.pop("wan")[WAN]
    params = {"rx": str(wan["rx_bytes"]), "tx": str(wan["tx_bytes"]),
              "src": reading.pop("power_source")}
    if "lvd" in reading:
        params["lvd"] = "1" if reading.pop("lvd") else "0"
    for name, value in reading.items():
        params[QUERY_NAME[name]] = f"{value:g}" if isinstance(value, float) else str(value)
    return params


def _import_line(code: str, at: str, device_at: str, seq: int, uptime: int, supply: float,
                 batt_v: float, soc: float, lvd: int, source: int, temp: float, cpu: float,
                 rx: int, tx: int, users: int, leases: int, rtt: float, loss: float) -> str:
    battery = (f',"battery_voltage_v":{batt_v!r},"battery_soc_pct":{soc!r},'
               f'"lvd":{"true" if lvd else "false"}') if lvd >= 0 else ""
    ping = "" if rtt != rtt else f',"rtt_ms":{rtt!r}'  # NaN: the ping got no answer
    return (f'{{"site":"{code}","at":"{at}","device_at":"{device_at}","seq":{seq},'
            f'"uptime_s":{uptime},"supply_voltage_v":{supply!r}{battery},'
            f'"power_source":"{SOURCES[source]}","temperature_c":{temp!r},'
            f'"cpu_load_pct":{cpu!r},"wan":{{"{WAN}":{{"rx_bytes":{rx},"tx_bytes":{tx}}}}},'
            f'"hotspot_users":{users},"dhcp_leases":{leases}{ping},"loss_pct":{loss!r}}}\n')


_LINE_COLUMNS = ("seq", "uptime_s", "supply_voltage_v", "battery_voltage_v", "battery_soc_pct",
                 "lvd", "source", "temperature_c", "cpu_load_pct", "rx_bytes", "tx_bytes",
                 "hotspot_users", "dhcp_leases", "rtt_ms", "loss_pct")


def import_line(code: str, at: str, row: dict[str, Any]) -> str:
    """One line of the historical import (`linda import-observations`, JSON lines): the
    fields of `json_reading` with the site code, `at` (the server receive time) and
    `device_at`."""
    return _import_line(code, at, iso(row["t"]), *(row[name] for name in _LINE_COLUMNS))


def import_lines(beats: Measurements, codes: Sequence[str]) -> list[str]:
    """`import_line` for every beat, each received at `recv` (a month of the demo is over a
    million lines, hence columns instead of dicts)."""
    columns = [getattr(beats, name).tolist() for name in _LINE_COLUMNS]
    return [_import_line(codes[site], at, device_at, *values)
            for site, at, device_at, *values in zip(
                beats.site.tolist(), iso_array(beats.recv), iso_array(beats.t), *columns,
                strict=True)]

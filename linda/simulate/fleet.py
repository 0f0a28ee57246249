"""The simulated fleet: one `SiteSpec` per site, and the same facts as arrays for the engine.

Pure (no Django): `linda.simulate.sites` builds specs from registry rows, the benchmark builds
them from nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

import numpy as np
import numpy.typing as npt

from linda.domain.energy import HOURS_PER_DAY, Bools, Floats, PowerProfile
from linda.simulate.power import bus_load_w, cell_of

Ints = npt.NDArray[np.int64]
K = TypeVar("K", bound=Hashable)

# How a simulated site talks to the server (docs/simulator.md, "Clients"):
FETCH = "fetch"  # RouterOS `/tool fetch` of /hb/<key>?… every minute: no buffer, new connection
SCRIPT = "script"  # the RouterOS script of `linda routeros-script`: a queue of up to 120 beats
AGENT = "agent"  # a Linux agent: JSON with device_at, keep-alive, a queue of 1440 beats
MQTT = "mqtt"  # the same JSON published to linda/<site-code>/hb
STYLES = (FETCH, SCRIPT, AGENT, MQTT)
QUEUE_LIMIT = {FETCH: 0, SCRIPT: 120, AGENT: 1440, MQTT: 1440}


@dataclass(frozen=True, slots=True)
class SiteSpec:
    code: str
    latitude: float = -0.95
    longitude: float = 114.89
    interval_s: int = 60
    grace_s: int = 180
    power_profile: str = PowerProfile.PLN_24H.value
    grid_hours: tuple[bool, ...] = (True,) * HOURS_PER_DAY  # WIB hours PLN is scheduled on
    pv_wp: float = 0.0
    battery_wh: float = 0.0
    chemistry: str = "lfp"
    equipment_w: float = 59.0  # VSAT modem 45 W + router 6 W + one access point 8 W
    technology: str = "vsat"
    down_mbps: float = 20.0
    up_mbps: float = 5.0
    vendor: str = ""
    feeder: str = ""  # the PLN feeder (we use the kecamatan): a feeder trip cuts all its sites
    users_peak: float = 25.0  # hotspot users at the evening peak
    style: str = SCRIPT

    def __post_init__(self) -> None:
        if len(self.grid_hours) != HOURS_PER_DAY:
            raise ValueError(f"{self.code}: grid_hours needs 24 flags")
        if self.interval_s < 1:
            raise ValueError(f"{self.code}: interval_s must be positive")
        if self.style not in STYLES:
            raise ValueError(f"{self.code}: style must be one of {', '.join(STYLES)}")


def stable_fraction(*parts: object) -> float:
    """A number in [0, 1) that depends only on `parts` (not on Python's hash seed)."""
    digest = hashlib.blake2b(repr(parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def pick_style(code: str, seed: int, *, mqtt: bool) -> str:
    """A site's client, stable for a seed: 30 % fetch, 50 % script, 20 % agent (or MQTT when
    a broker is there)."""
    x = stable_fraction("style", seed, code)
    if x < 0.30:
        return FETCH
    if x < 0.80:
        return SCRIPT
    return MQTT if mqtt else AGENT


@dataclass(eq=False)
class Fleet:
    """The specs as arrays, indexed by site number (the order of `specs`)."""

    specs: Sequence[SiteSpec]
    cell_deg: float = 0.5
    n: int = field(init=False)
    codes: list[str] = field(init=False)
    index: dict[str, int] = field(init=False)
    interval_s: Floats = field(init=False)
    grace_s: Floats = field(init=False)
    grid_hours: Bools = field(init=False)  # n x 24
    has_grid: Bools = field(init=False)
    pv_wp: Floats = field(init=False)
    battery_wh: Floats = field(init=False)
    has_battery: Bools = field(init=False)
    chemistry: list[str] = field(init=False)
    lfp: Bools = field(init=False)
    load_w: Floats = field(init=False)  # drawn from the battery bus
    vsat: Bools = field(init=False)
    down_bps: Floats = field(init=False)
    up_bps: Floats = field(init=False)
    users_peak: Floats = field(init=False)
    cells: list[tuple[float, float]] = field(init=False)
    cell: Ints = field(init=False)
    vendors: list[str] = field(init=False)
    vendor: Ints = field(init=False)
    feeders: list[str] = field(init=False)
    feeder: Ints = field(init=False)
    styles: list[str] = field(init=False)
    latency_s: Floats = field(init=False)  # one way, device to server

    def __post_init__(self) -> None:
        specs = list(self.specs)
        self.n = len(specs)
        self.codes = [s.code for s in specs]
        self.index = {code: i for i, code in enumerate(self.codes)}
        if len(self.index) != self.n:
            raise ValueError("site codes must be unique")
        self.interval_s = np.array([s.interval_s for s in specs], dtype=np.float64)
        self.grace_s = np.array([s.grace_s for s in specs], dtype=np.float64)
        self.grid_hours = np.array([s.grid_hours for s in specs], dtype=bool).reshape(
            self.n, HOURS_PER_DAY)
        self.has_grid = np.asarray(self.grid_hours.any(axis=1), dtype=bool)
        self.pv_wp = np.array([s.pv_wp for s in specs], dtype=np.float64)
        self.battery_wh = np.array([s.battery_wh for s in specs], dtype=np.float64)
        self.has_battery = self.battery_wh > 0
        self.chemistry = [s.chemistry or "lfp" for s in specs]
        self.lfp = np.array([c == "lfp" for c in self.chemistry], dtype=bool)
        self.load_w = np.array([bus_load_w(s.equipment_w) for s in specs], dtype=np.float64)
        self.vsat = np.array([s.technology == "vsat" for s in specs], dtype=bool)
        self.down_bps = np.array([s.down_mbps * 1e6 for s in specs], dtype=np.float64)
        self.up_bps = np.array([s.up_mbps * 1e6 for s in specs], dtype=np.float64)
        self.users_peak = np.array([s.users_peak for s in specs], dtype=np.float64)
        cell_keys = [cell_of(s.latitude, s.longitude, self.cell_deg) for s in specs]
        self.cells, self.cell = _enumerate(cell_keys)
        self.vendors, self.vendor = _enumerate([s.vendor for s in specs])
        self.feeders, self.feeder = _enumerate([s.feeder for s in specs])
        self.styles = [s.style for s in specs]
        # Half a geostationary round trip over VSAT; tens of ms over terrestrial links.
        self.latency_s = np.where(self.vsat, 0.32, 0.02)

    def sites_of_cell(self, cell: int) -> Ints:
        return np.flatnonzero(self.cell == cell)


def _enumerate(keys: Sequence[K]) -> tuple[list[K], Ints]:
    """The distinct keys in order of first appearance, and each item's index among them."""
    order: dict[K, int] = {}
    idx = np.array([order.setdefault(k, len(order)) for k in keys], dtype=np.int64)
    return list(order), idx

"""The pvlib adapter: clear-sky irradiance for a site's coordinates, hour by hour, in WIB.

pvlib does the physics (solar position, Ineichen clear sky with its bundled Linke turbidity
climatology and altitude map, isotropic transposition to the panel's tilt and azimuth);
`linda.domain.energy` gets plain arrays and never imports pvlib. Nothing here touches the
network: the turbidity and altitude tables ship inside the pvlib package.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd
import pvlib

from linda.domain.energy import HOURS_PER_YEAR, Floats

WIB = "Asia/Jakarta"  # Kalimantan Tengah keeps Western Indonesia Time, UTC+7
REFERENCE_YEAR = 2023  # any non-leap year: 365 days, as the domain model expects
SAMPLES_PER_HOUR = 4  # an hour's mean irradiance from four mid-quarter samples
DEFAULT_TILT_DEG = 10.0  # near the equator: just enough slope for rain to clean the glass
ALBEDO = 0.2


def equator_facing_azimuth_deg(latitude: float) -> float:
    """0 = north. South of the equator the panel faces north, north of it south."""
    return 0.0 if latitude < 0 else 180.0


def site_location(latitude: float, longitude: float) -> pvlib.location.Location:
    """A pvlib Location; its altitude comes from pvlib's bundled altitude map."""
    return pvlib.location.Location(latitude, longitude, tz=WIB)


def clear_sky(
    latitude: float, longitude: float, times: pd.DatetimeIndex, *, model: str = "ineichen"
) -> pd.DataFrame:
    """pvlib's clear-sky irradiance (W/m^2) at `times`: ghi, dni, dhi for Ineichen (Linke
    turbidity looked up from pvlib's monthly climatology), ghi alone for Haurwitz."""
    return site_location(latitude, longitude).get_clearsky(times, model=model)


@dataclass(frozen=True, eq=False)
class ClearSkyHours:
    """Hourly mean clear-sky irradiance, hour 0 starting at `start` (local WIB)."""

    start: pd.Timestamp
    ghi_w_m2: Floats
    poa_w_m2: Floats
    tilt_deg: float
    azimuth_deg: float


def sample_times(start: pd.Timestamp, hours: int) -> pd.DatetimeIndex:
    """The mid-quarter instants of `hours` hours from `start`."""
    step = pd.Timedelta(hours=1) / SAMPLES_PER_HOUR
    return pd.date_range(start + step / 2, periods=hours * SAMPLES_PER_HOUR, freq=step)


def clear_sky_hours(
    latitude: float,
    longitude: float,
    start: pd.Timestamp,
    hours: int,
    *,
    tilt_deg: float = DEFAULT_TILT_DEG,
    azimuth_deg: float | None = None,
) -> ClearSkyHours:
    """Hourly means of clear-sky GHI and plane-of-array irradiance (Ineichen, isotropic sky)."""
    if start.tzinfo is None:
        raise ValueError("start: must be timezone-aware")
    azimuth = equator_facing_azimuth_deg(latitude) if azimuth_deg is None else azimuth_deg
    where = site_location(latitude, longitude)
    times = sample_times(start.tz_convert(WIB), hours)
    sun = where.get_solarposition(times)
    sky = where.get_clearsky(times, model="ineichen", solar_position=sun)
    poa = pvlib.irradiance.get_total_irradiance(
        tilt_deg, azimuth, sun["apparent_zenith"], sun["azimuth"],
        sky["dni"], sky["ghi"], sky["dhi"], albedo=ALBEDO, model="isotropic",
    )["poa_global"]

    def hourly(series: pd.Series) -> Floats:
        values = np.nan_to_num(series.to_numpy(dtype=np.float64))
        out: Floats = np.maximum(values.reshape(hours, SAMPLES_PER_HOUR).mean(axis=1), 0.0)
        return out

    return ClearSkyHours(start, hourly(sky["ghi"]), hourly(poa), tilt_deg, azimuth)


@lru_cache(maxsize=64)
def clear_sky_year(
    latitude: float,
    longitude: float,
    *,
    tilt_deg: float = DEFAULT_TILT_DEG,
    azimuth_deg: float | None = None,
) -> ClearSkyHours:
    """The 8760 hours of a reference year, 1 January 00:00 WIB first (cached per place)."""
    start = pd.Timestamp(f"{REFERENCE_YEAR}-01-01", tz=WIB)
    return clear_sky_hours(
        latitude, longitude, start, HOURS_PER_YEAR, tilt_deg=tilt_deg, azimuth_deg=azimuth_deg
    )

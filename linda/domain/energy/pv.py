"""Photovoltaic output: from plane-of-array irradiance to DC energy per installed Wp."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from linda.domain.energy.units import DAYS_PER_YEAR, HOURS_PER_DAY, HOURS_PER_YEAR, Floats


@dataclass(frozen=True, slots=True)
class PvParams:
    """From plane-of-array irradiance to DC energy into the charge controller.

    `system_derate` lumps module tolerance, soiling, wiring, mismatch and MPPT losses. The cell
    temperature follows the NOCT model, T_cell = T_amb + G (NOCT - 20) / 800."""

    system_derate: float = 0.86
    temp_coeff_per_c: float = -0.0040
    noct_c: float = 45.0
    ambient_c: float = 29.0

    def __post_init__(self) -> None:
        if not 0 < self.system_derate <= 1:
            raise ValueError("system_derate: must be in (0, 1]")


DEFAULT_PV = PvParams()


def pv_yield_wh_per_wp(
    poa_clear_w_m2: Floats, clearness: Floats, params: PvParams = PvParams()
) -> Floats:
    """DC energy per installed Wp, hour by hour, for each year of daily clearness.

    `poa_clear_w_m2` is the clear-sky plane-of-array irradiance averaged over each hour of a
    365-day year; `clearness` (years x 365) scales each day's clear sky (see `daily_clearness`).
    Returns years x 8760.
    """
    poa_clear = np.asarray(poa_clear_w_m2, dtype=np.float64)
    if poa_clear.shape != (HOURS_PER_YEAR,):
        raise ValueError("poa_clear_w_m2: must hold 8760 hourly values")
    k = np.atleast_2d(np.asarray(clearness, dtype=np.float64))
    if k.shape[1] != DAYS_PER_YEAR:
        raise ValueError("clearness: must hold 365 daily values per year")
    poa = np.repeat(k, HOURS_PER_DAY, axis=1) * poa_clear
    t_cell = params.ambient_c + poa * (params.noct_c - 20.0) / 800.0
    thermal = 1.0 + params.temp_coeff_per_c * (t_cell - 25.0)
    out: Floats = np.maximum(poa / 1000.0 * thermal * params.system_derate, 0.0)
    return out


def dc_yield_wh_per_wp(poa_w_m2: Floats, params: PvParams = PvParams()) -> Floats:
    """DC energy per Wp of hours with mean plane-of-array irradiance `poa_w_m2`."""
    poa = np.asarray(poa_w_m2, dtype=np.float64)
    thermal = 1.0 + params.temp_coeff_per_c * (
        params.ambient_c + poa * (params.noct_c - 20.0) / 800.0 - 25.0
    )
    out: Floats = np.maximum(poa / 1000.0 * thermal * params.system_derate, 0.0)
    return out

"""Weather: a daily clearness process with multi-day persistence, calibrated to monthly
irradiation."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

from linda.domain.energy.units import (
    DAYS_PER_YEAR,
    HOURS_PER_DAY,
    HOURS_PER_YEAR,
    MONTH_OF_DAY,
    Floats,
)


@dataclass(frozen=True, slots=True)
class ClearnessProcess:
    """Daily clear-sky index k = GHI_day / GHI_clear_day as a probit-transformed AR(1) process.

    A latent z follows z[t] = persistence * z[t-1] + sqrt(1 - persistence^2) * e[t], e ~ N(0, 1),
    so dull days come in spells. k = k_min + (k_max - k_min) * Phi(mu_month + spread * z), with
    mu_month chosen so that E[k] matches the month's irradiation exactly:
    E[Phi(mu + s Z)] = Phi(mu / sqrt(1 + s^2)).
    """

    persistence: float = 0.5
    spread: float = 0.7
    k_min: float = 0.12
    k_max: float = 1.0

    def __post_init__(self) -> None:
        if not 0 <= self.persistence < 1:
            raise ValueError("persistence: must be in [0, 1)")
        if self.spread <= 0:
            raise ValueError("spread: must be positive")
        if not 0 <= self.k_min < self.k_max:
            raise ValueError("need 0 <= k_min < k_max")


_NORMAL = NormalDist()


def _phi(x: Floats) -> Floats:
    """Standard normal CDF, vectorised (Abramowitz & Stegun 7.1.26, |error| < 1.5e-7)."""
    z = np.abs(x) / math.sqrt(2.0)
    t = 1.0 / (1.0 + 0.3275911 * z)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027
                                                                          + t * 1.061405429))))
    erf = 1.0 - poly * np.exp(-z * z)
    out: Floats = 0.5 * (1.0 + np.sign(x) * erf)
    return out


def clear_sky_daily_wh_m2(clear_hourly_w_m2: Floats) -> Floats:
    """Daily clear-sky irradiation (Wh/m^2) from 8760 hourly mean irradiances."""
    hourly = np.asarray(clear_hourly_w_m2, dtype=np.float64)
    if hourly.shape != (HOURS_PER_YEAR,):
        raise ValueError("clear_hourly_w_m2: must hold 8760 hourly values")
    daily: Floats = hourly.reshape(DAYS_PER_YEAR, HOURS_PER_DAY).sum(axis=1)
    return daily


def latent_means(
    clear_daily_wh_m2: Floats,
    monthly_ghi_kwh_m2_day: Sequence[float],
    process: ClearnessProcess = ClearnessProcess(),
) -> Floats:
    """mu for each day of the year, calibrated to the month's mean daily irradiation."""
    if len(monthly_ghi_kwh_m2_day) != 12:
        raise ValueError("monthly_ghi_kwh_m2_day: needs 12 values")
    month = np.asarray(MONTH_OF_DAY)
    clear = np.asarray(clear_daily_wh_m2, dtype=np.float64)
    mu_of_month = []
    scale = math.sqrt(1.0 + process.spread**2)
    for m, target in enumerate(monthly_ghi_kwh_m2_day):
        mean_clear_kwh = float(clear[month == m].mean()) / 1000.0
        ratio = target / mean_clear_kwh
        share = (ratio - process.k_min) / (process.k_max - process.k_min)
        if not 0 < share < 1:
            raise ValueError(
                f"month {m + 1}: {target} kWh/m2/day is not reachable under a clear sky of "
                f"{mean_clear_kwh:.2f} kWh/m2/day with k in [{process.k_min}, {process.k_max}]"
            )
        mu_of_month.append(_NORMAL.inv_cdf(share) * scale)
    out: Floats = np.asarray(mu_of_month, dtype=np.float64)[month]
    return out


def _ar1(rng: np.random.Generator, n: int, persistence: float, z0: Floats) -> Floats:
    """n steps of the latent AR(1) after z0 (one row per scenario)."""
    shocks = rng.standard_normal((z0.shape[0], n)) * math.sqrt(1.0 - persistence**2)
    z = np.empty((z0.shape[0], n))
    prev = z0
    for i in range(n):
        prev = persistence * prev + shocks[:, i]
        z[:, i] = prev
    return z


def daily_clearness(
    *,
    mu_by_day: Floats,
    years: int,
    seed: int,
    process: ClearnessProcess = ClearnessProcess(),
) -> Floats:
    """years x 365 daily clear-sky indices; one continuous series, so spells cross new year.
    The same seed always gives the same weather."""
    if years < 1:
        raise ValueError("years: must be at least 1")
    rng = np.random.default_rng(seed)
    z0 = rng.standard_normal(1)
    z = _ar1(rng, years * DAYS_PER_YEAR, process.persistence, z0).reshape(years, DAYS_PER_YEAR)
    span = process.k_max - process.k_min
    out: Floats = process.k_min + span * _phi(np.asarray(mu_by_day) + process.spread * z)
    return out


def clearness_scenarios(
    *,
    mu_days: Floats,
    scenarios: int,
    seed: int,
    today_clearness: float | None = None,
    process: ClearnessProcess = ClearnessProcess(),
) -> Floats:
    """scenarios x len(mu_days) clearness for the coming days (day 0 = today).

    With `today_clearness` observed (from measured PV against the clear sky) day 0 is fixed and
    the following days continue the process from it; otherwise day 0 is drawn too."""
    n = len(mu_days)
    rng = np.random.default_rng(seed)
    span = process.k_max - process.k_min
    if today_clearness is None:
        z0 = rng.standard_normal(scenarios)
    else:
        share = min(max((today_clearness - process.k_min) / span, 1e-6), 1 - 1e-6)
        z0 = np.full(scenarios, (_NORMAL.inv_cdf(share) - float(mu_days[0])) / process.spread)
    z = np.concatenate([z0[:, None], _ar1(rng, n - 1, process.persistence, z0)], axis=1)
    out: Floats = process.k_min + span * _phi(np.asarray(mu_days) + process.spread * z)
    return out

"""PLN hours: the power profile of a site as 24 hourly flags."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from linda.domain.energy.units import HOURS_PER_DAY


class PowerProfile(StrEnum):
    PLN_24H = "pln_24h"
    PLN_PARTIAL = "pln_partial"
    OFF_GRID = "off_grid"


def grid_hours(
    profile: PowerProfile | str,
    on_from: dt.time | None = None,
    on_until: dt.time | None = None,
) -> tuple[bool, ...]:
    """The 24 local hours in which PLN supplies power. An hour counts as on when its midpoint
    lies in the window [on_from, on_until), which may wrap past midnight (18:00-06:00)."""
    profile = PowerProfile(profile)
    if profile is PowerProfile.PLN_24H:
        return (True,) * HOURS_PER_DAY
    if profile is PowerProfile.OFF_GRID:
        return (False,) * HOURS_PER_DAY
    if on_from is None or on_until is None:
        raise ValueError("pln_partial: needs on_from and on_until")
    start = on_from.hour + on_from.minute / 60
    end = on_until.hour + on_until.minute / 60
    if start == end:
        raise ValueError("pln_partial: on_from and on_until must differ")

    def on(mid: float) -> bool:
        return start <= mid < end if start < end else (mid >= start or mid < end)

    return tuple(on(h + 0.5) for h in range(HOURS_PER_DAY))

"""Units of time shared by the energy model: a local (WIB) hour index over 365-day years."""

from __future__ import annotations

import datetime as dt

import numpy as np
import numpy.typing as npt

Floats = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]

HOURS_PER_DAY = 24
DAYS_PER_YEAR = 365
HOURS_PER_YEAR = HOURS_PER_DAY * DAYS_PER_YEAR
# Day of year (0-based) -> month (0-based) of a non-leap year.
MONTH_OF_DAY: tuple[int, ...] = tuple(
    (dt.date(2023, 1, 1) + dt.timedelta(days=d)).month - 1 for d in range(DAYS_PER_YEAR)
)

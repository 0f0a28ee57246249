"""Monthly irradiation that calibrates the weather process: the regional default, or a file.

The default is for the Barito valley around Muara Teweh (see docs/energy.md, "Where the numbers
come from"). A site can override it with `<LINDA_VAR_DIR>/energy/climate/<site code>.csv`, or a
command with `--climate FILE`: a CSV with a header `month,ghi_kwh_m2_day` and the twelve monthly
means of daily global horizontal irradiation, e.g. copied from a NASA POWER or PVGIS export.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

# Mean daily GHI (kWh/m^2/day), January first. Annual mean 4.41.
DEFAULT_MONTHLY_GHI_KWH_M2_DAY: tuple[float, ...] = (
    4.1, 4.3, 4.4, 4.4, 4.4, 4.2, 4.4, 4.8, 4.8, 4.7, 4.4, 4.0,
)
DEFAULT_SOURCE = "default for central Kalimantan (docs/energy.md)"


class ClimateFileError(ValueError):
    pass


@dataclass(frozen=True)
class MonthlyClimate:
    ghi_kwh_m2_day: tuple[float, ...]
    source: str

    @property
    def worst_month_kwh_m2_day(self) -> float:
        return min(self.ghi_kwh_m2_day)


DEFAULT_CLIMATE = MonthlyClimate(DEFAULT_MONTHLY_GHI_KWH_M2_DAY, DEFAULT_SOURCE)


def read_climate_file(path: Path | str) -> MonthlyClimate:
    """Twelve months from a `month,ghi_kwh_m2_day` CSV; refuses anything incomplete or odd."""
    path = Path(path)
    values: dict[int, float] = {}
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames is None or not {"month", "ghi_kwh_m2_day"} <= set(reader.fieldnames):
            raise ClimateFileError(f"{path}: needs the columns month,ghi_kwh_m2_day")
        for line, row in enumerate(reader, start=2):
            try:
                month, ghi = int(row["month"]), float(row["ghi_kwh_m2_day"])
            except (TypeError, ValueError) as exc:
                raise ClimateFileError(f"{path}:{line}: {exc}") from exc
            if not 1 <= month <= 12 or month in values:
                raise ClimateFileError(f"{path}:{line}: month {month} is out of range or repeated")
            if not 0.5 <= ghi <= 9.0:
                raise ClimateFileError(f"{path}:{line}: {ghi} kWh/m2/day is not plausible")
            values[month] = ghi
    if len(values) != 12:
        raise ClimateFileError(f"{path}: needs all 12 months, found {len(values)}")
    return MonthlyClimate(tuple(values[m] for m in range(1, 13)), str(path))


def site_climate_path(site_code: str) -> Path:
    return Path(settings.VAR_DIR) / "energy" / "climate" / f"{site_code}.csv"


def climate_for_site(site_code: str) -> MonthlyClimate:
    path = site_climate_path(site_code)
    return read_climate_file(path) if path.exists() else DEFAULT_CLIMATE

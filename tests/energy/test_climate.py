from __future__ import annotations

from pathlib import Path

import pytest

from linda.energy.climate import (
    DEFAULT_CLIMATE,
    ClimateFileError,
    climate_for_site,
    read_climate_file,
    site_climate_path,
)


def write(path: Path, rows: list[str], header: str = "month,ghi_kwh_m2_day") -> Path:
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def test_default_averages_about_4_4_kwh_per_m2_day() -> None:
    values = DEFAULT_CLIMATE.ghi_kwh_m2_day
    days = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
    assert sum(v * d for v, d in zip(values, days, strict=True)) / 365 == pytest.approx(4.4, abs=0.05)
    assert DEFAULT_CLIMATE.worst_month_kwh_m2_day == 4.0  # December


def test_a_site_file_overrides_the_default(tmp_path: Path, settings) -> None:
    settings.VAR_DIR = tmp_path
    assert climate_for_site("kd-1") is DEFAULT_CLIMATE
    path = site_climate_path("kd-1")
    path.parent.mkdir(parents=True)
    write(path, [f"{m},{4 + m / 10}" for m in range(12, 0, -1)])  # any order
    climate = climate_for_site("kd-1")
    assert climate.ghi_kwh_m2_day[0] == pytest.approx(4.1)
    assert climate.ghi_kwh_m2_day[11] == pytest.approx(5.2)
    assert climate.source == str(path)


@pytest.mark.parametrize(
    ("rows", "header", "message"),
    [
        (["1,4.0"], "month,ghi_kwh_m2_day", "all 12 months"),
        ([f"{m},4.0" for m in range(1, 13)] + ["3,4.1"], "month,ghi_kwh_m2_day", "repeated"),
        ([f"{m},40" for m in range(1, 13)], "month,ghi_kwh_m2_day", "not plausible"),
        ([f"{m},x" for m in range(1, 13)], "month,ghi_kwh_m2_day", "could not convert"),
        ([f"{m},4" for m in range(1, 13)], "month,ghi", "needs the columns"),
    ],
)
def test_odd_files_are_refused(tmp_path: Path, rows: list[str], header: str, message: str) -> None:
    with pytest.raises(ClimateFileError, match=message):
        read_climate_file(write(tmp_path / "c.csv", rows, header))

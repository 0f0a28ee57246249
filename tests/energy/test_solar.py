"""The pvlib adapter against pvlib itself, for Muara Teweh on a fixed day. No network: the Linke
turbidity and altitude tables ship inside pvlib."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pvlib
import pytest

from linda.domain.energy import HOURS_PER_YEAR, clear_sky_daily_wh_m2
from linda.energy import solar

MUARA_TEWEH = (-0.95, 114.89)
DAY = pd.Timestamp("2024-03-20", tz=solar.WIB)  # equinox: the sun passes ~0.95 deg from zenith


def pvlib_reference(model: str) -> pd.DataFrame:
    times = pd.date_range(DAY, periods=24 * 60, freq="1min")
    where = pvlib.location.Location(*MUARA_TEWEH, tz="Asia/Jakarta")
    return where.get_clearsky(times, model=model)


@pytest.mark.parametrize("model", ["ineichen", "haurwitz"])
def test_clear_sky_is_pvlibs_own(model: str) -> None:
    reference = pvlib_reference(model)
    ours = solar.clear_sky(*MUARA_TEWEH, reference.index, model=model)
    for column in reference.columns:
        np.testing.assert_allclose(ours[column], reference[column], rtol=1e-12, atol=1e-9)


@pytest.mark.parametrize("model", ["ineichen", "haurwitz"])
def test_solar_noon_ghi_at_muara_teweh_is_near_1000_w_m2(model: str) -> None:
    ghi = pvlib_reference(model)["ghi"]
    noon = ghi.idxmax()
    # 114.89 E is 0.66 h east of the WIB meridian (105 E); on 20 March the equation of time
    # adds ~7.5 min, so solar noon is about 11:28 WIB.
    assert pd.Timestamp("2024-03-20 11:10", tz=solar.WIB) <= noon
    assert noon <= pd.Timestamp("2024-03-20 11:45", tz=solar.WIB)
    assert 900 <= ghi.max() <= 1150
    assert ghi[ghi.index.hour < 5].max() == 0 and ghi[ghi.index.hour >= 19].max() == 0


def test_hourly_means_are_the_mean_of_the_quarter_hour_samples() -> None:
    hours = solar.clear_sky_hours(*MUARA_TEWEH, DAY, 24, tilt_deg=0.0)
    times = solar.sample_times(DAY, 24)
    assert times[0] == DAY + pd.Timedelta(minutes=7.5)
    direct = pvlib.location.Location(*MUARA_TEWEH, tz="Asia/Jakarta").get_clearsky(times)
    expected = np.maximum(direct["ghi"].to_numpy().reshape(24, 4).mean(axis=1), 0.0)
    np.testing.assert_allclose(hours.ghi_w_m2, expected, rtol=1e-9, atol=1e-9)
    # a flat panel sees the global horizontal irradiance
    np.testing.assert_allclose(hours.poa_w_m2, hours.ghi_w_m2, rtol=1e-6, atol=1e-6)
    assert 6.0 <= hours.ghi_w_m2.sum() / 1000 <= 7.5  # clear-sky kWh/m2 that day


def test_the_reference_year_has_8760_hours_and_a_north_facing_tilted_panel() -> None:
    year = solar.clear_sky_year(*MUARA_TEWEH)
    assert year.ghi_w_m2.shape == year.poa_w_m2.shape == (HOURS_PER_YEAR,)
    assert year.azimuth_deg == 0.0 and year.tilt_deg == 10.0  # south of the equator: north
    daily = clear_sky_daily_wh_m2(year.ghi_w_m2) / 1000
    assert daily.min() >= 5.5 and daily.max() <= 7.5
    # tilting 10 deg loses a little over the year this close to the equator
    assert 0.95 < year.poa_w_m2.sum() / year.ghi_w_m2.sum() < 1.0


def test_naive_start_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        solar.clear_sky_hours(*MUARA_TEWEH, pd.Timestamp("2024-03-20"), 1)

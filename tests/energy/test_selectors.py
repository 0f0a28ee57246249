"""A registry Site mapped onto the energy model, and the fleet batching giving the same answers
as one site at a time."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from linda.domain import energy
from linda.energy import selectors
from linda.registry.models import Equipment, EquipmentType, PowerProfile, Site
from tests.factories import make_site

pytestmark = pytest.mark.usefixtures("barito_utara")
YEARS = 2


def solar_site(code: str, profile: str = PowerProfile.OFF_GRID, *, pv_wp: int = 900,
               battery_wh: int = 4800, aps: int = 1, lat: str = "-0.95") -> Site:
    site = make_site("62.05.05.2011", code=code)
    site.power_profile = profile
    if profile == PowerProfile.PLN_PARTIAL:
        site.pln_on_from, site.pln_on_until = dt.time(18), dt.time(6)
    site.solar_pv_wp, site.battery_wh, site.battery_chemistry = pv_wp, battery_wh, "lfp"
    site.latitude, site.longitude = Decimal(lat), Decimal("114.89")
    site.save()
    kinds = [EquipmentType.VSAT_MODEM, EquipmentType.ROUTER, EquipmentType.ANTENNA]
    for n, kind in enumerate(kinds + [EquipmentType.ACCESS_POINT] * aps):
        Equipment.objects.create(site=site, type=kind, model="m", serial=f"{code}-{n}")
    return site


def energy_of(code: str) -> selectors.SiteEnergy:
    return selectors.get_site_energy(selectors.list_energy_sites().get(code=code), years=YEARS)


def test_a_site_maps_to_load_grid_hours_chemistry_and_cell() -> None:
    solar_site("kd-a", PowerProfile.PLN_PARTIAL, aps=3)
    site = energy_of("kd-a")
    assert site.conditions.load.equipment_w == 75.0  # VSAT 45 + router 6 + 3 APs x 8
    assert site.conditions.grid_on == energy.grid_hours("pln_partial", dt.time(18), dt.time(6))
    assert site.conditions.chemistry is energy.Chemistry.LFP
    assert (site.latitude, site.longitude) == (-1.0, 115.0)
    assert site.conditions.yields_wh_per_wp.shape == (YEARS, energy.HOURS_PER_YEAR)
    assert (site.installed_pv_wp, site.installed_battery_wh) == (900, 4800)


def test_a_site_without_coordinates_or_battery_gets_the_regency_defaults() -> None:
    make_site("62.05.05.2011", code="kd-bare")
    site = energy_of("kd-bare")
    assert (site.latitude, site.longitude) == selectors.cell_of(*selectors.MUARA_TEWEH)
    assert site.conditions.chemistry is energy.Chemistry.LFP
    assert site.conditions.grid_on == (True,) * 24 and not site.has_solar
    assert site.conditions.load.equipment_w == 0.0


def test_listing_the_fleet_takes_two_queries(django_assert_num_queries) -> None:
    for n in range(3):
        solar_site(f"kd-{n}")
    with django_assert_num_queries(2):
        assert [selectors.site_load(s).equipment_w for s in selectors.list_energy_sites()] == [
            59.0, 59.0, 59.0]


def test_fleet_batches_answer_as_one_site_at_a_time() -> None:
    solar_site("kd-n", lat="-0.60")
    solar_site("kd-s", lat="-1.40", pv_wp=400, battery_wh=1200)
    sites = [energy_of("kd-n"), energy_of("kd-s")]
    assert sites[0].latitude != sites[1].latitude
    together = selectors.installed_outcomes(sites)
    selectors._OUTCOMES.clear()
    alone = [selectors.installed_outcome(s) for s in sites]
    assert [o.outage_h_by_year for o in together] == [o.outage_h_by_year for o in alone]
    assert together[1].outage_h_mean > together[0].outage_h_mean  # the undersized one


def test_forecast_at_dusk_from_a_low_charge_goes_dark() -> None:
    solar_site("kd-f", aps=3)
    site = energy_of("kd-f")
    at = dt.datetime(2024, 12, 10, 18, 0, tzinfo=dt.timezone(dt.timedelta(hours=7)))
    low = selectors.forecast_site_autonomy(site, at=at, soc_fraction=0.3, scenarios=50)
    # (1440 - 480) Wh x 0.97 / (75 W / 0.95) = 11.8 h: flat before 06:00
    assert low.hours_no_sun == pytest.approx(960 * 0.97 / (75 / 0.95))
    assert low.goes_dark_tonight and 11 <= low.night_end_h <= 14
    full = selectors.forecast_site_autonomy(site, at=at, soc_fraction=1.0, scenarios=50)
    assert not full.goes_dark_tonight


def test_hour_of_year_is_wib_and_folds_29_february() -> None:
    utc = dt.UTC
    assert selectors.hour_of_year(dt.datetime(2023, 1, 1, 0, 0, tzinfo=utc)) == 7
    assert selectors.hour_of_year(dt.datetime(2024, 3, 1, 0, 0, tzinfo=utc)) == 59 * 24 + 7
    assert selectors.hour_of_year(dt.datetime(2024, 2, 29, 0, 0, tzinfo=utc)) == 58 * 24 + 7
    assert selectors.hour_of_year(dt.datetime(2024, 12, 31, 23, 0, tzinfo=utc)) == 6

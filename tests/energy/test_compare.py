"""Predicted against observed power downtime (`compare_power_downtime`, `linda energy compare`)
on the SLA tests' October 2024 (tests/sla/scenario.py): `sol`, off-grid solar, went dark two
nights for 4.5 h each (the attribution says power); the other sites are on PLN 24 h."""

from __future__ import annotations

import datetime as dt
from io import StringIO
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command

from linda.domain import energy
from linda.domain.sla import month_bounds
from linda.energy import selectors
from linda.energy.selectors import DowntimeFlag, compare_power_downtime, downtime_flag
from linda.monitoring.monitor import materialize_all
from linda.registry.models import Equipment, EquipmentType, Site
from tests.sla.scenario import NOW, October, build_october

OCTOBER = month_bounds(2024, 10, ZoneInfo("Asia/Jakarta"))


@pytest.fixture
def october(barito_utara: None, settings: Any) -> October:
    settings.LINDA_MONITOR_MAX_GAP_S = 3600  # as tests/sla/conftest.py: marks every 30 min
    built = build_october()
    materialize_all(NOW)
    return built


def give_equipment(site: Site, *, pv_wp: int, battery_wh: int) -> None:
    """VSAT 45 W + router 6 W + one access point 8 W = 59 W, and the installed design."""
    for n, kind in enumerate([EquipmentType.VSAT_MODEM, EquipmentType.ROUTER,
                              EquipmentType.ACCESS_POINT]):
        Equipment.objects.create(site=site, type=kind, model="m", serial=f"{site.code}-{n}")
    site.solar_pv_wp, site.battery_wh, site.battery_chemistry = pv_wp, battery_wh, "lfp"
    site.save()


def by_code(rows: list[selectors.PowerDowntime]) -> dict[str, selectors.PowerDowntime]:
    return {r.site.code: r for r in rows}


def test_power_outages_where_the_model_never_goes_dark_are_flagged_check(
    october: October,
) -> None:
    # `sol` has no equipment on record: a 0 W load never empties its battery in the model.
    rows = by_code(compare_power_downtime(OCTOBER.start, OCTOBER.end, now=NOW))
    sol = rows["sol"]
    assert sol.never_dark and sol.predicted_h_mean == sol.predicted_h_p90 == 0
    assert sol.observed_h == pytest.approx(9.0)  # two nights, 20:30-01:00 UTC
    assert sol.monitored_h == 31 * 24 and sol.ratio is None
    assert sol.flag is DowntimeFlag.CHECK
    # The PLN sites lost hours too, but to the link or upstream, not to power.
    others = [r for code, r in rows.items() if code != "sol"]
    assert {(r.observed_h, r.flag) for r in others} == {(0.0, DowntimeFlag.OK)}
    assert rows["part"].monitored_h == 21 * 24  # activated 11 October 00:00 WIB


def test_a_site_darker_than_its_bad_year_prediction_is_flagged_undersized(
    october: October,
) -> None:
    # 800 Wp / 2 kWh for 59 W: the model loses about 30 h a year, in the wet season, and
    # none in October in any of the ten simulated years; October saw 9 h.
    give_equipment(october.sites["sol"], pv_wp=800, battery_wh=2000)
    (sol,) = compare_power_downtime(OCTOBER.start, OCTOBER.end, [october.sites["sol"]], now=NOW)
    assert not sol.never_dark
    assert sol.predicted_h_p90 < (9.0 - 2.0) / 1.5
    assert sol.flag is DowntimeFlag.UNDERSIZED and sol.design == "800 Wp / 2000 Wh lfp"


def test_a_site_as_dark_as_predicted_is_not_flagged(october: October) -> None:
    # 600 Wp / 1.2 kWh for 59 W loses tens of hours every October in the model: 9 h is fine.
    give_equipment(october.sites["sol"], pv_wp=600, battery_wh=1200)
    (sol,) = compare_power_downtime(OCTOBER.start, OCTOBER.end, [october.sites["sol"]], now=NOW)
    assert sol.predicted_h_mean > 9.0 and sol.flag is DowntimeFlag.OK
    assert sol.ratio == pytest.approx(9.0 / sol.predicted_h_mean)


def test_the_prediction_for_a_whole_year_is_the_years_outage() -> None:
    site = selectors.typical_site("kd-y", energy.PowerProfile.OFF_GRID, equipment_w=59.0,
                                  years=3, installed=(600, 1200))
    wib = ZoneInfo("Asia/Jakarta")
    year = selectors.predicted_outage_h(site, dt.datetime(2023, 1, 1, tzinfo=wib),
                                        dt.datetime(2024, 1, 1, tzinfo=wib))
    assert year == pytest.approx(selectors.installed_outcome(site).outage_h_by_year, abs=1e-6)
    months = sum(selectors.predicted_outage_h(site, month_bounds(2023, m, wib).start,
                                              month_bounds(2023, m, wib).end)
                 for m in range(1, 13))
    assert months == pytest.approx(year)
    half = selectors.predicted_outage_h(site, dt.datetime(2023, 1, 1, 0, 30, tzinfo=wib),
                                        dt.datetime(2023, 1, 1, 1, tzinfo=wib))
    first = selectors.installed_hourly_outage(site)[:, 0]
    assert half == pytest.approx(first / 2)


@pytest.mark.parametrize(("observed", "p90", "never_dark", "flag"), [
    (0.0, 0.0, True, DowntimeFlag.OK),
    (None, 0.0, True, DowntimeFlag.OK),
    (0.5, 0.0, True, DowntimeFlag.CHECK),
    (2.0, 0.0, False, DowntimeFlag.OK),
    (2.1, 0.0, False, DowntimeFlag.UNDERSIZED),
    (17.0, 10.0, False, DowntimeFlag.OK),
    (17.1, 10.0, False, DowntimeFlag.UNDERSIZED),
])
def test_flag_rule(observed: float | None, p90: float, never_dark: bool,
                   flag: DowntimeFlag) -> None:
    assert downtime_flag(observed_h=observed, predicted_h_p90=p90, never_dark=never_dark) is flag


def test_the_compare_command_prints_the_flags(october: October) -> None:
    give_equipment(october.sites["sol"], pv_wp=800, battery_wh=2000)
    out = StringIO()
    # `now` is the clock here: October 2024 is long over, so every site's month is complete.
    call_command("energy", "compare", "--month", "2024-10", "sol", "mtn", stdout=out)
    lines = {line.split()[0]: line for line in out.getvalue().splitlines()
             if line.split() and line.split()[0] in ("sol", "mtn")}
    assert lines["sol"].split()[-1] == "undersized"
    assert "800 Wp / 2000 Wh lfp" in lines["sol"] and " 9.0 " in lines["sol"]
    assert lines["mtn"].split()[-1] == "-"

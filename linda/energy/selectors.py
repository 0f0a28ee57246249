"""Reads: a registry Site mapped onto the domain energy model (linda.domain.energy)."""

from __future__ import annotations

import calendar
import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from zoneinfo import ZoneInfo

import numpy as np
from django.db.models import QuerySet
from django.utils import timezone

from linda.domain import energy
from linda.domain.attribution import Cause
from linda.domain.energy import (
    Chemistry,
    ClearnessProcess,
    Floats,
    PowerProfile,
    PvParams,
    SiteConditions,
    SiteLoad,
)
from linda.energy import solar
from linda.energy.climate import DEFAULT_CLIMATE, MonthlyClimate, climate_for_site
from linda.monitoring.models import SiteState
from linda.registry.models import Site
from linda.sla.calc import SlaSettings
from linda.sla.outages import recent_outages
from linda.sla.selectors import get_sla_settings

MUARA_TEWEH = (-0.95, 114.89)  # the regency seat, for a site without coordinates
CELL_DEG = 0.5  # clear sky and weather are computed once per 0.5-degree cell (~55 km)
DEFAULT_CHEMISTRY = Chemistry.LFP
DEFAULT_YEARS = 10
DEFAULT_SEED = 6205  # one seed for the regency: its sites share the same weather, as they do
PV = PvParams()
PROCESS = ClearnessProcess()


@dataclass(frozen=True, eq=False)
class SiteEnergy:
    """A site as the energy model sees it, with where its inputs came from."""

    code: str
    profile: PowerProfile
    latitude: float  # of the cell centre the irradiance was computed for
    longitude: float
    climate: MonthlyClimate
    conditions: SiteConditions
    installed_pv_wp: int | None
    installed_battery_wh: int | None
    years: int
    seed: int

    @property
    def has_solar(self) -> bool:
        return bool(self.installed_pv_wp or self.installed_battery_wh)


def list_energy_sites() -> QuerySet[Site]:
    return Site.objects.select_related("village").prefetch_related("equipment").order_by("code")


def equipment_counts(site: Site) -> Counter[str]:
    """Equipment types at the site (uses the prefetched `equipment` when there is one)."""
    return Counter(str(item.type) for item in site.equipment.all())


def site_load(site: Site) -> SiteLoad:
    return SiteLoad(energy.equipment_load_w(equipment_counts(site)))


def site_grid_hours(site: Site) -> tuple[bool, ...]:
    return energy.grid_hours(site.power_profile, site.pln_on_from, site.pln_on_until)


def site_chemistry(site: Site) -> Chemistry:
    return Chemistry(site.battery_chemistry) if site.battery_chemistry else DEFAULT_CHEMISTRY


def cell_of(latitude: float, longitude: float) -> tuple[float, float]:
    def snap(x: float) -> float:
        return round(round(x / CELL_DEG) * CELL_DEG, 4)

    return snap(latitude), snap(longitude)


def site_cell(site: Site) -> tuple[float, float]:
    if site.latitude is not None and site.longitude is not None:
        return cell_of(float(site.latitude), float(site.longitude))
    village = site.village
    if village.latitude is not None and village.longitude is not None:
        return cell_of(float(village.latitude), float(village.longitude))
    return cell_of(*MUARA_TEWEH)


def mu_by_day(latitude: float, longitude: float, monthly: tuple[float, ...]) -> Floats:
    clear = solar.clear_sky_year(latitude, longitude)
    return energy.latent_means(energy.clear_sky_daily_wh_m2(clear.ghi_w_m2), monthly, PROCESS)


@lru_cache(maxsize=64)
def weather_years(
    latitude: float, longitude: float, monthly: tuple[float, ...], years: int, seed: int
) -> tuple[Floats, Floats]:
    """(daily clearness years x 365, DC yield per Wp years x 8760) for a cell; read-only."""
    clearness = energy.daily_clearness(
        mu_by_day=mu_by_day(latitude, longitude, monthly), years=years, seed=seed, process=PROCESS
    )
    poa = solar.clear_sky_year(latitude, longitude).poa_w_m2
    yields = energy.pv_yield_wh_per_wp(poa, clearness, PV)
    clearness.flags.writeable = False
    yields.flags.writeable = False
    return clearness, yields


def get_site_energy(
    site: Site,
    *,
    years: int = DEFAULT_YEARS,
    seed: int = DEFAULT_SEED,
    climate: MonthlyClimate | None = None,
    chemistry: Chemistry | None = None,
) -> SiteEnergy:
    climate = climate or climate_for_site(site.code)
    lat, lon = site_cell(site)
    _, yields = weather_years(lat, lon, climate.ghi_kwh_m2_day, years, seed)
    conditions = SiteConditions(
        load=site_load(site), grid_on=site_grid_hours(site),
        chemistry=chemistry or site_chemistry(site), yields_wh_per_wp=yields,
    )
    return SiteEnergy(
        code=site.code, profile=PowerProfile(site.power_profile), latitude=lat, longitude=lon,
        climate=climate, conditions=conditions, installed_pv_wp=site.solar_pv_wp,
        installed_battery_wh=site.battery_wh, years=years, seed=seed,
    )


def typical_site(
    code: str,
    profile: PowerProfile,
    *,
    equipment_w: float,
    on_from: dt.time | None = None,
    on_until: dt.time | None = None,
    years: int = DEFAULT_YEARS,
    seed: int = DEFAULT_SEED,
    climate: MonthlyClimate | None = None,
    chemistry: Chemistry = DEFAULT_CHEMISTRY,
    at: tuple[float, float] = MUARA_TEWEH,
    installed: tuple[int, int] | None = None,
) -> SiteEnergy:
    """An archetype site (at Muara Teweh unless `at` says otherwise), not from the database:
    for planning tables and benchmarks. `installed` is an optional (pv_wp, battery_wh)."""
    climate = climate or DEFAULT_CLIMATE
    lat, lon = cell_of(*at)
    _, yields = weather_years(lat, lon, climate.ghi_kwh_m2_day, years, seed)
    conditions = SiteConditions(
        load=SiteLoad(equipment_w), grid_on=energy.grid_hours(profile, on_from, on_until),
        chemistry=chemistry, yields_wh_per_wp=yields,
    )
    pv_wp, battery_wh = installed or (None, None)
    return SiteEnergy(code, profile, lat, lon, climate, conditions, pv_wp, battery_wh, years, seed)


def _case_key(site: SiteEnergy) -> tuple[object, ...]:
    """Everything a simulation of the site depends on but the design."""
    c = site.conditions
    return (site.latitude, site.longitude, site.climate.ghi_kwh_m2_day, site.years, site.seed,
            c.load, c.grid_on, c.chemistry, c.grid_charger_w, c.grid_charger_efficiency)


_SIZINGS: dict[tuple[object, ...], energy.Sizing] = {}
_OUTCOMES: dict[tuple[object, ...], energy.DesignOutcome] = {}


def _system_key(site: SiteEnergy) -> tuple[object, ...]:
    """What sites simulated in one batch must share (they may differ in weather)."""
    c = site.conditions
    return (c.load, c.grid_on, c.chemistry, c.grid_charger_w, c.grid_charger_efficiency,
            site.climate.worst_month_kwh_m2_day)


def size_site_energies(
    sites: Sequence[SiteEnergy], *, autonomy_days: float, target_availability: float
) -> list[energy.Sizing]:
    """`energy.size_sites` for a fleet: memoised per distinct case, and the cases that share a
    system (load, PLN hours, chemistry) simulated together across their places."""
    groups: dict[tuple[object, ...], dict[tuple[object, ...], SiteEnergy]] = defaultdict(dict)
    keys = []
    for site in sites:
        key = (*_case_key(site), autonomy_days, target_availability)
        keys.append(key)
        if key not in _SIZINGS:
            groups[_system_key(site)][key] = site
    for group in groups.values():
        first = next(iter(group.values()))
        sizings = energy.size_sites(
            [s.conditions for s in group.values()], autonomy_days=autonomy_days,
            target_availability=target_availability, pv=PV,
            worst_month_kwh_m2_day=first.climate.worst_month_kwh_m2_day,
        )
        _SIZINGS.update(zip(group, sizings, strict=True))
    return [_SIZINGS[key] for key in keys]


def size_site_energy(
    site: SiteEnergy, *, autonomy_days: float, target_availability: float
) -> energy.Sizing:
    (sizing,) = size_site_energies(
        [site], autonomy_days=autonomy_days, target_availability=target_availability
    )
    return sizing


def installed_outcomes(sites: Sequence[SiteEnergy]) -> list[energy.DesignOutcome]:
    """Each site's design as built (no PV or battery counts as zero) over its simulated years;
    memoised, and batched like `size_site_energies`."""
    def design(site: SiteEnergy) -> tuple[int, int]:
        return (site.installed_pv_wp or 0, site.installed_battery_wh or 0)

    groups: dict[tuple[object, ...], dict[tuple[object, ...], SiteEnergy]] = defaultdict(dict)
    for site in sites:
        if (*_case_key(site), *design(site)) not in _OUTCOMES:
            groups[_system_key(site)][_case_key(site)] = site
    for group in groups.values():
        designs = sorted({design(s) for s in group.values()})
        results = energy.evaluate_designs_across([s.conditions for s in group.values()], designs)
        for case, outcomes in zip(group, results, strict=True):
            _OUTCOMES.update(((*case, o.pv_wp, o.battery_wh), o) for o in outcomes)
    return [_OUTCOMES[(*_case_key(s), *design(s))] for s in sites]


def installed_outcome(site: SiteEnergy) -> energy.DesignOutcome:
    (outcome,) = installed_outcomes([site])
    return outcome


def hour_of_year(moment: dt.datetime) -> int:
    """Index of the WIB hour containing `moment` in the 365-day reference year (29 Feb folds
    onto 28 Feb)."""
    local = moment.astimezone(ZoneInfo(solar.WIB))
    day = local.timetuple().tm_yday - 1
    if calendar.isleap(local.year) and (local.month, local.day) >= (2, 29):
        day -= 1
    return day * energy.HOURS_PER_DAY + local.hour


def forecast_site_autonomy(
    site: SiteEnergy,
    *,
    at: dt.datetime,
    soc_fraction: float,
    load_w: float | None = None,
    today_clearness: float | None = None,
    scenarios: int = 200,
    horizon_h: int = 48,
) -> energy.AutonomyForecast:
    """Will the battery last the night? From the charge now (telemetry), over weather drawn
    from the site's process (continuing today's observed clearness when given)."""
    if site.installed_battery_wh is None:
        raise ValueError(f"{site.code}: has no battery on record")
    c = site.conditions
    start = hour_of_year(at)
    hours = (np.arange(horizon_h) + start) % energy.HOURS_PER_YEAR
    poa = solar.clear_sky_year(site.latitude, site.longitude).poa_w_m2[hours]
    days = (hours // energy.HOURS_PER_DAY)
    first_day = int(days[0])
    day_index = (days - first_day) % energy.DAYS_PER_YEAR
    n_days = int(day_index.max()) + 1
    mu = mu_by_day(site.latitude, site.longitude, site.climate.ghi_kwh_m2_day)
    mu_days = mu[(first_day + np.arange(n_days)) % energy.DAYS_PER_YEAR]
    daily = energy.clearness_scenarios(
        mu_days=mu_days, scenarios=scenarios, seed=site.seed + start,
        today_clearness=today_clearness, process=PROCESS,
    )
    grid = [c.grid_on[int(h) % energy.HOURS_PER_DAY] for h in hours]
    return energy.forecast_autonomy(
        battery=energy.battery_of(site.installed_battery_wh, c.chemistry),
        soc_fraction=soc_fraction,
        load_w=c.load.bus_w if load_w is None else load_w / c.load.conversion_efficiency,
        pv_wp=site.installed_pv_wp or 0, poa_clear_w_m2=poa, grid_on=grid,
        clearness=daily[:, day_index], charger_dc_w=c.charger_dc_w, pv=PV,
    )


# --- Predicted against observed power downtime -----------------------------------------------


class DowntimeFlag(StrEnum):
    OK = "ok"
    UNDERSIZED = "undersized"  # observed power downtime beyond the bad-year prediction
    CHECK = "check"  # power outages at a site the model says never goes dark


UNDERSIZED_FACTOR = 1.5
UNDERSIZED_MARGIN_H = 2.0
_HOURLY: dict[tuple[object, ...], Floats] = {}


@dataclass(frozen=True)
class PowerDowntime:
    """One site over a period: the outage its installed design predicts for the hours it was
    monitored (mean and bad year over the simulated years) against the DOWN time the SLA's
    attribution put down to power."""

    site: SiteEnergy
    monitored_h: float
    predicted_h_mean: float
    predicted_h_p90: float
    never_dark: bool  # the model loses no hour in any simulated year at this design
    observed_h: float | None  # None: the site was not monitored in the period
    flag: DowntimeFlag

    @property
    def pv_wp(self) -> int:
        return self.site.installed_pv_wp or 0

    @property
    def battery_wh(self) -> int:
        return self.site.installed_battery_wh or 0

    @property
    def design(self) -> str:
        c = self.site.conditions
        return f"{self.pv_wp} Wp / {self.battery_wh} Wh {c.chemistry.value}"

    @property
    def ratio(self) -> float | None:
        """Observed over the mean prediction; None when the model predicts no outage."""
        if self.observed_h is None or self.predicted_h_mean <= 0:
            return None
        return self.observed_h / self.predicted_h_mean


def installed_hourly_outage(site: SiteEnergy) -> Floats:
    """The installed design's outage hour by hour (years x 8760), memoised per case."""
    pv_wp, battery_wh = site.installed_pv_wp or 0, site.installed_battery_wh or 0
    key = (*_case_key(site), pv_wp, battery_wh)
    if key not in _HOURLY:
        hourly = energy.hourly_outage_h(site.conditions, pv_wp=pv_wp, battery_wh=battery_wh)
        hourly.flags.writeable = False
        _HOURLY[key] = hourly
    return _HOURLY[key]


def predicted_outage_h(site: SiteEnergy, start: dt.datetime, end: dt.datetime) -> Floats:
    """The installed design's outage hours inside [start, end) in each simulated year: each
    WIB hour of the period maps onto its hour of the reference year (`hour_of_year`)."""
    hourly = installed_hourly_outage(site)
    total = np.zeros(hourly.shape[0])
    at = start
    while at < end:
        step = min(at.replace(minute=0, second=0, microsecond=0) + dt.timedelta(hours=1), end)
        total += hourly[:, hour_of_year(at)] * ((step - at) / dt.timedelta(hours=1))
        at = step
    return total


def observed_power_h(site: Site, start: dt.datetime, end: dt.datetime, *, now: dt.datetime,
                     settings: SlaSettings) -> float:
    """DOWN hours inside [start, end) whose cause (the SLA attribution, overrides included)
    is power."""
    down = dt.timedelta(0)
    for outage in recent_outages(site, start=start, end=end, now=now, settings=settings):
        if outage.cause is Cause.POWER:
            down += max(min(outage.end, end) - max(outage.start, start), dt.timedelta(0))
    return down / dt.timedelta(hours=1)


def downtime_flag(*, observed_h: float | None, predicted_h_p90: float, never_dark: bool,
                  factor: float = UNDERSIZED_FACTOR,
                  margin_h: float = UNDERSIZED_MARGIN_H) -> DowntimeFlag:
    """`check` for power outages where the model never goes dark (PLN failing, equipment or
    design not on record, a fault); `undersized` when the observed hours pass the bad-year
    prediction by the margin: observed > factor x p90 + margin_h."""
    if not observed_h:
        return DowntimeFlag.OK
    if never_dark:
        return DowntimeFlag.CHECK
    if observed_h > factor * predicted_h_p90 + margin_h:
        return DowntimeFlag.UNDERSIZED
    return DowntimeFlag.OK


def compare_power_downtime(
    period_start: dt.datetime,
    period_end: dt.datetime,
    sites: Sequence[Site] | None = None,
    *,
    now: dt.datetime | None = None,
    years: int = DEFAULT_YEARS,
    seed: int = DEFAULT_SEED,
) -> list[PowerDowntime]:
    """Predicted against observed power downtime per site over [period_start, period_end),
    counting only the hours each site was monitored (from its activation, until `now`)."""
    now = now or timezone.now()
    rows = list(sites) if sites is not None else list(list_energy_sites())
    states = dict(SiteState.objects.filter(site__in=[s.pk for s in rows])
                  .values_list("site_id", "activated_at"))
    settings = get_sla_settings()
    result = []
    for row in rows:
        site = get_site_energy(row, years=years, seed=seed)
        never_dark = not installed_hourly_outage(site).any()
        activated = states.get(row.pk)
        start, end = max(period_start, activated or period_end), min(period_end, now)
        if activated is None or start >= end:
            monitored_h, observed, predicted = 0.0, None, np.zeros(1)
        else:
            monitored_h = (end - start) / dt.timedelta(hours=1)
            observed = observed_power_h(row, start, end, now=now, settings=settings)
            predicted = predicted_outage_h(site, start, end)
        p90 = float(np.percentile(predicted, 90))
        result.append(PowerDowntime(
            site=site, monitored_h=monitored_h, predicted_h_mean=float(predicted.mean()),
            predicted_h_p90=p90, never_dark=never_dark, observed_h=observed,
            flag=downtime_flag(observed_h=observed, predicted_h_p90=p90, never_dark=never_dark),
        ))
    return result

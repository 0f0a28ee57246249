"""The pages' recent outages (linda.sla.outages) agree with the monthly report: same outages,
same cause, same responsibility, once the monitor has stored the intervals."""

from __future__ import annotations

from datetime import timedelta

import pytest

from linda.domain.attribution import Cause
from linda.monitoring.monitor import materialize_all
from linda.sla.outages import downtime_by_cause, recent_outages
from linda.sla.selectors import get_contract_month
from tests.sla.scenario import NOW, October

pytestmark = pytest.mark.django_db


def test_recent_outages_match_the_monthly_report(october: October) -> None:
    materialize_all(NOW)  # what the monitor loop does every few minutes
    figures = get_contract_month(october.contract, 2024, 10, now=NOW)
    period_start = figures.scope.period.start
    period_end = figures.scope.period.end
    for site_figures in figures.sites:
        site = october.sites[site_figures.site.code]
        expected = sorted(((o.start, o.end, o.cause, o.responsibility)
                           for o in site_figures.outages), reverse=True)
        got = [(o.start, o.end, o.cause, o.responsibility)
               for o in recent_outages(site, start=period_start, end=period_end, now=NOW)]
        assert got == expected, site.code
    causes = {o.cause for s in figures.sites for o in s.outages}
    assert {Cause.POWER, Cause.LINK, Cause.UPSTREAM} <= causes  # the scenario has each


def test_downtime_by_cause_sums_the_outages_inside_the_period(october: October) -> None:
    materialize_all(NOW)
    figures = get_contract_month(october.contract, 2024, 10, now=NOW)
    totals = downtime_by_cause(october.sites.values(), start=figures.scope.period.start,
                               end=figures.scope.period.end, now=NOW)
    # By hand (scenario.py): five upstream sites dark 05:30-18:00 on Oct 25 (beats every
    # 30 min: DOWN from the last beat + I to the next beat) = 5 × 12.5 h; `sol` two nights
    # 20:30-01:00 = 2 × 4.5 h of power; link: `mtn` 03:30-11:30 (8 h) and `part`
    # 00:30-10:00 (9.5 h), `mon` 23:30-00:00 on Oct 14 (0.5 h: its next beat was due at
    # 23:30, then the monitor itself went dark at 00:00, and that time is UNKNOWN).
    assert totals[Cause.UPSTREAM] == 5 * timedelta(hours=12, minutes=30)
    assert totals[Cause.POWER] == 2 * timedelta(hours=4, minutes=30)
    assert totals[Cause.LINK] == timedelta(hours=8) + timedelta(hours=9, minutes=30) + timedelta(minutes=30)
    assert totals[Cause.UNKNOWN] == timedelta(0)

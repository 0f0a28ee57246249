from __future__ import annotations

import datetime as dt
from fractions import Fraction

import pytest
from django.test import Client

from linda.accounts.models import Role
from linda.monitoring.models import SiteState, StatusInterval
from linda.registry.models import Site
from linda.web.models import SiteDay
from linda.web.rollups import fill_site_days
from linda.web.selectors import WIB, fleet_summary
from tests.factories import make_site, make_user

pytestmark = pytest.mark.usefixtures("barito_utara")
D1 = dt.date(2024, 10, 1)


def _at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2024, 10, day, hour, minute, tzinfo=WIB)


@pytest.fixture
def site() -> Site:
    site = make_site("62.05.05.2011")
    SiteState.objects.create(site=site, activated_at=_at(1, 6), state="up", state_since=_at(1, 6),
                             materialized_until=_at(2, 12), materialized_anchor=_at(2, 12))
    for start, end, state in [(_at(1, 6), _at(1, 23), "up"), (_at(1, 23), _at(2, 1), "down"),
                              (_at(2, 1), _at(2, 2), "unknown"), (_at(2, 2), _at(2, 12), "up")]:
        StatusInterval.objects.create(site=site, start=start, end=end, state=state)
    return site


def test_closed_days_are_stored_with_exact_seconds(site: Site) -> None:
    days = [D1, D1 + dt.timedelta(days=1), D1 - dt.timedelta(days=1)]
    fill_site_days(days, WIB)
    row = SiteDay.objects.get()
    # 1 Oct WIB: UP 06:00-23:00, DOWN 23:00-24:00; 2 Oct is still open; 30 Sep is before activation
    assert (row.day, row.up_s, row.down_s, row.unknown_s) == (D1, 17 * 3600, 3600, 0)
    fill_site_days(days, WIB)
    assert SiteDay.objects.count() == 1


def test_dashboard_month_adds_closed_days_and_the_open_day(site: Site) -> None:
    user = make_user("noc", Role.OPERATOR)
    summary = fleet_summary(user, now=_at(2, 12), today=dt.date(2024, 10, 2), days=2)
    # UP 17 h + 10 h, DOWN 1 h + 1 h (the open day's 00:00-01:00)
    assert summary.availability_month == Fraction(27, 29)
    assert [(b.day.day, b.up_s, b.down_s, b.unknown_s) for b in summary.trend] == [
        (1, 17 * 3600, 3600, 0), (2, 10 * 3600, 3600, 3600),
    ]


def test_open_day_counts_the_interval_that_began_the_day_before(site: Site) -> None:
    from linda.web.rollups import day_bounds, open_day_seconds

    start, _ = day_bounds(D1, WIB)
    # 1 Oct 06:00-23:00 UP and 23:00-01:00 (2 Oct) DOWN; cut at 1 Oct 12:00 and on 2 Oct
    assert open_day_seconds([site.pk], start, _at(1, 12))[site.pk]["up_s"] == 6 * 3600
    start, _ = day_bounds(D1 + dt.timedelta(days=1), WIB)
    totals = open_day_seconds([site.pk], start, _at(2, 12))[site.pk]
    assert (totals["up_s"], totals["down_s"], totals["unknown_s"]) == (10 * 3600, 3600, 3600)


def test_fill_stores_zero_rows_for_closed_days_without_intervals() -> None:
    quiet = make_site("62.05.05.2011")
    SiteState.objects.create(site=quiet, activated_at=_at(1, 6), state="unknown",
                             state_since=_at(1, 6), materialized_until=_at(2, 12),
                             materialized_anchor=_at(2, 12))
    assert fill_site_days([D1], WIB) == 1
    row = SiteDay.objects.get()
    assert (row.up_s, row.down_s, row.unknown_s, row.excluded_s) == (0, 0, 0, 0)
    assert fill_site_days([D1], WIB) == 0


def test_dashboard_figures_follow_new_intervals_and_new_daily_rows(site: Site) -> None:
    from django.core.cache import cache

    from linda.web.rollups import OPEN_REFRESH_S

    cache.clear()
    user = make_user("noc", Role.OPERATOR)
    today = dt.date(2024, 10, 2)
    first = fleet_summary(user, now=_at(2, 12), today=today, days=2)
    assert first.trend[-1].up_s == 10 * 3600
    # The monitor stores 12:00-13:00 DOWN: seen once OPEN_REFRESH_S have passed at most
    StatusInterval.objects.create(site=site, start=_at(2, 12), end=_at(2, 13), state="down")
    SiteState.objects.filter(site=site).update(materialized_until=_at(2, 13),
                                               materialized_anchor=_at(2, 13))
    later = _at(2, 13) + dt.timedelta(seconds=OPEN_REFRESH_S)
    summary = fleet_summary(user, now=later, today=today, days=2)
    assert summary.trend[-1].down_s == 2 * 3600
    assert summary.availability_month == Fraction(27, 30)
    # A closed day's row removed and stored again (a new SiteDay version) is read again
    SiteDay.objects.all().delete()
    cache.clear()  # the pages check for missing rows once a minute
    summary = fleet_summary(user, now=later, today=today, days=2)
    assert SiteDay.objects.count() == 1
    assert summary.trend[0].up_s == 17 * 3600


def test_dashboard_caps_the_incident_list_but_counts_them_all(site: Site) -> None:
    from linda.web.selectors import MAX_INCIDENTS

    sites = [make_site("62.05.05.2011", code=f"x{i}") for i in range(MAX_INCIDENTS + 2)]
    SiteState.objects.bulk_create(
        SiteState(site=s, activated_at=_at(1, 6), state="down", state_since=_at(2, 11))
        for s in sites)
    summary = fleet_summary(make_user("noc", Role.OPERATOR), now=_at(2, 12),
                            today=dt.date(2024, 10, 2), days=2)
    assert summary.counts["down"] == summary.incident_count == MAX_INCIDENTS + 2
    assert len(summary.incidents) == MAX_INCIDENTS


def test_fill_command_stores_the_closed_days(site: Site) -> None:
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("fill_site_days", "--days", "800", stdout=out)
    assert "stored 1 daily totals" in out.getvalue()
    assert SiteDay.objects.get().day == D1


def test_public_page_has_one_row_per_village_with_its_worst_site(site: Site) -> None:
    from linda.registry.models import Region
    from linda.rollout.models import PriorityVillage, Program
    from linda.web.selectors import public_village_rows

    other = make_site("62.05.05.2011", code="kd-2")
    SiteState.objects.create(site=other, activated_at=_at(1, 6), state="down",
                             state_since=_at(2, 11), materialized_until=_at(2, 12),
                             materialized_anchor=_at(2, 12))
    StatusInterval.objects.create(site=other, start=_at(1, 6), end=_at(2, 12), state="down")
    program = Program.objects.create(name="p", owner_office="o", target_date=D1,
                                     regency=Region.objects.get(code="62.05"))
    PriorityVillage.objects.create(program=program, village=site.village, stage="active",
                                   stage_since=D1)
    rows = public_village_rows(now=_at(2, 12), today=dt.date(2024, 10, 2))
    assert len(rows) == 1
    row = rows[0]
    assert (row.status, dt.datetime.fromisoformat(row.since_iso)) == ("down", _at(2, 11))
    assert len(row.bars) == 90
    # 1 Oct: UP 17 h + DOWN 1 h (first site), DOWN 18 h (second site)
    assert (row.bars[-2].up_s, row.bars[-2].down_s) == (17 * 3600, 19 * 3600)
    assert row.availability_90 == Fraction(27, 27 + 2 + 30)
    html = Client().get("/status/").content.decode()
    assert html.count('class="day ') == 90



def test_public_rows_are_cached_until_a_status_changes(site: Site) -> None:
    from django.core.cache import cache
    from django.db.models import F

    from linda.registry.models import Region
    from linda.rollout.models import PriorityVillage, Program
    from linda.web.selectors import public_village_rows

    cache.clear()
    program = Program.objects.create(name="p", owner_office="o", target_date=D1,
                                     regency=Region.objects.get(code="62.05"))
    PriorityVillage.objects.create(program=program, village=site.village, stage="active",
                                   stage_since=D1)
    assert public_village_rows(now=_at(2, 12), today=dt.date(2024, 10, 2))[0].status == "up"
    SiteState.objects.filter(site=site).update(state="down", state_since=_at(2, 12),
                                               version=F("version") + 1)
    assert public_village_rows(now=_at(2, 12), today=dt.date(2024, 10, 2))[0].status == "down"

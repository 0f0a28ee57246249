"""Outage causes on the pages: the site page's outage list and the dashboard's downtime by
cause, on the SLA tests' October 2024 scenario (tests/sla/scenario.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import time_machine
from django.core.cache import cache
from django.test import Client

from linda.accounts.models import Role
from linda.monitoring.monitor import materialize_all
from tests.factories import make_user
from tests.sla.scenario import build_october

pytestmark = pytest.mark.django_db
AT = datetime(2024, 10, 31, 12, tzinfo=UTC)  # Oct 31 19:00 WIB: the month is all behind


@pytest.fixture
def operator(barito_utara: None, settings: Any) -> Client:
    settings.LINDA_MONITOR_MAX_GAP_S = 3600  # the scenario's marks are 30 min apart
    cache.clear()
    build_october()
    materialize_all(AT)
    client = Client()
    client.force_login(make_user("noc-causes", Role.OPERATOR))
    return client


def test_site_page_lists_outages_with_cause_and_responsibility(operator: Client) -> None:
    with time_machine.travel(AT, tick=False):
        upstream = operator.get("/sites/up1/outages/").content.decode()
        solar = operator.get("/sites/sol/outages/").content.decode()
        page = operator.get("/sites/sol/").content.decode()
    assert 'hx-get="/sites/sol/outages/"' in page  # the card loads after the page
    assert "<td>hulu (insiden massal)</td><td>vendor</td>" in upstream
    assert solar.count("<td>listrik</td>") == 2  # two flat-battery nights
    assert solar.count("<td>pemerintah kabupaten</td>") == 2  # the regency answers for power


def test_dashboard_splits_the_month_s_downtime_by_cause(operator: Client) -> None:
    with time_machine.travel(AT, tick=False):
        card = operator.get("/dashboard/causes/").content.decode()
    # By hand (tests/sla/test_recent_outages.py): upstream 62.5 h, power 9 h, link 18 h of
    # 89.5 h: 70 %, 10 %, 20 %.
    rows = {cause: card.split(f'class="cause-{cause}"')[1].split("</tr>")[0]
            for cause in ("upstream", "power", "link", "unknown")}
    assert "<td>70%</td>" in rows["upstream"]
    assert "<td>10%</td>" in rows["power"]
    assert "<td>20%</td>" in rows["link"]
    assert "<td>0%</td>" in rows["unknown"]

"""Sites list, site page, metrics, map data and the public status page on real monitoring data."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from linda.accounts.models import Role
from linda.monitoring.models import Channel
from linda.monitoring.monitor import tick
from linda.monitoring.payload import Reading
from linda.monitoring.services import activate_monitoring, record_heartbeat
from linda.registry.models import Region, Site, Vendor
from linda.rollout.demo import load_demo
from tests.factories import make_user

pytestmark = pytest.mark.usefixtures("barito_utara")


@pytest.fixture
def fleet() -> dict[str, Site]:
    """The demo fleet; two sites watched for the last 8 minutes: one alive, one gone quiet."""
    load_demo()
    start = timezone.now() - dt.timedelta(minutes=8)
    now = start + dt.timedelta(minutes=7, seconds=59)
    alive, quiet = Site.objects.filter(village__priorities__stage="active").order_by("code")[:2]
    for site in (alive, quiet):
        activate_monitoring(site=site, at=start)
    t = start
    seq = 0
    while t <= now:
        for k in range(0, 60, 5):  # the monitor marks its coverage every 5 s
            tick(monitor_id="test", now=t + dt.timedelta(seconds=k))
        seq += 1
        record_heartbeat(site_id=alive.pk, channel=Channel.HB, now=t, reading=Reading(
            seq=seq, uptime_s=1000 + seq * 60, rtt_ms=650.0 + seq, loss_pct=0.0,
            battery_voltage_v=13.1, battery_soc_pct=90.0, hotspot_users=seq % 7,
            wan={"ether1": {"rx_bytes": seq * 10_000, "tx_bytes": seq * 2_000}}))
        if t < start + dt.timedelta(minutes=2):
            record_heartbeat(site_id=quiet.pk, channel=Channel.HB, now=t,
                             reading=Reading(seq=seq))
        t += dt.timedelta(seconds=60)
    return {"alive": alive, "quiet": quiet}


def _client(role: Role, **scope: object) -> Client:
    client = Client()
    client.force_login(make_user(f"u-{role}", role, **scope))
    return client


def test_sites_list_shows_live_status_and_filters(fleet: dict[str, Site]) -> None:
    client = _client(Role.OPERATOR)
    page = client.get("/sites/?status=down").content.decode()
    assert fleet["quiet"].code in page and fleet["alive"].code not in page
    page = client.get("/sites/?status=up").content.decode()
    assert fleet["alive"].code in page and fleet["quiet"].code not in page
    page = client.get("/sites/", {"q": fleet["alive"].village.name}).content.decode()
    assert fleet["alive"].code in page
    fragment = client.get("/sites/", HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in fragment and 'data-status="up"' in fragment


def test_site_page_has_timeline_outage_and_metrics(fleet: dict[str, Site]) -> None:
    client = _client(Role.OPERATOR)
    page = client.get(f"/sites/{fleet['quiet'].code}/").content.decode()
    assert 'class="seg down' in page
    assert 'hx-get="/sites/' in page and "masih berlangsung" not in page  # loaded after
    card = client.get(f"/sites/{fleet['quiet'].code}/outages/").content.decode()
    assert "<html" not in card and "masih berlangsung" in card  # the outage is still open
    metrics = client.get(f"/sites/{fleet['alive'].code}/metrics.json").json()
    assert len(metrics["t"]) == 8
    assert metrics["rtt_ms"][0] == 651.0
    assert metrics["rx_bps"][1] == round(10_000 * 8 / 60)  # bytes per minute → bits per second


def test_site_page_is_scoped(fleet: dict[str, Site]) -> None:
    village = fleet["alive"].village
    head = _client(Role.VILLAGE_HEAD, village=village)
    assert head.get(f"/sites/{fleet['alive'].code}/").status_code == 200
    assert head.get(f"/sites/{fleet['quiet'].code}/").status_code == 404
    assert head.get(f"/sites/{fleet['quiet'].code}/outages/").status_code == 404
    other = _client(Role.VENDOR, vendor=Vendor.objects.create(name="PT Lain"))
    assert other.get(f"/sites/{fleet['alive'].code}/").status_code == 404
    assert other.get("/map/data.json").json() == {"sites": []}


def test_onboarding_shows_a_key_once_for_operators_only(fleet: dict[str, Site]) -> None:
    code = fleet["alive"].code
    viewer = _client(Role.VIEWER)
    assert viewer.post(f"/sites/{code}/onboard/").status_code == 403
    page = _client(Role.OPERATOR).post(f"/sites/{code}/onboard/").content.decode()
    assert "/hb/" in page and "curl -fsS" in page
    assert "/system scheduler" in page and "/api/v1/heartbeats" in page


def test_map_data_lists_every_visible_site_with_stage_and_status(fleet: dict[str, Site]) -> None:
    data = _client(Role.ADMIN).get("/map/data.json").json()["sites"]
    assert len(data) == 68
    by_code = {row["code"]: row for row in data}
    assert by_code[fleet["quiet"].code]["status"] == "down"
    assert by_code[fleet["alive"].code]["status"] == "up"
    assert all(row["lat"] is not None for row in data)


def test_public_status_page_needs_no_login_and_leaks_nothing(fleet: dict[str, Site]) -> None:
    response = Client().get("/status/")
    assert response.status_code == 200
    assert "public" in response["Cache-Control"]
    page = response.content.decode()
    assert fleet["alive"].village.name in page and fleet["quiet"].village.name in page
    assert fleet["alive"].code not in page  # no site codes, keys or coordinates
    assert "/hb/" not in page and str(fleet["alive"].latitude) not in page
    assert "Gangguan yang sedang berlangsung" in page
    incidents = page.split('id="incidents"')[1].split("</ul>")[0]
    assert fleet["quiet"].village.name in incidents
    assert fleet["alive"].village.name not in incidents
    assert Region.objects.count() == 114


def test_dashboard_counts_status_now_and_lists_the_open_incident(fleet: dict[str, Site]) -> None:
    from linda.monitoring.monitor import materialize_all

    materialize_all(timezone.now())  # the monitor stores closed time every few minutes
    response = _client(Role.OPERATOR).get("/")
    fleet_summary = response.context["fleet"]
    assert fleet_summary.counts == {"up": 1, "down": 1, "unknown": 0, "excluded": 0}
    assert [r.code for r in fleet_summary.incidents] == [fleet["quiet"].code]
    assert fleet_summary.worst[0][0].code == fleet["quiet"].code
    # quiet: UP from activation to its last beat + I (start+1m+1m), DOWN after → under 50%
    assert fleet_summary.worst[0][1] < fleet_summary.worst[1][1]
    assert "25 / 68" in response.content.decode()


PAGES = ["/", "/map/data.json", "/sites/", "/status/", "/rollout/"]


def _query_counts(client: Client, paths: list[str], *, cold: bool = True) -> dict[str, int]:
    """Queries per page; `cold` empties the cache first (the fleet figures cached between
    requests would otherwise make the count depend on what changed since the last visit)."""
    from django.core.cache import cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts = {}
    for path in paths:
        if cold:
            cache.clear()
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(path).status_code == 200
        counts[path] = len(ctx.captured_queries)
    return counts


def test_pages_run_a_fixed_number_of_queries_whatever_the_fleet_size(
    fleet: dict[str, Site],
) -> None:
    from linda.monitoring.monitor import materialize_all

    client = _client(Role.OPERATOR)
    site_page = f"/sites/{fleet['alive'].code}/"
    materialize_all(timezone.now())
    _query_counts(client, PAGES)  # the first visit stores the daily totals of closed days
    before = _query_counts(client, [*PAGES, site_page])
    now = timezone.now()
    for site in Site.objects.exclude(pk__in=[s.pk for s in fleet.values()])[:5]:
        activate_monitoring(site=site, at=now - dt.timedelta(minutes=3))
        record_heartbeat(site_id=site.pk, channel=Channel.HB, now=now, reading=Reading(seq=1))
    tick(monitor_id="test", now=now)
    materialize_all(now)
    after = _query_counts(client, [*PAGES, site_page])
    assert after == before
    assert max(before.values()) < 60, before
    warm = _query_counts(client, [*PAGES, site_page], cold=False)
    assert all(warm[path] <= before[path] for path in warm), (warm, before)


def test_site_page_says_whether_the_battery_lasts_the_night(fleet: dict[str, Site]) -> None:
    solar = Site.objects.filter(battery_wh__isnull=False).order_by("code").first()
    assert solar is not None
    now = timezone.now()
    activate_monitoring(site=solar, at=now - dt.timedelta(minutes=2))
    record_heartbeat(site_id=solar.pk, channel=Channel.HB, now=now,
                     reading=Reading(seq=1, battery_soc_pct=3.0, battery_voltage_v=11.6))
    client = _client(Role.OPERATOR)
    page = client.get(f"/sites/{solar.code}/").content.decode()
    assert 'id="night-outlook"' in page and "SoC 3%" in page
    page = client.get(f"/sites/{fleet['alive'].code}/").content.decode()
    assert 'id="night-outlook"' not in page  # PLN 24 h site without a battery


def test_seven_day_metrics_are_hourly_means_with_traffic_rates(fleet: dict[str, Site]) -> None:
    client = _client(Role.OPERATOR)
    beats = client.get(f"/sites/{fleet['alive'].code}/metrics.json").json()
    week = client.get(f"/sites/{fleet['alive'].code}/metrics.json?range=7d").json()
    # Eight beats a minute apart fall in one or two clock hours
    assert 1 <= len(week["t"]) <= 2 and all(t % 3600 == 0 for t in week["t"])
    if len(week["t"]) == 1:
        assert week["rtt_ms"] == [sum(beats["rtt_ms"]) / 8]
        assert week["rx_bps"] == [None]  # no next hour to take a rate to
    else:
        assert week["rx_bps"][0] == round(10_000 * 8 / 60)  # bytes per minute, in bits
    assert max(week["hotspot_users"]) == max(beats["hotspot_users"])

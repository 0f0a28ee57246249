"""Noise control: flapping collapsed, maintenance silent, the monitor's own outage and a mass
quiet told to the NOC only."""

from __future__ import annotations

import pytest
import time_machine

from linda.alerts.models import AlertEvent, Incident
from linda.alerts.services import record_status_change
from linda.monitoring.services import schedule_maintenance
from linda.registry.models import Site
from tests.alerts.conftest import T0, Fleet, M

pytestmark = pytest.mark.django_db
SATELIT, RADIO, FIBER = "PT Satelit Nusantara", "PT Radio Barito", "PT Serat Kalteng"


def _site_channels(fleet: Fleet, site: Site) -> None:
    fleet.rule(fleet.channel("noc"), "operator")
    vendor = site.contracts.get().vendor
    fleet.rule(fleet.channel("vendor"), "vendor", vendor=vendor)
    fleet.rule(fleet.channel("kades"), "village_head", village=site.village)


def test_flapping_site_gets_one_flapping_message_then_silence_until_stable(fleet: Fleet) -> None:
    site, *_ = fleet.add_sites(3, vendor=SATELIT)
    _site_channels(fleet, site)
    fleet.run(T0 + 2 * M)
    # A router that beats once a minute but is expected every 10 s (+20 s grace): it goes
    # DOWN and comes back UP every minute, for half an hour.
    Site.objects.filter(pk=site.pk).update(expected_interval_s=10, grace_s=20)
    fleet.run(T0 + 32 * M)

    assert fleet.flips >= 25
    titles = fleet.receiver.titles("kades")
    flapping = "TIDAK STABIL: Desa Teweh Tengah 1"
    assert titles.count(flapping) == 1
    assert titles[-1] == flapping  # nothing after it while it keeps flapping
    assert len(titles) <= 5  # at most two down/up pairs before the pattern was recognised
    assert fleet.receiver.titles("noc") == titles == fleet.receiver.titles("vendor")
    assert "naik-turun" in fleet.receiver.at("kades")[-1].message

    Site.objects.filter(pk=site.pk).update(expected_interval_s=60, grace_s=180)
    fleet.run(T0 + 50 * M)
    titles = fleet.receiver.titles("kades")
    assert titles[-2:] == [flapping, "STABIL: Desa Teweh Tengah 1"]
    assert "status sekarang: AKTIF" in fleet.receiver.at("kades")[-1].message
    assert not Incident.objects.filter(closed_at__isnull=True).exists()


def test_maintenance_window_is_silent_and_alerts_resume_after_it(fleet: Fleet) -> None:
    sites = fleet.add_sites(4, vendor=SATELIT)
    other = fleet.add_sites(1, vendor=RADIO, kecamatan=fleet.montallat)
    _site_channels(fleet, sites[0])
    fleet.run(T0 + 2 * M)
    schedule_maintenance(kecamatan=fleet.teweh, start=T0 + 3 * M, end=T0 + 30 * M,
                         reason="PLN padam terjadwal", author=None)
    fleet.run(T0 + 4 * M)
    fleet.silent.update(s.pk for s in sites)
    fleet.run(T0 + 25 * M)
    fleet.silent.difference_update(s.pk for s in sites[1:])  # all but the first come back
    fleet.run(T0 + 29 * M)
    assert fleet.receiver.received == []
    assert set(AlertEvent.objects.values_list("new_state", flat=True)) == {"excluded"}

    # A DOWN that slipped in before the window was applied is silenced too.
    with time_machine.travel(T0 + 10 * M, tick=False):
        record_status_change(site_id=sites[1].pk, old_state="up", new_state="down",
                             at=T0 + 5 * M)
    fleet.alerts(T0 + 29 * M)
    assert fleet.receiver.received == []
    assert AlertEvent.objects.get(new_state="down").outcome == "maintenance"

    # After the window a site still silent is an ordinary outage again.
    fleet.run(T0 + 40 * M)
    assert fleet.receiver.titles("kades") == ["MATI: Desa Teweh Tengah 1"]
    assert other[0].pk not in fleet.silent


def test_monitor_outage_tells_the_noc_only(fleet: Fleet) -> None:
    sites = fleet.add_sites(6, vendor=SATELIT)
    _site_channels(fleet, sites[0])
    fleet.run(T0 + 3 * M)
    # The server's link drops: no heartbeats arrive and the monitor writes no marks for 20 min;
    # the alert worker keeps running.
    fleet.dark = True
    fleet.silent.update(s.pk for s in sites)
    fleet.run(T0 + 23 * M)
    fleet.dark = False
    fleet.silent.clear()
    fleet.run(T0 + 35 * M)

    assert fleet.receiver.paths() == {"noc"}
    assert fleet.receiver.titles("noc") == ["PEMANTAUAN TERPUTUS", "PEMANTAUAN PULIH"]
    assert "sejak 15 Okt 2024 10:03 WIB" in fleet.receiver.at("noc")[0].message
    assert "dari 15 Okt 2024 10:03 WIB sampai 15 Okt 2024 10:23 WIB (20 menit)" in \
        fleet.receiver.at("noc")[1].message


def test_gap_found_after_the_fact_is_one_message(fleet: Fleet) -> None:
    """The whole server was down (worker too): one NOC message saying what happened."""
    sites = fleet.add_sites(3, vendor=SATELIT)
    _site_channels(fleet, sites[0])
    fleet.run(T0 + 3 * M)
    fleet.dark = True
    fleet.silent.update(s.pk for s in sites)
    fleet.run(T0 + 33 * M, alerts_every=None)
    fleet.dark = False
    fleet.silent.clear()
    fleet.run(T0 + 40 * M)
    assert fleet.receiver.paths() == {"noc"}
    assert fleet.receiver.titles("noc") == ["PEMANTAUAN PULIH"]


def test_too_many_sites_quiet_at_once_is_suspected_upstream_and_told_to_the_noc_only(
    fleet: Fleet,
) -> None:
    a = fleet.add_sites(4, vendor=SATELIT)
    b = fleet.add_sites(3, vendor=RADIO, kecamatan=fleet.montallat)
    c = fleet.add_sites(3, vendor=FIBER)
    _site_channels(fleet, a[0])
    fleet.rule(fleet.channel("vendor-b"), "vendor", vendor=fleet.vendors[RADIO])
    fleet.run(T0 + 2 * M)
    quiet = a + b + c[:1]  # 8 of 10 sites, three vendors, in the same minute
    fleet.silent.update(s.pk for s in quiet)
    fleet.run(T0 + 12 * M)
    assert fleet.receiver.paths() == {"noc"}
    assert fleet.receiver.titles("noc") == ["DICURIGAI GANGGUAN PEMANTAU/HULU: 8/10"]
    assert "8 dari 10 situs (80%)" in fleet.receiver.at("noc")[0].message

    fleet.silent.clear()
    fleet.run(T0 + 16 * M)
    assert fleet.receiver.paths() == {"noc"}
    assert fleet.receiver.titles("noc")[-1] == "GANGGUAN MASSAL SELESAI"

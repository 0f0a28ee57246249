"""Routing per role, through real Apprise deliveries to a loopback receiver."""

from __future__ import annotations

import pytest

from linda.alerts.models import AlertEvent, Incident, Notification
from tests.alerts.conftest import T0, Fleet, M

pytestmark = pytest.mark.django_db


def test_one_site_down_reaches_noc_its_vendor_village_head_and_kecamatan_only(fleet: Fleet) -> None:
    a_sites = fleet.add_sites(3, vendor="PT Satelit Nusantara")
    b_sites = fleet.add_sites(2, vendor="PT Radio Barito", kecamatan=fleet.montallat)
    vendor_a, vendor_b = fleet.vendors["PT Satelit Nusantara"], fleet.vendors["PT Radio Barito"]
    fleet.rule(fleet.channel("noc"), "operator")
    fleet.rule(fleet.channel("vendor-a"), "vendor", vendor=vendor_a)
    fleet.rule(fleet.channel("vendor-b"), "vendor", vendor=vendor_b)
    fleet.rule(fleet.channel("kades-1"), "village_head", village=a_sites[0].village)
    fleet.rule(fleet.channel("kades-4"), "village_head", village=b_sites[0].village)
    fleet.rule(fleet.channel("kec-teweh"), "viewer", kecamatan=fleet.teweh)
    fleet.rule(fleet.channel("kantor"), "viewer", min_severity=30)  # critical only

    fleet.run(T0 + 2 * M)
    fleet.silent.add(a_sites[0].pk)
    fleet.run(T0 + 12 * M)

    told = {"noc", "vendor-a", "kades-1", "kec-teweh"}
    assert fleet.receiver.paths() == told
    for name in told:
        assert fleet.receiver.titles(name) == ["MATI: Desa Teweh Tengah 1"]
    body = fleet.receiver.at("noc")[0].message
    assert "Situs 620505-2001 (Desa Teweh Tengah 1, Kec. Teweh Tengah) tidak terhubung sejak " \
           "15 Okt 2024 10:" in body
    assert "WIB" in body and "Vendor: PT Satelit Nusantara" in body
    assert "/sites/620505-2001/" in body and "/alerts/ack/" in body

    fleet.silent.clear()
    fleet.run(T0 + 16 * M)
    for name in told:
        titles = fleet.receiver.titles(name)
        assert titles == ["MATI: Desa Teweh Tengah 1", "PULIH: Desa Teweh Tengah 1"], name
    recovery = fleet.receiver.at("kades-1")[1].message
    assert "terhubung kembali 15 Okt 2024 10:" in recovery and "setelah" in recovery
    assert fleet.receiver.paths() == told
    incident = Incident.objects.get()
    assert incident.closed_at is not None
    assert Notification.objects.filter(status="sent").count() == 8
    assert not AlertEvent.objects.filter(processed_at__isnull=True).exists()

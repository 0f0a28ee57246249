"""Many sites of one vendor going down together are one upstream incident: one message per
channel listing them, not one per site."""

from __future__ import annotations

import pytest

from linda.alerts.models import AlertEvent, Incident
from tests.alerts.conftest import T0, Fleet, M, S

pytestmark = pytest.mark.django_db
SATELIT, RADIO = "PT Satelit Nusantara", "PT Radio Barito"


def test_thirty_sites_of_one_vendor_down_together_is_one_message(fleet: Fleet) -> None:
    a_teweh = fleet.add_sites(20, vendor=SATELIT)
    a_montallat = fleet.add_sites(20, vendor=SATELIT, kecamatan=fleet.montallat)
    fleet.add_sites(30, vendor=RADIO)  # 70 monitored: 30 quiet is 43 %, below the 50 % suspicion
    fleet.rule(fleet.channel("noc"), "operator")
    fleet.rule(fleet.channel("vendor-a"), "vendor", vendor=fleet.vendors[SATELIT])
    fleet.rule(fleet.channel("vendor-b"), "vendor", vendor=fleet.vendors[RADIO])
    fleet.rule(fleet.channel("kades"), "village_head", village=a_montallat[0].village)
    fleet.run(T0 + 2 * M)

    down = a_teweh[:10] + a_montallat[:20]
    fleet.silent.update(s.pk for s in down)
    fleet.run(T0 + 12 * M)

    assert fleet.flips >= 30
    assert fleet.receiver.paths() == {"noc", "vendor-a", "kades"}
    for name in ("noc", "vendor-a", "kades"):
        assert fleet.receiver.titles(name) == ["GANGGUAN HULU: 30 situs PT Satelit Nusantara"]
    body = fleet.receiver.at("noc")[0].message
    assert body.startswith("30 situs vendor PT Satelit Nusantara mati hampir bersamaan sejak "
                           "15 Okt 2024 10:0")
    assert sum(1 for line in body.splitlines() if line.startswith("- ")) == 30
    assert all(site.code in body for site in down)
    incident = Incident.objects.get()
    assert (incident.kind, incident.vendor, incident.members.count()) == (
        "upstream", fleet.vendors[SATELIT], 30)
    assert set(AlertEvent.objects.filter(new_state="down").values_list("outcome", flat=True)) \
        == {"opened", "grouped"}

    fleet.silent.clear()
    fleet.run(T0 + 15 * M)
    for name in ("noc", "vendor-a", "kades"):
        assert fleet.receiver.titles(name) == [
            "GANGGUAN HULU: 30 situs PT Satelit Nusantara",
            "PULIH: GANGGUAN HULU PT Satelit Nusantara"]
    assert "Semua 30 situs vendor PT Satelit Nusantara terhubung kembali" in \
        fleet.receiver.at("vendor-a")[1].message


def test_an_incident_that_grows_is_updated_not_repeated(fleet: Fleet) -> None:
    sites = fleet.add_sites(12, vendor=SATELIT)
    fleet.add_sites(20, vendor=RADIO)
    fleet.rule(fleet.channel("noc"), "operator")
    fleet.run(T0 + 2 * M)
    fleet.silent.update(s.pk for s in sites[:6])
    fleet.run(T0 + 4 * M + 30 * S)
    # Three more go quiet within the window of the last: they join after the first message.
    fleet.silent.update(s.pk for s in sites[6:9])
    fleet.run(T0 + 8 * M)
    assert fleet.receiver.titles("noc") == ["GANGGUAN HULU: 6 situs PT Satelit Nusantara"]
    fleet.run(T0 + 17 * M)
    titles = fleet.receiver.titles("noc")
    assert titles[1:] == ["BERTAMBAH: GANGGUAN HULU: 9 situs PT Satelit Nusantara"], titles
    assert Incident.objects.get().members.count() == 9

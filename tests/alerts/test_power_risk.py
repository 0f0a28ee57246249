""""Will go dark tonight": a battery site whose pessimistic forecast (10th percentile hours to
the low-voltage disconnect, from its latest state of charge) ends before sunrise is told once
per evening to whoever its routing reaches; a full battery is not; the forecast runs at most
every LINDA_ALERT_POWER_RISK_EVERY_S. Real forecasts (linda.energy), real Apprise deliveries."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from linda.alerts.models import Notification, NotificationKind
from linda.monitoring.models import Channel as HbChannel
from linda.monitoring.payload import Reading
from linda.monitoring.services import record_heartbeat
from linda.registry.models import Equipment, Site
from tests.alerts.conftest import Fleet, Receiver

pytestmark = pytest.mark.django_db

WIB = ZoneInfo("Asia/Jakarta")
TITLE = "AKAN PADAM MALAM INI: Desa Teweh Tengah {}"


def wib(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2024, 10, day, hour, minute, tzinfo=WIB)


def solar(site: Site, *, pv_wp: int, battery_wh: int) -> None:
    """An off-grid site with a VSAT modem, a router and an access point (about 62 W on the
    battery bus, day and night)."""
    Site.objects.filter(pk=site.pk).update(power_profile="off_grid", solar_pv_wp=pv_wp,
                                           battery_wh=battery_wh, battery_chemistry="lfp")
    for kind in ("vsat_modem", "router", "access_point"):
        Equipment.objects.create(site=site, type=kind, model="x")


def soc(site: Site, pct: float, at: dt.datetime) -> None:
    record_heartbeat(site_id=site.pk, reading=Reading(battery_soc_pct=pct),
                     channel=HbChannel.API, now=at)


@pytest.fixture
def evening(receiver: Receiver) -> Fleet:
    fleet = Fleet(receiver, start=wib(15, 16))
    small, full, later, _no_battery = fleet.add_sites(4, vendor="PT Satelit Nusantara")
    solar(small, pv_wp=200, battery_wh=1200)  # undersized: 35 % lasts about 4.7 h
    solar(full, pv_wp=600, battery_wh=5000)  # full: about 70 h
    solar(later, pv_wp=600, battery_wh=5000)
    for site, pct in ((small, 35), (full, 100), (later, 100)):
        soc(site, pct, wib(15, 16, 20))
    return fleet


def test_undersized_site_with_low_charge_is_told_once_per_evening(evening: Fleet) -> None:
    receiver = evening.receiver
    small, full, later, _ = evening.sites
    vendor = evening.vendors["PT Satelit Nusantara"]
    evening.rule(evening.channel("noc", language="en"), "operator")
    kades_1 = evening.channel("kades-1")
    evening.rule(kades_1, "village_head", village=small.village)
    evening.rule(evening.channel("kades-2"), "village_head", village=full.village)
    evening.rule(evening.channel("vendor-link"), "vendor", vendor=vendor,
                 causes=["link", "upstream"])  # a vendor hears of power only if it asks
    evening.rule(evening.channel("vendor-power"), "vendor", vendor=vendor,
                 kinds=["power_risk"])

    evening.alerts(wib(15, 16, 30))
    assert receiver.received == []  # not an evening yet

    soc(small, 35, wib(15, 17, 55))
    evening.alerts(wib(15, 18))
    assert receiver.paths() == {"noc", "kades-1", "vendor-power"}
    (kades,) = receiver.at("kades-1")
    assert kades.title == TITLE.format(1)
    lines = kades.message.split("\n")
    assert lines[0].startswith("Baterai situs 620505-2001 (Desa Teweh Tengah 1, Kec. Teweh "
                               "Tengah) tinggal 35% (dilaporkan 15 Okt 2024 17:55 WIB). "
                               "Perkiraan pesimistis")
    # By hand: (1200 Wh x 35 % - the 10 % floor) x 0.97 discharge efficiency / (59 W / 0.95)
    # = 4.69 h of night without sun from 18:00: dark at 22:41, 7 h 18 min before 06:00.
    assert "listrik habis sekitar 15 Okt 2024 22:41 WIB, 7 jam 18 menit sebelum" in lines[0]
    assert "sebelum matahari terbit (16 Okt 2024 06:00 WIB)" in lines[0]
    assert "Baterai 1200 Wh, panel surya 200 Wp." in lines
    assert receiver.titles("noc") == ["WILL GO DARK TONIGHT: Desa Teweh Tengah 1"]
    assert "before sunrise (16 Oct 2024 06:00 WIB)" in receiver.at("noc")[0].message

    # The third site's charge collapses five minutes later: it waits for the next forecast.
    soc(later, 12, wib(15, 18, 5))
    evening.alerts(wib(15, 18, 5))
    assert len(receiver.received) == 3
    soc(small, 30, wib(15, 18, 14))
    soc(later, 12, wib(15, 18, 14))
    evening.alerts(wib(15, 18, 15))
    assert receiver.titles("kades-1") == [TITLE.format(1)]  # not twice
    assert receiver.titles("noc") == ["WILL GO DARK TONIGHT: Desa Teweh Tengah 1",
                                      "WILL GO DARK TONIGHT: Desa Teweh Tengah 3"]
    assert receiver.titles("kades-2") == []  # the full battery lasts the night

    # After midnight it is still the same night: nothing again; the next evening may tell.
    soc(small, 20, wib(16, 1, 55))
    evening.alerts(wib(16, 2), worker="w2")
    assert receiver.titles("kades-1") == [TITLE.format(1)]
    soc(small, 30, wib(16, 18, 55))
    evening.alerts(wib(16, 19), worker="w2")
    assert receiver.titles("kades-1") == [TITLE.format(1), TITLE.format(1)]
    keys = sorted(Notification.objects.filter(kind=NotificationKind.POWER_RISK,
                                              channel=kades_1).values_list("dedupe_key",
                                                                           flat=True))
    assert keys == [f"power_risk:2024-10-15:{small.pk}:{kades_1.pk}",
                    f"power_risk:2024-10-16:{small.pk}:{kades_1.pk}"]


def test_full_battery_and_stale_charge_are_not_told(evening: Fleet) -> None:
    _, full, _, _ = evening.sites
    evening.rule(evening.channel("noc"), "operator")
    # The undersized site's last state of charge is from 16:20: too old at 18:30.
    evening.alerts(wib(15, 18, 30))
    soc(full, 100, wib(15, 18, 40))
    evening.alerts(wib(15, 18, 45))
    assert evening.receiver.received == []
    assert not Notification.objects.filter(kind=NotificationKind.POWER_RISK).exists()

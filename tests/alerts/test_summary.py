"""The head of office's daily summary: once per WIB day from the summary hour, only to rules
that name the kind `summary`, in each channel's language, with yesterday's figures of a
hand-built fleet (stored status intervals as the monitor writes them), delivered through
Apprise to the loopback receiver."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from linda.alerts import planner
from linda.alerts.models import Notification, NotificationKind
from linda.monitoring.models import SiteState, StatusInterval
from linda.registry.models import Region, RegionLevel, Site
from linda.rollout.models import PriorityVillage, Program
from linda.sla.models import OutageOverride
from tests.alerts.conftest import Fleet, Receiver

pytestmark = pytest.mark.django_db

WIB = ZoneInfo("Asia/Jakarta")


def wib(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2024, 10, day, hour, minute, tzinfo=WIB)


ACTIVATED = wib(13, 0)
MATERIALIZED = wib(15, 7)  # the monitor has stored every interval up to here


def store_history(site: Site, spans: list[tuple[dt.datetime, dt.datetime, str]]) -> None:
    """The site's stored intervals from its activation: `spans`, UP in between."""
    rows, cursor = [], ACTIVATED
    for start, end, state in sorted(spans):
        if start > cursor:
            rows.append(StatusInterval(site=site, start=cursor, end=start, state="up"))
        rows.append(StatusInterval(site=site, start=start, end=end, state=state))
        cursor = end
    if cursor < MATERIALIZED:
        rows.append(StatusInterval(site=site, start=cursor, end=MATERIALIZED, state="up"))
    StatusInterval.objects.bulk_create(rows)
    last = spans[-1] if spans and spans[-1][1] == MATERIALIZED else None
    SiteState.objects.filter(site=site).update(
        materialized_until=MATERIALIZED, materialized_anchor=MATERIALIZED,
        state=last[2] if last else "up", state_since=last[0] if last else ACTIVATED)


@pytest.fixture
def office(receiver: Receiver) -> Fleet:
    """Six sites of PT Satelit Nusantara in Teweh Tengah, one of PT Radio Barito in Montallat.
    Monday 14 Oct 2024 (WIB): an upstream outage took the first five down 10:00-12:00; the
    sixth was down 20:00-23:00 (an operator attributed it to power) and UNKNOWN 13:00-14:00;
    the Montallat site was down 05:00-05:30 and has been down again since 06:30 on Tuesday."""
    fleet = Fleet(receiver, start=ACTIVATED)
    a = fleet.add_sites(6, vendor="PT Satelit Nusantara")
    (b,) = fleet.add_sites(1, vendor="PT Radio Barito", kecamatan=fleet.montallat)
    for site in a[:5]:
        store_history(site, [(wib(14, 10), wib(14, 12), "down")])
    store_history(a[5], [(wib(14, 13), wib(14, 14), "unknown"),
                         (wib(14, 20), wib(14, 23), "down")])
    OutageOverride.objects.create(site=a[5], outage_start=wib(14, 20), cause="power",
                                  reason="PLN padam", author_username="operator",
                                  created_at=wib(15, 6))
    store_history(b, [(wib(14, 5), wib(14, 5, 30), "down"), (wib(15, 6, 30), MATERIALIZED,
                                                             "down")])
    regency = Region.objects.get(code="62.05")
    program = Program.objects.create(name="Desa Terkoneksi", owner_office="Diskominfo",
                                     regency=regency, target_date=dt.date(2025, 12, 31))
    for site in fleet.sites:
        PriorityVillage.objects.create(program=program, village=site.village, stage="active",
                                       stage_since=dt.date(2024, 9, 1))
    for n, stage in enumerate(["planned", "planned", "surveyed", "decommissioned"]):
        village = Region.objects.create(code=f"62.05.05.{2101 + n}", level=RegionLevel.DESA,
                                        name=f"Desa Baru {n}", parent=fleet.teweh)
        PriorityVillage.objects.create(program=program, village=village, stage=stage,
                                       stage_since=dt.date(2024, 9, 1))
    return fleet


def test_daily_summary_arrives_once_at_the_hour_with_yesterdays_figures(office: Fleet) -> None:
    receiver = office.receiver
    office.rule(office.channel("kantor"), "viewer", kinds=["summary"])
    office.rule(office.channel("office-en", language="en"), "admin", kinds=["summary"])
    office.rule(office.channel("vendor-b"), "vendor", vendor=office.vendors["PT Radio Barito"],
                kinds=["summary"])
    office.rule(office.channel("noc"), "operator")  # everything, but not the summary

    office.alerts(wib(15, 6, 50))  # the down site is swept in, held, then opened
    office.alerts(wib(15, 6, 55))
    office.alerts(wib(15, 6, 59))
    assert receiver.paths() == {"noc"}  # not before the hour
    assert receiver.titles("noc") == ["MATI: Desa Montallat 1"]

    office.alerts(wib(15, 7))
    assert receiver.paths() == {"noc", "kantor", "office-en", "vendor-b"}
    (kantor,) = receiver.at("kantor")
    assert kantor.title == "RINGKASAN HARIAN: Senin, 14 Okt 2024"
    assert kantor.message.split("\n") == [
        "Saat ini (15 Okt 2024 07:00 WIB): 6 aktif, 1 mati, 0 tidak diketahui, "
        "0 pemeliharaan, dari 7 situs dipantau.",
        # UP 552 600 s of UP + DOWN 601 200 s (the hour UNKNOWN counts for neither)
        "Ketersediaan kemarin: 91,91% (7 situs; total waktu mati 13 jam 30 menit).",
        "Gangguan kemarin: 7 (gangguan hulu vendor 5, listrik 1, jaringan/tautan 0, "
        "belum diketahui 1).",
        "Per vendor: PT Radio Barito 97,91%; PT Satelit Nusantara 90,90%.",
        "Situs terburuk kemarin:",
        "- 620505-2006 (Desa Teweh Tengah 6, Kec. Teweh Tengah): 86,95%, mati 3 jam, "
        "1 gangguan",
        *(f"- 620505-200{n} (Desa Teweh Tengah {n}, Kec. Teweh Tengah): 91,66%, mati 2 jam, "
          "1 gangguan" for n in range(1, 5)),
        "Insiden terbuka: 1",
        "- MATI: Desa Montallat 1 sejak 15 Okt 2024 06:30 WIB",
        "Pembangunan: 7 dari 10 desa prioritas terhubung (70,00%).",
    ]
    (english,) = receiver.at("office-en")
    assert english.title == "DAILY SUMMARY: Monday, 14 Oct 2024"
    lines = english.message.split("\n")
    assert lines[1] == "Availability yesterday: 91.91% (7 sites; 13 h 30 min down in total)."
    assert lines[2] == ("Outages yesterday: 7 (vendor upstream outage 5, power 1, link 0, "
                        "not yet known 1).")
    assert "- DOWN: Desa Montallat 1 since 15 Oct 2024 06:30 WIB" in lines
    assert lines[-1] == "Rollout: 7 of 10 priority villages connected (70.00%)."
    # A vendor's rule sums up the vendor's own sites only.
    (vendor,) = receiver.at("vendor-b")
    assert vendor.message.split("\n")[:4] == [
        "Saat ini (15 Okt 2024 07:00 WIB): 0 aktif, 1 mati, 0 tidak diketahui, "
        "0 pemeliharaan, dari 1 situs dipantau.",
        "Ketersediaan kemarin: 97,91% (1 situs; total waktu mati 30 menit).",
        "Gangguan kemarin: 1 (gangguan hulu vendor 0, listrik 0, jaringan/tautan 0, "
        "belum diketahui 1).",
        "Situs terburuk kemarin:",
    ]
    assert "Teweh" not in vendor.message

    keys = set(Notification.objects.filter(kind=NotificationKind.SUMMARY)
               .values_list("dedupe_key", "status"))
    assert len(keys) == 3
    assert all(key.startswith("summary:2024-10-14:") and status == "sent"
               for key, status in keys)

    # A second pass, another worker after the first one's lease ran out, later that day:
    # nothing again. The next morning: the next day's summary.
    office.alerts(wib(15, 7, 1))
    office.alerts(wib(15, 8, 30), worker="w2")
    office.alerts(wib(15, 23, 59), worker="w2")
    assert receiver.titles("kantor") == ["RINGKASAN HARIAN: Senin, 14 Okt 2024"]
    office.alerts(wib(16, 7), worker="w2")
    assert receiver.titles("kantor") == ["RINGKASAN HARIAN: Senin, 14 Okt 2024",
                                         "RINGKASAN HARIAN: Selasa, 15 Okt 2024"]
    assert receiver.titles("noc") == ["MATI: Desa Montallat 1"]


def test_summary_stored_by_a_planner_that_stopped_is_sent_once_by_the_next_worker(
    office: Fleet, settings: object
) -> None:
    settings.LINDA_ALERT_SUMMARY_HOUR = 8  # type: ignore[attr-defined]
    office.rule(office.channel("kantor"), "viewer", kinds=["summary"])
    office.alerts(wib(15, 7, 59))
    assert office.receiver.paths() == set()  # the hour is now 08:00
    # w1 plans (stores the summary) and dies before it delivers anything.
    assert planner.plan(now=wib(15, 8), worker="w1").notifications == 1
    office.alerts(wib(15, 8), worker="w2")  # w1 still holds the lease: w2 only delivers
    office.alerts(wib(15, 8, 2), worker="w2")  # the lease ran out: w2 plans too
    office.alerts(wib(15, 8, 3), worker="w1")  # w1 restarted
    assert office.receiver.titles("kantor") == ["RINGKASAN HARIAN: Senin, 14 Okt 2024"]
    assert Notification.objects.filter(kind=NotificationKind.SUMMARY).count() == 1


def test_two_planners_at_once_store_one_summary(office: Fleet) -> None:
    office.rule(office.channel("kantor"), "viewer", kinds=["summary"])
    first = planner.plan(now=wib(15, 7), worker="w1")
    second = planner.plan(now=wib(15, 7), worker="w2")  # refused: w1 holds the lease
    # Even a planner whose lease check was wrong stores nothing twice (unique dedupe key).
    planner.release_lease("w1")
    third = planner.plan(now=wib(15, 7), worker="w3")
    assert (first.notifications, second.planned, third.notifications) == (1, False, 0)
    office.alerts(wib(15, 7, 5), worker="w3")
    assert len(office.receiver.at("kantor")) == 1


def test_a_failing_summary_never_stops_the_outage_alerts(
    office: Fleet, settings: object, caplog: pytest.LogCaptureFixture
) -> None:
    settings.LINDA_ALERT_SUMMARY_HOUR = "tujuh"  # type: ignore[attr-defined]
    office.rule(office.channel("kantor"), "viewer", kinds=["summary"])
    office.rule(office.channel("noc"), "operator")
    office.alerts(wib(15, 6, 50))
    office.alerts(wib(15, 7))
    assert office.receiver.paths() == {"noc"}
    assert office.receiver.titles("noc") == ["MATI: Desa Montallat 1"]
    assert "scheduled alert step failed" in caplog.text

"""Escalation after T minutes unacknowledged, reminders, and acknowledgement (web link and
admin)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from linda.alerts.models import Incident
from tests.alerts.conftest import T0, Fleet, M, S

pytestmark = pytest.mark.django_db


def at(fleet: Fleet, now: dt.datetime) -> None:
    """The monitor keeps ticking up to `now` (no coverage gap); then one worker pass at `now`."""
    fleet.run(now, step=15 * S, alerts_every=None)
    fleet.alerts(now=now)


@pytest.fixture
def down(fleet: Fleet) -> Incident:
    """One site down and announced to the NOC; a level-1 rule waits 15 min for an ack."""
    site, *_ = fleet.add_sites(3, vendor="PT Satelit Nusantara")
    fleet.rule(fleet.channel("noc"), "operator")
    fleet.rule(fleet.channel("kadis"), "admin", level=1, escalate_after_s=900)
    fleet.rule(fleet.channel("sekda"), "admin", level=2, escalate_after_s=3600)
    fleet.run(T0 + 2 * M)
    fleet.silent.add(site.pk)
    fleet.run(T0 + 10 * M)
    assert fleet.receiver.titles("noc") == ["MATI: Desa Teweh Tengah 1"]
    return Incident.objects.get()


def test_unacknowledged_incident_escalates_after_t(fleet: Fleet, down: Incident) -> None:
    told = down.announced_at
    assert told is not None
    at(fleet, told + 14 * M + 59 * S)
    assert fleet.receiver.titles("kadis") == []
    at(fleet, told + 15 * M)
    assert fleet.receiver.titles("kadis") == ["[ESKALASI tingkat 1] MATI: Desa Teweh Tengah 1"]
    assert fleet.receiver.at("kadis")[0].message.startswith("Belum diakui setelah 15 menit.")
    at(fleet, told + 16 * M)
    assert len(fleet.receiver.titles("kadis")) == 1
    assert fleet.receiver.titles("sekda") == []
    at(fleet, told + 60 * M)
    assert fleet.receiver.titles("sekda") == ["[ESKALASI tingkat 2] MATI: Desa Teweh Tengah 1"]
    assert fleet.receiver.titles("noc") == ["MATI: Desa Teweh Tengah 1"]


def test_acknowledged_from_the_link_stops_escalation(fleet: Fleet, down: Incident) -> None:
    body = fleet.receiver.at("noc")[0].message
    link = next(line for line in body.splitlines() if line.startswith("Akui: "))
    path = link.split("127.0.0.1:8000", 1)[1]
    client = Client()
    page = client.get(path)  # a chat app's link preview: shows, never acknowledges
    assert page.status_code == 200 and b"Akui insiden ini" in page.content
    down.refresh_from_db()
    assert down.acknowledged_at is None
    page = client.post(path, {"name": "Budi (NOC)"})
    assert b"Terima kasih, insiden diakui." in page.content
    down.refresh_from_db()
    assert down.acknowledged_name == "Budi (NOC)"
    assert client.post(path).status_code == 200  # twice is harmless
    assert client.get("/alerts/ack/not-a-token/").status_code == 404

    told = down.announced_at
    assert told is not None
    at(fleet, told + 90 * M)
    assert fleet.receiver.titles("kadis") == [] and fleet.receiver.titles("sekda") == []


def test_reminders_repeat_until_acknowledged(fleet: Fleet) -> None:
    site, *_ = fleet.add_sites(2, vendor="PT Satelit Nusantara")
    fleet.rule(fleet.channel("noc"), "operator", renotify_every_s=1800)
    fleet.run(T0 + 2 * M)
    fleet.silent.add(site.pk)
    fleet.run(T0 + 10 * M)
    incident = Incident.objects.get()
    told = incident.announced_at
    assert told is not None
    at(fleet, told + 29 * M)
    at(fleet, told + 30 * M)
    at(fleet, told + 31 * M)
    assert fleet.receiver.titles("noc") == [
        "MATI: Desa Teweh Tengah 1", "[PENGINGAT] MATI: Desa Teweh Tengah 1"]
    Incident.objects.update(acknowledged_at=told + 40 * M)
    at(fleet, told + 61 * M)
    assert len(fleet.receiver.titles("noc")) == 2

"""The admin adds overrides through the audited service and never edits them."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from linda.audit.models import AuditEntry
from linda.sla.models import OutageOverride, SlaReport
from tests.sla.scenario import October, utc

pytestmark = pytest.mark.django_db
ADD = "/admin/sla/outageoverride/add/"


@pytest.fixture
def admin_client_(client: Client) -> Client:
    user = get_user_model().objects.create_superuser("root", "root@example.org", "pw-123456-x")
    client.force_login(user)
    return client


def form(october: October, *, time: str, reason: str = "Modem VSAT rusak (tiket #7)") -> dict:
    # Admin date-times are WIB: 10:30 WIB is the outage of `mtn` starting 03:30 UTC.
    return {"site": october.sites["mtn"].pk, "outage_start_0": "2024-10-20",
            "outage_start_1": time, "cause": "", "responsibility": "force_majeure",
            "reason": reason}


def test_an_override_added_in_the_admin_is_audited(october: October, admin_client_: Client) -> None:
    assert admin_client_.get(ADD).status_code == 200
    response = admin_client_.post(ADD, form(october, time="10:30:00"))
    assert response.status_code == 302, response.content.decode()[:2000]
    override = OutageOverride.objects.get()
    assert override.outage_start == utc(10, 20, 3, 30)
    assert (override.responsibility, override.author_username) == ("force_majeure", "root")
    assert AuditEntry.objects.filter(object_type="sla.OutageOverride").count() == 1
    change = f"/admin/sla/outageoverride/{override.pk}/change/"
    assert admin_client_.post(change, form(october, time="10:30:00", reason="x")).status_code == 403
    assert OutageOverride.objects.get().reason == "Modem VSAT rusak (tiket #7)"


def test_the_admin_refuses_a_start_that_is_no_outage(october: October, admin_client_: Client) -> None:
    response = admin_client_.post(ADD, form(october, time="10:31:00"))
    assert response.status_code == 200
    assert "Tidak ada gangguan situs ini yang mulai pada waktu itu." in response.content.decode()
    assert not OutageOverride.objects.exists()


def test_stored_reports_are_read_only(october: October, admin_client_: Client) -> None:
    assert admin_client_.get("/admin/sla/slareport/").status_code == 200
    assert admin_client_.get("/admin/sla/slareport/add/").status_code == 403
    assert not SlaReport.objects.exists()

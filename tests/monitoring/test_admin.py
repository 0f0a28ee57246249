from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from linda.audit.models import AuditEntry
from linda.monitoring.models import MaintenanceWindow, SiteKey
from linda.monitoring.services import authenticate_key, hash_key, issue_site_key
from linda.registry.models import Site

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client() -> Client:
    user = get_user_model().objects.create_superuser("root", "", "pw-123456-x")
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize("model", ["sitekey", "heartbeat", "sitestate", "statusinterval",
                                   "coveragemark", "maintenancewindow"])
def test_changelists_work(admin_client: Client, site: Site, model: str) -> None:
    issue_site_key(site)
    assert admin_client.get(f"/admin/monitoring/{model}/").status_code == 200


def test_issuing_a_key_shows_it_once_with_the_scripts(admin_client: Client, site: Site) -> None:
    form = admin_client.get(f"/admin/monitoring/sitekey/add/?site={site.pk}")
    assert form.status_code == 200 and b"Terbitkan kunci" in form.content
    page = admin_client.post("/admin/monitoring/sitekey/add/", {"site": site.pk}).content.decode()
    key = page.split('<code id="site-key">')[1].split("</code>")[0]
    assert authenticate_key(key) == site.pk
    assert ":serialize to=json" in page and "/hb/" + key in page
    assert AuditEntry.objects.filter(object_type="monitoring.SiteKey", action="create").exists()
    listing = admin_client.get("/admin/monitoring/sitekey/").content.decode()
    assert key not in listing and key[:6] in listing


def test_revoking_keys_from_the_list(admin_client: Client, site: Site) -> None:
    key = issue_site_key(site)
    row = SiteKey.objects.get(key_hash=hash_key(key))
    response = admin_client.post("/admin/monitoring/sitekey/", {
        "action": "revoke", "_selected_action": [row.pk]})
    assert response.status_code == 302
    row.refresh_from_db()
    assert row.revoked_at is not None


def test_maintenance_window_records_its_author(admin_client: Client, site: Site) -> None:
    response = admin_client.post("/admin/monitoring/maintenancewindow/add/", {
        "site": site.pk, "start_0": "2024-10-15", "start_1": "10:00:00",
        "end_0": "2024-10-15", "end_1": "12:00:00", "reason": "ganti baterai"})
    assert response.status_code == 302, response.content.decode()[:2000]
    window = MaintenanceWindow.objects.get()
    assert window.author.username == "root" and window.site == site
    bad = admin_client.post("/admin/monitoring/maintenancewindow/add/", {
        "start_0": "2024-10-15", "start_1": "10:00:00",
        "end_0": "2024-10-15", "end_1": "12:00:00", "reason": "tanpa cakupan"})
    assert bad.status_code == 200 and MaintenanceWindow.objects.count() == 1

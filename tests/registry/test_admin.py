from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from linda.audit.models import AuditEntry
from linda.registry.models import Site, Vendor
from tests.factories import make_contract, make_site

pytestmark = pytest.mark.usefixtures("barito_utara")

CHANGELISTS = [
    "registry/region", "registry/site", "registry/equipment", "registry/vendor",
    "registry/contract", "registry/contractterms", "rollout/program",
    "rollout/priorityvillage", "rollout/stagetransition", "audit/auditentry", "auth/user",
]


@pytest.fixture
def admin_client() -> Client:
    user = get_user_model().objects.create_superuser("root", "", "pw-123456-x")
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize("path", CHANGELISTS)
def test_every_registry_model_has_a_working_changelist(admin_client: Client, path: str) -> None:
    make_contract(Vendor.objects.create(name="PT V"), [make_site("62.05.05.2011")])
    response = admin_client.get(f"/admin/{path}/")
    assert response.status_code == 200


def test_site_changelist_filters_by_kecamatan_and_searches(admin_client: Client) -> None:
    make_site("62.05.05.2011")
    make_site("62.05.01.2005")
    page = admin_client.get("/admin/registry/site/?kecamatan=62.05.01").content.decode()
    assert "kd-6205012005" in page and "kd-6205052011" not in page
    page = admin_client.get("/admin/registry/site/?q=Lemo").content.decode()
    assert "kd-6205052011" in page and "kd-6205012005" not in page


def test_admin_change_is_audited_with_before_and_after(admin_client: Client) -> None:
    site = make_site("62.05.05.2011")
    form = admin_client.get(f"/admin/registry/site/{site.pk}/change/").context["adminform"].form
    data = {k: ("" if v is None else v) for k, v in form.initial.items()}
    data.update({"name": "Balai Desa", "equipment-TOTAL_FORMS": "0",
                 "equipment-INITIAL_FORMS": "0", "village": str(site.village_id)})
    response = admin_client.post(f"/admin/registry/site/{site.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    entry = AuditEntry.objects.get(object_type="registry.Site")
    assert entry.actor_username == "root"
    assert entry.before["name"] == "Kantor Desa"  # type: ignore[index]
    assert entry.after["name"] == "Balai Desa"  # type: ignore[index]
    assert Site.objects.get().name == "Balai Desa"


def test_contract_sites_changed_in_admin_are_audited(admin_client: Client) -> None:
    lemo, sikan = make_site("62.05.05.2011"), make_site("62.05.01.2005")
    contract = make_contract(Vendor.objects.create(name="PT V"), [lemo])
    form = admin_client.get(f"/admin/registry/contract/{contract.pk}/change/").context[
        "adminform"].form
    data = {k: ("" if v is None else v) for k, v in form.initial.items()}
    data.update({"vendor": str(contract.vendor_id), "starts_on": "2024-01-01",
                 "ends_on": "2025-12-31", "sites": [str(lemo.pk), str(sikan.pk)],
                 "terms-TOTAL_FORMS": "1", "terms-INITIAL_FORMS": "1",
                 "terms-0-id": str(contract.terms.get().pk), "terms-0-contract": str(contract.pk)})
    response = admin_client.post(f"/admin/registry/contract/{contract.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    entry = AuditEntry.objects.get(object_type="registry.Contract", note="admin: relations")
    assert entry.before == {"sites": [lemo.pk]}
    assert entry.after == {"sites": sorted([lemo.pk, sikan.pk])}

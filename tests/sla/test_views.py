"""The SLA page and downloads: login required, a vendor sees only its own contracts."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse

from linda.accounts.models import Role
from linda.registry.models import Contract, Vendor
from tests.factories import make_user
from tests.sla.scenario import October

pytestmark = pytest.mark.django_db


def download_url(contract: Contract, fmt: str) -> str:
    return reverse("sla:download", args=[contract.pk, "2024-10", fmt])


@pytest.fixture
def other_contract(october: October) -> Contract:
    other = Vendor.objects.create(name="PT Lain")
    return Contract.objects.create(vendor=other, number="K/LAIN/2024",
                                   starts_on=dt.date(2024, 1, 1), ends_on=dt.date(2024, 12, 31))


def test_login_is_required(october: October, client: Client) -> None:
    response = client.get(reverse("sla:index"))
    assert response.status_code == 302 and "login" in response["Location"]
    assert client.get(download_url(october.contract, "csv")).status_code == 302


def test_the_page_shows_the_month_and_download_links(october: October, client: Client) -> None:
    client.force_login(make_user("op", Role.OPERATOR))
    response = client.get(reverse("sla:index"), {"contract": october.contract.pk,
                                                 "month": "2024-10"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "Oktober 2024" in page and "Rp 6.660.483" in page and "Rp 84.677" in page
    for fmt in ("xlsx", "pdf", "csv"):
        assert download_url(october.contract, fmt) in page
    lahei = client.get(reverse("sla:index"), {"contract": october.contract.pk,
                                              "month": "2024-10", "kecamatan": "62.05.06"})
    assert "Rp 2.465.323" in lahei.content.decode()


def test_a_vendor_sees_and_downloads_only_its_contracts(
    october: October, other_contract: Contract, client: Client
) -> None:
    client.force_login(make_user("comtelindo", Role.VENDOR, vendor=october.vendor))
    page = client.get(reverse("sla:index"), {"month": "2024-10"}).content.decode()
    assert "K/SLA/2024" in page and "K/LAIN/2024" not in page
    response = client.get(download_url(october.contract, "csv"))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="sla-K-SLA-2024-2024-10.csv"' in response["Content-Disposition"]
    assert client.get(download_url(other_contract, "csv")).status_code == 404
    assert client.get(reverse("sla:index"), {"contract": other_contract.pk}).status_code == 404


def test_a_village_head_sees_no_contract(october: October, client: Client) -> None:
    from linda.registry.models import Region

    head = make_user("kades", Role.VILLAGE_HEAD, village=Region.objects.get(code="62.05.05.2011"))
    client.force_login(head)
    assert client.get(download_url(october.contract, "csv")).status_code == 404


def test_xlsx_download(october: October, client: Client) -> None:
    client.force_login(make_user("op", Role.OPERATOR))
    response = client.get(download_url(october.contract, "xlsx"), {"kecamatan": "62.05.02"})
    assert response.status_code == 200
    assert response.content[:2] == b"PK"
    assert client.get(download_url(october.contract, "doc")).status_code == 404


def test_contract_choices_are_plain_numbers_past_a_thousand(
    october: October, client: Client
) -> None:
    Contract.objects.create(id=1234, vendor=october.vendor, number="K/1234/2024",
                            starts_on=dt.date(2024, 1, 1), ends_on=dt.date(2024, 12, 31))
    client.force_login(make_user("op", Role.OPERATOR))
    page = client.get(reverse("sla:index"), HTTP_ACCEPT_LANGUAGE="id").content.decode()
    assert 'value="1234"' in page

"""The SLA page in a real browser: pick a contract and a month, download the reports."""

from __future__ import annotations

import io
from pathlib import Path

import openpyxl
import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from linda.accounts.models import Role
from linda.registry.models import Contract, Site
from linda.rollout.demo import load_demo
from tests.browser.conftest import log_in, monitor_up_for_five_minutes
from tests.factories import make_user

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("barito_utara")]
PASSWORD = "rahasia-123-x"


@pytest.fixture
def contract() -> Contract:
    """The demo contract (it runs through this month), with one of its sites monitored and
    up for the last five minutes."""
    load_demo()
    contract = Contract.objects.get(is_demo=True)
    site = Site.objects.filter(contracts=contract, village__priorities__stage="active").order_by(
        "code").first()
    assert site is not None
    monitor_up_for_five_minutes(site)
    return contract


def _download(page: Page, link_text: str, tmp_path: Path) -> tuple[str, bytes]:
    with page.expect_download() as info:
        page.click(f"main a:text-is('{link_text}')")
    download = info.value
    target = tmp_path / download.suggested_filename
    download.save_as(target)
    return download.suggested_filename, target.read_bytes()


def test_operator_downloads_the_month_as_xlsx_and_pdf(
    page: Page, live_server: object, contract: Contract, tmp_path: Path
) -> None:
    user = make_user("b-reports", Role.OPERATOR)
    user.set_password(PASSWORD)
    user.save()
    log_in(page, str(live_server), "b-reports", PASSWORD)
    page.click("header >> text=SLA")
    month = timezone.localdate().strftime("%Y-%m")
    page.select_option("select[name=contract]", str(contract.pk))
    page.fill("input[name=month]", month)
    page.click("main form.filters button[type=submit]")
    expect(page.locator("main h2")).to_contain_text(contract.number)

    name, body = _download(page, "XLSX", tmp_path)
    assert name.endswith(".xlsx")
    workbook = openpyxl.load_workbook(io.BytesIO(body), read_only=True)
    cells = [str(value) for sheet in workbook.worksheets
             for row in sheet.iter_rows(values_only=True) for value in row if value is not None]
    assert any(contract.number in cell for cell in cells), cells[:20]
    site_codes = set(contract.sites.values_list("code", flat=True))
    assert site_codes & set(cells), "no site of the contract in the workbook"

    name, body = _download(page, "PDF", tmp_path)
    assert name.endswith(".pdf")
    assert body.startswith(b"%PDF-")
    assert len(body) > 1000

from __future__ import annotations

import pytest
from django.core.management import call_command
from playwright.sync_api import Page, expect

from tests.browser.conftest import log_in
from tests.factories import make_user

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("barito_utara")]


def test_admin_logs_in_and_sees_the_regency(page: Page, live_server: object) -> None:
    call_command("demo_data")
    from django.contrib.auth import get_user_model

    get_user_model().objects.create_superuser("kabid", "", "rahasia-123-x")
    log_in(page, str(live_server), "kabid", "rahasia-123-x")
    expect(page.locator(".demo-banner")).to_contain_text("DATA DEMO")
    expect(page.locator("main")).to_contain_text("25 / 68")
    expect(page.locator("main")).to_contain_text("9 kecamatan, 103 desa/kelurahan")
    page.click("text=Rollout")
    expect(page.locator("#priority-villages tbody tr")).to_have_count(68)


def test_wrong_password_is_refused(page: Page, live_server: object) -> None:
    make_user("noc", None)
    log_in(page, str(live_server), "noc", "wrong-password")
    expect(page).to_have_url(f"{live_server}/login/")
    expect(page.locator(".errorlist")).to_be_visible()

"""Each role in a real browser: what it sees, what it can do, and nothing more."""

from __future__ import annotations

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from linda.accounts.models import Role
from linda.registry.models import Site, Vendor
from linda.rollout.demo import load_demo
from linda.rollout.models import PriorityVillage
from tests.browser.conftest import log_in, monitor_up_for_five_minutes
from tests.factories import make_user

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("barito_utara")]
PASSWORD = "rahasia-123-x"


@pytest.fixture
def demo() -> Site:
    """The demo scenario with one active site monitored for five minutes and up."""
    load_demo()
    site = Site.objects.filter(village__priorities__stage="active").order_by("code").first()
    assert site is not None
    monitor_up_for_five_minutes(site)
    return site


def _user(role: Role, **scope: object) -> str:
    name = f"b-{role}"
    user = make_user(name, role, **scope)
    user.set_password(PASSWORD)
    user.save()
    return name


def test_operator_filters_the_map_opens_a_site_and_moves_a_village(
    page: Page, live_server: object, demo: Site
) -> None:
    log_in(page, str(live_server), _user(Role.OPERATOR), PASSWORD)
    expect(page.locator("#status-now")).to_contain_text("1")
    page.click("header >> text=Peta")
    expect(page.locator("#map-count")).to_have_text("68 / 68")
    page.select_option("select[name=stage]", "active")
    expect(page.locator("#map-count")).to_have_text("25 / 68")
    page.select_option("select[name=status]", "up")
    expect(page.locator("#map-count")).to_have_text("1 / 68")
    page.goto(f"{live_server}/sites/?status=up")
    page.click(f"text={demo.code}")
    expect(page.locator("#status-badge")).to_have_text("online")
    expect(page.locator("#charts")).to_have_attribute("data-loaded", "1")
    # move a planned village to surveyed on the rollout board
    planned = PriorityVillage.objects.filter(stage="planned").order_by("village__code").first()
    assert planned is not None
    response = page.goto(f"{live_server}/rollout/")
    assert response is not None and response.status == 200, response and response.text()
    expect(page.locator("#priority-villages tbody tr")).to_have_count(68)
    row = page.locator(f"#pv-{planned.pk}")
    expect(row).to_contain_text(planned.village.name)
    row.locator("summary").click()
    row.locator("select[name$=to_stage]").select_option("surveyed")
    row.locator("input[name$=effective_on]").fill(timezone.localdate().isoformat())
    row.locator("button[type=submit]").click()
    expect(page.locator(".messages .success")).to_contain_text(planned.village.name)
    planned.refresh_from_db()
    assert planned.stage == "surveyed"


def test_vendor_sees_only_its_sites(page: Page, live_server: object, demo: Site) -> None:
    log_in(page, str(live_server), _user(Role.VENDOR, vendor=Vendor.objects.create(name="PT X")),
           PASSWORD)
    page.goto(f"{live_server}/map/")
    expect(page.locator("#map-count")).to_have_text("0 / 0")
    # another vendor's site is not found for this session (asked without rendering a 404 page)
    assert page.request.get(f"{live_server}/sites/{demo.code}/").status == 404


def test_village_head_sees_their_village_on_a_phone(
    browser: object, page: Page, live_server: object, demo: Site
) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, str(live_server), _user(Role.VILLAGE_HEAD, village=demo.village), PASSWORD)
    page.goto(f"{live_server}/sites/")
    expect(page.locator("#site-rows tr")).to_have_count(1)
    page.click(f"text={demo.code}")
    expect(page.locator("h1")).to_contain_text(demo.village.name)
    expect(page.locator("text=Buat kunci")).to_have_count(0)  # no keys for village heads


def test_viewer_cannot_move_villages(page: Page, live_server: object, demo: Site) -> None:
    log_in(page, str(live_server), _user(Role.VIEWER), PASSWORD)
    page.goto(f"{live_server}/rollout/")
    expect(page.locator("#priority-villages tbody tr")).to_have_count(68)
    expect(page.locator("#priority-villages summary")).to_have_count(0)


def test_public_page_without_login(page: Page, live_server: object, demo: Site) -> None:
    page.goto(f"{live_server}/status/")
    expect(page.locator("#villages")).to_contain_text(demo.village.name)
    expect(page.locator("#villages")).not_to_contain_text(demo.code)

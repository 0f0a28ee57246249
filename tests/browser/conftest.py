"""Playwright driving Debian's chromium against the real server (pytest-django live_server)."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Page, sync_playwright

from linda.monitoring.models import Channel
from linda.monitoring.monitor import tick
from linda.monitoring.payload import Reading
from linda.monitoring.services import activate_monitoring, record_heartbeat
from linda.registry.models import Site

# Playwright's sync API keeps an event loop running in the test thread; the ORM calls the
# tests make there are still synchronous, so Django's async guard does not apply.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("LINDA_CHROMIUM", shutil.which("chromium") or "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    """One chromium for the browser tests. Package scope: Playwright's event loop stops with
    the last browser test, so later tests can run their own loops (asyncio.run)."""
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"chromium not found at {CHROMIUM}: `make test` installs Debian's package")
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


ARTIFACTS = Path(__file__).resolve().parents[2] / "test-results" / "browser"
# A 1x1 transparent PNG answers map tile requests: the tests never leave the machine.
BLANK_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082"
)


@pytest.fixture
def page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A fresh page that fails the test on any console error or page error, and leaves a
    screenshot in test-results/browser/ either way."""
    context = browser.new_context(locale="id-ID", timezone_id="Asia/Jakarta")
    context.set_default_timeout(15_000)
    context.route("https://tile.openstreetmap.org/**",
                  lambda route: route.fulfill(status=200, content_type="image/png",
                                              body=BLANK_PNG))
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()
    assert errors == [], f"browser console errors: {errors}"


def log_in(page: Page, base_url: str, username: str, password: str) -> None:
    page.goto(f"{base_url}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("main button[type=submit]")


def monitor_up_for_five_minutes(site: Site) -> None:
    """Monitor `site` from five minutes ago, a heartbeat a minute, the monitor ticking every
    five seconds: it is UP now."""
    start = timezone.now() - dt.timedelta(minutes=5)
    activate_monitoring(site=site, at=start)
    for k in range(0, 300, 5):
        at = start + dt.timedelta(seconds=k)
        tick(monitor_id="browser", now=at)
        if k % 60 == 0:
            record_heartbeat(site_id=site.pk, channel=Channel.HB, now=at,
                             reading=Reading(seq=k, rtt_ms=700.0, loss_pct=0.0))

"""`linda simulate --live` against the real server over loopback (pytest-django live_server):
heartbeats accepted and stored, store-and-forward after a link outage, keys kept safe."""

from __future__ import annotations

import dataclasses
import io
import json
import stat
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection

from linda.monitoring.models import Heartbeat, SiteKey, SiteState
from linda.monitoring.monitor import Flip, tick
from linda.registry.models import Site
from linda.simulate.clients import Devices, HttpSender
from linda.simulate.engine import Twin
from linda.simulate.faults import DEFAULT_RATES, Cause
from linda.simulate.fleet import FETCH, SCRIPT, Fleet
from linda.simulate.groundtruth import TruthWriter, read_truth
from linda.simulate.runner import LiveLoop
from linda.simulate.sites import ensure_keys, spec_for
from tests.monitoring.conftest import new_site

pytestmark = pytest.mark.django_db(transaction=True)


def fast_sites(n: int) -> list[Site]:
    """Sites beating every 5 s, so a few seconds show several beats each."""
    return [new_site(f"sim-{i}", expected_interval_s=5, grace_s=5) for i in range(n)]


def test_live_command_heartbeats_are_accepted_and_stored(live_server: Any,
                                                         tmp_path: Path) -> None:
    sites = fast_sites(8)  # agents, RouterOS scripts and a bare fetch (pick_style, seed 6205)
    keys_path = tmp_path / "keys.json"
    out = io.StringIO()
    call_command("simulate", "--live", "--history-days", "0", "--duration", "7",
                 "--url", live_server.url, "--sites", *[s.code for s in sites],
                 "--include-real", "--keys", str(keys_path), "--truth",
                 str(tmp_path / "truth.jsonl"), "--mqtt", "off", "--fault-rate", "0",
                 stdout=out)
    assert "Issued 8 site keys" in out.getvalue()
    per_site = {s.code: Heartbeat.objects.filter(site=s).count() for s in sites}
    assert all(n >= 1 for n in per_site.values()), per_site
    assert set(Heartbeat.objects.values_list("channel", flat=True)) == {"hb", "api"}
    assert not Heartbeat.objects.filter(late=True).exists()
    assert set(SiteState.objects.values_list("state", flat=True)) == {"up"}
    beat = Heartbeat.objects.filter(site=sites[0]).first()
    assert beat is not None and beat.uptime_s and beat.wan and beat.rtt_ms
    assert beat.device_at is not None
    assert "delivered" in out.getvalue() and "dropped 0" in out.getvalue()

    # The keys were issued through the monitoring service and are kept for the owner only;
    # a restart reuses them.
    assert stat.S_IMODE(keys_path.stat().st_mode) == 0o600
    assert SiteKey.objects.count() == 8
    keys, issued = ensure_keys(sites, keys_path)
    assert issued == 0 and set(keys) == {s.code for s in sites}
    assert all(k not in out.getvalue() for k in keys.values())  # never printed


def run_monitor(stop: threading.Event, flips: list[tuple[float, Flip]]) -> None:
    """The real monitor's pass once a second, as `linda monitor --period 1` runs it."""
    try:
        while not stop.is_set():
            result = tick(monitor_id="test")
            flips += [(time.time(), flip) for flip in result.flips]
            stop.wait(1.0)
    finally:
        connection.close()


def test_store_and_forward_and_the_monitor_detects_the_outage(
        live_server: Any, tmp_path: Path, settings: Any) -> None:
    settings.LINDA_HB_LIVE_WINDOW_S = 3  # so a beat queued for a few seconds counts as late
    sites = fast_sites(2)  # I = 5 s, G = 5 s
    fleet = Fleet([dataclasses.replace(spec_for(sites[0], seed=1, mqtt=False), style=SCRIPT),
                   dataclasses.replace(spec_for(sites[1], seed=1, mqtt=False), style=FETCH)])
    keys, _ = ensure_keys(sites, tmp_path / "keys.json")
    now = time.time()
    twin = Twin(fleet, seed=1, start=now, rates=DEFAULT_RATES.scaled(0))
    for code in fleet.codes:
        # After every site's first beat (I = 5 s), so the monitor knows them.
        twin.inject(code, now + 6.0, now + 17.0, Cause.LINK, "rain_fade")
    truth = TruthWriter(tmp_path / "truth.jsonl", fleet.codes)
    devices = Devices(fleet)
    loop = LiveLoop(twin, devices, {SCRIPT: HttpSender(live_server.url, keys),
                                    FETCH: HttpSender(live_server.url, keys)},
                    truth, emit_from=now, step_s=2.0)
    flips: list[tuple[float, Flip]] = []
    stop = threading.Event()
    monitor = threading.Thread(target=run_monitor, args=(stop, flips))
    monitor.start()
    try:
        loop.run(threading.Event(), duration_s=23.0)
    finally:
        stop.set()
        monitor.join()
    truth.close()

    script, fetch = sites
    late = Heartbeat.objects.filter(site=script, late=True)
    assert late.count() >= 1  # measured during the outage, delivered after it in a batch
    for beat in late:
        assert beat.device_at is not None and now + 6.0 <= beat.device_at.timestamp() < now + 17
        assert beat.loss_pct == 100 and beat.rtt_ms is None  # no link when it was measured
    uptimes = list(Heartbeat.objects.filter(site=script).order_by("device_at")
                   .values_list("uptime_s", flat=True))
    assert uptimes == sorted(uptimes)  # the router kept its power through the outage
    # A bare fetch has no queue: what it measured during the outage is lost.
    assert not Heartbeat.objects.filter(site=fetch, late=True).exists()
    assert devices.stats.lost_beats >= 1
    live_gap = [b.timestamp() for b in Heartbeat.objects.filter(site=fetch, late=False)
                .values_list("received_at", flat=True) if now + 6.5 < b.timestamp() < now + 17]
    assert live_gap == []
    lines = [json.loads(line) for line in (tmp_path / "truth.jsonl").read_text().splitlines()]
    assert sorted(line["site"] for line in lines) == sorted(fleet.codes)
    faults = {f.site: f for f in read_truth(tmp_path / "truth.jsonl")}
    assert [f.cause for f in faults.values()] == ["link", "link"]

    # The real monitor declared each outage within grace + 5 s of the first missing beat's
    # due time, backdated DOWN to about that time, and the next beat brought the site back.
    for site in sites:
        fault = faults[site.code]
        assert fault.due_at is not None
        downs = [(seen, f) for seen, f in flips if f.site_id == site.pk and f.new == "down"]
        assert len(downs) == 1, flips
        seen, flip = downs[0]
        delay_s = seen - fault.due_at.timestamp()
        print(f"{site.code}: DOWN declared {delay_s:.1f} s after the missing beat was due")
        assert 5 - 1 <= delay_s <= 5 + 5, delay_s
        assert abs(flip.since.timestamp() - fault.due_at.timestamp()) < 1.5
        assert SiteState.objects.get(site=site).state == "up"

"""Intake over a real socket on loopback, with a real HTTP client (urllib)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import pytest

from linda.monitoring.models import Heartbeat, SiteState
from linda.monitoring.services import issue_site_key
from tests.monitoring.conftest import new_site

pytestmark = pytest.mark.django_db(transaction=True)


def call(url: str, body: Any = None, key: str | None = None) -> tuple[int, bytes]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if key:
        request.add_header("Authorization", f"Bearer {key}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def test_real_http_intake(live_server: Any) -> None:
    site = new_site()
    key = issue_site_key(site)
    base = live_server.url

    assert call(f"{base}/hb/{key}?seq=1&uptime=60&volt=12.8&rtt=700&loss=0") == (200, b"OK\n")
    status, body = call(f"{base}/api/v1/heartbeats",
                        {"v": 1, "heartbeats": [{"seq": 2, "age_s": 1}, {"seq": 3, "loss_pct": 150}]},
                        key)
    assert status == 422
    assert json.loads(body)["accepted"] == 1
    assert json.loads(body)["rejected"] == [
        {"index": 1, "field": "loss_pct", "reason": "out of range: 150 is not within 0..100"}]
    status, body = call(f"{base}/api/v1/heartbeats", {"seq": 2}, key)
    assert (status, json.loads(body)["duplicates"]) == (200, 1)
    assert call(f"{base}/hb/{'Z' * 32}")[0] == 401

    # Acknowledged means committed: every row is visible to another connection right away.
    assert sorted(Heartbeat.objects.values_list("seq", flat=True)) == [1, 2]
    assert SiteState.objects.get(site=site).state == "up"

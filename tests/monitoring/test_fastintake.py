"""The lean intake server answers and stores exactly like the Django views (PostgreSQL)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import uvloop
from django.db import connection

from linda.monitoring.fastintake import Intake, conninfo_from_settings, serve
from linda.monitoring.models import Heartbeat, SiteKey, SiteState
from linda.monitoring.services import hash_key, issue_site_key, revoke_site_key
from tests.monitoring.conftest import new_site
from tests.processes import REPO, database_url

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql",
                       reason="the lean intake is for PostgreSQL (run with DATABASE_URL=postgres://…)"),
]


class FastServer:
    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(128)
        self.sock.setblocking(False)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.ready = threading.Event()
        self.intake: Intake | None = None
        self.thread = threading.Thread(target=self._run)

    def _run(self) -> None:
        async def main() -> None:
            self.loop = asyncio.get_running_loop()
            self.stop = asyncio.Event()
            task = asyncio.create_task(serve(self.sock, conninfo_from_settings(), self.stop))
            while not self.ready.is_set():
                await asyncio.sleep(0.05)
                try:
                    socket.create_connection(self.sock.getsockname(), timeout=0.2).close()
                    self.ready.set()
                except OSError:
                    pass
            self.intake = await task

        uvloop.run(main())  # the loop `linda intake-server` runs

    def __enter__(self) -> FastServer:
        self.thread.start()
        assert self.ready.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        self.loop.call_soon_threadsafe(self.stop.set)
        self.thread.join(10)


@pytest.fixture
def fast(settings: Any) -> Iterator[FastServer]:
    settings.LINDA_HB_KEY_CACHE_S = 1  # new keys and revocations show within a second
    with FastServer() as server:
        yield server


def call(url: str, method: str = "GET", body: bytes | None = None,
         headers: dict[str, str] | None = None) -> tuple[int, Any]:
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            status, data = response.status, response.read()
    except urllib.error.HTTPError as err:
        status, data = err.code, err.read()
    try:
        return status, json.loads(data)
    except ValueError:
        return status, data


def requests_for(key: str) -> list[tuple[str, str, bytes | None, dict[str, str]]]:
    api = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}

    def js(obj: Any) -> bytes:
        return json.dumps(obj).encode()

    return [
        (f"/hb/{key}?seq=1&uptime=60&volt=24.1&src=solar&rx=5&tx=6&rtt=700&loss=2", "GET", None, {}),
        (f"/hb/{key}?seq=1", "GET", None, {}),
        (f"/hb/{key}", "POST", b"seq=2&temp=40", {"Content-Type": "application/x-www-form-urlencoded"}),
        (f"/hb/{key}", "POST", js({"seq": 3, "rtt_ms": 12}), {"Content-Type": "application/json"}),
        (f"/hb/{key}?loss=150", "GET", None, {}),
        ("/hb/" + "Q" * 32, "GET", None, {}),
        ("/api/v1/heartbeats", "POST", js({"seq": 4, "wan": {"e1": {"rx_bytes": 1}}, "x": 1}), api),
        ("/api/v1/heartbeats", "POST", js({"heartbeats": [
            {"seq": 5, "age_s": 600, "battery_voltage_v": 12.1}, {"seq": 4}, {"seq": 6, "loss_pct": 150},
            {"seq": 7, "device_at": "2999-01-01T00:00:00Z"}, {"seq": 8}]}), api),
        ("/api/v1/heartbeats", "POST", b"{nope", api),
        ("/api/v1/heartbeats", "POST", js({"v": 2}), api),
        ("/api/v1/heartbeats", "POST", js({"heartbeats": []}), api),
        ("/api/v1/heartbeats", "POST", js({}), {"Content-Type": "application/json"}),
        ("/api/v1/heartbeats", "POST", js({}), {**api, "Authorization": "Bearer " + "Z" * 32}),
        ("/api/v1/heartbeats", "GET", None, api),
    ]


def test_same_answers_and_rows_as_the_django_views(live_server: Any, fast: FastServer) -> None:
    django_site, fast_site = new_site("via-django"), new_site("via-fast")
    django_key, fast_key = issue_site_key(django_site), issue_site_key(fast_site)
    time.sleep(1.5)  # the fast intake picks up new keys within LINDA_HB_KEY_CACHE_S

    for (path, method, body, headers), fast_request in zip(
        requests_for(django_key), requests_for(fast_key), strict=True
    ):
        expected = call(live_server.url + path, method, body, headers)
        got = call(fast.url + fast_request[0], *fast_request[1:])
        assert got == expected, (path, method)

    def rows(site: Any) -> list[tuple[Any, ...]]:
        return list(Heartbeat.objects.filter(site=site).order_by("seq").values_list(
            "seq", "channel", "late", "uptime_s", "supply_voltage_v", "power_source", "wan",
            "temperature_c", "rtt_ms", "loss_pct", "battery_voltage_v"))

    assert rows(fast_site) == rows(django_site)
    assert len(rows(fast_site)) == 6
    assert SiteState.objects.get(site=fast_site).state == "up"


def test_group_commit_answers_after_commit_and_sees_revocations(fast: FastServer) -> None:
    sites = [new_site(f"g-{n}") for n in range(20)]
    keys = [issue_site_key(s) for s in sites]
    time.sleep(1.5)

    def beat(n: int) -> int:
        return call(f"{fast.url}/hb/{keys[n % 20]}?seq={n}")[0]

    with ThreadPoolExecutor(max_workers=40) as pool:
        statuses = list(pool.map(beat, range(200)))
    assert statuses == [200] * 200
    assert Heartbeat.objects.count() == 200  # every acknowledged beat is committed
    assert SiteState.objects.filter(state="up").count() == 20
    assert fast.intake is None or fast.intake.committer.commits < 200

    revoke_site_key(SiteKey.objects.get(key_hash=hash_key(keys[0])))
    time.sleep(1.5)
    assert call(f"{fast.url}/hb/{keys[0]}")[0] == 403
    assert call(f"{fast.url}/nowhere")[0] == 404


def test_a_deleted_key_stops_working_within_the_refresh_period(fast: FastServer) -> None:
    """Keys are revoked, not deleted, in the app; a row deleted from the database anyway
    (shell, SQL) must stop opening the door here too, as it does in the Django views."""
    site = new_site("kd-del")
    key, other = issue_site_key(site), issue_site_key(site)
    time.sleep(1.5)
    assert call(f"{fast.url}/hb/{key}?seq=1")[0] == 200
    SiteKey.objects.filter(key_hash=hash_key(key)).delete()
    time.sleep(1.5)
    assert call(f"{fast.url}/hb/{key}?seq=2")[0] == 401
    assert call(f"{fast.url}/hb/{other}?seq=3")[0] == 200


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_the_command_serves_with_a_socket_per_worker_and_refuses_a_taken_port() -> None:
    """`linda intake-server --workers 2`: each worker listens on its own SO_REUSEPORT socket
    (the kernel spreads connections over them); a second server on the same port is refused
    with a clear error instead of silently sharing it."""
    site = new_site("kd-cmd")
    key = issue_site_key(site)
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": database_url(), "PYTHONWARNINGS": "ignore"}
    argv = [sys.executable, "-m", "linda", "intake_server", "--port", str(port)]
    proc = subprocess.Popen([*argv, "--workers", "2"], cwd=REPO, env=env, start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert proc.stdout is not None
        assert "with 2 workers" in proc.stdout.readline().decode()
        deadline = time.monotonic() + 30
        while _listeners(port) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _listeners(port) == 2  # one listening socket per worker

        def beat(seq: int) -> int:
            return call(f"http://127.0.0.1:{port}/hb/{key}?seq={seq}")[0]

        with ThreadPoolExecutor(max_workers=20) as pool:
            assert list(pool.map(beat, range(1, 41))) == [200] * 40
        assert Heartbeat.objects.filter(site=site).count() == 40

        second = subprocess.run([*argv, "--workers", "2"], cwd=REPO, env=env, timeout=60,
                                capture_output=True, text=True)
        assert second.returncode != 0
        assert f"cannot listen on 127.0.0.1:{port}" in second.stderr
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.communicate(timeout=30)
    assert proc.returncode == 0


def _listeners(port: int) -> int:
    """Listening TCP sockets on 127.0.0.1:port (/proc/net/tcp: state 0A)."""
    wanted = f"0100007F:{port:04X}"
    rows = Path("/proc/net/tcp").read_text().splitlines()[1:]
    return sum(1 for row in rows if row.split()[1] == wanted and row.split()[3] == "0A")

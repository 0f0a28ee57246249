"""Active checks against real servers on loopback: an asyncio TCP server, http.server (plain and
TLS), a port nobody listens on, a server that never answers, and the kernel's ICMP policy."""

from __future__ import annotations

import asyncio
import datetime as dt
import http.server
import shutil
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.utils import timezone

from linda.domain.status import State
from linda.monitoring.checks import (
    Prober,
    claim_due,
    icmp_echo_request,
    icmp_not_permitted_message,
    icmp_permitted,
    run_forever,
    run_round,
)
from linda.monitoring.models import Channel, CheckKind, CheckTarget, Heartbeat, SiteState
from linda.monitoring.services import activate_monitoring
from linda.registry.models import Site
from tests.monitoring.conftest import new_site
from tests.monitoring.timeline import World

S = dt.timedelta(seconds=1)
ICMP_ALLOWED = icmp_permitted()


# --- real servers on loopback ---------------------------------------------------------------


class LoopThread:
    """An asyncio loop in a thread, serving TCP on 127.0.0.1 with a given handler."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.servers: list[asyncio.Server] = []
        self.writers: set[asyncio.StreamWriter] = set()
        self.accepted = 0

    def serve(self, *, answer: bool) -> int:
        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            self.accepted += 1
            self.writers.add(writer)
            try:
                if not answer:
                    await reader.read()  # never answers; waits for the client to hang up
            finally:
                writer.close()
                self.writers.discard(writer)

        async def start() -> asyncio.Server:
            return await asyncio.start_server(handle, "127.0.0.1", 0)

        server = asyncio.run_coroutine_threadsafe(start(), self.loop).result(5)
        self.servers.append(server)
        return int(server.sockets[0].getsockname()[1])

    def close(self) -> None:
        """Close the servers and every connection still open (a client's hang-up may not
        have reached the handler yet): a transport left open when the loop closes is
        reported as unclosed by the garbage collector, in whatever test runs then."""

        async def stop() -> None:
            for server in self.servers:
                server.close()
            for writer in list(self.writers):
                writer.close()
            current = asyncio.current_task()
            handlers = [t for t in asyncio.all_tasks() if t is not current]
            for task in handlers:
                task.cancel()
            await asyncio.gather(*handlers, return_exceptions=True)
            for server in self.servers:
                await server.wait_closed()
            await asyncio.sleep(0)  # closed transports release their sockets

        asyncio.run_coroutine_threadsafe(stop(), self.loop).result(5)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()


@pytest.fixture
def loop_thread() -> Iterator[LoopThread]:
    lt = LoopThread()
    yield lt
    lt.close()


class Handler(http.server.BaseHTTPRequestHandler):
    seen: list[dict[str, str]] = []

    def do_GET(self) -> None:
        Handler.seen.append({"path": self.path, "host": self.headers["Host"],
                             "agent": self.headers["User-Agent"]})
        status = 500 if self.path.startswith("/fail") else 200
        body = b"broken\n" if status == 500 else b"ok\n"
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def start_http(context: ssl.SSLContext | None = None) -> tuple[http.server.ThreadingHTTPServer, threading.Thread]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    if context is not None:
        server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    return server, thread


@pytest.fixture
def http_base() -> Iterator[str]:
    Handler.seen = []
    server, thread = start_http()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join(5)


@pytest.fixture
def tls_cert(tmp_path: Path) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=linda-test",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True)
    return cert, key


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A port bound but not listening: the kernel refuses connections to it."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield int(sock.getsockname()[1])


def target(site: Site, kind: str, **fields: Any) -> CheckTarget:
    return CheckTarget.objects.create(site=site, kind=kind, **fields)


def check_beats(site: Site) -> list[Heartbeat]:
    return list(Heartbeat.objects.filter(site=site))


# --- probes and what they record ------------------------------------------------------------


@pytest.mark.django_db
def test_tcp_success_is_a_live_check_heartbeat_with_rtt(loop_thread: LoopThread) -> None:
    site = new_site()
    port = loop_thread.serve(answer=True)
    t = target(site, CheckKind.TCP, host="127.0.0.1", port=port)
    before = timezone.now()

    [outcome] = run_round()

    assert outcome.ok and outcome.error == ""
    [beat] = check_beats(site)
    assert beat.channel == Channel.CHECK
    assert not beat.late and beat.device_at is None
    assert beat.rtt_ms is not None and 0 < beat.rtt_ms < 1000
    assert before <= beat.received_at <= timezone.now()
    assert SiteState.objects.get(site=site).state == State.UP.value
    t.refresh_from_db()
    assert (t.last_ok_at, t.last_checked_at, t.last_rtt_ms, t.last_error) == (
        beat.received_at, beat.received_at, beat.rtt_ms, "")
    assert loop_thread.accepted == 1


@pytest.mark.django_db
def test_http_200_is_success_and_500_is_a_failure_with_its_reason(http_base: str) -> None:
    good, bad = new_site("good"), new_site("bad")
    ok = target(good, CheckKind.HTTP, url=f"{http_base}/ok?x=1")
    fail = target(bad, CheckKind.HTTP, url=f"{http_base}/fail")

    outcomes = {o.probe.target_id: o for o in run_round()}

    assert outcomes[ok.pk].ok and outcomes[ok.pk].rtt_ms is not None
    assert not outcomes[fail.pk].ok
    assert [b.channel for b in check_beats(good)] == [Channel.CHECK]
    assert check_beats(bad) == []
    assert not SiteState.objects.filter(site=bad).exists()
    fail.refresh_from_db()
    assert fail.last_error == "HTTP 500 (expected 200)"
    assert fail.last_ok_at is None and fail.last_checked_at is not None
    port = http_base.rsplit(":", 1)[1]
    assert {"path": "/ok?x=1", "host": f"127.0.0.1:{port}", "agent": "linda-check/1"} in Handler.seen


@pytest.mark.django_db
@pytest.mark.parametrize(("expect_status", "path", "ok"), [
    (None, "/ok", True), (None, "/fail", False), (500, "/fail", True), (500, "/ok", False),
])
def test_http_expected_status(http_base: str, expect_status: int | None, path: str,
                              ok: bool) -> None:
    site = new_site()
    target(site, CheckKind.HTTP, url=f"{http_base}{path}", expect_status=expect_status)
    [outcome] = run_round()
    assert outcome.ok is ok
    assert len(check_beats(site)) == int(ok)


@pytest.mark.django_db
def test_refused_port_records_no_heartbeat_and_keeps_the_reason(closed_port: int) -> None:
    site = new_site()
    t = target(site, CheckKind.TCP, host="127.0.0.1", port=closed_port)
    [outcome] = run_round()
    assert not outcome.ok
    assert check_beats(site) == []
    t.refresh_from_db()
    assert t.last_error == "connection refused"
    assert t.last_rtt_ms is None and t.last_ok_at is None


@pytest.mark.django_db
def test_a_server_that_never_answers_times_out(loop_thread: LoopThread) -> None:
    site = new_site()
    port = loop_thread.serve(answer=False)
    t = target(site, CheckKind.HTTP, url=f"http://127.0.0.1:{port}/", timeout_ms=300)
    started = time.monotonic()
    [outcome] = run_round()
    assert time.monotonic() - started < 3
    assert (outcome.ok, outcome.error) == (False, "timeout after 300 ms")
    assert check_beats(site) == []
    t.refresh_from_db()
    assert t.last_error == "timeout after 300 ms"


@pytest.mark.django_db
def test_failure_after_success_keeps_the_last_success(loop_thread: LoopThread,
                                                      closed_port: int) -> None:
    site = new_site()
    port = loop_thread.serve(answer=True)
    t = target(site, CheckKind.TCP, host="127.0.0.1", port=port)
    run_round()
    t.refresh_from_db()
    first_ok = t.last_ok_at
    CheckTarget.objects.filter(pk=t.pk).update(port=closed_port)
    run_round()
    t.refresh_from_db()
    assert t.last_ok_at == first_ok is not None
    assert t.last_error == "connection refused"
    assert t.last_checked_at is not None and t.last_checked_at > first_ok
    assert len(check_beats(site)) == 1


@pytest.mark.django_db
def test_https_is_verified_with_the_default_trust_store(tls_cert: tuple[Path, Path]) -> None:
    cert, key = tls_cert
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(cert, key)
    server, thread = start_http(server_ctx)
    try:
        site = new_site()
        url = f"https://127.0.0.1:{server.server_address[1]}/ok"
        t = target(site, CheckKind.HTTP, url=url, timeout_ms=3000)

        [untrusted] = run_round()  # a self-signed certificate is not trusted by default
        assert not untrusted.ok
        assert untrusted.error == "TLS: self-signed certificate"
        assert check_beats(site) == []

        trusting = Prober(ssl_context=ssl.create_default_context(cafile=str(cert)))
        [trusted] = run_round(prober=trusting)
        assert trusted.ok, trusted.error
        assert len(check_beats(site)) == 1
        t.refresh_from_db()
        assert t.last_error == ""
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


# --- ICMP -----------------------------------------------------------------------------------


@pytest.mark.skipif(ICMP_ALLOWED, reason="this kernel allows unprivileged ICMP sockets")
@pytest.mark.django_db
def test_icmp_not_permitted_gives_a_clear_message() -> None:
    site = new_site()
    t = target(site, CheckKind.ICMP, host="127.0.0.1")
    message = icmp_not_permitted_message()
    current = " ".join(Path("/proc/sys/net/ipv4/ping_group_range").read_text().split())
    assert f"net.ipv4.ping_group_range ('{current}')" in message
    assert "sysctl -w net.ipv4.ping_group_range='0 2147483647'" in message
    assert len(message) <= 300

    err = StringIO()
    call_command("checks", "--once", stdout=StringIO(), stderr=err)

    assert message in err.getvalue()
    t.refresh_from_db()
    assert t.last_error == message
    assert check_beats(site) == []


@pytest.mark.skipif(not ICMP_ALLOWED, reason="this kernel forbids unprivileged ICMP sockets")
@pytest.mark.django_db
def test_icmp_ping_of_loopback() -> None:
    site = new_site()
    target(site, CheckKind.ICMP, host="127.0.0.1")
    [outcome] = run_round()
    assert outcome.ok, outcome.error
    assert check_beats(site)[0].rtt_ms == outcome.rtt_ms


def test_icmp_echo_request_has_a_valid_checksum() -> None:
    packet = icmp_echo_request(socket.AF_INET, 0x1234, b"linda-payload!!")
    assert packet[0] == 8 and packet[6:8] == b"\x12\x34"
    total = sum(int.from_bytes(packet[i:i + 2].ljust(2, b"\0"), "big")
                for i in range(0, len(packet), 2))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    assert total == 0xFFFF


# --- scheduling -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_claimed_target_is_not_due_again_until_its_interval_has_passed() -> None:
    site = new_site()
    now = timezone.now()
    t = target(site, CheckKind.TCP, host="127.0.0.1", port=9, interval_s=60)
    target(site, CheckKind.TCP, host="127.0.0.1", port=9, enabled=False)

    assert [p.target_id for p in claim_due(now=now)] == [t.pk]
    assert claim_due(now=now) == []  # a second process finds nothing to do
    assert claim_due(now=now + 59 * S) == []
    assert [p.target_id for p in claim_due(now=now + 60 * S)] == [t.pk]
    t.refresh_from_db()
    assert t.next_due_at == now + 120 * S


@pytest.mark.django_db(transaction=True)
def test_the_loop_probes_each_due_target_once_per_interval(loop_thread: LoopThread,
                                                            closed_port: int) -> None:
    up, down = new_site("up"), new_site("down")
    port = loop_thread.serve(answer=True)
    target(up, CheckKind.TCP, host="127.0.0.1", port=port, interval_s=60)
    target(down, CheckKind.TCP, host="127.0.0.1", port=closed_port, interval_s=60)
    seen: list[bool] = []

    async def main() -> None:
        stop = asyncio.Event()
        asyncio.get_running_loop().call_later(1.2, stop.set)
        await run_forever(stop=stop, tick_s=0.1,
                          on_outcomes=lambda batch: seen.extend(o.ok for o in batch))

    asyncio.run(main())

    assert sorted(seen) == [False, True]  # a dozen ticks, one probe each
    assert [b.channel for b in check_beats(up)] == [Channel.CHECK]
    assert check_beats(down) == []
    assert CheckTarget.objects.get(site=down).last_error == "connection refused"


@pytest.mark.django_db
def test_check_results_drive_the_status_engine(loop_thread: LoopThread) -> None:
    """A success is an observation like a pushed heartbeat; without further successes the
    monitor declares DOWN from one interval after the last one (DESIGN decision 3)."""
    site = new_site(expected_interval_s=60, grace_s=180)
    port = loop_thread.serve(answer=True)
    target(site, CheckKind.TCP, host="127.0.0.1", port=port)
    world = World(site, start=timezone.now() - 60 * S)
    world.run(until=timezone.now())

    run_round()
    ok_at = Heartbeat.objects.get(site=site).received_at
    assert world.state.state == State.UP.value

    world.run(until=ok_at + 300 * S)
    assert world.state.state == State.DOWN.value
    assert world.state.state_since == ok_at + 60 * S


@pytest.mark.django_db
def test_a_success_wakes_a_down_site_and_advances_an_up_one(loop_thread: LoopThread) -> None:
    """Both paths of marking a site live: a DOWN site flips to UP (a new version); an UP site
    only has its last live time advanced (same version)."""
    down, up = new_site("down"), new_site("up")
    past = timezone.now() - 600 * S
    for site, state in [(down, State.DOWN), (up, State.UP)]:
        activate_monitoring(site=site, at=past)
        SiteState.objects.filter(site=site).update(state=state.value, state_since=past,
                                                   last_live_at=past, version=3)
    port = loop_thread.serve(answer=True)
    for site in (down, up):
        target(site, CheckKind.TCP, host="127.0.0.1", port=port)
    prober = Prober(concurrency=1)

    run_round(prober=prober)

    beat_at = {b.site_id: b.received_at for b in Heartbeat.objects.all()}
    woken, advanced = SiteState.objects.get(site=down), SiteState.objects.get(site=up)
    assert (woken.state, woken.state_since, woken.last_live_at, woken.version) == (
        State.UP.value, beat_at[down.pk], beat_at[down.pk], 4)
    assert (advanced.state, advanced.state_since, advanced.last_live_at, advanced.version) == (
        State.UP.value, past, beat_at[up.pk], 3)

    run_round(prober=prober)  # the same prober serves another round (another event loop)
    assert Heartbeat.objects.count() == 4
    advanced.refresh_from_db()
    assert advanced.last_live_at == Heartbeat.objects.filter(site=up).latest("received_at").received_at


# --- command, model, admin ------------------------------------------------------------------


@pytest.mark.django_db
def test_checks_once_prints_a_table(http_base: str, closed_port: int) -> None:
    target(new_site("desa-a"), CheckKind.HTTP, url=f"{http_base}/ok")
    target(new_site("desa-b"), CheckKind.TCP, host="127.0.0.1", port=closed_port)
    out = StringIO()
    call_command("checks", "--once", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0].split() == ["target", "site", "kind", "address", "result", "rtt_ms", "error"]
    assert lines[1].split()[1:5] == ["desa-a", "http", f"{http_base}/ok", "ok"]
    assert lines[2].split()[1:] == ["desa-b", "tcp", f"127.0.0.1:{closed_port}", "FAIL",
                                    "connection", "refused"]
    assert lines[3].startswith("1 ok, 1 failed, 2 targets in ")


@pytest.mark.django_db
def test_a_check_needs_the_address_its_kind_uses() -> None:
    site = new_site()
    with pytest.raises(IntegrityError), transaction.atomic():
        target(site, CheckKind.TCP, host="127.0.0.1")  # no port
    with pytest.raises(IntegrityError), transaction.atomic():
        target(site, CheckKind.HTTP, host="127.0.0.1")  # no URL
    with pytest.raises(IntegrityError), transaction.atomic():
        target(site, CheckKind.ICMP, host="10.0.0.1", interval_s=10, timeout_ms=20_000)
    from django.core.exceptions import ValidationError
    with pytest.raises(ValidationError) as err:
        CheckTarget(site=site, kind=CheckKind.HTTP, url="ftp://x").full_clean()
    assert set(err.value.message_dict) == {"url"}


@pytest.mark.django_db
def test_admin_lists_and_adds_check_targets(admin_client: Any) -> None:
    site = new_site()
    target(site, CheckKind.TCP, host="127.0.0.1", port=22, last_error="connection refused")
    page = admin_client.get("/admin/monitoring/checktarget/")
    assert page.status_code == 200
    assert b"connection refused" in page.content
    response = admin_client.post("/admin/monitoring/checktarget/add/", {
        "site": site.pk, "kind": "http", "url": "https://desa.example.id/", "host": "",
        "expect_status": "200", "interval_s": "60", "timeout_ms": "5000", "enabled": "on",
    })
    assert response.status_code == 302, response.content[:2000]
    assert CheckTarget.objects.filter(kind="http", url="https://desa.example.id/").exists()

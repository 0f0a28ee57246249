"""Active checks: TCP connect, HTTP(S) GET and ICMP echo, asynchronous and bounded.

Two halves. The prober is plain asyncio with no Django: a `Probe` goes in, an `Outcome` comes
out, at most `concurrency` probes in flight at once. The scheduler adapts it to the database:
it claims due `CheckTarget` rows (a conditional claim, so several `linda checks` processes can
run at once), records each success as a heartbeat on channel `check` through
`record_heartbeat` — the same door as every other intake, so the status engine treats it as
any live observation — and keeps the last error on the target. A failure records no
heartbeat: as for pushed heartbeats, it is the absence of success that makes a site DOWN.

ICMP uses the kernel's unprivileged ICMP sockets (SOCK_DGRAM + IPPROTO_ICMP), never a raw
socket or a setuid `ping`; where net.ipv4.ping_group_range excludes the process, ICMP checks
fail with `icmp_not_permitted_message()`. See docs/checks.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import ssl
import struct
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from django.db import DatabaseError, connections, transaction
from django.db.models import Q
from django.utils import timezone

from linda.monitoring.models import (
    Channel,
    CheckKind,
    CheckTarget,
    Heartbeat,
    SiteState,
)
from linda.monitoring.payload import Reading
from linda.monitoring.services import heartbeat_row, mark_live

log = logging.getLogger("linda.checks")

DEFAULT_CONCURRENCY = 500
ERROR_MAX_LEN = 300  # CheckTarget.last_error
USER_AGENT = "linda-check/1"
PING_GROUP_RANGE = "/proc/sys/net/ipv4/ping_group_range"


# --- the prober (no Django) -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Probe:
    """One probe to run: what `CheckTarget` says, detached from the database."""

    target_id: int
    site_id: int
    kind: str
    host: str = ""
    port: int | None = None
    url: str = ""
    expect_status: int | None = 200
    timeout_s: float = 5.0
    was_ok: bool = True  # the previous result, to log only changes

    @property
    def address(self) -> str:
        if self.kind == CheckKind.HTTP:
            return self.url
        if self.kind == CheckKind.TCP:
            host = f"[{self.host}]" if ":" in self.host else self.host
            return f"{host}:{self.port}"
        return self.host


@dataclass(frozen=True, slots=True)
class Outcome:
    """A probe's result. `at` is the server's clock (UTC) when the answer came or the probe
    gave up; `rtt_ms` is measured with a monotonic clock (see docs/checks.md)."""

    probe: Probe
    ok: bool
    at: datetime
    rtt_ms: float | None = None
    error: str = ""


class ProbeFailed(Exception):
    """A probe got an answer that is not success (refused, wrong HTTP status, ...)."""


def icmp_not_permitted_message() -> str:
    """Why this process cannot ping, and how to allow it (at most ERROR_MAX_LEN characters)."""
    try:
        with open(PING_GROUP_RANGE, encoding="ascii") as file:
            current = " ".join(file.read().split())
    except OSError:
        current = "unavailable"
    return (
        f"ICMP ping not permitted: the kernel allows unprivileged ICMP sockets only to groups "
        f"in net.ipv4.ping_group_range ('{current}'), which excludes gid {os.getgid()}. "
        f"Allow it: sysctl -w net.ipv4.ping_group_range='0 2147483647'. Linda uses no raw "
        f"socket or setuid ping; use tcp or http meanwhile."
    )


def icmp_permitted(family: int = socket.AF_INET) -> bool:
    """Whether this process may open an unprivileged ICMP socket (asks the kernel)."""
    proto = socket.IPPROTO_ICMPV6 if family == socket.AF_INET6 else socket.IPPROTO_ICMP
    try:
        socket.socket(family, socket.SOCK_DGRAM, proto).close()
    except PermissionError:
        return False
    except OSError:  # e.g. no IPv6 here: not a permission problem
        return True
    return True


def describe(err: BaseException) -> str:
    """A short, operator-readable reason for a failed probe."""
    if isinstance(err, ssl.SSLCertVerificationError):
        return f"TLS: {err.verify_message or err.reason}"
    if isinstance(err, ssl.SSLError):
        return f"TLS: {err.reason or err}"
    if isinstance(err, socket.gaierror):
        return f"DNS: {err.strerror}"
    if isinstance(err, ConnectionRefusedError):
        return "connection refused"
    if isinstance(err, ConnectionResetError):
        return "connection reset"
    if isinstance(err, OSError) and err.strerror:
        return err.strerror.lower()
    return str(err) or type(err).__name__


def _elapsed_ms(start: float) -> float:
    return round((time.perf_counter() - start) * 1000, 3)


TCP_INFO_RTT_OFFSET = 68  # struct tcp_info: 8 one-byte fields, then tcpi_rtt is the 16th u32


def kernel_rtt_ms(writer: asyncio.StreamWriter) -> float | None:
    """The kernel's round-trip estimate for a fresh connection: the SYN → SYN-ACK time, measured
    by the kernel and so free of this process's scheduling delays (Linux TCP_INFO)."""
    sock = writer.get_extra_info("socket")
    tcp_info = getattr(socket, "TCP_INFO", None)
    if sock is None or tcp_info is None:
        return None
    try:
        info = sock.getsockopt(socket.IPPROTO_TCP, tcp_info, 104)
    except OSError:
        return None
    if len(info) < TCP_INFO_RTT_OFFSET + 4:
        return None
    rtt_us: int = struct.unpack_from("I", info, TCP_INFO_RTT_OFFSET)[0]
    return rtt_us / 1000 if rtt_us > 0 else None


async def tcp_connect(host: str, port: int) -> float:
    """The round-trip time of a TCP handshake with host:port, in milliseconds (the kernel's
    figure where it gives one, else the wall time to connect); the connection is then closed."""
    start = time.perf_counter()
    _reader, writer = await asyncio.open_connection(host, port)
    elapsed_ms = _elapsed_ms(start)
    rtt_ms = kernel_rtt_ms(writer) or elapsed_ms
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return rtt_ms


def _http_request(url: str) -> tuple[bool, str, int, bytes]:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ProbeFailed(f"not an http(s) URL: {url[:80]}")
    tls = parts.scheme == "https"
    port = parts.port or (443 if tls else 80)
    host = parts.hostname
    authority = f"[{host}]" if ":" in host else host
    if parts.port is not None:
        authority += f":{parts.port}"
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    request = (
        f"GET {target} HTTP/1.1\r\nHost: {authority}\r\nUser-Agent: {USER_AGENT}\r\n"
        f"Accept: */*\r\nConnection: close\r\n\r\n"
    ).encode("ascii", "strict")
    return tls, host, port, request


async def http_get(url: str, expect_status: int | None, ssl_context: ssl.SSLContext) -> float:
    """GET `url`; success is the expected status, or any status below 400. Returns the network
    round-trip time in milliseconds, as `tcp_connect` measures it (else, where the kernel
    gives no figure, the wall time from connecting to the status line)."""
    tls, host, port, request = _http_request(url)
    start = time.perf_counter()
    reader, writer = await asyncio.open_connection(
        host, port, ssl=ssl_context if tls else None, server_hostname=host if tls else None
    )
    network_rtt_ms = kernel_rtt_ms(writer)
    try:
        writer.write(request)
        line = await reader.readline()
    finally:
        # A probe needs no orderly shutdown (a TLS close_notify could wait 30 s).
        writer.transport.abort()
    rtt_ms = _elapsed_ms(start)
    fields = line.split(None, 2)
    if len(fields) < 2 or not fields[0].startswith(b"HTTP/") or not fields[1].isdigit():
        raise ProbeFailed("no HTTP response" if not line else "not an HTTP response")
    status = int(fields[1])
    if (expect_status is None and status < 400) or status == expect_status:
        return network_rtt_ms or rtt_ms
    expected = "below 400" if expect_status is None else str(expect_status)
    raise ProbeFailed(f"HTTP {status} (expected {expected})")


# (request, reply) types by address family
ICMP_ECHO: dict[int, tuple[int, int]] = {socket.AF_INET: (8, 0), socket.AF_INET6: (128, 129)}


def _icmp_checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total: int = sum(struct.unpack(f"!{len(data) // 2}H", data))
    total = (total >> 16) + (total & 0xFFFF)
    total += total >> 16
    return ~total & 0xFFFF


def icmp_echo_request(family: int, seq: int, payload: bytes) -> bytes:
    """An echo request; the kernel replaces the identifier with the ping socket's own."""
    kind = ICMP_ECHO[family][0]
    header = struct.pack("!BBHHH", kind, 0, 0, 0, seq)
    return struct.pack("!BBHHH", kind, 0, _icmp_checksum(header + payload), 0, seq) + payload


SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35 if sys.platform == "linux" else None)


async def _recv_stamped(sock: socket.socket) -> tuple[bytes, float | None]:
    """One datagram and the kernel's receive time (CLOCK_REALTIME seconds), if it gave one."""
    loop = asyncio.get_running_loop()
    got: asyncio.Future[tuple[bytes, float | None]] = loop.create_future()

    def readable() -> None:
        if got.done():
            return
        try:
            data, ancillary, _flags, _addr = sock.recvmsg(2048, socket.CMSG_SPACE(16))
        except (BlockingIOError, InterruptedError):
            return
        except OSError as err:
            got.set_exception(err)
            return
        stamp = None
        for level, kind, value in ancillary:
            if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS and len(value) >= 16:
                seconds, nanoseconds = struct.unpack_from("qq", value)
                stamp = seconds + nanoseconds / 1e9
        got.set_result((data, stamp))

    loop.add_reader(sock.fileno(), readable)
    try:
        return await got
    finally:
        loop.remove_reader(sock.fileno())


async def icmp_ping(host: str) -> float:
    """Round-trip time in milliseconds of one ICMP echo to host (IPv4 or IPv6) over an
    unprivileged socket: from just before the send to the kernel's receive timestamp of the
    reply, so a busy process does not lengthen it."""
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, None, type=socket.SOCK_DGRAM)
    family, _type, _proto, _name, sockaddr = infos[0]
    if family not in ICMP_ECHO:
        raise ProbeFailed(f"unsupported address family for {host}")
    proto = socket.IPPROTO_ICMPV6 if family == socket.AF_INET6 else socket.IPPROTO_ICMP
    try:
        sock = socket.socket(family, socket.SOCK_DGRAM, proto)
    except PermissionError:
        raise ProbeFailed(icmp_not_permitted_message()) from None
    with sock:
        sock.setblocking(False)
        if SO_TIMESTAMPNS is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        seq = int.from_bytes(os.urandom(2), "big")
        payload = os.urandom(16)
        packet = icmp_echo_request(family, seq, payload)
        sent_at, start = time.time(), time.perf_counter()
        try:
            sock.sendto(packet, sockaddr)
        except (BlockingIOError, InterruptedError):
            sent_at, start = time.time(), time.perf_counter()
            await loop.sock_sendto(sock, packet, sockaddr)
        while True:  # the kernel delivers only replies to this socket's identifier
            data, received_at = await _recv_stamped(sock)
            if (len(data) >= 8 + len(payload) and data[0] == ICMP_ECHO[family][1]
                    and struct.unpack_from("!H", data, 6)[0] == seq
                    and data[8:8 + len(payload)] == payload):
                if received_at is not None and received_at >= sent_at:
                    return round((received_at - sent_at) * 1000, 3)
                return _elapsed_ms(start)


class Prober:
    """Runs probes with at most `concurrency` in flight; each probe is bounded by its own
    timeout, counted from when it starts (not while it waits for a slot)."""

    def __init__(self, *, concurrency: int = DEFAULT_CONCURRENCY,
                 ssl_context: ssl.SSLContext | None = None) -> None:
        self.concurrency = concurrency
        self.ssl_context = ssl_context or ssl.create_default_context()
        self._slots: tuple[asyncio.AbstractEventLoop, asyncio.Semaphore] | None = None

    async def run(self, probe: Probe) -> Outcome:
        loop = asyncio.get_running_loop()
        if self._slots is None or self._slots[0] is not loop:  # one bound per event loop
            self._slots = (loop, asyncio.Semaphore(self.concurrency))
        async with self._slots[1]:
            try:
                async with asyncio.timeout(probe.timeout_s):
                    rtt_ms = await self._probe(probe)
            except TimeoutError:
                error = f"timeout after {round(probe.timeout_s * 1000)} ms"
            except (ProbeFailed, OSError, UnicodeError) as err:
                error = describe(err)
            except Exception as err:  # a probe never brings the loop down
                log.exception("check %s failed unexpectedly", probe.target_id)
                error = f"{type(err).__name__}: {err}"
            else:
                return Outcome(probe, True, datetime.now(UTC), rtt_ms)
        return Outcome(probe, False, datetime.now(UTC), None, error[:ERROR_MAX_LEN])

    async def run_all(self, probes: Iterable[Probe]) -> list[Outcome]:
        return list(await asyncio.gather(*(self.run(probe) for probe in probes)))

    async def _probe(self, probe: Probe) -> float:
        if probe.kind == CheckKind.TCP:
            if probe.port is None:
                raise ProbeFailed("no port")
            return await tcp_connect(probe.host, probe.port)
        if probe.kind == CheckKind.HTTP:
            return await http_get(probe.url, probe.expect_status, self.ssl_context)
        if probe.kind == CheckKind.ICMP:
            return await icmp_ping(probe.host)
        raise ProbeFailed(f"unknown check kind {probe.kind!r}")


# --- the scheduler (Django) -----------------------------------------------------------------


def probe_for(target: CheckTarget) -> Probe:
    return Probe(
        target_id=target.pk, site_id=target.site_id, kind=target.kind, host=target.host,
        port=target.port, url=target.url, expect_status=target.expect_status,
        timeout_s=target.timeout_ms / 1000,
        was_ok=target.last_checked_at is None or not target.last_error,
    )


def claim_due(*, now: datetime, everything: bool = False, limit: int = 10_000) -> list[Probe]:
    """Claim the enabled targets due at `now` (all enabled ones if `everything`) by moving
    their `next_due_at` one interval ahead, and return them as probes.

    The rows are locked while claimed (SKIP LOCKED on PostgreSQL, an IMMEDIATE transaction
    on SQLite), so two processes never claim the same target for the same round.
    """
    due = CheckTarget.objects.filter(enabled=True)
    if not everything:
        due = due.filter(Q(next_due_at__isnull=True) | Q(next_due_at__lte=now))
    with transaction.atomic():
        targets = list(due.order_by("next_due_at", "pk").select_for_update(skip_locked=True)
                       [:limit])
        by_interval: dict[int, list[int]] = {}
        for target in targets:
            by_interval.setdefault(target.interval_s, []).append(target.pk)
        for interval_s, pks in by_interval.items():
            for start in range(0, len(pks), 500):
                CheckTarget.objects.filter(pk__in=pks[start:start + 500]).update(
                    next_due_at=now + timedelta(seconds=interval_s))
    return [probe_for(target) for target in targets]


def _sql(template: str) -> str:
    return template.format(target=CheckTarget._meta.db_table)


_TARGET_OK_SQL = _sql(
    "UPDATE {target} SET last_checked_at = %s, last_ok_at = %s, last_rtt_ms = %s,"
    " last_error = '' WHERE id = %s")
_TARGET_FAILED_SQL = _sql(
    "UPDATE {target} SET last_checked_at = %s, last_error = %s WHERE id = %s")


def record_outcomes(outcomes: Sequence[Outcome]) -> None:
    """Store a round's results in one transaction (a group commit).

    Each success becomes a live heartbeat on channel `check`, received at the probe's answer
    time with its rtt_ms, exactly the row `record_heartbeat` would store (built by the same
    `heartbeat_row`; a check reading has no sequence number and no device time, so it is never
    a duplicate and never late). The site is then marked live (`services.mark_live`, at its
    latest answer of the round). Every target gets its check time, and its error or RTT.
    """
    if not outcomes:
        return
    ok = [o for o in outcomes if o.ok]
    latest: dict[int, datetime] = {}
    for outcome in ok:
        site_id = outcome.probe.site_id
        latest[site_id] = max(latest.get(site_id, outcome.at), outcome.at)
    with transaction.atomic():
        Heartbeat.objects.bulk_create(
            [heartbeat_row(o.probe.site_id, Reading(rtt_ms=o.rtt_ms), received_at=o.at,
                           late=False, channel=Channel.CHECK) for o in ok],
            batch_size=500)
        connection = connections[SiteState.objects.db]
        db_time = connection.ops.adapt_datetimefield_value
        for site_id, at in latest.items():
            mark_live(site_id=site_id, at=at)
        with connection.cursor() as cursor:
            cursor.executemany(_TARGET_OK_SQL, [
                [db_time(o.at), db_time(o.at), o.rtt_ms, o.probe.target_id] for o in ok])
            cursor.executemany(_TARGET_FAILED_SQL, [
                [db_time(o.at), o.error, o.probe.target_id] for o in outcomes if not o.ok])
    for outcome in outcomes:
        probe = outcome.probe
        if outcome.ok != probe.was_ok:
            log.log(logging.INFO if outcome.ok else logging.WARNING,
                    "check %d (site %d, %s %s): %s", probe.target_id, probe.site_id, probe.kind,
                    probe.address, "ok again" if outcome.ok else outcome.error)


def run_round(*, prober: Prober | None = None, everything: bool = True,
              now: datetime | None = None) -> list[Outcome]:
    """One synchronous round (for `linda checks --once` and tests): claim, probe, record."""
    probes = claim_due(now=now or timezone.now(), everything=everything)
    outcomes = asyncio.run((prober or Prober()).run_all(probes))
    record_outcomes(outcomes)
    return outcomes


async def run_forever(*, stop: asyncio.Event, prober: Prober | None = None,
                      tick_s: float = 1.0,
                      on_outcomes: Callable[[Sequence[Outcome]], None] | None = None) -> None:
    """Every `tick_s`: claim the due targets and start their probes without waiting for the
    previous ones; store finished results. Returns after `stop` is set and in-flight probes
    (bounded by their timeouts) are stored.

    The ORM runs in one dedicated thread, never in the event loop's.
    """
    prober = prober or Prober()
    loop = asyncio.get_running_loop()
    db = ThreadPoolExecutor(max_workers=1, thread_name_prefix="linda-checks-db")
    finished: list[Outcome] = []
    in_flight: set[asyncio.Task[Outcome]] = set()

    def done(task: asyncio.Task[Outcome]) -> None:
        in_flight.discard(task)
        if not task.cancelled():
            finished.append(task.result())

    async def in_db(func: Callable[[], object]) -> object:
        try:
            return await loop.run_in_executor(db, func)
        except DatabaseError:
            log.exception("checks: database error; retrying")
            await loop.run_in_executor(db, connections.close_all)
            return None

    async def flush() -> None:
        batch = finished[:]
        finished.clear()
        if batch:
            await in_db(lambda: record_outcomes(batch))
            if on_outcomes is not None:
                on_outcomes(batch)

    try:
        while not stop.is_set():
            started = loop.time()
            probes = await in_db(lambda: claim_due(now=timezone.now()))
            for probe in probes if isinstance(probes, list) else []:
                task = asyncio.create_task(prober.run(probe))
                in_flight.add(task)
                task.add_done_callback(done)
            await flush()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), max(0.0, tick_s - (loop.time() - started)))
        if in_flight:
            await asyncio.wait(set(in_flight))
        await flush()
    finally:
        await loop.run_in_executor(db, connections.close_all)
        db.shutdown(wait=True)

"""The lean intake for PostgreSQL at scale: `/hb/<key>` and `/api/v1/heartbeats` on plain
asyncio, with group commit (decision 7: "a group commit that holds the response until its
batch is committed").

Same format, same validation (`payload`, `intake.prepare_json`), same answers and the same
rows as the Django views; what differs is the cost per heartbeat:

- a minimal HTTP/1.1 server (keep-alive, Content-Length bodies) instead of WSGI + middleware;
- site keys held in memory per process, refreshed from the database every
  LINDA_HB_KEY_CACHE_S (new keys and revocations take effect within that time; an unknown
  key costs no query);
- one writer connection per process: requests queue their readings, the writer stores
  everything queued in one transaction (one INSERT … SELECT FROM unnest … ON CONFLICT DO
  NOTHING, one upsert of the sites' live state, both ordered by site so concurrent writers
  never deadlock), commits, and only then are the waiting requests answered.

PostgreSQL only; run it with `linda intake-server` next to the web app, behind the same
reverse proxy (docs/devices.md, "Running the intake").
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any, cast
from urllib.parse import parse_qsl

import psycopg
from django.conf import settings

from linda.monitoring.intake import (
    IngestResult,
    Prepared,
    decode_json,
    failure,
    prepare_json,
    skew,
)
from linda.monitoring.models import Channel
from linda.monitoring.payload import FieldError, Reading, parse_query
from linda.monitoring.ratelimit import TokenBucket
from linda.monitoring.services import (
    HB_COLUMNS,
    KEY_PATTERN,
    LIVE_STATE_UPSERT,
    BatchResult,
    KeyRejected,
    hash_key,
    heartbeat_values,
    is_late,
    tally,
)

log = logging.getLogger("linda.intake")

MAX_HEAD_BYTES = 16 * 1024
MAX_GROUP = 5000  # readings per commit


# --- keys -----------------------------------------------------------------------------------


class KeyTable:
    """Every site key's hash → (site id, revoked), kept current by `refresh`."""

    def __init__(self) -> None:
        self.keys: dict[str, tuple[int, bool]] = {}
        self.max_id = 0
        self.checked_at: datetime | None = None

    async def refresh(self, conn: psycopg.AsyncConnection[Any]) -> None:
        """New keys and recent revocations; everything again if a row went missing (keys
        are revoked, never deleted, in the app, but a deleted one must stop working too)."""
        since = self.checked_at
        started = datetime.now(UTC)
        rows = await (await conn.execute(
            "SELECT id, key_hash, site_id, revoked_at IS NOT NULL FROM monitoring_sitekey "
            "WHERE id > %s OR (%s::timestamptz IS NOT NULL AND revoked_at >= %s::timestamptz "
            "- interval '1 minute')",
            (self.max_id, since, since),
        )).fetchall()
        self._add(rows)
        counted = await (await conn.execute("SELECT count(*) FROM monitoring_sitekey")).fetchone()
        if counted is not None and counted[0] != len(self.keys):
            everything = await (await conn.execute(
                "SELECT id, key_hash, site_id, revoked_at IS NOT NULL FROM monitoring_sitekey"
            )).fetchall()
            self.keys = {}
            self._add(everything)
        self.checked_at = started

    def _add(self, rows: list[tuple[Any, ...]]) -> None:
        for key_id, digest, site_id, revoked in rows:
            self.keys[digest] = (site_id, revoked)
            self.max_id = max(self.max_id, key_id)

    def site_of(self, key: str) -> int:
        if not KEY_PATTERN.match(key):
            raise KeyRejected(401, "unknown key")
        entry = self.keys.get(hash_key(key))
        if entry is None:
            raise KeyRejected(401, "unknown key")
        if entry[1]:
            raise KeyRejected(403, "revoked key")
        return entry[0]


# --- group commit ---------------------------------------------------------------------------


@dataclass
class Job:
    site_id: int
    readings: Sequence[Reading]
    received_at: datetime
    channel: str
    done: asyncio.Future[BatchResult]
    late: list[bool] = field(default_factory=list)


_COLUMNS = ", ".join(HB_COLUMNS)
# Readings are streamed into a per-connection staging table with COPY (rows are formatted
# by psycopg's C code), then moved in one statement that skips duplicates, in site order so
# concurrent writers never deadlock. Binding 19 arrays instead costs several times more CPU.
_STAGE = """
CREATE TEMPORARY TABLE IF NOT EXISTS hb_stage (
    site_id bigint, received_at timestamptz, device_at timestamptz, channel text, late bool,
    seq bigint, uptime_s bigint, supply_voltage_v float8, battery_voltage_v float8,
    battery_soc_pct float8, power_source text, lvd bool, temperature_c float8,
    cpu_load_pct float8, wan jsonb, hotspot_users int, dhcp_leases int, rtt_ms float8,
    loss_pct float8
) ON COMMIT DELETE ROWS
"""
_COPY = f"COPY hb_stage ({_COLUMNS}) FROM STDIN"
_INSERT = f"""
INSERT INTO monitoring_heartbeat ({_COLUMNS})
SELECT {_COLUMNS} FROM hb_stage ORDER BY site_id, seq
ON CONFLICT DO NOTHING
RETURNING site_id, seq
"""

_MARK_LIVE = f"""
INSERT INTO monitoring_sitestate (site_id, activated_at, last_live_at, state, state_since,
                                  version)
SELECT u.site_id, u.at, u.at, 'up', u.at, 0
FROM unnest(%s::bigint[], %s::timestamptz[]) AS u(site_id, at)
ORDER BY u.site_id
{LIVE_STATE_UPSERT}"""


def _rows(jobs: Sequence[Job]) -> list[tuple[Any, ...]]:
    import json

    return [
        heartbeat_values(job.site_id, job.received_at, reading.device_at, job.channel, late,
                         reading, None if reading.wan is None else json.dumps(reading.wan))
        for job in jobs
        for reading, late in zip(job.readings, job.late, strict=True)
    ]


class GroupCommitter:
    """Stores queued readings in shared transactions; each submitter waits for its commit."""

    def __init__(self, conninfo: str) -> None:
        self.conninfo = conninfo
        self.queue: deque[Job] = deque()
        self.wake = asyncio.Event()
        self.conn: psycopg.AsyncConnection[Any] | None = None
        self.commits = 0

    async def submit(self, site_id: int, readings: Sequence[Reading], received_at: datetime,
                     channel: str) -> BatchResult:
        job = Job(site_id, readings, received_at, channel,
                  asyncio.get_running_loop().create_future())
        job.late = [is_late(r, received_at) for r in readings]
        self.queue.append(job)
        self.wake.set()
        return await job.done

    async def run(self) -> None:
        while True:
            await self.wake.wait()
            self.wake.clear()
            while self.queue:
                group, count = [], 0
                while self.queue and count < MAX_GROUP:
                    job = self.queue.popleft()
                    group.append(job)
                    count += len(job.readings)
                await self._commit(group)

    async def _connection(self) -> psycopg.AsyncConnection[Any]:
        if self.conn is None or self.conn.closed:
            self.conn = await psycopg.AsyncConnection.connect(self.conninfo)
            async with self.conn.transaction():
                await self.conn.execute(_STAGE)
        return self.conn

    async def _commit(self, group: list[Job]) -> None:
        try:
            conn = await self._connection()
            async with conn.transaction():
                async with conn.cursor() as cur:
                    async with cur.copy(_COPY) as copy:
                        for row in _rows(group):
                            await copy.write_row(row)
                    returned = await (await cur.execute(_INSERT, prepare=True)).fetchall()
                stored = {(site_id, seq) for site_id, seq in returned}
                results, live = self._tally(group, stored)
                if live:
                    sites = sorted(live)
                    await conn.execute(_MARK_LIVE, (sites, [live[s] for s in sites]),
                                       prepare=True)
        except (psycopg.Error, OSError) as exc:
            log.error("group commit of %d requests failed: %s", len(group), exc)
            if self.conn is not None:
                await self.conn.close()
            self.conn = None
            for job in group:
                if not job.done.done():
                    job.done.set_exception(exc)
            return
        self.commits += 1
        for job, result in zip(group, results, strict=True):
            if not job.done.done():
                job.done.set_result(result)

    @staticmethod
    def _tally(group: list[Job], stored: set[tuple[int, int | None]]
               ) -> tuple[list[BatchResult], dict[int, datetime]]:
        stored_by_site: dict[int, set[int]] = {}
        for site_id, seq in stored:
            if seq is not None:
                stored_by_site.setdefault(site_id, set()).add(seq)
        results: list[BatchResult] = []
        live: dict[int, datetime] = {}
        for job in group:
            result = tally(job.readings, job.late, stored_by_site.get(job.site_id, set()))
            if result.live:
                live[job.site_id] = max(live.get(job.site_id, job.received_at), job.received_at)
            results.append(result)
        return results, live


# --- HTTP -----------------------------------------------------------------------------------


@dataclass
class Request:
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes
    keep_alive: bool


@dataclass
class Response:
    status: int
    body: bytes
    content_type: str = "application/json"
    headers: tuple[tuple[str, str], ...] = ()


def _json(result: IngestResult, *headers: tuple[str, str]) -> Response:
    import json

    return Response(result.status, json.dumps(result.body()).encode(), headers=headers)


OK = Response(200, b"OK\n", "text/plain")


class Intake:
    """The request handler: the same rules as `linda.monitoring.views`."""

    def __init__(self, conninfo: str) -> None:
        self.conninfo = conninfo
        self.keys = KeyTable()
        self.committer = GroupCommitter(conninfo)
        self.by_address = TokenBucket(settings.LINDA_HB_ADDR_RATE_PER_MIN,
                                      settings.LINDA_HB_ADDR_BURST)
        self.by_key = TokenBucket(settings.LINDA_HB_KEY_RATE_PER_MIN, settings.LINDA_HB_KEY_BURST)
        self.max_body = settings.LINDA_HB_MAX_BODY_BYTES
        self.tasks: list[asyncio.Task[None]] = []
        self.key_conn: psycopg.AsyncConnection[Any] | None = None

    async def start(self) -> None:
        self.key_conn = await psycopg.AsyncConnection.connect(self.conninfo, autocommit=True)
        await self.keys.refresh(self.key_conn)
        self.tasks = [asyncio.create_task(self.committer.run()),
                      asyncio.create_task(self._refresh_keys())]

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        for conn in (self.key_conn, self.committer.conn):
            if conn is not None and not conn.closed:
                await conn.close()

    async def _refresh_keys(self) -> None:
        period = max(1, settings.LINDA_HB_KEY_CACHE_S)
        while True:
            await asyncio.sleep(period)
            conn = self.key_conn
            try:
                if conn is None or conn.closed:
                    conn = self.key_conn = await psycopg.AsyncConnection.connect(
                        self.conninfo, autocommit=True)
                await self.keys.refresh(conn)
            except (psycopg.Error, OSError) as exc:
                log.error("key refresh failed: %s", exc)
                if conn is not None:
                    await conn.close()

    def _limited(self, bucket: TokenBucket, name: str, field_name: str) -> Response | None:
        wait = bucket.take(name)
        if not wait:
            return None
        seconds = str(math.ceil(wait))
        return _json(failure(429, field_name, f"rate limit: retry in {seconds} s"),
                     ("Retry-After", seconds))

    async def handle(self, request: Request, address: str) -> Response:
        is_hb = request.path.startswith("/hb/")
        if not is_hb and request.path != "/api/v1/heartbeats":
            return Response(404, b'{"error": "not found"}')
        allowed = ("GET", "HEAD", "POST") if is_hb else ("POST",)
        if request.method not in allowed:
            return Response(405, b"", "text/plain", (("Allow", ", ".join(allowed)),))
        limited = self._limited(self.by_address, address, "address")
        if limited:
            return limited
        if is_hb:
            key = request.path[4:].rstrip("/")
        else:
            scheme, _, key = request.headers.get("authorization", "").partition(" ")
            key = key.strip()
            if scheme.lower() != "bearer" or not key:
                return _json(failure(401, "Authorization",
                                     "expected 'Authorization: Bearer <site key>'"))
        try:
            site_id = self.keys.site_of(key)
        except KeyRejected as exc:
            return _json(failure(exc.status, "key", exc.reason))
        limited = self._limited(self.by_key, str(site_id), "key")
        if limited:
            return limited
        if len(request.body) > self.max_body:
            return _json(failure(413, "body", f"body larger than {self.max_body} bytes"))
        now = datetime.now(UTC)
        content_type = request.headers.get("content-type", "").split(";")[0].strip()
        if not is_hb or (request.method == "POST" and content_type == "application/json"):
            try:
                prepared = prepare_json(decode_json(request.body), now=now)
            except FieldError as exc:
                prepared = failure(400, exc.field, exc.reason)
            if isinstance(prepared, IngestResult):
                return _json(prepared)
            result = await self._store(site_id, prepared, now,
                                       Channel.HB if is_hb else Channel.API)
            return OK if is_hb and result.ok else _json(result)
        params = dict(parse_qsl(request.query, keep_blank_values=True))
        if request.method == "POST" and content_type == "application/x-www-form-urlencoded":
            params.update(parse_qsl(request.body.decode("latin-1"), keep_blank_values=True))
        try:
            reading = parse_query(params, now=now, skew=skew())
        except FieldError as exc:
            return _json(failure(422, exc.field, exc.reason))
        result = await self._store(site_id, Prepared([reading], [], []), now, Channel.HB)
        return OK if result.ok else _json(result)

    async def _store(self, site_id: int, prepared: Prepared, now: datetime,
                     channel: Channel) -> IngestResult:
        if not prepared.readings:
            return prepared.finish(BatchResult())
        try:
            stored = await self.committer.submit(site_id, prepared.readings, now, channel)
        except (psycopg.Error, OSError):
            return failure(503, "database", "not stored: the database is unavailable; retry")
        return prepared.finish(stored)


class HttpProtocol(asyncio.Protocol):
    """HTTP/1.1 with keep-alive and Content-Length bodies; requests answered in order."""

    def __init__(self, intake: Intake) -> None:
        self.intake = intake
        self.buffer = b""
        self.transport: asyncio.Transport | None = None
        self.task: asyncio.Task[None] | None = None
        self.address = ""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is no subclass of it
        peer = transport.get_extra_info("peername")
        self.address = peer[0] if peer else ""

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if self.task is None or self.task.done():
            self.task = asyncio.get_running_loop().create_task(self._serve())

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None

    def _next_request(self) -> Request | Response | None:
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return Response(431, b"") if len(self.buffer) > MAX_HEAD_BYTES else None
        lines = self.buffer[:end].decode("latin-1").split("\r\n")
        try:
            method, target, version = lines[0].split(" ")
        except ValueError:
            return Response(400, b'{"error": "bad request line"}')
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if "chunked" in headers.get("transfer-encoding", "").lower():
            return Response(411, b'{"error": "send a Content-Length body"}')
        try:
            length = int(headers.get("content-length") or 0)
        except ValueError:
            return Response(400, b'{"error": "bad Content-Length"}')
        if length > self.intake.max_body:
            limit = self.intake.max_body
            return _json(failure(413, "body", f"body larger than {limit} bytes"))
        if len(self.buffer) < end + 4 + length:
            return None
        body = self.buffer[end + 4:end + 4 + length]
        self.buffer = self.buffer[end + 4 + length:]
        connection = headers.get("connection", "").lower()
        keep = connection != "close" if version == "HTTP/1.1" else connection == "keep-alive"
        path, _, query = target.partition("?")
        return Request(method, path, query, headers, body, keep)

    async def _serve(self) -> None:
        while self.transport is not None:
            request = self._next_request()
            if request is None:
                return
            if isinstance(request, Response):  # unusable request: answer and close
                self._write(request, keep_alive=False)
                return
            try:
                response = await self.intake.handle(request, self.address)
            except Exception:  # pragma: no cover - a bug must not kill the server
                log.exception("intake handler failed")
                response = Response(500, b'{"error": "internal error"}')
            self._write(response, keep_alive=request.keep_alive,
                        head=request.method == "HEAD")
            if not request.keep_alive:
                return

    def _write(self, response: Response, *, keep_alive: bool, head: bool = False) -> None:
        if self.transport is None:
            return
        reason = HTTPStatus(response.status).phrase
        lines = [f"HTTP/1.1 {response.status} {reason}",
                 f"Content-Type: {response.content_type}",
                 f"Content-Length: {len(response.body)}"]
        lines += [f"{k}: {v}" for k, v in response.headers]
        if not keep_alive:
            lines.append("Connection: close")
        self.transport.write(("\r\n".join(lines) + "\r\n\r\n").encode()
                             + (b"" if head else response.body))
        if not keep_alive:
            self.transport.close()
            self.transport = None


def conninfo_from_settings() -> str:
    """A libpq connection string for Django's default database (its test name in tests)."""
    from django.db import connection

    cfg = connection.settings_dict
    if cfg["ENGINE"] != "django.db.backends.postgresql":
        raise RuntimeError("the fast intake needs PostgreSQL (DATABASE_URL=postgres://…)")
    parts = {"dbname": cfg["NAME"], "user": cfg.get("USER"), "password": cfg.get("PASSWORD"),
             "host": cfg.get("HOST"), "port": cfg.get("PORT")}
    return psycopg.conninfo.make_conninfo(**{k: str(v) for k, v in parts.items() if v})


async def serve(sock: Any, conninfo: str, stop: asyncio.Event) -> Intake:
    """Serve on an already bound socket until `stop` is set."""
    intake = Intake(conninfo)
    await intake.start()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: HttpProtocol(intake), sock=sock, backlog=4096)
    log.info("fast intake serving (%d keys)", len(intake.keys.keys))
    started = time.monotonic()
    try:
        await stop.wait()
    finally:
        server.close()
        await intake.close()
        log.info("fast intake stopped after %.0f s, %d commits", time.monotonic() - started,
                 intake.committer.commits)
    return intake


"""How simulated routers reach the server: the real interfaces only, no back door.

`Devices` is what runs on each router: it decides what to send when a beat is measured and
keeps the beats it could not deliver (store-and-forward), as the style of the site says
(`linda.simulate.fleet`: a bare `/tool fetch`, the RouterOS script, a Linux agent, MQTT).
The senders speak the heartbeat format v1 (docs/devices.md): `HttpSender` over HTTP(S),
`MqttSender` to a broker, and `HistoryWriter` into the JSON-lines file of
`linda import-observations` for the past.
"""

from __future__ import annotations

import contextlib
import enum
import gzip
import http.client
import json
import logging
import math
import socket
import threading
import time
import urllib.parse
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

import numpy as np

from linda.simulate.fleet import AGENT, FETCH, MQTT, QUEUE_LIMIT, SCRIPT, Fleet
from linda.simulate.telemetry import Measurements, import_lines, json_reading, query_params

log = logging.getLogger("linda.simulate")
Row = dict[str, Any]
MAX_ITEMS_PER_REQUEST = 500  # keeps a batch well under the server's 256 KiB body limit


class Outcome(enum.Enum):
    DELIVERED = "delivered"  # stored (2xx), or refused for good (keep nothing)
    RETRY = "retry"  # nothing stored: no connection, 5xx, 429
    DROPPED = "dropped"  # refused for good (4xx other than 429): the device drops it


@dataclass(slots=True)
class Send:
    site: int
    code: str
    style: str
    rows: list[Row]  # oldest first; the last one is the beat just measured


@dataclass
class Result:
    outcome: Outcome
    unsent: list[Row] = field(default_factory=list)  # for RETRY: what is still to go
    status: int = 0


@dataclass
class Stats:
    measured: int = 0
    sends: int = 0
    delivered_beats: int = 0
    retries: int = 0
    dropped_beats: int = 0
    lost_beats: int = 0  # measured but never sent: a queue overflowed, or no queue at all
    queued_beats: int = 0  # delivered from a queue (store-and-forward)

    def line(self) -> str:
        return (f"measured {self.measured}, sent {self.sends} requests, delivered "
                f"{self.delivered_beats} beats ({self.queued_beats} from queues), retries "
                f"{self.retries}, dropped {self.dropped_beats}, lost {self.lost_beats}")


class Devices:
    """Every simulated router's outgoing queue. Thread-safe: the senders report back from
    their worker threads."""

    def __init__(self, fleet: Fleet) -> None:
        self.fleet = fleet
        self.queues: dict[int, list[Row]] = {}
        self.in_flight: set[int] = set()
        self.stats = Stats()
        self._lock = threading.Lock()

    def _keep(self, site: int, rows: list[Row]) -> None:
        limit = QUEUE_LIMIT[self.fleet.styles[site]]
        if len(rows) > limit:
            self.stats.lost_beats += len(rows) - limit
            rows = rows[len(rows) - limit:] if limit else []
        if rows:
            self.queues[site] = rows
        else:
            self.queues.pop(site, None)

    def beat(self, row: Row) -> Send | None:
        """A beat was measured: what to send now (None: queued, or lost)."""
        site = row["site"]
        with self._lock:
            self.stats.measured += 1
            if site in self.in_flight or not row["link"]:
                # A router with no link gets no answer either: the beat waits in its queue.
                self._keep(site, [*self.queues.get(site, []), row])
                return None
            rows = [*self.queues.pop(site, []), row]
            self.in_flight.add(site)
            self.stats.sends += 1
        return Send(site, self.fleet.codes[site], self.fleet.styles[site], rows)

    def absorb(self, beats: Measurements) -> None:
        """The past, where every delivery succeeded: each beat measured with the link up
        reached the server with whatever its router held; what a router holds afterwards is
        what it measured since (kept for the live fleet to send)."""
        with self._lock:
            self.stats.measured += len(beats)
            ok = beats.link
            last_ok: dict[int, float] = {}
            for site, t in zip(beats.site[ok].tolist(), beats.t[ok].tolist(), strict=True):
                last_ok[site] = t
            for site in last_ok:
                self.queues.pop(site, None)
            down = beats.select(~ok)
            for row in down.rows():
                if row["t"] > last_ok.get(row["site"], -math.inf):
                    self._keep(row["site"], [*self.queues.get(row["site"], []), row])

    def done(self, send: Send, result: Result) -> None:
        with self._lock:
            self.in_flight.discard(send.site)
            unsent = (result.unsent or send.rows) if result.outcome is Outcome.RETRY else []
            delivered = len(send.rows) - len(unsent)
            if unsent:
                self.stats.retries += 1
                self._keep(send.site, [*unsent, *self.queues.get(send.site, [])])
            if result.outcome is Outcome.DROPPED:
                self.stats.dropped_beats += delivered
            else:
                self.stats.delivered_beats += delivered
                self.stats.queued_beats += delivered - (1 if delivered and not unsent else 0)

    def queued(self) -> int:
        with self._lock:
            return sum(len(q) for q in self.queues.values())


def _pieces(rows: list[Row]) -> list[list[Row]]:
    return [rows[i:i + MAX_ITEMS_PER_REQUEST] for i in range(0, len(rows),
                                                            MAX_ITEMS_PER_REQUEST)]


def _body(rows: list[Row], *, now: float, style: str) -> dict[str, Any]:
    """The JSON body: the RouterOS script sends `age_s` (no clock), an agent `device_at`."""
    if style == SCRIPT:
        items = [json_reading(r, age_s=now - r["t"]) for r in rows]
    else:
        items = [json_reading(r) for r in rows]
    if len(items) == 1 and style != SCRIPT:
        return {"v": 1, **items[0]}
    return {"v": 1, "heartbeats": items}


def _outcome(status: int) -> Outcome:
    if 200 <= status < 300 or status == 422:  # 422: the valid items are stored
        return Outcome.DELIVERED
    if status == 429 or status >= 500:
        return Outcome.RETRY
    return Outcome.DROPPED


class HttpSender:
    """Heartbeats over HTTP(S) to a running server. A fetch and the RouterOS script open a
    connection per request (what `/tool fetch` does); an agent keeps its connection."""

    def __init__(self, base_url: str, keys: dict[str, str], *, timeout_s: float = 15.0,
                 clock: Callable[[], float] = time.time) -> None:
        url = urllib.parse.urlsplit(base_url)
        if url.scheme not in ("http", "https") or not url.hostname:
            raise ValueError(f"not an http(s) URL: {base_url!r}")
        self.https = url.scheme == "https"
        self.host = url.hostname
        self.port = url.port or (443 if self.https else 80)
        self.prefix = url.path.rstrip("/")
        self.keys = keys
        self.timeout_s = timeout_s
        self.clock = clock
        self._local = threading.local()
        self._warned: set[str] = set()
        self._kept: set[http.client.HTTPConnection] = set()  # keep-alive, one per worker
        self._lock = threading.Lock()

    def _connection(self) -> http.client.HTTPConnection:
        cls = http.client.HTTPSConnection if self.https else http.client.HTTPConnection
        return cls(self.host, self.port, timeout=self.timeout_s)

    def _request(self, method: str, path: str, body: bytes | None, headers: dict[str, str],
                 *, keep_alive: bool) -> int:
        kept: http.client.HTTPConnection | None = getattr(self._local, "conn", None)
        reused = keep_alive and kept is not None
        conn = kept if reused and kept is not None else self._connection()
        try:
            conn.request(method, self.prefix + path, body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            status = response.status
        except (OSError, http.client.HTTPException):
            conn.close()
            self._local.conn = None
            with self._lock:
                self._kept.discard(conn)
            if reused:  # the server closed an idle connection: once more on a new one
                return self._request(method, path, body, headers, keep_alive=keep_alive)
            raise
        if keep_alive and not response.will_close:
            self._local.conn = conn
            with self._lock:
                self._kept.add(conn)
        else:
            conn.close()
            if keep_alive:
                self._local.conn = None
        return status

    def close(self) -> None:
        """Close the workers' kept connections (call when the workers are done)."""
        with self._lock:
            for conn in self._kept:
                conn.close()
            self._kept.clear()

    def send(self, send: Send) -> Result:
        key = self.keys[send.code]
        try:
            if send.style == FETCH:
                query = urllib.parse.urlencode(query_params(send.rows[-1]))
                status = self._request("GET", f"/hb/{key}?{query}", None,
                                       {"Connection": "close"}, keep_alive=False)
                return Result(_outcome(status), status=status)
            headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
            keep_alive = send.style == AGENT
            if not keep_alive:
                headers["Connection"] = "close"
            pieces = _pieces(send.rows)
            status = 0
            for i, piece in enumerate(pieces):
                body = json.dumps(_body(piece, now=self.clock(), style=send.style)).encode()
                status = self._request("POST", "/api/v1/heartbeats", body, headers,
                                       keep_alive=keep_alive)
                outcome = _outcome(status)
                if outcome is Outcome.RETRY:
                    rest = [r for p in pieces[i:] for r in p]
                    return Result(outcome, rest, status)
                self._warn(send.code, status)
            return Result(_outcome(status), status=status)
        except (OSError, http.client.HTTPException) as exc:
            self._warn(send.code, 0, str(exc))
            return Result(Outcome.RETRY, [], 0)

    def _warn(self, code: str, status: int, reason: str = "") -> None:
        if 200 <= status < 300 or status == 422:
            return
        marker = f"{code}:{status}"
        if marker not in self._warned:
            self._warned.add(marker)
            log.warning("site %s: server answered %s %s", code, status or "nothing", reason)


def broker_reachable(host: str, port: int, timeout_s: float = 1.0) -> bool:
    try:
        socket.create_connection((host, port), timeout=timeout_s).close()
    except OSError:
        return False
    return True


class MqttSender:
    """Publishes to linda/<site-code>/hb at QoS 1 (the payload carries the site key); a beat
    counts as delivered once the broker has acknowledged it."""

    def __init__(self, host: str, port: int, keys: dict[str, str], *, username: str = "",
                 password: str = "", client_id: str = "linda-simulator",
                 timeout_s: float = 10.0) -> None:
        import paho.mqtt.client as paho
        from paho.mqtt.enums import CallbackAPIVersion

        self.keys = keys
        self.timeout_s = timeout_s
        self.client = paho.Client(callback_api_version=CallbackAPIVersion.VERSION2,
                                  client_id=client_id, protocol=paho.MQTTv311)
        if username:
            self.client.username_pw_set(username, password or None)
        self.client.connect_async(host, port, keepalive=30)
        self.client.loop_start()

    def send(self, send: Send) -> Result:
        pieces = _pieces(send.rows)
        for i, piece in enumerate(pieces):
            body = {**_body(piece, now=time.time(), style=MQTT), "key": self.keys[send.code]}
            info = self.client.publish(f"linda/{send.code}/hb", json.dumps(body), qos=1)
            with contextlib.suppress(RuntimeError, ValueError):
                info.wait_for_publish(timeout=self.timeout_s)
            if not info.is_published():
                return Result(Outcome.RETRY, [r for p in pieces[i:] for r in p])
        return Result(Outcome.DELIVERED)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


# --- the past: the historical import's file format -------------------------------------------


@dataclass
class Segment:
    """One file for `linda import-observations`: one site's beats in [start, until)."""

    code: str
    path: Path
    start: datetime
    until: datetime
    lines: int = 0


WIB = timedelta(hours=7)


def _next_local_midnight(t: float) -> float:
    day = 86400.0
    return (int((t + WIB.total_seconds()) // day) + 1) * day - WIB.total_seconds()


class HistoryWriter:
    """Writes what reached the server live as import lines (JSON lines, one heartbeat each:
    `at` is the server receive time, `device_at` the measurement). Beats a router delivered
    late from its queue are left out: the import format cannot mark them late.

    Each site's history is cut into about daily files so the newest days can be imported
    first; a cut is made only at a heartbeat that followed the previous one within
    interval + grace, where starting the status engine afresh gives exactly the intervals
    of one computation over the whole stretch."""

    def __init__(self, directory: Path, fleet: Fleet, *, start: float,
                 sites: Sequence[int] | None = None, compress: bool = True) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.directory = directory
        self.compress = compress  # gzip: a month of the demo is ~550 MB of plain text
        self.fleet = fleet
        self.start = start
        self._sites = np.array(range(fleet.n) if sites is None else sites, dtype=np.int64)
        self._limit = (fleet.interval_s + fleet.grace_s).tolist()
        self.segments: list[Segment] = []
        self._open: dict[int, tuple[Segment, IO[str]]] = {}
        self._boundary: dict[int, float] = {}
        self._last_live: dict[int, float] = {}

    def _begin(self, site: int, at: float) -> tuple[Segment, IO[str]]:
        code = self.fleet.codes[site]
        n = sum(1 for s in self.segments if s.code == code)
        path = self.directory / f"{code}.{n:03d}.jsonl{'.gz' if self.compress else ''}"
        segment = Segment(code, path, datetime.fromtimestamp(at, UTC),
                          datetime.fromtimestamp(at, UTC))
        self.segments.append(segment)
        handle: IO[str] = (gzip.open(path, "wt", encoding="utf-8", compresslevel=1)  # noqa: SIM115 (open across sends)
                           if self.compress else path.open("w", encoding="utf-8"))
        self._open[site] = (segment, handle)
        self._boundary[site] = _next_local_midnight(at)
        return segment, handle

    def write(self, beats: Measurements) -> None:
        """Write the beats that reached the server live (measured with the link up). A
        queued beat is left out: the import has no way to mark it late, and stored as live,
        its old uptime would read as a reboot."""
        keep = beats.link & np.isin(beats.site, self._sites)
        live = beats.select(keep)
        if not len(live):
            return
        lines = import_lines(live, self.fleet.codes)
        for site, at, line in zip(live.site.tolist(), live.recv.tolist(), lines, strict=True):
            if site not in self._open:
                self._begin(site, self.start)
            last = self._last_live.get(site)
            if at >= self._boundary[site] and last is not None and \
                    at - last <= self._limit[site]:
                self._finish(site, at)
                self._begin(site, at)
            segment, handle = self._open[site]
            handle.write(line)
            segment.lines += 1
            self._last_live[site] = at

    def _finish(self, site: int, until: float) -> None:
        segment, handle = self._open.pop(site)
        handle.close()
        segment.until = datetime.fromtimestamp(until, UTC)

    def close(self, until: float) -> list[Segment]:
        for site in list(self._open):
            self._finish(site, until)
        return [s for s in self.segments if s.until > s.start]

"""Heartbeat intake benchmark: prints figures, is not a test.

    .venv/bin/python bench/ingest.py [--duration 60] [--sites 20000] [--server fast|gunicorn]

Creates a fresh PostgreSQL database (`linda_bench` on PG_URL's server), migrates it, makes
the sites and their keys, starts the intake server the way docs/devices.md ("Running the
intake") says, and drives it over real HTTP on loopback in two modes:

- keep-alive: CONNECTIONS persistent connections, each posting one JSON heartbeat per
  request to /api/v1/heartbeats (an agent or proxy);
- new connection per heartbeat: `GET /hb/<key>?seq=…` with `Connection: close`, what
  MikroTik's /tool fetch does.

Per mode it prints accepted heartbeats/s, p50/p99 latency, server CPU ms per heartbeat
(all CPU the machine spent minus the load generator's own, so it includes PostgreSQL), and
how many acknowledged heartbeats are missing from the database (must be 0). The load
generator is one process on asyncio streams over uvloop's event loop, sharing the machine's
cores with the server.

`--server fast` (the default) is `linda intake-server`, what docs/devices.md ("Running the
intake") runs in production for a large fleet; `--server gunicorn` is the web app's Django
views under gunicorn, what `make demo` runs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import uvloop

REPO = Path(__file__).resolve().parent.parent
PY = sys.executable


@dataclass
class Result:
    mode: str
    ok: int = 0
    failed: int = 0
    latencies: list[float] = field(default_factory=list)
    acked: list[tuple[int, int]] = field(default_factory=list)  # (site index, seq)
    wall_s: float = 0.0
    cpu_server_s: float = 0.0
    cpu_machine_s: float = 0.0
    cpu_client_s: float = 0.0
    missing: int = -1


def machine_busy_s() -> float:
    """Busy CPU seconds of the whole machine since boot (/proc/stat)."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    ticks = [int(x) for x in fields]
    idle = ticks[3] + ticks[4]
    return (sum(ticks[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def _proc_cpu_s(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            if ppid == pid:
                out.append(int(entry.name))
    return out


def server_cpu_s(server_pid: int, db_url: str) -> float:
    """CPU seconds used so far by the server's processes and by PostgreSQL's backends
    serving the benchmark database (the machine may be running other work meanwhile)."""
    import psycopg

    pids = [server_pid, *_children(server_pid)]
    with psycopg.connect(db_url, autocommit=True) as conn:
        backends = [r[0] for r in conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid()").fetchall()]
    return sum(_proc_cpu_s(p) for p in pids + backends)


def client_cpu_s() -> float:
    t = os.times()
    return t.user + t.system


def env_for(db_url: str, extra: dict[str, str]) -> dict[str, str]:
    env = dict(os.environ)
    env.update({"DATABASE_URL": db_url, "DJANGO_SETTINGS_MODULE": "config.settings",
                "LINDA_LOG_LEVEL": "WARNING", **extra})
    return env


def prepare_database(admin_url: str, db_url: str, sites: int) -> list[str]:
    """Fresh database, migrated, with `sites` sites and one key each; returns the keys."""
    import psycopg

    name = urlsplit(db_url).path.lstrip("/")
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    env = env_for(db_url, {})
    subprocess.run([PY, "-m", "linda", "migrate", "-v", "0"], cwd=REPO, env=env, check=True)
    script = f"""
import hashlib, secrets
from django.utils import timezone
from linda.registry.models import Region, RegionLevel, Site
from linda.monitoring.models import SiteKey
R, L = Region.objects, RegionLevel
p = R.create(code="62", level=L.PROVINCE, name="Kalimantan Tengah")
r = R.create(code="62.05", level=L.REGENCY, name="Barito Utara", parent=p)
k = R.create(code="62.05.05", level=L.DISTRICT, name="Teweh Tengah", parent=r)
v = R.create(code="62.05.05.2011", level=L.DESA, name="Lemo II", parent=k)
sites = Site.objects.bulk_create([Site(code=f"bench-{{i}}", village=v) for i in range({sites})])
keys = [secrets.token_urlsafe(24) for _ in sites]
now = timezone.now()
SiteKey.objects.bulk_create([SiteKey(site=s, key_hash=hashlib.sha256(k.encode()).hexdigest(),
                             prefix=k[:6], created_at=now) for s, k in zip(sites, keys)])
print("\\n".join(keys))
"""
    out = subprocess.run([PY, "-m", "linda", "shell", "-c", script], cwd=REPO, env=env,
                         check=True, capture_output=True, text=True).stdout
    return [line for line in out.splitlines() if len(line) == 32]


def start_server(kind: str, port: int, db_url: str, workers: int) -> subprocess.Popen[bytes]:
    # Realistic per-site limits cannot hold when a few thousand simulated sites each send
    # several heartbeats a second, so the per-key bucket is off for the benchmark.
    env = env_for(db_url, {"LINDA_HB_KEY_RATE_PER_MIN": "0", "LINDA_HB_ADDR_RATE_PER_MIN": "0"})
    if kind == "gunicorn":
        argv = [PY, "-m", "gunicorn", "config.wsgi", "--bind", f"127.0.0.1:{port}",
                "--workers", str(workers), "--threads", "4", "--backlog", "4096"]
    elif kind == "fast":
        argv = [PY, "-m", "linda", "intake_server", "--port", str(port),
                "--workers", str(workers)]
    else:
        raise SystemExit(f"unknown server {kind!r}")
    proc = subprocess.Popen(argv, cwd=REPO, env=env, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc
        except OSError:
            if proc.poll() is not None:
                message = proc.stderr.read().decode() if proc.stderr else "server died"
                raise SystemExit(message) from None
            time.sleep(0.2)
    raise SystemExit("server did not start")


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)


async def read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n"):
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    if length:
        await reader.readexactly(length)
    return status


class Load:
    def __init__(self, keys: list[str], port: int, result: Result, stop_at: float) -> None:
        self.keys = keys
        self.port = port
        self.result = result
        self.stop_at = stop_at
        self.seq = 0

    def next_beat(self) -> tuple[int, int]:
        self.seq += 1
        return random.randrange(len(self.keys)), self.seq

    def api_request(self, site: int, seq: int) -> bytes:
        body = json.dumps({"v": 1, "seq": seq, "uptime_s": seq % 10**6, "rtt_ms": 640,
                           "loss_pct": 0, "battery_voltage_v": 12.8}).encode()
        return (b"POST /api/v1/heartbeats HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                b"Authorization: Bearer " + self.keys[site].encode() + b"\r\n"
                b"Content-Type: application/json\r\nContent-Length: "
                + str(len(body)).encode() + b"\r\n\r\n" + body)

    def hb_request(self, site: int, seq: int) -> bytes:
        query = f"seq={seq}&uptime={seq % 10**6}&rtt=640&loss=0"
        return (f"GET /hb/{self.keys[site]}?{query} HTTP/1.1\r\n"
                "Host: 127.0.0.1\r\nConnection: close\r\n\r\n").encode()

    async def keepalive_worker(self) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        try:
            while time.monotonic() < self.stop_at:
                site, seq = self.next_beat()
                started = time.perf_counter()
                writer.write(self.api_request(site, seq))
                status = await read_response(reader)
                self.record(status, started, site, seq)
        finally:
            writer.close()

    async def close_worker(self) -> None:
        while time.monotonic() < self.stop_at:
            site, seq = self.next_beat()
            started = time.perf_counter()
            try:
                reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
                writer.write(self.hb_request(site, seq))
                status = await read_response(reader)
                writer.close()
            except (OSError, asyncio.IncompleteReadError):
                status = 0
            self.record(status, started, site, seq)

    def record(self, status: int, started: float, site: int, seq: int) -> None:
        if status == 200:
            self.result.ok += 1
            self.result.latencies.append(time.perf_counter() - started)
            self.result.acked.append((site, seq))
        else:
            self.result.failed += 1


async def drive(mode: str, keys: list[str], port: int, duration: float,
                connections: int, seq_base: int, cpu: Any = lambda: 0.0) -> Result:
    result = Result(mode)
    load = Load(keys, port, result, time.monotonic() + duration)
    load.seq = seq_base
    worker = load.keepalive_worker if mode == "keep-alive" else load.close_worker
    cpu0, machine0, client0, t0 = cpu(), machine_busy_s(), client_cpu_s(), time.monotonic()
    await asyncio.gather(*(worker() for _ in range(connections)))
    result.wall_s = time.monotonic() - t0
    result.cpu_server_s = cpu() - cpu0
    result.cpu_machine_s = machine_busy_s() - machine0
    result.cpu_client_s = client_cpu_s() - client0
    return result


def count_missing(db_url: str, keys: list[str], acked: list[tuple[int, int]]) -> int:
    import psycopg

    with psycopg.connect(db_url) as conn:
        ids = dict(conn.execute(
            "SELECT k.key_hash, k.site_id FROM monitoring_sitekey k").fetchall())
        import hashlib

        site_ids = [ids[hashlib.sha256(k.encode()).hexdigest()] for k in keys]
        conn.execute("CREATE TEMP TABLE acked (site_id bigint, seq bigint)")
        with conn.cursor().copy("COPY acked (site_id, seq) FROM STDIN") as copy:
            for site, seq in acked:
                copy.write_row((site_ids[site], seq))
        row = conn.execute(
            "SELECT count(*) FROM acked a LEFT JOIN monitoring_heartbeat h "
            "ON h.site_id = a.site_id AND h.seq = a.seq WHERE h.id IS NULL").fetchone()
        return int(row[0]) if row else -1


def report(result: Result) -> None:
    lat = sorted(result.latencies)
    p50 = statistics.median(lat) * 1000 if lat else float("nan")
    p99 = lat[int(len(lat) * 0.99) - 1] * 1000 if lat else float("nan")
    rate = result.ok / result.wall_s if result.wall_s else 0
    cpu_ms = result.cpu_server_s * 1000 / result.ok if result.ok else float("nan")
    others = result.cpu_machine_s - result.cpu_server_s - result.cpu_client_s
    print(f"{result.mode:>14}: {rate:8.0f} heartbeats/s accepted  p50 {p50:6.1f} ms  "
          f"p99 {p99:6.1f} ms  server+PostgreSQL CPU {cpu_ms:5.2f} ms/heartbeat  "
          f"failed {result.failed}  acknowledged but missing {result.missing}\n"
          f"{'':>16}CPU seconds in {result.wall_s:.0f} s: server+PostgreSQL "
          f"{result.cpu_server_s:.1f}, load generator {result.cpu_client_s:.1f}, "
          f"everything else on the machine {max(0.0, others):.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg", default=os.environ.get(
        "PG_URL", "postgres://postgres@127.0.0.1:5432/postgres"), help="maintenance database")
    parser.add_argument("--db", default="linda_bench")
    parser.add_argument("--duration", type=float, default=60)
    parser.add_argument("--sites", type=int, default=20000)
    parser.add_argument("--server", default="fast", choices=["gunicorn", "fast"])
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--port", type=int, default=8799)
    parser.add_argument("--modes", default="keep-alive,new-connection")
    args = parser.parse_args()

    parts = urlsplit(args.pg)
    db_url = parts._replace(path=f"/{args.db}").geturl()
    print(f"preparing {args.sites} sites in {db_url} ...", flush=True)
    keys = prepare_database(args.pg, db_url, args.sites)
    print(f"server: {args.server}, {args.workers} workers, on {os.cpu_count()} cores; "
          f"{args.connections} client connections; {args.duration:.0f} s per mode", flush=True)
    server = start_server(args.server, args.port, db_url, args.workers)
    try:
        # Warm up: every worker loads the application and opens its database connections.
        uvloop.run(drive("keep-alive", keys, args.port, 5, args.connections, seq_base=1))
        for n, mode in enumerate(args.modes.split(",")):
            result = uvloop.run(drive(mode, keys, args.port, args.duration,
                                       args.connections, seq_base=(n + 1) * 10**12,
                                       cpu=lambda: server_cpu_s(server.pid, db_url)))
            result.missing = count_missing(db_url, keys, result.acked)
            report(result)
    finally:
        stop_server(server)


if __name__ == "__main__":
    main()

"""Active-check throughput: prints figures, is not a test.

    .venv/bin/python bench/checks.py [--targets 2000] [--kind tcp|http] [--concurrency 500]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/linda_bench .venv/bin/python bench/checks.py

Starts a listener process with one asyncio server per target on 127.0.0.1 (each accepts,
answers an HTTP request with 200, and hangs up), then measures two things:

1. the prober alone: one round of `--targets` probes through `linda.monitoring.checks.Prober`
   with at most `--concurrency` in flight (no database);
2. full rounds as `linda checks` runs them: claim the due targets, probe them, record each
   success as a heartbeat and every result on its target (`record_outcomes`), in a scratch
   database (a temporary SQLite file unless DATABASE_URL is set; created and dropped by the
   script). The first round also starts monitoring every site (a state row each); the second,
   a minute later, is the steady state.

Prints, per part, wall time, targets per minute, the prober's CPU time, p50/p99 RTT and
the failures (expected 0). The listener process shares the machine's cores.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

from scratch import scratch_database  # bench/scratch.py

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


# --- the listener process -------------------------------------------------------------------


async def _serve(n: int) -> None:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError, OSError):
            pass  # a TCP probe hangs up right after connecting
        writer.close()

    servers = [await asyncio.start_server(handle, "127.0.0.1", 0, backlog=1024)
               for _ in range(n)]
    print(json.dumps([s.sockets[0].getsockname()[1] for s in servers]), flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)  # until EOF


def start_listeners(n: int) -> tuple[subprocess.Popen[str], list[int]]:
    proc = subprocess.Popen([sys.executable, __file__, "--serve", str(n)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    return proc, json.loads(proc.stdout.readline())


# --- measuring ------------------------------------------------------------------------------


def report(title: str, wall_s: float, cpu_s: float, outcomes: list, extra: str = "") -> None:
    rtts = sorted(o.rtt_ms for o in outcomes if o.ok)
    failed = [o.error for o in outcomes if not o.ok]
    print(f"{title}: {len(outcomes)} targets in {wall_s:.2f} s = "
          f"{len(outcomes) / wall_s * 60:,.0f} targets/minute; "
          f"CPU {cpu_s:.2f} s ({cpu_s / max(1, len(outcomes)) * 1000:.2f} ms/target){extra}")
    if rtts:
        p99 = rtts[min(len(rtts) - 1, int(len(rtts) * 0.99))]
        print(f"  rtt_ms p50 {statistics.median(rtts):.3f}, p99 {p99:.3f}, max {rtts[-1]:.3f}")
    print(f"  failures: {len(failed)}" + (f" (first: {failed[0]})" if failed else ""))


def bench_prober(ports: list[int], kind: str, concurrency: int) -> None:
    from linda.monitoring.checks import Probe, Prober

    probes = [Probe(target_id=i, site_id=i, kind=kind, host="127.0.0.1", port=port,
                    url=f"http://127.0.0.1:{port}/", timeout_s=5.0)
              for i, port in enumerate(ports)]
    prober = Prober(concurrency=concurrency)
    wall, cpu = time.perf_counter(), time.process_time()
    outcomes = asyncio.run(prober.run_all(probes))
    report(f"prober only ({kind}, {concurrency} in flight)", time.perf_counter() - wall,
           time.process_time() - cpu, outcomes)


def bench_round(ports: list[int], kind: str, concurrency: int) -> None:
    from django.db import connection
    from django.utils import timezone

    from linda.monitoring.checks import Prober, claim_due, record_outcomes
    from linda.monitoring.models import CheckTarget, Heartbeat
    from linda.registry.models import Region, RegionLevel, Site

    prov = Region.objects.create(code="62", level=RegionLevel.PROVINCE, name="Kalteng")
    reg = Region.objects.create(code="62.05", level=RegionLevel.REGENCY, name="Barut",
                                parent=prov)
    kec = Region.objects.create(code="62.05.05", level=RegionLevel.DISTRICT, name="Teweh",
                                parent=reg)
    village = Region.objects.create(code="62.05.05.2011", level=RegionLevel.DESA,
                                    name="Lemo II", parent=kec)
    sites = Site.objects.bulk_create(
        [Site(code=f"site-{i:05d}", village=village) for i in range(len(ports))])
    CheckTarget.objects.bulk_create([
        CheckTarget(site=site, kind=kind, host="127.0.0.1", port=port,
                    url=f"http://127.0.0.1:{port}/")
        for site, port in zip(sites, ports, strict=True)
    ])
    prober = Prober(concurrency=concurrency)
    now = timezone.now()
    for title, at in [("first round (every site starts being monitored)", now),
                      ("steady round (sites already UP)", now + timedelta(minutes=1))]:
        wall, cpu = time.perf_counter(), time.process_time()
        probes = claim_due(now=at)
        claimed = time.perf_counter()
        outcomes = asyncio.run(prober.run_all(probes))
        probed = time.perf_counter()
        record_outcomes(outcomes)
        done = time.perf_counter()
        report(f"{title} on {connection.vendor} ({kind}, {concurrency} in flight)",
               done - wall, time.process_time() - cpu, outcomes,
               f"\n  claim {claimed - wall:.2f} s, probe {probed - claimed:.2f} s, "
               f"record {done - probed:.2f} s")
    print(f"  heartbeats stored: {Heartbeat.objects.filter(channel='check').count()}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--targets", type=int, default=2000)
    parser.add_argument("--kind", choices=["tcp", "http"], default="tcp")
    parser.add_argument("--concurrency", type=int, default=500)
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        asyncio.run(_serve(args.serve))
        return

    proc, ports = start_listeners(args.targets)
    try:
        with scratch_database("linda_bench_checks"):
            print(f"{len(ports)} loopback listeners; {os.cpu_count()} CPUs")
            bench_prober(ports, args.kind, args.concurrency)
            bench_round(ports, args.kind, args.concurrency)
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
        proc.wait(10)


if __name__ == "__main__":
    main()

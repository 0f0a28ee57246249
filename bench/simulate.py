"""How many sites one simulator process can drive: CPU per 1,000 simulated sites.

    .venv/bin/python bench/simulate.py                    # 100,000 sites, 30 simulated minutes
    .venv/bin/python bench/simulate.py --sites 10000 --minutes 60

Builds a synthetic fleet over Kalimantan Tengah (40 % PLN 24 h, 30 % PLN at night with solar
and battery, 25 % off-grid solar, 5 % undersized off-grid), then runs the twin the way
`linda simulate --live` does (steps of 30 s, every beat handed to its router's queue and
encoded as the request it would send: `/hb/<key>?…` or a JSON body), without the network.
It prints the CPU time per simulated minute and per 1,000 sites, and how many sites one core
keeps up with in real time. No database, no server: the ingest side is bench/ingest.py.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import sys
import time
import urllib.parse
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

from linda.simulate.clients import Devices, Outcome, Result, _body
from linda.simulate.engine import Twin
from linda.simulate.fleet import FETCH, SCRIPT, Fleet, SiteSpec, pick_style, stable_fraction
from linda.simulate.telemetry import query_params

NIGHT = tuple(h >= 18 or h < 6 for h in range(24))
DELIVERED = Result(Outcome.DELIVERED)


def synthetic_fleet(n: int, seed: int) -> Fleet:
    specs = []
    for i in range(n):
        code = f"bench-{i:06d}"
        x = stable_fraction("mix", seed, i)
        lat = -3.0 + 4.0 * stable_fraction("lat", seed, i)
        lon = 111.0 + 5.0 * stable_fraction("lon", seed, i)
        spec = SiteSpec(code=code, latitude=lat, longitude=lon, vendor=f"v{i % 5}",
                        feeder=f"f{i // 20}", style=pick_style(code, seed, mqtt=False),
                        users_peak=12 + 33 * stable_fraction("users", code))
        if 0.40 <= x < 0.70:
            spec = replace(spec, power_profile="pln_partial", grid_hours=NIGHT, pv_wp=900,
                           battery_wh=4800)
        elif x >= 0.70:
            small = x >= 0.95
            spec = replace(spec, power_profile="off_grid", grid_hours=(False,) * 24,
                           pv_wp=400 if small else 900, battery_wh=1200 if small else 4800)
        specs.append(spec)
    return Fleet(specs, cell_deg=1.0)


def encode(send_rows: list[dict[str, object]], style: str, now: float) -> bytes:
    if style == FETCH:
        return urllib.parse.urlencode(query_params(send_rows[-1])).encode()
    return json.dumps(_body(send_rows, now=now, style=style)).encode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=100_000)
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--step", type=float, default=30.0, help="seconds per step")
    parser.add_argument("--seed", type=int, default=6205)
    args = parser.parse_args()

    t0 = time.process_time()
    fleet = synthetic_fleet(args.sites, args.seed)
    start = dt.datetime(2025, 1, 15, 10, tzinfo=dt.UTC).timestamp()  # 17:00 WIB, wet season
    twin = Twin(fleet, seed=args.seed, start=start)
    setup_s = time.process_time() - t0
    # The first hour of a run pays for every cell's weather year (pvlib) and the warm-up;
    # measure after one hour has been simulated.
    while twin.t < start + 3600:
        twin.advance(twin.t + args.step)
    devices = Devices(fleet)

    sim_s = args.minutes * 60.0
    engine_cpu = encode_cpu = 0.0
    beats = sends = nbytes = 0
    wall0 = time.perf_counter()
    faults = 0
    while twin.t < start + 3600 + sim_s:
        c0 = time.process_time()
        chunk = twin.advance(twin.t + args.step)
        c1 = time.process_time()
        faults += len(chunk.faults)
        for row in chunk.beats.rows():
            send = devices.beat(row)
            if send is None:
                continue
            payload = encode(send.rows, send.style, row["t"] if send.style == SCRIPT else 0.0)
            nbytes += len(payload)
            sends += 1
            devices.done(send, DELIVERED)
        c2 = time.process_time()
        engine_cpu += c1 - c0
        encode_cpu += c2 - c1
        beats += len(chunk.beats)
    wall = time.perf_counter() - wall0
    cpu = engine_cpu + encode_cpu
    minutes = sim_s / 60.0
    per_k = 1000.0 / args.sites
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"sites {args.sites:,}, simulated {minutes:g} min in steps of {args.step:g} s "
          f"(setup {setup_s:.1f} s CPU: fleet, weather, warm-up)")
    print(f"beats measured {beats:,}, requests encoded {sends:,} ({nbytes / 1e6:.1f} MB), "
          f"faults over {faults}")
    print(f"CPU {cpu:.2f} s (engine {engine_cpu:.2f} s, routers + encoding {encode_cpu:.2f} s), "
          f"wall {wall:.2f} s, peak RSS {rss_mb:.0f} MB")
    print(f"CPU per 1,000 sites per simulated minute: {1000 * cpu / minutes * per_k:.1f} ms "
          f"(engine {1000 * engine_cpu / minutes * per_k:.1f} ms)")
    print(f"CPU per simulated minute: {cpu / minutes:.3f} s for {args.sites:,} sites = "
          f"{100 * cpu / sim_s:.1f} % of one core in real time")
    print(f"real time on one core: about {args.sites * sim_s / cpu:,.0f} sites per process "
          f"(beats + encoding; the HTTP client's own cost comes on top)")

if __name__ == "__main__":
    main()

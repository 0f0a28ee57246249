"""`linda checks`: active TCP, HTTP(S) and ICMP checks of sites with a reachable address."""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Sequence
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from linda.monitoring.checks import (
    DEFAULT_CONCURRENCY,
    Outcome,
    Prober,
    icmp_not_permitted_message,
    icmp_permitted,
    run_forever,
    run_round,
)
from linda.monitoring.models import CheckKind, CheckTarget


class Command(BaseCommand):
    help = (
        "Run the active checks: probe each enabled check target every interval_s and record "
        "each success as a heartbeat on channel 'check' (docs/checks.md). Runs until SIGTERM "
        "or Ctrl-C; --once probes every enabled target once and prints a table. Several "
        "processes may run at once."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true",
                            help="probe every enabled target once, print a table, exit")
        parser.add_argument("--concurrency", type=int, default=DEFAULT_CONCURRENCY,
                            help=f"probes in flight at once (default {DEFAULT_CONCURRENCY})")
        parser.add_argument("--tick", type=float, default=1.0,
                            help="seconds between looks for due targets (default 1)")

    def handle(self, *args: Any, **options: Any) -> None:
        prober = Prober(concurrency=options["concurrency"])
        uses_icmp = CheckTarget.objects.filter(enabled=True, kind=CheckKind.ICMP).exists()
        if uses_icmp and not icmp_permitted():
            self.stderr.write(icmp_not_permitted_message())
        if options["once"]:
            started = time.monotonic()
            outcomes = run_round(prober=prober)
            self.print_table(outcomes, time.monotonic() - started)
            return
        self.stdout.write(f"active checks: {CheckTarget.objects.filter(enabled=True).count()} "
                          f"enabled targets, {options['concurrency']} probes at most in flight")
        asyncio.run(self.loop(prober, options["tick"]))

    async def loop(self, prober: Prober, tick_s: float) -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, stop.set)
        loop.add_signal_handler(signal.SIGINT, stop.set)
        await run_forever(stop=stop, prober=prober, tick_s=tick_s)

    def print_table(self, outcomes: Sequence[Outcome], elapsed_s: float) -> None:
        rows = [("target", "site", "kind", "address", "result", "rtt_ms", "error")]
        codes = dict(CheckTarget.objects.filter(
            pk__in=[o.probe.target_id for o in outcomes]).values_list("pk", "site__code"))
        for o in sorted(outcomes, key=lambda o: (codes.get(o.probe.target_id, ""),
                                                 o.probe.target_id)):
            rows.append((
                str(o.probe.target_id), codes.get(o.probe.target_id, "?"), o.probe.kind,
                o.probe.address[:60], "ok" if o.ok else "FAIL",
                "" if o.rtt_ms is None else f"{o.rtt_ms:.3f}", o.error,
            ))
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
        for row in rows:
            cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
            self.stdout.write("  ".join([*cells, row[-1]]).rstrip())
        ok = sum(o.ok for o in outcomes)
        self.stdout.write(f"{ok} ok, {len(outcomes) - ok} failed, {len(outcomes)} targets "
                          f"in {elapsed_s:.2f} s")

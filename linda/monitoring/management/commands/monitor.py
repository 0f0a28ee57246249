"""`linda monitor`: the monitor loop (coverage marks, DOWN/EXCLUDED flips, SLA intervals)."""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.db import DatabaseError, connections
from django.utils import timezone

from linda.monitoring.monitor import materialize_all, tick
from linda.monitoring.retention import maintain_metrics

log = logging.getLogger("linda.monitor")


def _maintain() -> None:
    try:
        maintain_metrics(timezone.now())
    except DatabaseError:
        log.exception("metrics maintenance failed; retrying next time")
    finally:
        connections.close_all()


class Command(BaseCommand):
    help = (
        "Run the monitor: every LINDA_MONITOR_MARK_PERIOD_S write a coverage mark, flip "
        "overdue sites to DOWN, apply maintenance windows, and store closed status intervals; "
        "every LINDA_ROLLUP_EVERY_S roll up metrics, prune old raw heartbeats and compact "
        "coverage marks. Several monitors may run at once."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="one pass, then exit")
        parser.add_argument("--period", type=float, default=None,
                            help="seconds between passes (default LINDA_MONITOR_MARK_PERIOD_S)")
        parser.add_argument("--monitor-id", default=f"{socket.gethostname()}:{os.getpid()}")

    def handle(self, *args: Any, **options: Any) -> None:
        period = options["period"] or settings.LINDA_MONITOR_MARK_PERIOD_S
        every = settings.LINDA_MONITOR_MATERIALIZE_EVERY_S
        maintain_every = settings.LINDA_ROLLUP_EVERY_S
        stopping = False

        def stop(*_: object) -> None:
            nonlocal stopping
            stopping = True

        if not options["once"]:
            signal.signal(signal.SIGTERM, stop)
            signal.signal(signal.SIGINT, stop)
        last_materialized = last_maintained = float("-inf")
        # Roll-ups run beside the loop: a long first pass (after a history import) must not
        # hold back the coverage marks, or the monitor would look down to itself.
        maintainer: threading.Thread | None = None
        while True:
            started = time.monotonic()
            try:
                result = tick(monitor_id=options["monitor_id"])
                for flip in result.flips:
                    self.stdout.write(f"site {flip.site_id}: {flip.old} -> {flip.new} "
                                      f"since {flip.since.isoformat()}")
                if options["once"] or started - last_materialized >= every:
                    stored = materialize_all(timezone.now())
                    last_materialized = started
                    if stored:
                        log.info("stored %d status intervals", stored)
                if (not options["once"] and started - last_maintained >= maintain_every
                        and not (maintainer and maintainer.is_alive())):
                    maintainer = threading.Thread(target=_maintain, name="metrics",
                                                  daemon=True)
                    maintainer.start()
                    last_maintained = started
            except DatabaseError:
                # No mark is written while the database is unreachable; that stretch
                # becomes UNKNOWN coverage, which is the truth.
                log.exception("monitor pass failed; retrying")
                connections.close_all()
            if options["once"] or stopping:
                return
            time.sleep(max(0.0, period - (time.monotonic() - started)))
            if stopping:
                return

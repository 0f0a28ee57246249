"""`linda alerts`: the alert worker (plan incidents from status changes, send notifications)."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import DatabaseError, connections

from linda.alerts import conf, planner
from linda.alerts.services import run_pass

log = logging.getLogger("linda.alerts")


class Command(BaseCommand):
    help = (
        "Run the alert worker: turn the monitor's status changes into incidents (grouping, "
        "flapping, maintenance, coverage, escalation) and send due notifications through "
        "Apprise. Several workers may run at once; one plans at a time."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="one pass, then exit")
        parser.add_argument("--period", type=float, default=None,
                            help="seconds between passes (default LINDA_ALERT_PERIOD_S)")
        parser.add_argument("--worker-id", default=f"{socket.gethostname()}:{os.getpid()}")

    def handle(self, *args: Any, **options: Any) -> None:
        period = options["period"] or conf.seconds("LINDA_ALERT_PERIOD_S").total_seconds()
        worker = options["worker_id"]
        stopping = False

        def stop(*_: object) -> None:
            nonlocal stopping
            stopping = True

        if not options["once"]:
            signal.signal(signal.SIGTERM, stop)
            signal.signal(signal.SIGINT, stop)
        try:
            while True:
                started = time.monotonic()
                try:
                    result = run_pass(worker=worker)
                    if result.notifications_stored or result.tried:
                        self.stdout.write(f"events {result.events}, stored "
                                          f"{result.notifications_stored}, tried {result.tried}")
                except DatabaseError:
                    log.exception("alert pass failed; retrying")
                    connections.close_all()
                if options["once"] or stopping:
                    return
                time.sleep(max(0.0, period - (time.monotonic() - started)))
                if stopping:
                    return
        finally:
            with contextlib.suppress(DatabaseError):
                planner.release_lease(worker)

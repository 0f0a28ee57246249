"""`manage.py fill_site_days`: store the daily status totals (SiteDay) the pages read.

Run beside the monitor (`--every 60`) so that no page request ever pays for a day the
monitor has just closed; the pages check on their own at most once a minute, so running it
is an optimisation, never a condition for correct figures.
"""

from __future__ import annotations

import signal
import time
from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import DatabaseError, connections
from django.utils import timezone

from linda.web.rollups import fill_site_days
from linda.web.selectors import WIB


class Command(BaseCommand):
    help = "Store the daily status totals of days the monitor has closed (the pages' SiteDay)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, default=92,
                            help="how many days back from today (default 92)")
        parser.add_argument("--every", type=float, default=0,
                            help="repeat every this many seconds (default: one pass)")

    def handle(self, *args: Any, **options: Any) -> None:
        stopping = False

        def stop(*_: object) -> None:
            nonlocal stopping
            stopping = True

        if options["every"]:
            signal.signal(signal.SIGTERM, stop)
            signal.signal(signal.SIGINT, stop)
        while True:
            started = time.monotonic()
            today = timezone.localdate()
            days = [today - timedelta(days=k) for k in range(1, options["days"] + 1)]
            try:
                added = fill_site_days(days, WIB)
                self.stdout.write(f"stored {added} daily totals")
            except DatabaseError as exc:
                self.stderr.write(f"fill failed ({exc}); retrying")
                connections.close_all()
            if not options["every"] or stopping:
                return
            while not stopping and time.monotonic() - started < options["every"]:
                time.sleep(0.5)
            if stopping:
                return

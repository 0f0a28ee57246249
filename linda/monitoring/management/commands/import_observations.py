"""`linda import-observations FILE`: historical observations through the status engine."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from linda.domain.status import totals_s
from linda.monitoring.history import ImportFailed, import_observations
from linda.monitoring.payload import FieldError, parse_time


def _time(raw: str) -> Any:
    try:
        return parse_time(raw, "time")
    except FieldError as exc:
        raise CommandError(f"{raw!r}: {exc.reason}") from None


class Command(BaseCommand):
    help = (
        "Import heartbeat observations (JSON lines, or CSV with a header) and optional "
        "coverage gaps; store the heartbeats and the status intervals the engine gives. "
        "All or nothing. Format: docs/devices.md."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--start", type=_time, default=None,
                            help="period start, ISO 8601 (default: the earliest time in FILE)")
        parser.add_argument("--until", type=_time, default=None,
                            help="period end, exclusive (default: the latest time in FILE)")
        parser.add_argument("--replace", action="store_true",
                            help="replace intervals of an earlier import of the same period")
        parser.add_argument("--adopt", action="store_true",
                            help="count the period as monitored time: each site's monitoring "
                                 "starts at the period's start (for history that live "
                                 "monitoring continues from; the site is then expected to report)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            results = import_observations(options["file"], start=options["start"],
                                          until=options["until"], replace=options["replace"],
                                          adopt=options["adopt"])
        except ImportFailed as exc:
            raise CommandError("nothing imported:\n  " + "\n  ".join(exc.errors)) from None
        except OSError as exc:
            raise CommandError(str(exc)) from None
        for result in results:
            if options["adopt"] and result.intervals:
                self.stdout.write(f"{result.site.code}: monitored from "
                                  f"{result.intervals[0].start.isoformat()}")
            t = totals_s(result.intervals)
            self.stdout.write(
                f"{result.site.code}: {result.heartbeats} heartbeats, "
                f"{len(result.intervals)} intervals; seconds "
                + ", ".join(f"{state} {seconds}" for state, seconds in t.items())
            )

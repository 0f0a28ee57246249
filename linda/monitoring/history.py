"""Historical import: a vendor NMS export or a past month, through the same status engine.

Input (JSON lines or CSV, format in docs/devices.md):
- heartbeat observations: site code, time, and any v1 heartbeat metrics;
- optional coverage gaps: stretches the exporting monitor did not watch (UNKNOWN).

The observations' times stand for server receive times, the period minus the gaps for the
monitor's coverage, and `compute_intervals` turns them into intervals exactly as for live
data (decision 4). Everything is stored in one transaction, or nothing with every error.
"""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.db import transaction

from linda.domain.status import Interval, Observation, Span, watched_from_gaps
from linda.monitoring.models import Channel, Heartbeat, StatusInterval
from linda.monitoring.payload import FieldError, Reading, parse_object, parse_time
from linda.monitoring.selectors import EngineInput, QualityRule, maintenance_spans, site_timing
from linda.monitoring.services import adopt_history, heartbeat_row
from linda.registry.models import Site

TYPES = ("heartbeat", "coverage_gap")
_NO_SKEW_LIMIT = timedelta(days=365 * 100)


class ImportFailed(Exception):
    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors[:20]))
        self.errors = errors


@dataclass
class Parsed:
    beats: dict[str, list[tuple[datetime, Reading]]] = field(
        default_factory=lambda: defaultdict(list))
    gaps: list[Span] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def times(self) -> list[datetime]:
        out = [at for beats in self.beats.values() for at, _ in beats]
        return out + [t for g in self.gaps for t in (g.start, g.end)]


@dataclass
class SiteImport:
    site: Site
    heartbeats: int
    intervals: list[Interval]


def _records(path: Path) -> Iterator[tuple[int, dict[str, Any] | str]]:
    """(line number, record or the reason it is unreadable) for each line or CSV row."""
    text = path.read_text(encoding="utf-8-sig")
    if path.suffix.lower() == ".csv":
        reader = csv.DictReader(io.StringIO(text))
        for row in reader:
            record: dict[str, Any] = {k: v for k, v in row.items() if k and v not in (None, "")}
            if "wan" in record:
                try:
                    record["wan"] = json.loads(record["wan"])
                except ValueError:
                    yield reader.line_num, "wan: must be JSON"
                    continue
            yield reader.line_num, record
        return
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            parsed = json.loads(line)
        except ValueError as exc:
            yield number, f"malformed JSON: {exc}"
            continue
        yield number, parsed if isinstance(parsed, dict) else "not a JSON object"


def parse_file(path: Path) -> Parsed:
    parsed = Parsed()
    for number, record in _records(path):
        where = f"line {number}"
        if isinstance(record, str):
            parsed.errors.append(f"{where}: {record}")
            continue
        kind = record.pop("type", "heartbeat")
        try:
            if kind == "coverage_gap":
                start = parse_time(record.get("start"), "start")
                end = parse_time(record.get("end"), "end")
                if end <= start:
                    raise FieldError("end", "must be after start")
                parsed.gaps.append(Span(start, end))
            elif kind == "heartbeat":
                code = record.pop("site", None)
                if not code:
                    raise FieldError("site", "site code is required")
                at = parse_time(record.pop("at", None), "at")
                # The observation time stands for the receive time; age_s counts back from it.
                reading = parse_object(record, now=at, skew=_NO_SKEW_LIMIT)
                parsed.beats[str(code)].append((at, reading))
            else:
                raise FieldError("type", f"must be one of {', '.join(TYPES)}")
        except FieldError as exc:
            parsed.errors.append(f"{where}: {exc.field}: {exc.reason}")
    return parsed


def import_observations(
    path: Path, *, start: datetime | None = None, until: datetime | None = None,
    replace: bool = False, adopt: bool = False,
) -> list[SiteImport]:
    """Store the file's heartbeats and the intervals they give; all or nothing. With `adopt`,
    the period also counts as monitored time (`adopt_history`), in the same transaction."""
    parsed = parse_file(path)
    errors = list(parsed.errors)
    sites = {s.code: s for s in Site.objects.filter(code__in=list(parsed.beats))
             .select_related("village")}
    errors += [f"site {code!r}: unknown site code" for code in parsed.beats if code not in sites]
    times = parsed.times()
    if not times and (start is None or until is None):
        errors.append("the file holds no observations")
    if errors:
        raise ImportFailed(errors)
    start = start or min(times)
    until = until or max(times)
    if until <= start:
        raise ImportFailed([f"the period is empty: {start.isoformat()} .. {until.isoformat()}"])
    watched = watched_from_gaps(start=start, end=until, gaps=parsed.gaps)
    results: list[SiteImport] = []
    with transaction.atomic():
        for code, beats in sorted(parsed.beats.items()):
            results.append(_import_site(sites[code], beats, watched, start, until, replace))
            if adopt:
                adopt_history(site=sites[code], start=start, end=until)
    return results


def _import_site(site: Site, beats: list[tuple[datetime, Reading]], watched: list[Span],
                 start: datetime, until: datetime, replace: bool) -> SiteImport:
    overlapping = StatusInterval.objects.filter(site=site, start__lt=until, end__gt=start)
    if replace:
        overlapping.filter(source="import").delete()
        Heartbeat.objects.filter(site=site, channel=Channel.IMPORT, received_at__gte=start,
                                 received_at__lte=until).delete()
    if overlapping.exists():
        raise ImportFailed([f"site {site.code!r}: status intervals already exist in "
                            f"{start.isoformat()} .. {until.isoformat()} (use --replace for "
                            "a previous import; live intervals are never replaced)"])
    rows = [heartbeat_row(site.pk, reading, received_at=at, late=False, channel=Channel.IMPORT)
            for at, reading in beats]
    Heartbeat.objects.bulk_create(rows, ignore_conflicts=True, batch_size=2000)
    rule = QualityRule.for_site(site)
    interval, grace = site_timing(site)
    data = EngineInput(
        observations=[Observation(at, rule.degraded(at, r.rtt_ms, r.loss_pct))
                      for at, r in beats if start <= at < until],
        watched=watched, excluded=maintenance_spans(site, start, until),
        activated_at=start, until=until, interval=interval, grace=grace,
    )
    intervals = data.compute()
    StatusInterval.objects.bulk_create(
        [StatusInterval(site=site, start=iv.start, end=iv.end, state=iv.state,
                        degraded=iv.degraded, source="import") for iv in intervals],
        batch_size=2000,
    )
    return SiteImport(site=site, heartbeats=len(rows), intervals=intervals)

"""Ground truth: every injected fault as a JSON line, and scoring the platform against it.

A line per fault, written when the fault is over:

    {"site": "kd-6205052011", "start": "2026-11-03T10:00:12.250Z", "end": "…", "cause": "link",
     "detail": "rain_fade", "incident": "rain-3-1793…", "outage": true,
     "due_at": "…", "id": 17}

`start`/`end` bound the time the site could not reach the server because of the fault (for a
power fault: until the router has booted and the modem has found the satellite again).
`outage` is false for a fault the site rode through (a PLN cut carried by its battery).
`due_at` is when the first heartbeat that never arrived was due: the last heartbeat the
simulator delivered before the fault plus the site's interval, the moment from which the
monitor has `grace` (+ its tick) to declare the site DOWN (DESIGN decision 3).

`score` matches merged fault spans with the DOWN runs the platform reported and counts what
was detected, missed and falsely reported, the detection delay, and (given the platform's
causes) how often the cause was right. Pure: no Django.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

from linda.simulate.faults import Fault
from linda.simulate.telemetry import iso


@dataclass(frozen=True, slots=True)
class TruthFault:
    site: str
    start: datetime
    end: datetime
    cause: str
    detail: str
    incident: str | None = None
    outage: bool = True
    due_at: datetime | None = None
    id: int = 0


def _at(t: float) -> datetime:
    return datetime.fromtimestamp(t, UTC)


def to_json(fault: Fault, codes: Sequence[str]) -> dict[str, Any]:
    return {
        "site": codes[fault.site], "start": iso(fault.start), "end": iso(fault.end),
        "cause": fault.cause.value, "detail": fault.detail, "incident": fault.incident,
        "outage": fault.outage, "due_at": None if fault.due_at is None else iso(fault.due_at),
        "id": fault.id,
    }


def truth_of(fault: Fault, codes: Sequence[str]) -> TruthFault:
    return TruthFault(
        site=codes[fault.site], start=_at(fault.start), end=_at(fault.end),
        cause=fault.cause.value, detail=fault.detail, incident=fault.incident,
        outage=fault.outage, due_at=None if fault.due_at is None else _at(fault.due_at),
        id=fault.id,
    )


class TruthWriter:
    """Appends fault lines to a file (flushed per line, so a reader sees whole lines)."""

    def __init__(self, path: Path, codes: Sequence[str]) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.codes = codes
        self._file: IO[str] = path.open("a", encoding="utf-8")
        self.written = 0

    def write(self, faults: Iterable[Fault]) -> None:
        for fault in faults:
            self._file.write(json.dumps(to_json(fault, self.codes), sort_keys=True) + "\n")
            self.written += 1
        self._file.flush()

    def close(self) -> None:
        self._file.close()


def _parse(raw: str | None) -> datetime | None:
    return None if raw is None else datetime.fromisoformat(raw.replace("Z", "+00:00"))


def read_truth(path: Path) -> Iterator[TruthFault]:
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if not line.strip():
                continue
            d = json.loads(line)
            start, end = _parse(d["start"]), _parse(d["end"])
            assert start is not None and end is not None
            yield TruthFault(site=d["site"], start=start, end=end, cause=d["cause"],
                             detail=d["detail"], incident=d.get("incident"),
                             outage=d.get("outage", True), due_at=_parse(d.get("due_at")),
                             id=d.get("id", 0))


# --- scoring ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TruthSpan:
    """Overlapping faults of one site merged: the time it could not reach the server."""

    site: str
    start: datetime
    end: datetime
    causes: tuple[str, ...]  # of its faults, the longest first
    due_at: datetime | None

    @property
    def duration(self) -> timedelta:
        return self.end - self.start


@dataclass(frozen=True, slots=True)
class Reported:
    """A DOWN run the platform reported, when it declared it (if known) and its cause."""

    site: str
    start: datetime
    end: datetime
    declared_at: datetime | None = None
    cause: str | None = None


def merge_truth(faults: Iterable[TruthFault]) -> list[TruthSpan]:
    by_site: dict[str, list[TruthFault]] = defaultdict(list)
    for f in faults:
        if f.outage:
            by_site[f.site].append(f)
    spans: list[TruthSpan] = []
    for site, items in sorted(by_site.items()):
        items.sort(key=lambda f: (f.start, f.end))
        groups: list[list[TruthFault]] = []
        for f in items:
            if groups and f.start <= max(g.end for g in groups[-1]):
                groups[-1].append(f)
            else:
                groups.append([f])
        for group in groups:
            longest = sorted(group, key=lambda g: g.end - g.start, reverse=True)
            dues = [g.due_at for g in group if g.due_at is not None]
            spans.append(TruthSpan(site, group[0].start, max(g.end for g in group),
                                   tuple(g.cause for g in longest), min(dues, default=None)))
    return spans


@dataclass
class Score:
    expected: int = 0  # truth spans longer than interval + grace inside the period
    detected: int = 0
    missed: list[TruthSpan] = field(default_factory=list)
    false: list[Reported] = field(default_factory=list)
    delays_s: list[float] = field(default_factory=list)  # declared - due, per detection
    start_offsets_s: list[float] = field(default_factory=list)  # DOWN start - due
    causes: Counter[tuple[str, str]] = field(default_factory=Counter)  # (truth, reported)
    short_detected: int = 0  # spans not longer than I + G that still showed as DOWN

    @property
    def detection_ratio(self) -> float:
        return self.detected / self.expected if self.expected else 1.0

    @property
    def max_delay_s(self) -> float:
        return max(self.delays_s, default=0.0)

    @property
    def cause_accuracy(self) -> float | None:
        total = sum(self.causes.values())
        right = sum(n for (truth, got), n in self.causes.items() if truth == got)
        return right / total if total else None

    def summary(self) -> str:
        delays = sorted(self.delays_s)
        p50 = delays[len(delays) // 2] if delays else 0.0
        acc = self.cause_accuracy
        return (
            f"outages expected {self.expected}, detected {self.detected} "
            f"({100 * self.detection_ratio:.1f} %), missed {len(self.missed)}, "
            f"false {len(self.false)}; detection delay p50 {p50:.1f} s, max "
            f"{self.max_delay_s:.1f} s"
            + ("" if acc is None else f"; cause right {100 * acc:.0f} %")
        )


def score(
    truth: Iterable[TruthFault],
    reported: Iterable[Reported],
    timing: Mapping[str, tuple[int, int]],
    *,
    start: datetime,
    end: datetime,
    tolerance: timedelta = timedelta(seconds=2),
) -> Score:
    """Score reported DOWN runs against the truth over [start, end).

    A truth span must be detected when it lies inside the period and lasts more than the
    site's interval + grace (+ `tolerance` for the network's latency): under the status rule
    such a gap can never be bridged by heartbeats. A reported run is false when it overlaps
    no truth span (stretched by one interval, the time the next heartbeat may take). The
    detection delay is declared_at (or, for intervals from the import path, start + grace,
    where the live monitor would declare it) minus the truth's `due_at`.
    """
    spans = merge_truth(truth)
    runs = sorted(reported, key=lambda r: (r.site, r.start))
    by_site: dict[str, list[Reported]] = defaultdict(list)
    for r in runs:
        by_site[r.site].append(r)
    result = Score()
    matched: set[int] = set()
    for span in spans:
        interval_s, grace_s = timing[span.site]
        reach = span.end + timedelta(seconds=interval_s)
        hits = [r for r in by_site.get(span.site, []) if r.start < reach and r.end > span.start]
        matched.update(id(r) for r in hits)
        inside = span.start >= start and span.end <= end
        long = span.duration > timedelta(seconds=interval_s + grace_s) + tolerance
        if not (inside and long):
            result.short_detected += bool(hits and inside)
            continue
        result.expected += 1
        if not hits:
            result.missed.append(span)
            continue
        result.detected += 1
        first = hits[0]
        declared = first.declared_at or first.start + timedelta(seconds=grace_s)
        if span.due_at is not None:
            result.delays_s.append((declared - span.due_at).total_seconds())
            result.start_offsets_s.append((first.start - span.due_at).total_seconds())
        if first.cause is not None:
            result.causes[(span.causes[0], first.cause)] += 1
    result.false = [r for r in runs if id(r) not in matched and r.start >= start
                    and r.start < end]
    return result

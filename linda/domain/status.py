"""The four-state status engine (DESIGN decision 3).

Every second of a site's life is UP, DOWN, UNKNOWN (not observed) or EXCLUDED (maintenance,
declared force majeure); DEGRADED is a quality flag on UP time. `compute_intervals` turns the
monitor's coverage, the live heartbeats' server receive times and the exclusions into intervals
that tile the site's timeline exactly. Pure: no Django, no clock, no I/O. The rule in words,
with worked examples, is in docs/rules.md.

All times are aware datetimes; they are normalised to UTC. Spans are half-open [start, end).
"""

from __future__ import annotations

import enum
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

__all__ = [
    "ONE_SECOND",
    "Interval",
    "Observation",
    "Span",
    "State",
    "clip",
    "compute_intervals",
    "live_status",
    "merge_spans",
    "outages",
    "require_aware",
    "totals",
    "totals_s",
    "watched_from_gaps",
    "watched_from_marks",
]

ONE_SECOND = timedelta(seconds=1)
_ZERO = timedelta(0)


class State(enum.StrEnum):
    UP = "up"
    DOWN = "down"
    UNKNOWN = "unknown"
    EXCLUDED = "excluded"


def require_aware(value: datetime, name: str) -> datetime:
    """Return `value` in UTC; raise ValueError naming `name` if it is naive."""
    if not isinstance(value, datetime):
        raise TypeError(f"{name} must be a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got naive {value!r}")
    return value.astimezone(UTC)


def _require_positive(value: timedelta, name: str) -> None:
    if value <= _ZERO:
        raise ValueError(f"{name} must be a positive duration, got {value!r}")


def _require_non_negative(value: timedelta, name: str) -> None:
    if value < _ZERO:
        raise ValueError(f"{name} must not be negative, got {value!r}")


@dataclass(frozen=True, slots=True)
class Span:
    """A half-open stretch of time [start, end), aware UTC, start < end."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        object.__setattr__(self, "start", require_aware(self.start, "Span.start"))
        object.__setattr__(self, "end", require_aware(self.end, "Span.end"))
        if self.start >= self.end:
            raise ValueError(f"Span.start must be before Span.end: {self.start} >= {self.end}")

    @property
    def duration(self) -> timedelta:
        return self.end - self.start


@dataclass(frozen=True, slots=True)
class Observation:
    """A live heartbeat, at its server receive time."""

    at: datetime
    degraded: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "at", require_aware(self.at, "Observation.at"))


@dataclass(frozen=True, slots=True)
class Interval:
    """[start, end) in one state; `degraded` is only ever True on UP time."""

    start: datetime
    end: datetime
    state: State
    degraded: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "start", require_aware(self.start, "Interval.start"))
        object.__setattr__(self, "end", require_aware(self.end, "Interval.end"))
        if self.start >= self.end:
            raise ValueError(
                f"Interval.start must be before Interval.end: {self.start} >= {self.end}"
            )
        if self.degraded and self.state is not State.UP:
            raise ValueError(f"only UP time can be degraded, got {self.state}")

    @property
    def duration(self) -> timedelta:
        return self.end - self.start


def merge_spans(spans: Iterable[Span]) -> list[Span]:
    """Sort spans and merge those that overlap or touch."""
    merged: list[Span] = []
    for span in sorted(spans, key=lambda s: (s.start, s.end)):
        if merged and span.start <= merged[-1].end:
            if span.end > merged[-1].end:
                merged[-1] = Span(merged[-1].start, span.end)
        else:
            merged.append(span)
    return merged


def compute_intervals(
    *,
    observations: Iterable[Observation],
    watched: Sequence[Span],
    excluded: Sequence[Span],
    activated_at: datetime,
    until: datetime,
    interval: timedelta,
    grace: timedelta,
) -> list[Interval]:
    """Intervals exactly tiling [activated_at, until) under the outage rule of decision 3."""
    start = require_aware(activated_at, "activated_at")
    end = require_aware(until, "until")
    _require_positive(interval, "interval")
    _require_non_negative(grace, "grace")
    times, flags = _points(observations)
    if end <= start:
        return []
    base: list[Interval] = []
    cursor = start
    for stretch in merge_spans(watched):
        s, e = max(stretch.start, start), min(stretch.end, end)
        if s >= e:
            continue
        if cursor < s:
            base.append(Interval(cursor, s, State.UNKNOWN))
        base.extend(_stretch(s, e, times, flags, interval, interval + grace))
        cursor = e
    if cursor < end:
        base.append(Interval(cursor, end, State.UNKNOWN))
    return _merge_adjacent(_overlay_excluded(base, merge_spans(excluded)))


def _points(observations: Iterable[Observation]) -> tuple[list[datetime], list[bool]]:
    """Sorted distinct receive times; an instant is degraded if any heartbeat at it is."""
    by_time: dict[datetime, bool] = {}
    for obs in observations:
        by_time[obs.at] = by_time.get(obs.at, False) or obs.degraded
    times = sorted(by_time)
    return times, [by_time[t] for t in times]


def _stretch(
    s: datetime,
    e: datetime,
    times: list[datetime],
    flags: list[bool],
    interval: timedelta,
    limit: timedelta,
) -> list[Interval]:
    """UP/DOWN intervals of one watched stretch [s, e) (already clipped to the timeline)."""
    points: list[tuple[datetime, bool]] = [(s, False)]
    for i in range(bisect_left(times, s), bisect_left(times, e)):
        if times[i] == s:
            points[0] = (s, flags[i])
        else:
            points.append((times[i], flags[i]))
    out: list[Interval] = []
    for idx, (p, degraded) in enumerate(points):
        q = points[idx + 1][0] if idx + 1 < len(points) else e
        if q - p <= limit:
            out.append(Interval(p, q, State.UP, degraded))
        else:
            out.append(Interval(p, p + interval, State.UP, degraded))
            out.append(Interval(p + interval, q, State.DOWN))
    return out


def _overlay_excluded(base: list[Interval], excluded: list[Span]) -> list[Interval]:
    """Turn every part of `base` inside an excluded span into EXCLUDED."""
    out: list[Interval] = []
    j = 0
    for iv in base:
        cursor = iv.start
        while cursor < iv.end:
            while j < len(excluded) and excluded[j].end <= cursor:
                j += 1
            if j < len(excluded) and excluded[j].start <= cursor:
                cut = min(iv.end, excluded[j].end)
                out.append(Interval(cursor, cut, State.EXCLUDED))
            else:
                cut = min(iv.end, excluded[j].start) if j < len(excluded) else iv.end
                out.append(Interval(cursor, cut, iv.state, iv.degraded))
            cursor = cut
    return out


def _merge_adjacent(intervals: list[Interval]) -> list[Interval]:
    merged: list[Interval] = []
    for iv in intervals:
        prev = merged[-1] if merged else None
        if (
            prev is not None
            and prev.end == iv.start
            and (prev.state, prev.degraded) == (iv.state, iv.degraded)
        ):
            merged[-1] = Interval(prev.start, iv.end, iv.state, iv.degraded)
        else:
            merged.append(iv)
    return merged


def clip(intervals: Iterable[Interval], start: datetime, end: datetime) -> list[Interval]:
    """The parts of `intervals` inside [start, end), sorted, empty parts dropped."""
    lo = require_aware(start, "start")
    hi = require_aware(end, "end")
    out: list[Interval] = []
    for iv in intervals:
        s, e = max(iv.start, lo), min(iv.end, hi)
        if s < e:
            out.append(Interval(s, e, iv.state, iv.degraded))
    return sorted(out, key=lambda iv: iv.start)


def totals(intervals: Iterable[Interval]) -> dict[State, timedelta]:
    """Exact time per state (every state present, zero if absent)."""
    result = dict.fromkeys(State, _ZERO)
    for iv in intervals:
        result[iv.state] += iv.duration
    return result


def totals_s(intervals: Iterable[Interval]) -> dict[State, int]:
    """Whole seconds per state: each exact total rounded down once."""
    return {state: total // ONE_SECOND for state, total in totals(intervals).items()}


def watched_from_gaps(*, start: datetime, end: datetime, gaps: Sequence[Span]) -> list[Span]:
    """The complement of `gaps` inside [start, end)."""
    lo = require_aware(start, "start")
    hi = require_aware(end, "end")
    watched: list[Span] = []
    cursor = lo
    for gap in merge_spans(gaps):
        if gap.start > cursor and cursor < hi:
            watched.append(Span(cursor, min(gap.start, hi)))
        cursor = max(cursor, gap.end)
    if cursor < hi:
        watched.append(Span(cursor, hi))
    return watched


def watched_from_marks(marks: Iterable[datetime], *, max_gap: timedelta) -> list[Span]:
    """Stretches [first, last] of coverage marks no more than `max_gap` apart.

    A run with a single mark covers no time and yields no span.
    """
    _require_positive(max_gap, "max_gap")
    ordered = sorted(require_aware(m, "marks") for m in marks)
    spans: list[Span] = []
    run_start: datetime | None = None
    prev: datetime | None = None
    for mark in ordered:
        if prev is None or mark - prev > max_gap:
            if run_start is not None and prev is not None and prev > run_start:
                spans.append(Span(run_start, prev))
            run_start = mark
        prev = mark
    if run_start is not None and prev is not None and prev > run_start:
        spans.append(Span(run_start, prev))
    return spans


def outages(intervals: Iterable[Interval]) -> list[Span]:
    """Maximal runs of contiguous DOWN time; any other state (or a hole) ends a run."""
    runs: list[Span] = []
    run: Span | None = None
    for iv in sorted(intervals, key=lambda iv: iv.start):
        if iv.state is State.DOWN and run is not None and run.end == iv.start:
            run = Span(run.start, iv.end)
            continue
        if run is not None:
            runs.append(run)
        run = Span(iv.start, iv.end) if iv.state is State.DOWN else None
    if run is not None:
        runs.append(run)
    return runs


def live_status(
    *, last_point: datetime, now: datetime, interval: timedelta, grace: timedelta
) -> State:
    """DOWN iff now - last_point > interval + grace, else UP (the live monitor's view)."""
    p = require_aware(last_point, "last_point")
    n = require_aware(now, "now")
    _require_positive(interval, "interval")
    _require_non_negative(grace, "grace")
    return State.DOWN if n - p > interval + grace else State.UP

"""Rollout pace and forecast completion date against the target date."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction


@dataclass(frozen=True, slots=True)
class RolloutForecast:
    total: int
    done: int
    remaining: int
    weeks: int
    done_in_window: int
    pace_per_week: Fraction
    forecast_date: dt.date | None  # None when there is no pace to project
    target_date: dt.date
    on_track: bool
    weekly_counts: tuple[int, ...]  # oldest week first, each ending on `today`'s weekday


def weekly_counts(done_dates: Iterable[dt.date], *, today: dt.date, weeks: int) -> list[int]:
    """Completions per week over the last `weeks` weeks, oldest first; week k ends on today."""
    counts = [0] * weeks
    for day in done_dates:
        age_days = (today - day).days
        if 0 <= age_days < weeks * 7:
            counts[weeks - 1 - age_days // 7] += 1
    return counts


def forecast_completion(
    *,
    done_dates: Sequence[dt.date],
    total: int,
    target_date: dt.date,
    today: dt.date,
    weeks: int = 4,
) -> RolloutForecast:
    """Project the completion date from the pace of the last `weeks` weeks.

    The pace is completions in the window ÷ weeks. The forecast is today plus the
    remaining count at that pace, rounded up to a whole day. With nothing remaining the
    forecast is the date of the last completion; with no pace there is no forecast.
    """
    if weeks < 1:
        raise ValueError("weeks: must be at least 1")
    if total < 0:
        raise ValueError("total: must not be negative")
    done = len(done_dates)
    remaining = max(0, total - done)
    counts = weekly_counts(done_dates, today=today, weeks=weeks)
    in_window = sum(counts)
    pace = Fraction(in_window, weeks)
    forecast: dt.date | None
    if remaining == 0:
        forecast = max(done_dates) if done_dates else today
    elif pace == 0:
        forecast = None
    else:
        forecast = today + dt.timedelta(days=math.ceil(Fraction(remaining * 7) / pace))
    on_track = forecast is not None and forecast <= target_date
    return RolloutForecast(
        total=total,
        done=done,
        remaining=remaining,
        weeks=weeks,
        done_in_window=in_window,
        pace_per_week=pace,
        forecast_date=forecast,
        target_date=target_date,
        on_track=on_track,
        weekly_counts=tuple(counts),
    )


def burndown(
    *, done_dates: Sequence[dt.date], total: int, start: dt.date, end: dt.date, step_days: int = 7
) -> list[tuple[dt.date, int]]:
    """Villages still to connect at the end of each step from `start` to `end` (inclusive)."""
    if step_days < 1:
        raise ValueError("step_days: must be at least 1")
    ordered = sorted(done_dates)
    points: list[tuple[dt.date, int]] = []
    day = start
    while day <= end:
        done = sum(1 for d in ordered if d <= day)
        points.append((day, max(0, total - done)))
        day += dt.timedelta(days=step_days)
    if not points or points[-1][0] != end:
        points.append((end, max(0, total - sum(1 for d in ordered if d <= end))))
    return points

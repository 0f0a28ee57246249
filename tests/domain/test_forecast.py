from __future__ import annotations

import datetime as dt
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from linda.domain.forecast import forecast_completion, weekly_counts

TODAY = dt.date(2024, 10, 15)
TARGET = dt.date(2024, 11, 27)


def test_pace_and_forecast_by_hand() -> None:
    # 8 completions in the last 4 weeks → pace 2/week; 10 remaining → 35 days.
    done = [TODAY - dt.timedelta(days=d) for d in (0, 3, 6, 8, 10, 15, 20, 27)]
    result = forecast_completion(done_dates=done, total=18, target_date=TARGET, today=TODAY)
    assert result.pace_per_week == Fraction(2)
    assert result.remaining == 10
    assert result.forecast_date == TODAY + dt.timedelta(days=35)
    assert result.on_track is True
    assert result.weekly_counts == (1, 2, 2, 3)


def test_behind_target_is_not_on_track() -> None:
    done = [TODAY - dt.timedelta(days=1)]
    result = forecast_completion(done_dates=done, total=43, target_date=TARGET, today=TODAY)
    # pace 1/4 per week; 42 remaining → 42*7*4 = 1176 days
    assert result.forecast_date == TODAY + dt.timedelta(days=1176)
    assert result.on_track is False


def test_no_pace_has_no_forecast() -> None:
    old = [TODAY - dt.timedelta(days=100)]
    result = forecast_completion(done_dates=old, total=5, target_date=TARGET, today=TODAY)
    assert result.forecast_date is None
    assert result.on_track is False


def test_all_done_forecasts_the_last_completion() -> None:
    done = [dt.date(2024, 9, 1), dt.date(2024, 9, 20)]
    result = forecast_completion(done_dates=done, total=2, target_date=TARGET, today=TODAY)
    assert result.forecast_date == dt.date(2024, 9, 20)
    assert result.on_track is True


def test_partial_day_rounds_up() -> None:
    done = [TODAY - dt.timedelta(days=d) for d in (1, 2, 3)]  # pace 3/4 per week
    result = forecast_completion(done_dates=done, total=4, target_date=TARGET, today=TODAY)
    # 1 remaining * 7 / (3/4) = 9.33 days → 10
    assert result.forecast_date == TODAY + dt.timedelta(days=10)


def test_weeks_must_be_positive() -> None:
    with pytest.raises(ValueError, match="weeks"):
        forecast_completion(done_dates=[], total=1, target_date=TARGET, today=TODAY, weeks=0)


@given(
    st.lists(st.integers(min_value=-30, max_value=400), max_size=60),
    st.integers(min_value=1, max_value=12),
)
def test_weekly_counts_only_count_the_window(ages: list[int], weeks: int) -> None:
    days = [TODAY - dt.timedelta(days=a) for a in ages]
    counts = weekly_counts(days, today=TODAY, weeks=weeks)
    assert len(counts) == weeks
    assert sum(counts) == sum(1 for a in ages if 0 <= a < weeks * 7)


def test_burndown_by_hand() -> None:
    from linda.domain.forecast import burndown

    done = [dt.date(2024, 9, 2), dt.date(2024, 9, 9), dt.date(2024, 9, 10)]
    points = burndown(done_dates=done, total=5, start=dt.date(2024, 9, 1),
                      end=dt.date(2024, 9, 20), step_days=7)
    assert points == [
        (dt.date(2024, 9, 1), 5), (dt.date(2024, 9, 8), 4),
        (dt.date(2024, 9, 15), 2), (dt.date(2024, 9, 20), 2),
    ]

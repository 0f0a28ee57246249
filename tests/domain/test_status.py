"""The outage rule of DESIGN decision 3, by hand and by property."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from linda.domain.status import (
    Interval,
    Observation,
    Span,
    State,
    clip,
    compute_intervals,
    live_status,
    merge_spans,
    outages,
    totals,
    totals_s,
    watched_from_gaps,
    watched_from_marks,
)

UP, DOWN, UNKNOWN, EXCLUDED = State.UP, State.DOWN, State.UNKNOWN, State.EXCLUDED
I = timedelta(seconds=60)  # noqa: E741 - the DESIGN calls it I
G = timedelta(seconds=180)
DAY = datetime(2024, 10, 1, tzinfo=UTC)


def t(hms: str) -> datetime:
    h, m, s = (int(part) for part in hms.split(":"))
    return DAY.replace(hour=h, minute=m, second=s)


def beats(*times: str, degraded: bool = False) -> list[Observation]:
    return [Observation(t(x), degraded) for x in times]


def run(
    *,
    obs: list[Observation],
    start: str,
    until: str,
    watched: list[tuple[str, str]] | None = None,
    excluded: list[tuple[str, str]] | None = None,
    interval: timedelta = I,
    grace: timedelta = G,
) -> list[tuple[str, str, State, bool]]:
    """compute_intervals on HH:MM:SS strings; watched defaults to the whole day."""
    pairs = [("00:00:00", "23:59:59")] if watched is None else watched
    watched_spans = [Span(t(a), t(b)) for a, b in pairs]
    result = compute_intervals(
        observations=obs,
        watched=watched_spans,
        excluded=[Span(t(a), t(b)) for a, b in excluded or []],
        activated_at=t(start),
        until=t(until),
        interval=interval,
        grace=grace,
    )
    return [(f"{iv.start:%H:%M:%S}", f"{iv.end:%H:%M:%S}", iv.state, iv.degraded) for iv in result]


# --- the DESIGN examples -------------------------------------------------------------------


def test_design_example_beats_within_interval_plus_grace_are_all_up() -> None:
    got = run(obs=beats("10:00:00", "10:03:30"), start="10:00:00", until="10:04:00")
    assert got == [("10:00:00", "10:04:00", UP, False)]


def test_design_example_long_gap_is_down_from_first_missed_beat_to_next_beat() -> None:
    got = run(obs=beats("10:00:00", "10:10:00"), start="10:00:00", until="10:10:30")
    assert got == [
        ("10:00:00", "10:01:00", UP, False),
        ("10:01:00", "10:10:00", DOWN, False),
        ("10:10:00", "10:10:30", UP, False),
    ]


def test_gap_of_exactly_interval_plus_grace_is_up() -> None:
    got = run(obs=beats("10:00:00", "10:04:00"), start="10:00:00", until="10:05:00")
    assert got == [("10:00:00", "10:05:00", UP, False)]


def test_gap_one_second_over_interval_plus_grace_is_down() -> None:
    got = run(obs=beats("10:00:00", "10:04:01"), start="10:00:00", until="10:05:00")
    assert got == [
        ("10:00:00", "10:01:00", UP, False),
        ("10:01:00", "10:04:01", DOWN, False),
        ("10:04:01", "10:05:00", UP, False),
    ]


def test_until_acts_as_next_point_so_a_fresh_silence_is_still_up() -> None:
    got = run(obs=beats("10:00:00"), start="10:00:00", until="10:02:00")
    assert got == [("10:00:00", "10:02:00", UP, False)]


def test_silence_longer_than_interval_plus_grace_is_backdated_to_first_missed_beat() -> None:
    got = run(obs=beats("10:00:00"), start="10:00:00", until="10:05:00")
    assert got == [("10:00:00", "10:01:00", UP, False), ("10:01:00", "10:05:00", DOWN, False)]


# --- coverage ------------------------------------------------------------------------------


def test_monitor_gap_is_unknown_not_down() -> None:
    got = run(
        obs=beats("10:00:00", "10:04:00", "10:21:00"),
        start="10:00:00",
        until="10:25:00",
        watched=[("10:00:00", "10:05:00"), ("10:20:00", "10:30:00")],
    )
    assert got == [
        ("10:00:00", "10:05:00", UP, False),
        ("10:05:00", "10:20:00", UNKNOWN, False),
        ("10:20:00", "10:25:00", UP, False),
    ]


def test_restart_gives_a_fresh_interval_plus_grace_before_down() -> None:
    # Last beat 09:54, monitor dark 09:55-10:20: at 10:24 the site still has its grace ...
    obs = beats("09:50:00", "09:54:00")
    watched = [("09:50:00", "09:55:00"), ("10:20:00", "11:00:00")]
    assert run(obs=obs, start="09:50:00", until="10:24:00", watched=watched) == [
        ("09:50:00", "09:55:00", UP, False),
        ("09:55:00", "10:20:00", UNKNOWN, False),
        ("10:20:00", "10:24:00", UP, False),
    ]
    # ... and a silence after the restart is DOWN from restart + I, never from 09:55.
    assert run(obs=obs, start="09:50:00", until="10:30:00", watched=watched)[-2:] == [
        ("10:20:00", "10:21:00", UP, False),
        ("10:21:00", "10:30:00", DOWN, False),
    ]


def test_heartbeats_outside_watched_stretches_are_not_points() -> None:
    watched = [("10:00:00", "10:03:00"), ("10:08:00", "10:20:00")]
    without = run(obs=beats("10:00:00"), start="10:00:00", until="10:20:00", watched=watched)
    stray = [*beats("10:00:00"), *beats("10:05:00", "10:20:00", degraded=True)]
    assert run(obs=stray, start="10:00:00", until="10:20:00", watched=watched) == without
    assert without == [
        ("10:00:00", "10:03:00", UP, False),
        ("10:03:00", "10:08:00", UNKNOWN, False),
        ("10:08:00", "10:09:00", UP, False),
        ("10:09:00", "10:20:00", DOWN, False),
    ]


def test_stretch_end_is_q_for_the_last_point() -> None:
    got = run(
        obs=beats("10:00:00", "10:07:00"),
        start="10:00:00",
        until="10:20:00",
        watched=[("10:00:00", "10:06:00"), ("10:08:00", "10:20:00")],
    )
    assert got == [
        ("10:00:00", "10:01:00", UP, False),
        ("10:01:00", "10:06:00", DOWN, False),
        ("10:06:00", "10:08:00", UNKNOWN, False),
        ("10:08:00", "10:09:00", UP, False),
        ("10:09:00", "10:20:00", DOWN, False),
    ]


def test_unsorted_overlapping_coverage_is_merged_before_use() -> None:
    got = run(
        obs=beats("10:03:00"),
        start="10:00:00",
        until="10:06:00",
        watched=[("10:02:00", "10:06:00"), ("10:00:00", "10:03:00"), ("10:01:00", "10:02:00")],
    )
    assert got == [("10:00:00", "10:06:00", UP, False)]


def test_not_watched_at_all_is_all_unknown() -> None:
    got = run(obs=beats("10:01:00"), start="10:00:00", until="10:10:00", watched=[])
    assert got == [("10:00:00", "10:10:00", UNKNOWN, False)]


# --- exclusions, activation, degraded ------------------------------------------------------


def test_maintenance_over_an_outage_is_excluded_and_splits_it() -> None:
    got = run(
        obs=beats("10:00:00", "10:10:00"),
        start="10:00:00",
        until="10:10:00",
        excluded=[("10:03:00", "10:06:00")],
    )
    assert got == [
        ("10:00:00", "10:01:00", UP, False),
        ("10:01:00", "10:03:00", DOWN, False),
        ("10:03:00", "10:06:00", EXCLUDED, False),
        ("10:06:00", "10:10:00", DOWN, False),
    ]


def test_exclusion_overrides_unknown_too() -> None:
    got = run(
        obs=[],
        start="10:00:00",
        until="10:10:00",
        watched=[],
        excluded=[("09:00:00", "10:04:00"), ("10:08:00", "12:00:00")],
    )
    assert got == [
        ("10:00:00", "10:04:00", EXCLUDED, False),
        ("10:04:00", "10:08:00", UNKNOWN, False),
        ("10:08:00", "10:10:00", EXCLUDED, False),
    ]


def test_activation_mid_stretch_is_the_first_point_and_earlier_beats_are_ignored() -> None:
    got = run(obs=beats("09:30:00", "10:02:00"), start="10:00:00", until="10:05:00")
    assert got == [("10:00:00", "10:05:00", UP, False)]
    got = run(obs=beats("09:59:59", "10:10:00"), start="10:00:00", until="10:10:00")
    assert got == [("10:00:00", "10:01:00", UP, False), ("10:01:00", "10:10:00", DOWN, False)]


def test_degraded_flag_marks_the_up_time_after_a_degraded_beat_only() -> None:
    obs = [
        Observation(t("10:00:00"), True),
        Observation(t("10:01:00"), False),
        Observation(t("10:02:00"), True),
        Observation(t("10:10:00"), False),
    ]
    got = run(obs=obs, start="10:00:00", until="10:11:00")
    assert got == [
        ("10:00:00", "10:01:00", UP, True),
        ("10:01:00", "10:02:00", UP, False),
        ("10:02:00", "10:03:00", UP, True),
        ("10:03:00", "10:10:00", DOWN, False),
        ("10:10:00", "10:11:00", UP, False),
    ]


def test_stretch_start_is_not_degraded_but_a_degraded_beat_at_it_is() -> None:
    got = run(obs=beats("10:00:00", degraded=True), start="10:00:00", until="10:02:00")
    assert got == [("10:00:00", "10:02:00", UP, True)]


def test_empty_when_until_not_after_activation() -> None:
    assert run(obs=beats("10:00:00"), start="10:00:00", until="10:00:00") == []
    assert run(obs=beats("10:00:00"), start="10:00:00", until="09:00:00") == []


def test_other_time_zones_are_normalised_to_utc() -> None:
    wib = ZoneInfo("Asia/Jakarta")
    got = compute_intervals(
        observations=[Observation(datetime(2024, 10, 1, 17, 0, tzinfo=wib))],
        watched=[Span(t("09:00:00"), t("11:00:00"))],
        excluded=[],
        activated_at=t("10:00:00"),
        until=t("10:02:00"),
        interval=I,
        grace=G,
    )
    assert got == [Interval(t("10:00:00"), t("10:02:00"), UP)]
    assert got[0].start.tzinfo is UTC


# --- validation ----------------------------------------------------------------------------


def test_naive_datetimes_are_rejected_by_name() -> None:
    naive = datetime(2024, 10, 1, 10, 0)  # noqa: DTZ001 - the point of the test
    with pytest.raises(ValueError, match="until"):
        compute_intervals(
            observations=[],
            watched=[],
            excluded=[],
            activated_at=t("10:00:00"),
            until=naive,
            interval=I,
            grace=G,
        )
    with pytest.raises(ValueError, match=r"Observation\.at"):
        Observation(naive)
    with pytest.raises(ValueError, match=r"Span\.end"):
        Span(t("10:00:00"), naive)


@pytest.mark.parametrize(
    ("interval", "grace", "name"),
    [(timedelta(0), G, "interval"), (-I, G, "interval"), (I, -G, "grace")],
)
def test_bad_durations_are_rejected(interval: timedelta, grace: timedelta, name: str) -> None:
    with pytest.raises(ValueError, match=name):
        compute_intervals(
            observations=[],
            watched=[],
            excluded=[],
            activated_at=t("10:00:00"),
            until=t("11:00:00"),
            interval=interval,
            grace=grace,
        )


def test_empty_or_reversed_span_is_rejected() -> None:
    with pytest.raises(ValueError, match="before"):
        Span(t("10:00:00"), t("10:00:00"))


# --- helpers -------------------------------------------------------------------------------


def test_clip_cuts_to_a_report_period() -> None:
    ivs = [
        Interval(t("10:00:00"), t("10:01:00"), UP),
        Interval(t("10:01:00"), t("10:10:00"), DOWN),
    ]
    assert clip(ivs, t("10:00:30"), t("10:05:00")) == [
        Interval(t("10:00:30"), t("10:01:00"), UP),
        Interval(t("10:01:00"), t("10:05:00"), DOWN),
    ]
    assert clip(ivs, t("11:00:00"), t("12:00:00")) == []


def test_totals_are_exact_and_totals_s_rounds_each_state_down_once() -> None:
    half = timedelta(microseconds=500_000)
    ivs = [
        Interval(t("10:00:00"), t("10:00:10") + half, UP),
        Interval(t("10:00:10") + half, t("10:00:20"), DOWN),
        Interval(t("10:00:20"), t("10:00:30") + half, UP),
    ]
    assert totals(ivs) == {
        UP: timedelta(seconds=21),
        DOWN: timedelta(seconds=9, microseconds=500_000),
        UNKNOWN: timedelta(0),
        EXCLUDED: timedelta(0),
    }
    assert totals_s(ivs) == {UP: 21, DOWN: 9, UNKNOWN: 0, EXCLUDED: 0}


def test_merge_spans_joins_overlapping_and_touching() -> None:
    spans = [Span(t("10:05:00"), t("10:06:00")), Span(t("10:00:00"), t("10:05:00"))]
    spans.append(Span(t("10:07:00"), t("10:08:00")))
    assert merge_spans(spans) == [
        Span(t("10:00:00"), t("10:06:00")),
        Span(t("10:07:00"), t("10:08:00")),
    ]


def test_watched_from_gaps_is_the_complement_inside_the_range() -> None:
    gaps = [
        Span(t("10:20:00"), t("10:30:00")),
        Span(t("09:00:00"), t("10:05:00")),
        Span(t("10:25:00"), t("10:40:00")),
        Span(t("10:55:00"), t("12:00:00")),
    ]
    assert watched_from_gaps(start=t("10:00:00"), end=t("11:00:00"), gaps=gaps) == [
        Span(t("10:05:00"), t("10:20:00")),
        Span(t("10:40:00"), t("10:55:00")),
    ]
    assert watched_from_gaps(start=t("10:00:00"), end=t("11:00:00"), gaps=[]) == [
        Span(t("10:00:00"), t("11:00:00"))
    ]


def test_watched_from_marks_groups_marks_no_more_than_max_gap_apart() -> None:
    marks = [t("10:00:10"), t("10:00:00"), t("10:00:20"), t("10:01:00"), t("10:01:05")]
    marks.append(t("10:05:00"))  # a lone mark covers no time
    assert watched_from_marks(marks, max_gap=timedelta(seconds=30)) == [
        Span(t("10:00:00"), t("10:00:20")),
        Span(t("10:01:00"), t("10:01:05")),
    ]
    assert watched_from_marks([], max_gap=timedelta(seconds=30)) == []


def test_outages_are_maximal_down_runs_split_by_exclusions() -> None:
    ivs = [
        Interval(t("10:00:00"), t("10:01:00"), UP),
        Interval(t("10:01:00"), t("10:02:00"), DOWN),
        Interval(t("10:02:00"), t("10:03:00"), DOWN),
        Interval(t("10:03:00"), t("10:04:00"), EXCLUDED),
        Interval(t("10:04:00"), t("10:05:00"), DOWN),
    ]
    assert outages(ivs) == [
        Span(t("10:01:00"), t("10:03:00")),
        Span(t("10:04:00"), t("10:05:00")),
    ]


def test_live_status_goes_down_only_after_interval_plus_grace() -> None:
    assert live_status(last_point=t("10:00:00"), now=t("10:04:00"), interval=I, grace=G) is UP
    assert live_status(last_point=t("10:00:00"), now=t("10:04:01"), interval=I, grace=G) is DOWN


# --- properties ----------------------------------------------------------------------------

HORIZON_S = 4 * 3600
offsets = st.integers(min_value=0, max_value=HORIZON_S)
span_strategy = st.tuples(offsets, st.integers(min_value=1, max_value=3600)).map(
    lambda p: Span(DAY + timedelta(seconds=p[0]), DAY + timedelta(seconds=p[0] + p[1]))
)


@st.composite
def scenarios(draw: st.DrawFn) -> dict[str, object]:
    a, b = sorted(draw(st.lists(offsets, min_size=2, max_size=2)))
    return {
        "observations": [
            Observation(DAY + timedelta(seconds=s), d)
            for s, d in draw(st.lists(st.tuples(offsets, st.booleans()), max_size=40))
        ],
        "watched": draw(st.lists(span_strategy, max_size=5)),
        "excluded": draw(st.lists(span_strategy, max_size=3)),
        "activated_at": DAY + timedelta(seconds=a),
        "until": DAY + timedelta(seconds=b, microseconds=draw(st.integers(0, 999_999))),
        "interval": timedelta(seconds=draw(st.sampled_from([30, 60, 300]))),
        "grace": timedelta(seconds=draw(st.integers(min_value=0, max_value=600))),
    }


def _compute(s: dict[str, object], **changes: object) -> list[Interval]:
    return compute_intervals(**{**s, **changes})  # type: ignore[arg-type]


def _inside(small: list[Interval], big: list[Interval], state: State) -> bool:
    """Every `state` second of `small` is a `state` second of `big`."""
    runs = merge_spans(Span(iv.start, iv.end) for iv in big if iv.state is state)
    return all(
        any(r.start <= iv.start and iv.end <= r.end for r in runs)
        for iv in small
        if iv.state is state
    )


PROPERTY = settings(max_examples=150, deadline=None)


@PROPERTY
@given(scenarios())
def test_intervals_tile_the_timeline_exactly(s: dict[str, object]) -> None:
    got = _compute(s)
    start, until = s["activated_at"], s["until"]
    assert isinstance(start, datetime) and isinstance(until, datetime)
    if until <= start:
        assert got == []
        return
    assert got[0].start == start and got[-1].end == until
    for prev, nxt in pairwise(got):
        assert prev.end == nxt.start
        assert (prev.state, prev.degraded) != (nxt.state, nxt.degraded)
    assert all(iv.start < iv.end for iv in got)
    assert sum(totals(got).values(), timedelta(0)) == until - start


@PROPERTY
@given(scenarios(), st.integers(min_value=0, max_value=HORIZON_S))
def test_splitting_a_period_and_summing_equals_the_whole(s: dict[str, object], cut: int) -> None:
    got = _compute(s)
    start, until = s["activated_at"], s["until"]
    assert isinstance(start, datetime) and isinstance(until, datetime)
    middle = DAY + timedelta(seconds=cut)
    whole = totals(clip(got, start, until))
    left, right = totals(clip(got, start, middle)), totals(clip(got, middle, until))
    assert {k: left[k] + right[k] for k in State} == whole


@PROPERTY
@given(scenarios(), st.integers(min_value=0, max_value=HORIZON_S))
def test_a_report_does_not_depend_on_when_it_was_generated(
    s: dict[str, object], later_s: int
) -> None:
    until = s["until"]
    assert isinstance(until, datetime)
    interval, grace = s["interval"], s["grace"]
    assert isinstance(interval, timedelta) and isinstance(grace, timedelta)
    settled = until - interval - grace
    start = s["activated_at"]
    assert isinstance(start, datetime)
    later = _compute(s, until=until + timedelta(seconds=later_s))
    assert clip(_compute(s), start, settled) == clip(later, start, settled)


@PROPERTY
@given(scenarios(), offsets, st.booleans())
def test_adding_a_heartbeat_never_adds_down_time(
    s: dict[str, object], extra_s: int, degraded: bool
) -> None:
    observations = s["observations"]
    assert isinstance(observations, list)
    extra = Observation(DAY + timedelta(seconds=extra_s), degraded)
    more = _compute(s, observations=[*observations, extra])
    assert _inside(more, _compute(s), DOWN)


@PROPERTY
@given(scenarios(), span_strategy)
def test_removing_coverage_never_adds_down_time(s: dict[str, object], gap: Span) -> None:
    watched = s["watched"]
    assert isinstance(watched, list)
    less = [
        part
        for span in watched
        for part in watched_from_gaps(start=span.start, end=span.end, gaps=[gap])
    ]
    assert _inside(_compute(s, watched=less), _compute(s), DOWN)


@PROPERTY
@given(scenarios(), span_strategy)
def test_an_exclusion_never_adds_up_or_down_time(s: dict[str, object], extra: Span) -> None:
    excluded = s["excluded"]
    assert isinstance(excluded, list)
    more = _compute(s, excluded=[*excluded, extra])
    assert _inside(more, _compute(s), DOWN)
    assert _inside(more, _compute(s), UP)

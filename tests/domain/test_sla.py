"""Availability and money of DESIGN decision 6, worked by hand to the Rupiah, and by property."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from linda.domain.sla import (
    OutageStats,
    ProportionalRule,
    Rule,
    SiteMonth,
    SiteSettlement,
    Tier,
    TieredRule,
    applicable_tier,
    availability,
    fee_due_idr,
    month_bounds,
    outage_stats,
    proportional_restitution_idr,
    settle,
    window_parts,
    window_s,
)
from linda.domain.status import Interval, Span, State, totals_s

WIB = ZoneInfo("Asia/Jakarta")
DAY_S = 86_400
OCTOBER_S = 31 * DAY_S  # 2_678_400
WINDOW_21D_S = 21 * DAY_S  # 1_814_400: active from 11 Oct 2024 00:00 WIB
FEE_IDR = 1_500_000
F = Fraction

TIERS = TieredRule(
    tiers=(
        Tier(F(99, 100), F(0)),
        Tier(F(97, 100), F(5)),
        Tier(F(95, 100), F(10)),
        Tier(F(0), F(25)),
    )
)
TIERS_WITHOUT_FLOOR = TieredRule(
    tiers=(Tier(F(97, 100), F(5)), Tier(F(99, 100), F(0)), Tier(F(95, 100), F(10)))
)
TWO_PERCENT = ProportionalRule(allowance=F(2, 100))


def site(*, window: int = OCTOBER_S, down: int = 0, vendor_down: int | None = None) -> SiteMonth:
    return SiteMonth(
        window_s=window,
        month_s=OCTOBER_S,
        up_s=window - down,
        down_s=down,
        vendor_down_s=down if vendor_down is None else vendor_down,
        excluded_s=0,
        unknown_s=0,
        monthly_fee_idr=FEE_IDR,
    )


# --- availability, month, window, fee due --------------------------------------------------


def test_availability_is_an_exact_fraction_or_none() -> None:
    assert availability(up_s=2_648_400, down_s=30_000) == F(2207, 2232)
    assert availability(up_s=0, down_s=0) is None
    assert availability(up_s=0, down_s=5) == 0


def test_october_2024_in_wib_starts_at_17_00_utc_the_day_before() -> None:
    october = month_bounds(2024, 10, WIB)
    assert october == Span(
        datetime(2024, 9, 30, 17, tzinfo=UTC), datetime(2024, 10, 31, 17, tzinfo=UTC)
    )
    assert october.duration == timedelta(days=31)
    december = month_bounds(2024, 12, WIB)
    assert december.end == datetime(2024, 12, 31, 17, tzinfo=UTC)


def test_window_is_the_part_of_the_period_after_activation() -> None:
    october = month_bounds(2024, 10, WIB)
    activated_at = datetime(2024, 10, 11, tzinfo=WIB)
    far_future = datetime(2100, 1, 1, tzinfo=UTC)
    assert window_s(october, [Span(activated_at, far_future)]) == WINDOW_21D_S
    assert window_s(october, []) == 0
    assert window_s(october, [Span(october.start - timedelta(days=400), far_future)]) == OCTOBER_S


def test_window_parts_cut_at_a_suspension_and_reopen_at_a_reactivation() -> None:
    october = month_bounds(2024, 10, WIB)
    suspended = datetime(2024, 10, 16, tzinfo=WIB)  # 2024-10-15 17:00 UTC
    reactivated = datetime(2024, 10, 26, tzinfo=WIB)
    parts = window_parts(october, [(suspended, False), (reactivated, True)])
    assert parts == (Span(october.start, suspended), Span(reactivated, october.end))
    # 15 days + 6 days = 1_296_000 + 518_400 = 1_814_400 s; fee due as for 21 days.
    assert window_s(october, parts) == 1_814_400
    assert fee_due_idr(monthly_fee_idr=1_500_000, window_s=1_814_400,
                       month_s=OCTOBER_S) == 1_016_129
    # Suspended before the month, never reactivated: nothing; reactivated inside: the rest.
    before = datetime(2024, 9, 20, tzinfo=WIB)
    assert window_parts(october, [(before, False)]) == ()
    assert window_parts(october, [(before, False), (reactivated, True)]) == (
        Span(reactivated, october.end),)
    # The first activation (True before any stop), repeated stops and changes after the
    # window change nothing; a stop exactly at the window's start empties it.
    assert window_parts(october, [(before, True), (datetime(2024, 11, 5, tzinfo=WIB), False)]
                        ) == (october,)
    assert window_parts(october, [(suspended, False), (suspended + timedelta(days=1), False)]
                        ) == (Span(october.start, suspended),)
    assert window_parts(october, [(october.start, False)]) == ()


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(-5 * 86_400, 36 * 86_400), st.booleans()), max_size=6))
def test_window_parts_are_ordered_disjoint_and_inside_the_window(
        raw: list[tuple[int, bool]]) -> None:
    october = month_bounds(2024, 10, WIB)
    changes = [(october.start + timedelta(seconds=t), serving) for t, serving in raw]
    parts = window_parts(october, changes)
    assert all(october.start <= p.start < p.end <= october.end for p in parts)
    assert all(a.end < b.start for a, b in itertools.pairwise(parts))
    # Brute force at every change and in between: in service iff inside a part.
    for t in {october.start, *(at for at, _ in changes)}:
        if not october.start <= t < october.end:
            continue
        state = True
        for at, serving in sorted(changes, key=lambda c: c[0]):
            if at <= t:
                state = serving
        assert any(p.start <= t < p.end for p in parts) == state


def test_partial_month_fee_due_is_rounded_down() -> None:
    # 1_500_000 * 21 / 31 = 1_016_129.03... -> 1_016_129
    due = fee_due_idr(monthly_fee_idr=FEE_IDR, window_s=WINDOW_21D_S, month_s=OCTOBER_S)
    assert due == 1_016_129


def test_fee_due_rejects_a_window_longer_than_the_month() -> None:
    with pytest.raises(ValueError, match="window_s"):
        fee_due_idr(monthly_fee_idr=FEE_IDR, window_s=OCTOBER_S + 1, month_s=OCTOBER_S)


# --- tiered --------------------------------------------------------------------------------


def test_tiered_full_month_worked_by_hand() -> None:
    # 30_000 s DOWN of 2_678_400: availability 2_648_400 / 2_678_400 = 2207/2232 = 98.88 %
    # -> tier >= 97 % -> 5 % of 1_500_000 = 75_000.
    assert settle(site(down=30_000), TIERS) == SiteSettlement(
        fee_due_idr=1_500_000,
        availability=F(2207, 2232),
        restitution_idr=75_000,
        payable_idr=1_425_000,
        restitution_availability=F(2207, 2232),
    )


def test_tiered_partial_month_rounds_the_deduction_down() -> None:
    # 36_288 s DOWN of 1_814_400 = exactly 98 % -> 5 % of 1_016_129 = 50_806.45 -> 50_806.
    result = settle(site(window=WINDOW_21D_S, down=36_288), TIERS)
    assert result.availability == F(98, 100)
    assert (result.fee_due_idr, result.restitution_idr, result.payable_idr) == (
        1_016_129,
        50_806,
        965_323,
    )


def test_tier_threshold_is_reached_at_equality() -> None:
    # 54_432 s DOWN = exactly 3 % of 1_814_400 -> availability exactly 97 % -> 5 % tier.
    at = settle(site(window=WINDOW_21D_S, down=54_432), TIERS)
    assert at.availability == F(97, 100)
    assert at.restitution_idr == 50_806
    # One second more -> below 97 % -> 10 %: 101_612.9 -> 101_612.
    below = settle(site(window=WINDOW_21D_S, down=54_433), TIERS)
    assert below.restitution_idr == 101_612
    assert below.payable_idr == 1_016_129 - 101_612


def test_below_every_tier_the_lowest_threshold_tier_applies() -> None:
    assert applicable_tier(TIERS_WITHOUT_FLOOR, F(90, 100)) == Tier(F(95, 100), F(10))
    assert applicable_tier(TIERS_WITHOUT_FLOOR, F(999, 1000)) == Tier(F(99, 100), F(0))
    # 10 % DOWN -> 90 % -> 10 % of 1_500_000.
    assert settle(site(down=267_840), TIERS_WITHOUT_FLOOR).restitution_idr == 150_000


def test_only_vendor_down_counts_for_tiered_restitution() -> None:
    # 60_000 s DOWN, 20_000 s of it the vendor's: published availability
    # 2_618_400 / 2_678_400 = 97.76 %, restitution availability
    # 2_658_400 / 2_678_400 = 99.25 % -> tier >= 99 % -> nothing deducted.
    result = settle(site(down=60_000, vendor_down=20_000), TIERS)
    assert result.availability == F(2_618_400, 2_678_400)
    assert result.restitution_availability == F(2_658_400, 2_678_400)
    assert result.restitution_idr == 0
    assert result.payable_idr == 1_500_000


def test_nothing_observed_means_no_tiered_deduction() -> None:
    unobserved = SiteMonth(
        window_s=OCTOBER_S,
        month_s=OCTOBER_S,
        up_s=0,
        down_s=0,
        vendor_down_s=0,
        excluded_s=DAY_S,
        unknown_s=OCTOBER_S - DAY_S,
        monthly_fee_idr=FEE_IDR,
    )
    result = settle(unobserved, TIERS)
    assert result.availability is None
    assert (result.restitution_idr, result.payable_idr) == (0, 1_500_000)


# --- proportional --------------------------------------------------------------------------


def test_proportional_partial_month_worked_by_hand() -> None:
    # allowance 2 % of 1_814_400 = 36_288 s; vendor DOWN 50_000 -> 13_712 s beyond it.
    # 1_016_129 * 13_712 / 1_814_400 = 13_933_160_848 / 1_814_400 = 7_679.21 -> 7_679.
    result = settle(site(window=WINDOW_21D_S, down=50_000), TWO_PERCENT)
    assert (result.fee_due_idr, result.restitution_idr, result.payable_idr) == (
        1_016_129,
        7_679,
        1_008_450,
    )


def test_proportional_rounds_once_at_the_end() -> None:
    # Rounding the per-second rate to whole sen first (0.56 IDR/s) would give
    # 0.56 * 13_712 = 7_678.72 -> 7_678; the exact fraction gives 7_679.
    assert (
        proportional_restitution_idr(
            fee_due_idr=1_016_129, vendor_down_s=50_000, window_s=WINDOW_21D_S, rule=TWO_PERCENT
        )
        == 7_679
    )
    # A fractional allowance stays exact: 1 % of 1_000_050 s = 10_000.5 s, so 20_000 s of vendor
    # DOWN is 9_999.5 s beyond it; at 1 IDR/s that is 9_999.5 -> 9_999. Rounding the allowance
    # to whole seconds first (10_000) or the result half-up would both give 10_000.
    got = proportional_restitution_idr(
        fee_due_idr=1_000_050,
        vendor_down_s=20_000,
        window_s=1_000_050,
        rule=ProportionalRule(allowance=F(1, 100)),
    )
    assert got == 9_999


def test_proportional_within_allowance_deducts_nothing() -> None:
    assert settle(site(window=WINDOW_21D_S, down=36_288), TWO_PERCENT).restitution_idr == 0


def test_proportional_counts_only_vendor_down() -> None:
    only_vendor = settle(site(window=WINDOW_21D_S, down=50_000), TWO_PERCENT)
    shared = settle(site(window=WINDOW_21D_S, down=90_000, vendor_down=50_000), TWO_PERCENT)
    assert shared.restitution_idr == only_vendor.restitution_idr == 7_679


# --- validation ----------------------------------------------------------------------------


def test_floats_are_refused_for_money_ratios() -> None:
    with pytest.raises(TypeError, match="never float"):
        Tier(0.97, F(5))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="never float"):
        ProportionalRule(allowance=0.02)  # type: ignore[arg-type]


def test_site_month_rejects_more_state_time_than_window() -> None:
    with pytest.raises(ValueError, match="exceeds window_s"):
        SiteMonth(
            window_s=10,
            month_s=100,
            up_s=8,
            down_s=2,
            vendor_down_s=2,
            excluded_s=1,
            unknown_s=0,
            monthly_fee_idr=1,
        )
    with pytest.raises(ValueError, match="vendor_down_s"):
        site(down=10, vendor_down=11)


def test_tiered_rule_needs_distinct_thresholds() -> None:
    with pytest.raises(ValueError, match="distinct"):
        TieredRule(tiers=(Tier(F(1, 2), F(1)), Tier(F(1, 2), F(2))))


# --- a DESIGN consequence worth knowing ---------------------------------------------------


def test_excluding_up_time_can_lower_availability() -> None:
    # UP / (UP + DOWN) leaves EXCLUDED time out of both sides, so maintenance over UP time
    # lowers the ratio: 90/100 -> 40/50. Excluding DOWN time can only raise it.
    assert availability(up_s=90, down_s=10) == F(9, 10)
    assert availability(up_s=40, down_s=10) == F(8, 10)
    assert availability(up_s=90, down_s=5) == F(18, 19)


# --- outage metrics ------------------------------------------------------------------------


def test_outage_stats_worked_by_hand() -> None:
    def at(minute: int) -> datetime:
        return datetime(2024, 10, 1, 10, tzinfo=UTC) + timedelta(minutes=minute)

    intervals = [
        Interval(at(-5), at(2), State.DOWN),  # crosses the period start: counts 2 min
        Interval(at(2), at(10), State.UP, degraded=True),
        Interval(at(10), at(20), State.UP),
        Interval(at(20), at(26), State.DOWN),
        Interval(at(26), at(30), State.EXCLUDED),
        Interval(at(30), at(31), State.DOWN),
        Interval(at(31), at(60), State.UNKNOWN),
    ]
    stats = outage_stats(intervals, Span(at(0), at(60)))
    assert stats == OutageStats(
        outage_count=3,
        down_s=9 * 60,
        up_s=18 * 60,
        degraded_s=8 * 60,
        longest_outage_s=6 * 60,
        mttr_s=F(180),
        mtbf_s=F(360),
    )
    quiet = outage_stats(intervals, Span(at(10), at(20)))
    assert (quiet.outage_count, quiet.mttr_s, quiet.mtbf_s, quiet.longest_outage_s) == (
        0,
        None,
        None,
        0,
    )


# --- properties ----------------------------------------------------------------------------

PROPERTY = settings(max_examples=200, deadline=None)
seconds = st.integers(min_value=0, max_value=OCTOBER_S)
percent = st.fractions(min_value=0, max_value=100, max_denominator=1000)
share = st.fractions(min_value=0, max_value=1, max_denominator=10_000)


@st.composite
def site_months(draw: st.DrawFn) -> SiteMonth:
    window = draw(seconds)
    parts = sorted(draw(st.lists(st.integers(0, window), min_size=3, max_size=3)))
    up, down, excluded = parts[0], parts[1] - parts[0], parts[2] - parts[1]
    return SiteMonth(
        window_s=window,
        month_s=OCTOBER_S,
        up_s=up,
        down_s=down,
        vendor_down_s=draw(st.integers(0, down)),
        excluded_s=excluded,
        unknown_s=window - parts[2],
        monthly_fee_idr=draw(st.integers(0, 50_000_000)),
    )


tiered_rules = st.lists(
    st.tuples(share, percent), min_size=1, max_size=5, unique_by=lambda t: t[0]
).map(lambda tiers: TieredRule(tiers=tuple(Tier(m, p) for m, p in tiers)))
rules: st.SearchStrategy[Rule] = st.one_of(tiered_rules, share.map(ProportionalRule))


@PROPERTY
@given(site_months(), rules)
def test_restitution_stays_within_zero_and_fee_due(month: SiteMonth, rule: Rule) -> None:
    result = settle(month, rule)
    assert 0 <= result.restitution_idr <= result.fee_due_idr
    assert result.payable_idr == result.fee_due_idr - result.restitution_idr
    assert 0 <= result.fee_due_idr <= month.monthly_fee_idr


@PROPERTY
@given(seconds, seconds)
def test_availability_stays_within_zero_and_one(up: int, down: int) -> None:
    ratio = availability(up_s=up, down_s=down)
    assert ratio is None if up + down == 0 else ratio is not None and 0 <= ratio <= 1


@PROPERTY
@given(seconds, seconds, seconds)
def test_excluding_down_time_never_lowers_availability(up: int, down: int, cut: int) -> None:
    before = availability(up_s=up, down_s=down)
    after = availability(up_s=up, down_s=down - min(cut, down))
    if before is not None and after is not None:
        assert after >= before


@PROPERTY
@given(site_months(), share, st.integers(0, OCTOBER_S))
def test_an_exclusion_never_raises_proportional_restitution(
    month: SiteMonth, allowance: Fraction, cut: int
) -> None:
    # Maintenance turns vendor DOWN into EXCLUDED: the window is unchanged.
    moved = min(cut, month.vendor_down_s)
    after = SiteMonth(
        window_s=month.window_s,
        month_s=month.month_s,
        up_s=month.up_s,
        down_s=month.down_s - moved,
        vendor_down_s=month.vendor_down_s - moved,
        excluded_s=month.excluded_s + moved,
        unknown_s=month.unknown_s,
        monthly_fee_idr=month.monthly_fee_idr,
    )
    rule = ProportionalRule(allowance)
    assert settle(after, rule).restitution_idr <= settle(month, rule).restitution_idr


@PROPERTY
@given(site_months(), tiered_rules, st.integers(0, OCTOBER_S))
def test_more_vendor_down_never_lowers_tiered_restitution_with_monotone_tiers(
    month: SiteMonth, rule: TieredRule, extra: int
) -> None:
    # With deductions that grow as thresholds fall, more vendor DOWN never pays less back.
    ordered = sorted(rule.tiers, key=lambda tier: tier.min_availability)
    pcts = sorted((tier.deduct_pct for tier in ordered), reverse=True)
    monotone = TieredRule(
        tuple(Tier(t.min_availability, p) for t, p in zip(ordered, pcts, strict=True))
    )
    moved = min(extra, month.up_s)
    worse = SiteMonth(
        window_s=month.window_s,
        month_s=month.month_s,
        up_s=month.up_s - moved,
        down_s=month.down_s + moved,
        vendor_down_s=month.vendor_down_s + moved,
        excluded_s=month.excluded_s,
        unknown_s=month.unknown_s,
        monthly_fee_idr=month.monthly_fee_idr,
    )
    assert settle(worse, monotone).restitution_idr >= settle(month, monotone).restitution_idr


@PROPERTY
@given(st.lists(st.tuples(st.sampled_from(list(State)), st.integers(1, 10_000)), max_size=20))
def test_outage_stats_agree_with_totals(parts: list[tuple[State, int]]) -> None:
    cursor = datetime(2024, 10, 1, tzinfo=UTC)
    intervals = []
    for state, length in parts:
        intervals.append(Interval(cursor, cursor + timedelta(seconds=length), state))
        cursor += timedelta(seconds=length)
    period = Span(datetime(2024, 10, 1, tzinfo=UTC), cursor + timedelta(seconds=1))
    stats = outage_stats(intervals, period)
    by_state = totals_s(intervals)
    assert (stats.down_s, stats.up_s) == (by_state[State.DOWN], by_state[State.UP])
    if stats.outage_count:
        assert stats.mttr_s == F(stats.down_s, stats.outage_count)
        assert stats.longest_outage_s <= stats.down_s

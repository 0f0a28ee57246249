"""`compute_month` without a database: invariants over generated timelines."""

from __future__ import annotations

import datetime as dt
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from linda.domain.attribution import Beat, Cause, Evidence, Responsibility
from linda.domain.sla import month_bounds
from linda.domain.status import Interval, Span, State
from linda.sla.calc import (
    MonthScope,
    OverrideRecord,
    SiteInfo,
    SiteTimeline,
    Terms,
    compute_month,
    fill_unknown,
    site_window,
)
from linda.sla.content import build_content, canonical_json, pct

OCTOBER = month_bounds(2024, 10, ZoneInfo("Asia/Jakarta"))
START = OCTOBER.start - timedelta(days=3)
UNTIL = OCTOBER.end + timedelta(days=3)
SCOPE = MonthScope(period=OCTOBER, contract_period=Span(START, UNTIL + timedelta(days=99)),
                   until=UNTIL, final=True)
TIERED = Terms(
    version=1, effective_from=dt.date(2024, 1, 1), monthly_fee_idr=1_500_000,
    sla_target_pct=Decimal(99), power_outage_responsibility=Responsibility.REGENCY,
    restitution_kind="tiered",
    restitution_tiers=((Decimal(99), Decimal(0)), (Decimal(97), Decimal(5)),
                       (Decimal(0), Decimal(25))),
    allowance_pct=None,
)
PROPORTIONAL = Terms(
    version=2, effective_from=dt.date(2024, 1, 1), monthly_fee_idr=1_500_000,
    sla_target_pct=Decimal(98), power_outage_responsibility=Responsibility.REGENCY,
    restitution_kind="proportional", restitution_tiers=(), allowance_pct=Decimal("1.5"),
)


def info(pk: int, interval_s: int = 60) -> SiteInfo:
    return SiteInfo(pk=pk, code=f"s{pk}", name="Kantor Desa", village_code="v", village="V",
                    kecamatan_code="k", kecamatan="K", interval=timedelta(seconds=interval_s),
                    grace=timedelta(seconds=180))


states = st.sampled_from([State.UP, State.UP, State.DOWN, State.EXCLUDED, State.UNKNOWN])
pieces = st.lists(st.tuples(states, st.integers(1, 9 * 86_400)), min_size=1, max_size=12)


def timeline_of(parts: list[tuple[State, int]], pk: int = 1) -> SiteTimeline:
    intervals, cursor = [], START
    for state, seconds in parts:
        end = min(cursor + timedelta(seconds=seconds, microseconds=137), UNTIL)
        if cursor < end:
            intervals.append(Interval(cursor, end, state))
        cursor = end
    if cursor < UNTIL:
        intervals.append(Interval(cursor, UNTIL, State.UP))
    return SiteTimeline(site=info(pk), activated_at=START, intervals=intervals)


def powerless(site: SiteInfo, outage: Span, until: datetime) -> Evidence:
    """Every outage a reset with LVD: power, the regency's under these terms."""
    return Evidence(before=Beat(outage.start, uptime_s=10_000, lvd=True),
                    after=Beat(outage.end, uptime_s=5))


def silent(site: SiteInfo, outage: Span, until: datetime) -> Evidence:
    return Evidence()


def month(t: SiteTimeline, terms: Terms = TIERED, evidence=silent, overrides=None):  # type: ignore[no-untyped-def]
    return compute_month(scope=SCOPE, terms=terms, timelines=[t], vendor_timelines=[t],
                         evidence=evidence, overrides=overrides or {}).sites[0]


@settings(max_examples=150, deadline=None)
@given(pieces)
def test_seconds_add_up_and_vendor_down_stays_within_down(parts: list[tuple[State, int]]) -> None:
    site = month(timeline_of(parts))
    m = site.month
    assert m.window_s == 2_678_400
    assert m.window_s - 4 <= m.up_s + m.down_s + m.excluded_s + m.unknown_s <= m.window_s
    assert m.vendor_down_s == m.down_s  # nothing explains them: unknown → vendor
    in_window = sum((o.in_window for o in site.outages), timedelta(0))
    assert in_window // timedelta(seconds=1) == m.down_s
    assert 0 <= site.settlement.restitution_idr <= site.settlement.fee_due_idr


@settings(max_examples=150, deadline=None)
@given(pieces, st.sampled_from([TIERED, PROPORTIONAL]))
def test_power_outages_of_the_regency_never_cost_the_vendor_more(
    parts: list[tuple[State, int]], terms: Terms
) -> None:
    t = timeline_of(parts)
    vendor = month(t, terms)
    regency = month(t, terms, evidence=powerless)
    assert regency.month.vendor_down_s == 0
    assert regency.settlement.restitution_idr == 0
    assert regency.settlement.restitution_idr <= vendor.settlement.restitution_idr
    assert regency.settlement.availability == vendor.settlement.availability


@settings(max_examples=100, deadline=None)
@given(pieces)
def test_an_override_to_the_vendor_never_lowers_restitution(
    parts: list[tuple[State, int]]
) -> None:
    t = timeline_of(parts)
    before = month(t, evidence=powerless)
    at = datetime(2024, 11, 5, tzinfo=UTC)
    overrides = {
        (1, o.start): OverrideRecord(cause=None, responsibility=Responsibility.VENDOR,
                                     reason="r", author="a", created_at=at)
        for o in before.outages[:1]
    }
    after = month(t, evidence=powerless, overrides=overrides)
    assert after.settlement.restitution_idr >= before.settlement.restitution_idr
    if before.outages:
        assert after.outages[0].auto_cause is Cause.POWER
        assert after.outages[0].responsibility is Responsibility.VENDOR


def test_an_outage_across_the_month_start_counts_only_its_part_inside() -> None:
    across = Span(OCTOBER.start - timedelta(hours=2), OCTOBER.start + timedelta(hours=3))
    t = SiteTimeline(site=info(1), activated_at=START, intervals=[
        Interval(START, across.start, State.UP),
        Interval(across.start, across.end, State.DOWN),
        Interval(across.end, UNTIL, State.UP),
    ])
    site = month(t)
    assert [(o.start, o.in_window) for o in site.outages] == [
        (across.start, timedelta(hours=3))]
    assert (site.month.down_s, site.stats.outage_count) == (10_800, 1)


def test_activation_and_contract_period_cut_the_window() -> None:
    activated = OCTOBER.start + timedelta(days=10)
    assert site_window(SCOPE, activated) == Span(activated, OCTOBER.end)
    assert site_window(SCOPE, None) is None
    ends = MonthScope(period=OCTOBER, contract_period=Span(START, OCTOBER.start +
                                                           timedelta(days=20)),
                      until=UNTIL, final=True)
    assert site_window(ends, activated) == Span(activated, OCTOBER.start + timedelta(days=20))
    assert site_window(ends, OCTOBER.start + timedelta(days=25)) is None


def test_a_site_never_activated_is_owed_nothing() -> None:
    t = SiteTimeline(site=info(1), activated_at=None, intervals=[])
    site = month(t)
    assert (site.month.window_s, site.settlement.fee_due_idr, site.sla_met) == (0, 0, None)


def test_content_has_no_floats_and_percentages_are_truncated() -> None:
    figures = compute_month(scope=SCOPE, terms=TIERED,
                            timelines=[timeline_of([(State.UP, 40 * 86_400)])],
                            vendor_timelines=[], evidence=silent, overrides={})
    content = build_content(figures, contract={"number": "K"}, kecamatan=None)
    text = canonical_json(content)
    assert "e-" not in text and ".0," not in text
    from fractions import Fraction

    assert pct(Fraction(99999999, 100000000)) == "99.9999"  # never shown as 100
    assert pct(Fraction(1)) == "100.0000"


def test_outages_beginning_within_one_interval_are_one_incident_at_any_interval() -> None:
    """Five sites cut off at the same moment begin their outages when each one's next beat
    was due: up to one interval apart. Starts 0, 2, 4, 6, 8 minutes after 10:00 on Oct 5."""
    at = datetime(2024, 10, 5, 10, tzinfo=UTC)

    def fleet(interval_s: int) -> list[SiteTimeline]:
        out = []
        for pk in range(1, 6):
            down = at + timedelta(minutes=2 * (pk - 1))
            out.append(SiteTimeline(site=info(pk, interval_s), activated_at=START, intervals=[
                Interval(START, down, State.UP),
                Interval(down, down + timedelta(hours=1), State.DOWN),
                Interval(down + timedelta(hours=1), UNTIL, State.UP),
            ]))
        return out

    def causes(interval_s: int) -> list[Cause]:
        t = fleet(interval_s)
        figures = compute_month(scope=SCOPE, terms=TIERED, timelines=t, vendor_timelines=t,
                                evidence=silent, overrides={})
        return [o.cause for s in figures.sites for o in s.outages]

    # I = 60 s: the default window (±120 s) sees at most 3 of them together: no incident.
    assert causes(60) == [Cause.UNKNOWN] * 5
    # I = 600 s: 8 minutes apart is well within one interval: one upstream incident, and
    # the report records the window it used (600 + 60 s).
    assert causes(600) == [Cause.UPSTREAM] * 5
    t = fleet(600)
    figures = compute_month(scope=SCOPE, terms=TIERED, timelines=t, vendor_timelines=t,
                            evidence=silent, overrides={})
    assert figures.settings.attribution.upstream_window == timedelta(seconds=660)


def test_imported_intervals_fill_only_the_time_the_live_monitor_did_not_watch() -> None:
    def h(hour: int) -> datetime:
        return datetime(2024, 10, 5, hour, tzinfo=UTC)

    live = [Interval(h(0), h(4), State.UNKNOWN), Interval(h(4), h(6), State.UP),
            Interval(h(6), h(9), State.UNKNOWN)]
    imported = [Interval(h(1), h(2), State.DOWN), Interval(h(2), h(5), State.UP, True),
                Interval(h(7), h(8), State.UP)]
    assert fill_unknown(live, imported) == [
        Interval(h(0), h(1), State.UNKNOWN), Interval(h(1), h(2), State.DOWN),
        Interval(h(2), h(4), State.UP, True),  # the import's part inside the UNKNOWN only
        Interval(h(4), h(6), State.UP),
        Interval(h(6), h(7), State.UNKNOWN), Interval(h(7), h(8), State.UP),
        Interval(h(8), h(9), State.UNKNOWN),
    ]
    assert fill_unknown(live, []) == live

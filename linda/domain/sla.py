"""Availability, fee due and restitution (DESIGN decision 6). Money is exact.

Money is integer Rupiah, ratios are `fractions.Fraction`, never float. Every rounding is an
explicit floor (round down) applied once, where the contract says so. Pure: no Django, no clock,
no I/O. The rules in words, with worked examples, are in docs/rules.md.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from fractions import Fraction
from zoneinfo import ZoneInfo

from linda.domain.status import ONE_SECOND, Interval, Span, State, clip, merge_spans, outages

__all__ = [
    "OutageStats",
    "ProportionalRule",
    "Rule",
    "SiteMonth",
    "SiteSettlement",
    "Tier",
    "TieredRule",
    "applicable_tier",
    "availability",
    "fee_due_idr",
    "month_bounds",
    "outage_stats",
    "proportional_restitution_idr",
    "restitution_availability",
    "settle",
    "tiered_restitution_idr",
    "window_parts",
    "window_s",
]

_HUNDRED = Fraction(100)


def _require_count(value: int, name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value < 0:
        raise ValueError(f"{name} must not be negative, got {value}")


def _exact(value: Fraction | int, name: str) -> Fraction:
    if isinstance(value, bool) or not isinstance(value, Fraction | int):
        raise TypeError(f"{name} must be a Fraction or int (never float), got {value!r}")
    return Fraction(value)


def availability(*, up_s: int, down_s: int) -> Fraction | None:
    """UP ÷ (UP + DOWN) as an exact fraction; None when nothing was observed."""
    _require_count(up_s, "up_s")
    _require_count(down_s, "down_s")
    observed = up_s + down_s
    return Fraction(up_s, observed) if observed else None


def fee_due_idr(*, monthly_fee_idr: int, window_s: int, month_s: int) -> int:
    """Monthly fee * window ÷ month, rounded down to whole Rupiah."""
    _require_count(monthly_fee_idr, "monthly_fee_idr")
    _require_count(window_s, "window_s")
    _require_count(month_s, "month_s")
    if month_s == 0:
        raise ValueError("month_s must be positive")
    if window_s > month_s:
        raise ValueError(f"window_s ({window_s}) must not exceed month_s ({month_s})")
    return monthly_fee_idr * window_s // month_s


@dataclass(frozen=True)
class Tier:
    """Deduct `deduct_pct` percent of the fee due when availability ≥ `min_availability`."""

    min_availability: Fraction
    deduct_pct: Fraction

    def __post_init__(self) -> None:
        threshold = _exact(self.min_availability, "Tier.min_availability")
        pct = _exact(self.deduct_pct, "Tier.deduct_pct")
        if not 0 <= threshold <= 1:
            raise ValueError(f"Tier.min_availability must be within [0, 1], got {threshold}")
        if not 0 <= pct <= _HUNDRED:
            raise ValueError(f"Tier.deduct_pct must be within [0, 100], got {pct}")
        object.__setattr__(self, "min_availability", threshold)
        object.__setattr__(self, "deduct_pct", pct)


@dataclass(frozen=True)
class TieredRule:
    tiers: tuple[Tier, ...]

    def __post_init__(self) -> None:
        if not self.tiers:
            raise ValueError("TieredRule.tiers must not be empty")
        thresholds = [tier.min_availability for tier in self.tiers]
        if len(set(thresholds)) != len(thresholds):
            raise ValueError("TieredRule.tiers must have distinct min_availability thresholds")


@dataclass(frozen=True)
class ProportionalRule:
    """Restitution in proportion to vendor DOWN beyond `allowance` (a share of the window)."""

    allowance: Fraction

    def __post_init__(self) -> None:
        allowance = _exact(self.allowance, "ProportionalRule.allowance")
        if not 0 <= allowance <= 1:
            raise ValueError(f"ProportionalRule.allowance must be within [0, 1], got {allowance}")
        object.__setattr__(self, "allowance", allowance)


Rule = TieredRule | ProportionalRule


def restitution_availability(*, up_s: int, down_s: int, vendor_down_s: int) -> Fraction | None:
    """(UP + DOWN - vendor DOWN) ÷ (UP + DOWN): only the vendor's DOWN counts against it."""
    _require_count(vendor_down_s, "vendor_down_s")
    if vendor_down_s > down_s:
        raise ValueError(f"vendor_down_s ({vendor_down_s}) must not exceed down_s ({down_s})")
    if availability(up_s=up_s, down_s=down_s) is None:
        return None
    return Fraction(up_s + down_s - vendor_down_s, up_s + down_s)


def applicable_tier(rule: TieredRule, measured: Fraction) -> Tier:
    """The tier with the highest threshold that `measured` reaches (≥).

    Below every threshold, the tier with the lowest threshold applies: a contract's worst tier
    is its floor. Give the rule a tier at 0 to make the bottom explicit.
    """
    reached = [tier for tier in rule.tiers if measured >= tier.min_availability]
    if reached:
        return max(reached, key=lambda tier: tier.min_availability)
    return min(rule.tiers, key=lambda tier: tier.min_availability)


def tiered_restitution_idr(*, fee_due_idr: int, measured: Fraction | None, rule: TieredRule) -> int:
    """Fee due * the applicable tier's percentage ÷ 100, rounded down; 0 if not measured."""
    _require_count(fee_due_idr, "fee_due_idr")
    if measured is None:
        return 0
    tier = applicable_tier(rule, measured)
    return math.floor(fee_due_idr * tier.deduct_pct / _HUNDRED)


def proportional_restitution_idr(
    *, fee_due_idr: int, vendor_down_s: int, window_s: int, rule: ProportionalRule
) -> int:
    """Fee due * max(0, vendor DOWN - allowance * window) ÷ window, rounded down once."""
    _require_count(fee_due_idr, "fee_due_idr")
    _require_count(vendor_down_s, "vendor_down_s")
    _require_count(window_s, "window_s")
    if window_s == 0:
        return 0
    excess_s = max(Fraction(0), vendor_down_s - rule.allowance * window_s)
    return math.floor(fee_due_idr * excess_s / window_s)


@dataclass(frozen=True)
class SiteMonth:
    """One site's whole seconds in one period (a calendar month in WIB)."""

    window_s: int
    month_s: int
    up_s: int
    down_s: int
    vendor_down_s: int
    excluded_s: int
    unknown_s: int
    monthly_fee_idr: int

    def __post_init__(self) -> None:
        for name in (
            "window_s",
            "month_s",
            "up_s",
            "down_s",
            "vendor_down_s",
            "excluded_s",
            "unknown_s",
            "monthly_fee_idr",
        ):
            _require_count(getattr(self, name), f"SiteMonth.{name}")
        if self.vendor_down_s > self.down_s:
            raise ValueError("SiteMonth.vendor_down_s must not exceed down_s")
        states_s = self.up_s + self.down_s + self.excluded_s + self.unknown_s
        if states_s > self.window_s:
            raise ValueError(
                f"SiteMonth: UP+DOWN+EXCLUDED+UNKNOWN ({states_s}) exceeds window_s "
                f"({self.window_s})"
            )
        if self.window_s > self.month_s:
            raise ValueError("SiteMonth.window_s must not exceed month_s")


@dataclass(frozen=True)
class SiteSettlement:
    fee_due_idr: int
    availability: Fraction | None
    restitution_idr: int
    payable_idr: int
    restitution_availability: Fraction | None = None


def settle(site: SiteMonth, rule: Rule) -> SiteSettlement:
    """Fee due, availability, restitution and payable for one site and period."""
    due = fee_due_idr(
        monthly_fee_idr=site.monthly_fee_idr, window_s=site.window_s, month_s=site.month_s
    )
    measured = restitution_availability(
        up_s=site.up_s, down_s=site.down_s, vendor_down_s=site.vendor_down_s
    )
    if isinstance(rule, TieredRule):
        restitution = tiered_restitution_idr(fee_due_idr=due, measured=measured, rule=rule)
    else:
        restitution = proportional_restitution_idr(
            fee_due_idr=due, vendor_down_s=site.vendor_down_s, window_s=site.window_s, rule=rule
        )
    restitution = min(restitution, due)
    return SiteSettlement(
        fee_due_idr=due,
        availability=availability(up_s=site.up_s, down_s=site.down_s),
        restitution_idr=restitution,
        payable_idr=due - restitution,
        restitution_availability=measured,
    )


def month_bounds(year: int, month: int, tz: ZoneInfo) -> Span:
    """The calendar month in `tz` (the office's zone, Asia/Jakarta) as a UTC span."""
    if not 1 <= month <= 12:
        raise ValueError(f"month must be within 1..12, got {month}")
    start = datetime(year, month, 1, tzinfo=tz)
    end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=tz)
    return Span(start, end)


def window_s(period: Span, active: Sequence[Span]) -> int:
    """Whole seconds of `period` during which the site was active (rounded down once)."""
    total = timedelta(0)
    for span in merge_spans(active):
        start, end = max(span.start, period.start), min(span.end, period.end)
        if start < end:
            total += end - start
    return total // ONE_SECOND


def window_parts(
    window: Span, changes: Sequence[tuple[datetime, bool]]
) -> tuple[Span, ...]:
    """The parts of `window` during which the site was in service.

    `changes` are the moments its service started (True: activated, reactivated) or stopped
    (False: suspended, decommissioned), in any order; a site is in service before its first
    change. A stop ends a part at that moment; a later start opens a new one. Changes at the
    same instant apply in the order given (the last one wins).
    """
    ordered = sorted(enumerate(changes), key=lambda item: (item[1][0], item[0]))
    in_service = True
    since = window.start
    parts: list[Span] = []
    for _, (at, serving) in ordered:
        if at <= window.start:
            in_service = serving
            continue
        if at >= window.end:
            break
        if serving == in_service:
            continue
        if in_service:
            if since < at:
                parts.append(Span(since, at))
        else:
            since = at
        in_service = serving
    if in_service:
        parts.append(Span(since, window.end))
    merged: list[Span] = []  # a stop and a start at the same instant leave no hole
    for part in parts:
        if merged and merged[-1].end == part.start:
            merged[-1] = Span(merged[-1].start, part.end)
        else:
            merged.append(part)
    return tuple(merged)


@dataclass(frozen=True)
class OutageStats:
    """Outage metrics of one period; durations in seconds, means as exact fractions."""

    outage_count: int
    down_s: int
    up_s: int
    degraded_s: int
    longest_outage_s: int
    mttr_s: Fraction | None
    mtbf_s: Fraction | None


def _exact_s(value: timedelta) -> Fraction:
    return Fraction(value // timedelta(microseconds=1), 1_000_000)


def outage_stats(intervals: Iterable[Interval], period: Span) -> OutageStats:
    """Count, MTTR (mean outage length), MTBF (UP ÷ count), longest outage, DEGRADED time.

    Intervals are cut to `period` first, so an outage crossing a period boundary counts
    (with its part inside) in each period it touches.
    """
    inside = clip(intervals, period.start, period.end)
    runs = outages(inside)
    down = sum((run.duration for run in runs), timedelta(0))
    up = sum((iv.duration for iv in inside if iv.state is State.UP), timedelta(0))
    degraded = sum((iv.duration for iv in inside if iv.degraded), timedelta(0))
    count = len(runs)
    return OutageStats(
        outage_count=count,
        down_s=down // ONE_SECOND,
        up_s=up // ONE_SECOND,
        degraded_s=degraded // ONE_SECOND,
        longest_outage_s=max((run.duration for run in runs), default=timedelta(0)) // ONE_SECOND,
        mttr_s=_exact_s(down) / count if count else None,
        mtbf_s=_exact_s(up) / count if count else None,
    )

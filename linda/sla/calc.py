"""One contract's month, from intervals and evidence to Rupiah. No database in here.

`linda.sla.selectors` loads the inputs (status intervals from the monitoring selector, the
heartbeats around each outage, the overrides, the terms) and calls `compute_month`; the
benchmark calls it with generated intervals. Every rule is in `linda.domain`: the outage rule
(`status`), attribution (`attribution`) and the money (`sla`); this module only wires them
together and keeps exact time until the one rounding of each total.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Protocol

from linda.domain.attribution import (
    DEFAULT_SETTINGS,
    AttributionSettings,
    Cause,
    Evidence,
    Responsibility,
    SitePower,
    attribute,
    concurrent_counts,
    incident_groups,
    responsibility_for,
)
from linda.domain.sla import (
    OutageStats,
    ProportionalRule,
    Rule,
    SiteMonth,
    SiteSettlement,
    Tier,
    TieredRule,
    outage_stats,
    settle,
    window_parts,
    window_s,
)
from linda.domain.status import ONE_SECOND, Interval, Span, State, clip, outages, totals_s

# Bump when the way figures are derived changes (status, attribution, money or this wiring).
RULE_VERSION = "linda-sla/2 (status: keputusan 3, atribusi: keputusan 5, uang: keputusan 6)"
_ZERO = timedelta(0)


@dataclass(frozen=True, slots=True)
class SiteInfo:
    pk: int
    code: str
    name: str
    village_code: str
    village: str
    kecamatan_code: str
    kecamatan: str
    interval: timedelta
    grace: timedelta
    power: SitePower = field(default_factory=SitePower)


@dataclass(frozen=True, slots=True)
class SiteTimeline:
    """A site's monitoring activation and its intervals on the continuous timeline, cut to
    the stretch the month needs (a lookback before it, the evidence days after it)."""

    site: SiteInfo
    activated_at: datetime | None
    intervals: Sequence[Interval]
    # When its village's service stopped (False: suspended, decommissioned) or started again
    # (True: reactivated), from the rollout's stage transitions; empty for most sites.
    service_changes: Sequence[tuple[datetime, bool]] = ()


@dataclass(frozen=True, slots=True)
class Terms:
    """One version of a contract's money rules, as the report records it."""

    version: int
    effective_from: dt.date
    monthly_fee_idr: int
    sla_target_pct: Decimal
    power_outage_responsibility: Responsibility
    restitution_kind: str
    restitution_tiers: tuple[tuple[Decimal, Decimal], ...]
    allowance_pct: Decimal | None

    @property
    def rule(self) -> Rule:
        if self.restitution_kind == "proportional":
            if self.allowance_pct is None:
                raise ValueError("a proportional rule needs allowance_pct")
            return ProportionalRule(allowance=Fraction(self.allowance_pct) / 100)
        return TieredRule(
            tiers=tuple(
                Tier(Fraction(min_pct) / 100, Fraction(deduct_pct))
                for min_pct, deduct_pct in self.restitution_tiers
            )
        )


@dataclass(frozen=True, slots=True)
class OverrideRecord:
    cause: Cause | None
    responsibility: Responsibility | None
    reason: str
    author: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class SlaSettings:
    attribution: AttributionSettings = DEFAULT_SETTINGS
    manual_signoff_unknown_pct: Decimal = Decimal(5)
    evidence_days: int = 3
    lookback_days: int = 45


@dataclass(frozen=True, slots=True)
class MonthScope:
    """The month, the contract's period and how far the timeline was computed."""

    period: Span
    contract_period: Span
    until: datetime  # min(now, period end + evidence days)
    final: bool


class EvidenceSource(Protocol):
    def __call__(self, site: SiteInfo, outage: Span, until: datetime) -> Evidence: ...


@dataclass(frozen=True, slots=True)
class OutageFigures:
    start: datetime
    end: datetime
    in_window: timedelta
    auto_cause: Cause
    auto_responsibility: Responsibility
    cause: Cause
    responsibility: Responsibility
    evidence: tuple[str, ...]
    concurrent_sites: int
    incident: datetime | None
    override: OverrideRecord | None


@dataclass(frozen=True, slots=True)
class SiteFigures:
    site: SiteInfo
    activated_at: datetime | None
    window: Span | None  # from the first part's start to the last part's end
    month: SiteMonth
    settlement: SiteSettlement
    stats: OutageStats
    manual_signoff: bool
    sla_met: bool | None
    outages: tuple[OutageFigures, ...]
    # The parts of the window in service: one, unless a suspension cut a hole in it.
    window_parts: tuple[Span, ...] = ()


@dataclass(frozen=True, slots=True)
class MonthFigures:
    scope: MonthScope
    terms: Terms
    settings: SlaSettings
    sites: tuple[SiteFigures, ...]

    @property
    def manual_signoff_required(self) -> bool:
        return any(s.manual_signoff for s in self.sites)


def fill_unknown(live: Sequence[Interval], imported: Sequence[Interval]) -> list[Interval]:
    """The live timeline with its UNKNOWN time filled by imported intervals where they have
    any: a historical import (a vendor NMS export, a simulated past) watched that time in the
    live monitor's stead and computed it with the same status rule (decision 4). What the
    live monitor watched is never replaced (the import refuses to overlap live intervals)."""
    out: list[Interval] = []
    ordered = sorted(imported, key=lambda iv: iv.start)
    for iv in live:
        if iv.state is not State.UNKNOWN:
            out.append(iv)
            continue
        at = iv.start
        for part in clip(ordered, iv.start, iv.end):
            if at < part.start:
                out.append(Interval(at, part.start, State.UNKNOWN))
            out.append(part)
            at = part.end
        if at < iv.end:
            out.append(Interval(at, iv.end, State.UNKNOWN))
    return out


def site_window(scope: MonthScope, activated_at: datetime | None) -> Span | None:
    """The part of the month the site is billed: after activation, inside the contract."""
    if activated_at is None:
        return None
    start = max(scope.period.start, scope.contract_period.start, activated_at)
    end = min(scope.period.end, scope.contract_period.end)
    return Span(start, end) if start < end else None


def site_window_parts(
    scope: MonthScope, activated_at: datetime | None,
    service_changes: Sequence[tuple[datetime, bool]] = (),
) -> tuple[Span, ...]:
    """The site's window with the time its village was suspended or decommissioned cut out:
    a suspension ends a part at its effective moment, a reactivation opens a new one."""
    window = site_window(scope, activated_at)
    return () if window is None else window_parts(window, service_changes)


def compute_month(
    *,
    scope: MonthScope,
    terms: Terms,
    timelines: Sequence[SiteTimeline],
    vendor_timelines: Sequence[SiteTimeline],
    evidence: EvidenceSource,
    overrides: Mapping[tuple[int, datetime], OverrideRecord],
    settings: SlaSettings = SlaSettings(),
    progress: Callable[[int, int], None] | None = None,
) -> MonthFigures:
    """Figures for `timelines` (the report's sites). `vendor_timelines` are every site of
    the same vendor (the report's included): outages beginning together across them are one
    upstream incident."""
    settings = dataclasses.replace(
        settings,
        attribution=upstream_settings(
            settings.attribution,
            [t.site.interval for t in (*vendor_timelines, *timelines) if t.intervals],
        ),
    )
    runs = {t.site.pk: outages(t.intervals) for t in vendor_timelines}
    for t in timelines:
        runs.setdefault(t.site.pk, outages(t.intervals))
    concurrency, incidents = _upstream_context(runs, settings.attribution)
    rule = terms.rule
    sites: list[SiteFigures] = []
    for done, timeline in enumerate(timelines, start=1):
        sites.append(
            _site_figures(
                timeline, runs[timeline.site.pk], scope=scope, terms=terms, rule=rule,
                evidence=evidence, overrides=overrides, settings=settings,
                concurrency=concurrency, incidents=incidents,
            )
        )
        if progress is not None:
            progress(done, len(timelines))
    return MonthFigures(scope=scope, terms=terms, settings=settings, sites=tuple(sites))


UPSTREAM_SPREAD = timedelta(minutes=1)


def upstream_settings(
    settings: AttributionSettings, intervals: Sequence[timedelta]
) -> AttributionSettings:
    """The upstream window widened to at least the longest heartbeat interval of the sites
    + a minute. Sites cut off at the same moment begin their outages when their next beat
    was due: spread over one interval by the beats' phases (and the failure's own minute).
    With I = 60 s the default window (120 s) is unchanged; a fleet beating every 10
    minutes gets 660 s, or a hub failure would read as scattered link faults."""
    needed = max(intervals, default=timedelta(0)) + UPSTREAM_SPREAD
    if needed <= settings.upstream_window:
        return settings
    return dataclasses.replace(settings, upstream_window=needed)


def _upstream_context(
    runs: Mapping[int, Sequence[Span]], settings: AttributionSettings
) -> tuple[dict[tuple[int, datetime], int], dict[tuple[int, datetime], datetime]]:
    """Per (site, outage start): other sites down within the window; and, for outages in a
    burst of at least `upstream_min_sites`, the first start of their incident."""
    starts = [(pk, run.start) for pk, site_runs in runs.items() for run in site_runs]
    counts = concurrent_counts(starts, settings.upstream_window)
    concurrency = {key: n for key, n in zip(starts, counts, strict=True)}
    bursts = [key for key, n in zip(starts, counts, strict=True)
              if n + 1 >= settings.upstream_min_sites]
    names = incident_groups([at for _, at in bursts], settings.upstream_window)
    return concurrency, dict(zip(bursts, names, strict=True))


def _site_figures(
    timeline: SiteTimeline,
    runs: Sequence[Span],
    *,
    scope: MonthScope,
    terms: Terms,
    rule: Rule,
    evidence: EvidenceSource,
    overrides: Mapping[tuple[int, datetime], OverrideRecord],
    settings: SlaSettings,
    concurrency: Mapping[tuple[int, datetime], int],
    incidents: Mapping[tuple[int, datetime], datetime],
) -> SiteFigures:
    site = timeline.site
    parts = site_window_parts(scope, timeline.activated_at, timeline.service_changes)
    month_s = scope.period.duration // ONE_SECOND
    if not parts:
        return _inactive(timeline, scope=scope, terms=terms, rule=rule, month_s=month_s)
    window = Span(parts[0].start, parts[-1].end)
    inside = [iv for part in parts for iv in clip(timeline.intervals, part.start, part.end)]
    state_s = totals_s(inside)
    figures: list[OutageFigures] = []
    vendor_down = _ZERO
    for run in runs:
        overlap = sum(
            (max(_ZERO, min(run.end, part.end) - max(run.start, part.start)) for part in parts),
            _ZERO,
        )
        if overlap <= _ZERO:
            continue
        key = (site.pk, run.start)
        ev = dataclasses.replace(
            evidence(site, run, scope.until), concurrent_sites=concurrency.get(key, 0)
        )
        outage = _outage_figures(run, overlap, ev, site.power, terms, settings,
                                 overrides.get(key), incidents.get(key))
        if outage.responsibility is Responsibility.VENDOR:
            vendor_down += overlap
        figures.append(outage)
    month = SiteMonth(
        window_s=window_s(scope.period, parts),
        month_s=month_s,
        up_s=state_s[State.UP],
        down_s=state_s[State.DOWN],
        vendor_down_s=vendor_down // ONE_SECOND,
        excluded_s=state_s[State.EXCLUDED],
        unknown_s=state_s[State.UNKNOWN],
        monthly_fee_idr=terms.monthly_fee_idr,
    )
    settlement = settle(month, rule)
    return SiteFigures(
        site=site,
        activated_at=timeline.activated_at,
        window=window,
        month=month,
        settlement=settlement,
        stats=outage_stats(inside, window),
        manual_signoff=_needs_signoff(month, settings),
        sla_met=_sla_met(settlement.availability, terms),
        outages=tuple(figures),
        window_parts=parts,
    )


def _outage_figures(
    run: Span,
    overlap: timedelta,
    ev: Evidence,
    power: SitePower,
    terms: Terms,
    settings: SlaSettings,
    override: OverrideRecord | None,
    incident: datetime | None,
) -> OutageFigures:
    auto = attribute(run, ev, power, settings.attribution)
    auto_resp = responsibility_for(
        auto.cause, power_outage_responsibility=terms.power_outage_responsibility
    )
    cause, resp = auto.cause, auto_resp
    if override is not None:
        if override.cause is not None:
            cause = override.cause
            resp = responsibility_for(
                cause, power_outage_responsibility=terms.power_outage_responsibility
            )
        if override.responsibility is not None:
            resp = override.responsibility
    return OutageFigures(
        start=run.start,
        end=run.end,
        in_window=overlap,
        auto_cause=auto.cause,
        auto_responsibility=auto_resp,
        cause=cause,
        responsibility=resp,
        evidence=auto.evidence,
        concurrent_sites=ev.concurrent_sites,
        incident=incident if auto.cause is Cause.UPSTREAM else None,
        override=override,
    )


def _inactive(
    timeline: SiteTimeline, *, scope: MonthScope, terms: Terms, rule: Rule, month_s: int
) -> SiteFigures:
    """A site not monitored (or not under the contract) during the month: nothing is due."""
    month = SiteMonth(
        window_s=0, month_s=month_s, up_s=0, down_s=0, vendor_down_s=0, excluded_s=0,
        unknown_s=0, monthly_fee_idr=terms.monthly_fee_idr,
    )
    return SiteFigures(
        site=timeline.site,
        activated_at=timeline.activated_at,
        window=None,
        month=month,
        settlement=settle(month, rule),
        stats=outage_stats([], scope.period),
        manual_signoff=False,
        sla_met=None,
        outages=(),
    )


def _needs_signoff(month: SiteMonth, settings: SlaSettings) -> bool:
    """UNKNOWN time above the threshold share of the window (exact comparison)."""
    threshold = Fraction(settings.manual_signoff_unknown_pct) / 100
    return month.window_s > 0 and Fraction(month.unknown_s, month.window_s) > threshold


def _sla_met(availability: Fraction | None, terms: Terms) -> bool | None:
    if availability is None:
        return None
    return availability >= Fraction(terms.sla_target_pct) / 100

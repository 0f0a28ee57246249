"""How long a month's SLA computation takes for N sites (default 10,000).

    .venv/bin/python bench/sla.py [--sites 10000] [--seed 1]

Generates one month (October 2024) of status intervals per site — a few outages each with
the heartbeat evidence that goes with their true cause, a maintenance window now and then,
a 6-hour monitor outage for everyone, and one upstream incident across 5 % of the fleet —
then times the monthly computation exactly as `linda report sla` runs it after loading:
attribution, upstream concurrency, restitution (`linda.sla.calc.compute_month`), the
canonical content and its SHA-256, and the CSV. No database: the loading is not timed.
Prints the figures and how many outages were attributed to their true cause.
"""

from __future__ import annotations

import argparse
import random
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from linda.domain.attribution import (
    WIB,
    Beat,
    Cause,
    Evidence,
    PlnSupply,
    Responsibility,
    SitePower,
)
from linda.domain.sla import month_bounds
from linda.domain.status import Interval, Span, State
from linda.sla.calc import (
    MonthScope,
    SiteInfo,
    SiteTimeline,
    Terms,
    compute_month,
)
from linda.sla.content import build_content, canonical_json, content_sha256
from linda.sla.reports.tabular import render_csv

I = timedelta(seconds=60)  # noqa: E741 - the DESIGN calls it I
G = timedelta(seconds=180)
PERIOD = month_bounds(2024, 10, WIB)
UNTIL = PERIOD.end + timedelta(days=3)
ORIGIN = PERIOD.start - timedelta(days=2)
# Instants are UTC, as they come from the database.
DARK = Span(datetime(2024, 10, 14, 17, tzinfo=UTC), datetime(2024, 10, 14, 23, tzinfo=UTC))
INCIDENT = datetime(2024, 10, 24, 22, 7, tzinfo=UTC)
TERMS = Terms(
    version=1, effective_from=PERIOD.start.date(), monthly_fee_idr=1_500_000,
    sla_target_pct=Decimal(98), power_outage_responsibility=Responsibility.REGENCY,
    restitution_kind="tiered",
    restitution_tiers=((Decimal(98), Decimal(0)), (Decimal(95), Decimal(5)),
                       (Decimal(90), Decimal(10)), (Decimal(0), Decimal(25))),
    allowance_pct=None,
)


def site_outages(rng: random.Random, upstream: bool) -> list[tuple[Span, Cause]]:
    """Non-overlapping outages with their true cause, avoiding the monitor outage."""
    runs: list[tuple[Span, Cause]] = []
    if upstream:
        start = INCIDENT + timedelta(seconds=rng.randrange(0, 60))
        runs.append((Span(start, start + timedelta(hours=3)), Cause.UPSTREAM))
    for _ in range(rng.choice([0, 1, 2, 3, 4, 5])):
        start = ORIGIN + timedelta(seconds=rng.randrange(0, int((UNTIL - ORIGIN).total_seconds())))
        length = timedelta(seconds=int(rng.expovariate(1 / 5400)) + 60)
        span = Span(start, min(start + length, UNTIL))
        clash = [s for s, _ in runs] + [DARK]
        if any(span.start < s.end + I + G and s.start < span.end + I + G for s in clash):
            continue
        runs.append((span, rng.choice([Cause.POWER, Cause.LINK, Cause.LINK])))
    return sorted(runs, key=lambda r: r[0].start)


def timeline(runs: list[tuple[Span, Cause]], maintenance: Span | None) -> list[Interval]:
    states: list[tuple[datetime, datetime, State]] = []
    cursor = ORIGIN
    marks = sorted([(s, State.DOWN) for s, _ in runs] + [(DARK, State.UNKNOWN)]
                   + ([(maintenance, State.EXCLUDED)] if maintenance else []),
                   key=lambda m: m[0].start)
    for span, state in marks:
        if span.start > cursor:
            states.append((cursor, span.start, State.UP))
        start = max(cursor, span.start)
        if span.end > start:
            states.append((start, span.end, state))
            cursor = span.end
    if cursor < UNTIL:
        states.append((cursor, UNTIL, State.UP))
    return [Interval(s, e, st) for s, e, st in states]


def evidence_for(truth: dict[tuple[int, datetime], Cause], rng: random.Random):  # type: ignore[no-untyped-def]
    def evidence(site: SiteInfo, outage: Span, until: datetime) -> Evidence:
        cause = truth.get((site.pk, outage.start), Cause.UNKNOWN)
        up_before = 3_000_000
        before = Beat(outage.start - I, uptime_s=up_before, battery_voltage_v=12.9)
        gap_s = int((outage.end - before.at).total_seconds())
        if cause is Cause.POWER:
            before = Beat(before.at, uptime_s=up_before, battery_voltage_v=11.5, lvd=True)
            after = Beat(outage.end, uptime_s=rng.randrange(30, 120))
        elif rng.random() < 0.05:  # a router that reports no uptime: the rule cannot tell
            before, after = Beat(before.at), Beat(outage.end)
        else:
            after = Beat(outage.end, uptime_s=up_before + gap_s)
        return Evidence(before=before, after=after)

    return evidence


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sites", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)

    started = time.perf_counter()
    timelines: list[SiteTimeline] = []
    truth: dict[tuple[int, datetime], Cause] = {}
    for pk in range(1, args.sites + 1):
        runs = site_outages(rng, upstream=rng.random() < 0.05)
        day = rng.randrange(1, 29)
        maintenance = (Span(datetime(2024, 10, day, 2, tzinfo=UTC),
                            datetime(2024, 10, day, 4, tzinfo=UTC))
                       if rng.random() < 0.1 else None)
        truth.update({(pk, span.start): cause for span, cause in runs})
        info = SiteInfo(
            pk=pk, code=f"site-{pk:05d}", name="Kantor Desa", village_code=f"62.05.{pk:07d}",
            village=f"Desa {pk}", kecamatan_code=f"62.05.{pk % 9 + 1:02d}",
            kecamatan=f"Kecamatan {pk % 9 + 1}", interval=I, grace=G,
            power=SitePower(solar=True, pln=PlnSupply.NONE, latitude=-0.95, longitude=114.89),
        )
        activated = ORIGIN if rng.random() < 0.9 else PERIOD.start + timedelta(days=10)
        intervals = [iv for iv in timeline(runs, maintenance) if iv.end > activated]
        if intervals and intervals[0].start < activated:
            first = intervals[0]
            intervals[0] = Interval(activated, first.end, first.state)
        timelines.append(SiteTimeline(site=info, activated_at=activated, intervals=intervals))
    generated = time.perf_counter()

    scope = MonthScope(period=PERIOD, contract_period=Span(ORIGIN, UNTIL + timedelta(days=60)),
                       until=UNTIL, final=True)
    figures = compute_month(scope=scope, terms=TERMS, timelines=timelines,
                            vendor_timelines=timelines, evidence=evidence_for(truth, rng),
                            overrides={})
    computed = time.perf_counter()
    content = build_content(figures, contract={"number": "BENCH", "title": "", "vendor": "V",
                                               "starts_on": "2024-01-01",
                                               "ends_on": "2024-12-31"}, kecamatan=None)
    text = canonical_json(content)
    digest = content_sha256(content)
    hashed = time.perf_counter()
    csv_bytes = render_csv(content)
    rendered = time.perf_counter()

    attributed = [(o.auto_cause, truth.get((s.site.pk, o.start))) for s in figures.sites
                  for o in s.outages]
    right = sum(1 for got, want in attributed if got is want)
    # Who pays only turns on power vs the rest (link, upstream, unknown are the vendor's).
    same_payer = sum(1 for got, want in attributed
                     if (got is Cause.POWER) == (want is Cause.POWER))
    totals = content["totals"]
    print(f"sites                 {args.sites:>12,}")
    print(f"intervals             {sum(len(t.intervals) for t in timelines):>12,}")
    print(f"outages in the month  {len(attributed):>12,}")
    print(f"cause as generated    {right / max(1, len(attributed)):>12.1%}"
          "  (random link outages that start together count as upstream)")
    print(f"responsibility right  {same_payer / max(1, len(attributed)):>12.1%}")
    print(f"fee due (Rp)          {totals['fee_due_idr']:>12,}")
    print(f"restitution (Rp)      {totals['restitution_idr']:>12,}")
    print(f"payable (Rp)          {totals['payable_idr']:>12,}")
    print(f"content               {len(text):>12,} bytes, sha256 {digest[:16]}…")
    print(f"generate intervals    {generated - started:>10.2f} s  (not part of the report)")
    print(f"compute month         {computed - generated:>10.2f} s")
    print(f"content + sha256      {hashed - computed:>10.2f} s")
    print(f"CSV ({len(csv_bytes):,} bytes)   {rendered - hashed:>8.2f} s")
    print(f"TOTAL report          {rendered - generated:>10.2f} s")


if __name__ == "__main__":
    main()

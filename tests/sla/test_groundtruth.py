"""The simulator's ground truth for a simulated month, against the real SLA report.

A wet-season month (November 2024, 30 days in WIB) of 10 demo sites with mixed power (PLN
24 h without a battery, PLN at night with solar and a battery, off-grid solar, the
undersized ones among them), the simulator's default fault rates, written through the
historical import as tests/simulate/test_day.py does, then computed by
`get_contract_month`, the service behind every report. Checked against the truth the twin
wrote:

(a) the report's cause for the outage that overlaps each truth outage: right for ≥ 90 %;
(b) every site's UP and DOWN seconds, hence its availability, equal to the second those of
    the truth's outage spans as a monitor with interval I and grace G sees them
    (DESIGN decision 3): DOWN from `due_at` (the first missing beat's due time) to the first
    beat received at or after the fault's end, when the gap between the last beat before
    (`due_at` - I) and that beat is longer than I + G. No tolerance is needed: the history
    holds every beat delivered live, the month starts a day into it and ends an hour before
    its end, so no beat is lost at an edge; both sides floor their exact totals once.

The sites beat every 10 minutes here instead of every minute (grace 5 minutes): a month of
10 sites is then 43,000 heartbeats instead of 430,000, which the import takes in seconds
rather than minutes; the rules are the same for any I and G. (With I = 600 s the upstream
window widens to 660 s by itself: `linda.sla.calc.upstream_settings`.)
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from pathlib import Path

import pytest

from linda.domain.status import ONE_SECOND, Span
from linda.monitoring.models import Heartbeat
from linda.monitoring.services import activate_monitoring
from linda.registry.models import Contract, PowerProfile, Site
from linda.rollout.demo import load_demo
from linda.simulate.clients import Devices, HistoryWriter
from linda.simulate.engine import Twin
from linda.simulate.faults import DEFAULT_RATES
from linda.simulate.groundtruth import TruthSpan, TruthWriter, merge_truth, read_truth, truth_of
from linda.simulate.runner import import_segments, write_history
from linda.simulate.sites import fleet_for, list_simulated_sites
from linda.sla.selectors import get_contract_month

SEED = 2411
INTERVAL_S, GRACE_S = 600, 300
YEAR, MONTH = 2024, 11
PERIOD = Span(datetime(2024, 10, 31, 17, tzinfo=UTC), datetime(2024, 11, 30, 17, tzinfo=UTC))
# The twin starts a day before the month (monitoring activated then, as at a BAST) so the
# month begins with every site observed, and runs an hour past it so each outage that ends
# before the month's end has its first beat after.
HISTORY = Span(PERIOD.start - timedelta(days=1), PERIOD.end + timedelta(hours=1))
# Truth cause -> the SLA cause (docs/sla.md): a reboot is an uptime reset with no power
# sign, which the report calls unknown.
CAUSE = {"power": "power", "link": "link", "upstream": "upstream", "reboot": "unknown"}


def pick_sites() -> list[Site]:
    """13 of the demo's on-air sites: 5 PLN 24 h (no battery), 4 PLN at night, 4 off-grid
    (the undersized ones first: they go dark on flat-battery nights)."""
    sites = list_simulated_sites()
    by_profile: dict[str, list[Site]] = {}
    for site in sites:
        by_profile.setdefault(site.power_profile, []).append(site)
    off_grid = sorted(by_profile[PowerProfile.OFF_GRID], key=lambda s: (s.battery_wh, s.code))
    chosen = (by_profile[PowerProfile.PLN_24H][:4] + by_profile[PowerProfile.PLN_PARTIAL][:3]
              + off_grid[:3])
    Site.objects.filter(pk__in=[s.pk for s in chosen]).update(
        expected_interval_s=INTERVAL_S, grace_s=GRACE_S)
    return list(Site.objects.filter(pk__in=[s.pk for s in chosen]).order_by("code"))


def first_beat_at_or_after(site: Site, at: datetime) -> datetime | None:
    return (Heartbeat.objects.filter(site=site, late=False, received_at__gte=at)
            .order_by("received_at").values_list("received_at", flat=True).first())


def monitor_view(span: TruthSpan, site: Site) -> Span | None:
    """The DOWN stretch a monitor with I and G makes of a truth span (decision 3), or None
    when the gap it leaves between heartbeats is not longer than I + G."""
    if span.due_at is None:  # a fault the twin opened after the history's end
        assert span.start >= PERIOD.end, span
        return None
    last_alive = span.due_at - timedelta(seconds=INTERVAL_S)
    after = first_beat_at_or_after(site, span.end)
    end = after if after is not None else HISTORY.end
    if end - last_alive <= timedelta(seconds=INTERVAL_S + GRACE_S):
        return None
    return Span(span.due_at, end)


@pytest.mark.django_db
def test_a_simulated_month_agrees_with_the_ground_truth(barito_utara: None,
                                                         tmp_path: Path) -> None:
    load_demo()
    sites = pick_sites()
    fleet = fleet_for(sites, seed=SEED, mqtt=False)
    for site in sites:
        activate_monitoring(site=site, at=HISTORY.start)
    start, until = HISTORY.start.timestamp(), HISTORY.end.timestamp()
    twin = Twin(fleet, seed=SEED, start=start, rates=DEFAULT_RATES)
    truth_path = tmp_path / "truth.jsonl"
    truth = TruthWriter(truth_path, fleet.codes)
    writer = HistoryWriter(tmp_path / "history", fleet, start=start)
    write_history(twin, Devices(fleet), writer, truth, emit_from=start, until=until)
    truth.close()
    progress = import_segments(writer.close(until))
    assert progress.failed == []
    faults = [*read_truth(truth_path), *(truth_of(f, fleet.codes) for f in twin.open_faults())]

    contract = Contract.objects.get(is_demo=True)
    figures = get_contract_month(contract, YEAR, MONTH, now=PERIOD.end + timedelta(days=3))
    assert figures.scope.final
    report = {s.site.code: s for s in figures.sites if s.window is not None}
    assert sorted(report) == [s.code for s in sites]

    causes: Counter[tuple[str, str]] = Counter()
    for site in sites:
        figures_of = report[site.code]
        assert figures_of.window == PERIOD
        # (b) The truth's DOWN time in the month, as the monitor sees it.
        down = [view for span in merge_truth(f for f in faults if f.site == site.code)
                if (view := monitor_view(span, site)) is not None]
        # (a) Each truth outage's cause against the report's outage overlapping it.
        for span in merge_truth(f for f in faults if f.site == site.code):
            view = monitor_view(span, site)
            if view is None or view.end <= PERIOD.start or view.start >= PERIOD.end:
                continue
            hits = [o for o in figures_of.outages if o.start < view.end and o.end > view.start]
            assert hits, f"{site.code}: no outage reported for {span}"
            causes[(CAUSE[span.causes[0]], hits[0].cause.value)] += 1
        down_in_month = sum(
            (min(v.end, PERIOD.end) - max(v.start, PERIOD.start) for v in _merged(down)
             if v.end > PERIOD.start and v.start < PERIOD.end), timedelta(0))
        month = figures_of.month
        assert (month.excluded_s, month.unknown_s) == (0, 0), site.code
        window = PERIOD.end - PERIOD.start
        assert month.down_s == down_in_month // ONE_SECOND, site.code
        assert month.up_s == (window - down_in_month) // ONE_SECOND, site.code
        assert figures_of.settlement.availability == Fraction(
            (window - down_in_month) // ONE_SECOND,
            (window - down_in_month) // ONE_SECOND + down_in_month // ONE_SECOND)

    total = sum(causes.values())
    right = sum(n for (truth_cause, got), n in causes.items() if truth_cause == got)
    print(f"{total} outages, cause right {right} ({100 * right / total:.1f} %)", dict(causes))
    assert total >= 40
    assert {truth_cause for truth_cause, _ in causes} >= {"power", "link", "upstream"}
    assert right >= 0.9 * total, dict(causes)


def _merged(spans: list[Span]) -> list[Span]:
    out: list[Span] = []
    for span in sorted(spans, key=lambda s: s.start):
        if out and span.start <= out[-1].end:
            out[-1] = Span(out[-1].start, max(out[-1].end, span.end))
        else:
            out.append(span)
    return out



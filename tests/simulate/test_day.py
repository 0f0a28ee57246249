"""A simulated day of the demo fleet, replayed through the historical import (the same status
engine as live, decision 4) and scored against the simulator's ground truth."""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path

import pytest

from linda.domain.attribution import attribute as attribute_outage
from linda.domain.attribution import concurrent_counts
from linda.domain.status import Interval, Span, State, outages
from linda.monitoring.models import SiteState, StatusInterval
from linda.rollout.demo import load_demo
from linda.simulate.clients import Devices, HistoryWriter
from linda.simulate.engine import Twin
from linda.simulate.faults import DEFAULT_RATES, Cause
from linda.simulate.groundtruth import Reported, TruthWriter, read_truth, score
from linda.simulate.runner import (
    adopt_imported,
    import_segments,
    pending_segments,
    remove_finished_dirs,
    save_manifest,
    write_history,
)
from linda.simulate.sites import fleet_for, list_simulated_sites
from linda.sla.selectors import get_sla_settings, heartbeat_evidence, site_info
from tests.monitoring.conftest import new_site
from tests.simulate.fleets import WET_SEASON

SEED = 6205
DAY = 86400.0


def reported_runs(codes: list[str]) -> dict[str, list[Span]]:
    rows = StatusInterval.objects.filter(site__code__in=codes, source="import").order_by(
        "site__code", "start").values_list("site__code", "start", "end", "state")
    by_site: dict[str, list[Interval]] = {}
    for code, start, end, state in rows:
        by_site.setdefault(code, []).append(Interval(start, end, State(state)))
    return {code: outages(ivs) for code, ivs in by_site.items()}


@pytest.mark.django_db
def test_a_day_of_the_demo_fleet_detected_against_ground_truth(barito_utara: None,
                                                                tmp_path: Path) -> None:
    load_demo()
    sites = list_simulated_sites()  # the demo's sites on the air: active and installed
    assert len(sites) == 37
    fleet = fleet_for(sites, seed=SEED, mqtt=False)
    start, until = WET_SEASON, WET_SEASON + DAY
    twin = Twin(fleet, seed=SEED, start=start, rates=DEFAULT_RATES.scaled(2))
    # A vendor hub incident for sure: 12 villages within a minute, 40 minutes long.
    for i, code in enumerate(fleet.codes[:24:2]):
        twin.inject(code, start + 14 * 3600 + 4 * i, start + 14 * 3600 + 2400 + 5 * i,
                    Cause.UPSTREAM, "vendor_hub", incident="scripted-hub")
    truth_path = tmp_path / "truth.jsonl"
    truth = TruthWriter(truth_path, fleet.codes)
    writer = HistoryWriter(tmp_path / "history", fleet, start=start)
    write_history(twin, Devices(fleet), writer, truth, emit_from=start, until=until)
    truth.close()
    segments = writer.close(until)
    progress = import_segments(segments)
    assert progress.failed == [] and progress.heartbeats > 35 * 1400
    # The history counts as monitored time from its start (what `simulate --live` does).
    assert adopt_imported(segments, progress) == 37
    began = dt.datetime.fromtimestamp(start, dt.UTC)
    assert set(SiteState.objects.values_list("activated_at", flat=True)) == {began}

    runs = reported_runs(fleet.codes)
    by_code = {s.code: s for s in sites}
    timing = {s.code: (s.expected_interval_s, s.grace_s) for s in sites}
    # The platform's cause for each DOWN run: decision 5 on the stored heartbeats.
    settings = get_sla_settings().attribution
    starts = [(code, run.start) for code, site_runs in runs.items() for run in site_runs]
    concurrency = dict(zip(starts, concurrent_counts(starts, settings.upstream_window),
                           strict=True))
    reported = []
    for code, site_runs in runs.items():
        info = site_info(by_code[code])
        for run in site_runs:
            evidence = heartbeat_evidence(info, run, dt.datetime.fromtimestamp(until, dt.UTC))
            evidence = type(evidence)(evidence.before, evidence.during, evidence.after,
                                      evidence.recent, concurrency[(code, run.start)])
            cause = attribute_outage(run, evidence, info.power, settings).cause.value
            reported.append(Reported(code, run.start, run.end, cause=cause))

    result = score(read_truth(truth_path), reported, timing,
                   start=dt.datetime.fromtimestamp(start, dt.UTC),
                   end=dt.datetime.fromtimestamp(until, dt.UTC))
    print(result.summary(), dict(result.causes))
    assert result.expected >= 30
    assert result.detection_ratio >= 0.99, result.missed
    assert result.false == []
    grace_s = max(g for _, g in timing.values())
    assert result.max_delay_s <= grace_s + 5
    # Backdated exactly to when the first missing heartbeat was due.
    assert all(abs(offset) < 0.01 for offset in result.start_offsets_s)
    # Every cause the twin injects shows up; decision 5 never blames the wrong one ("unknown"
    # is allowed where the evidence cannot tell, docs/simulator.md, "Scoring").
    causes = result.causes
    assert {truth for truth, _ in causes} >= {"power", "link", "upstream"}
    assert [pair for pair in causes if pair[1] not in (pair[0], "unknown")] == []
    assert causes[("upstream", "upstream")] >= 12
    links = sum(n for (truth, _), n in causes.items() if truth == "link")
    assert causes[("link", "link")] >= 0.8 * links


@pytest.mark.django_db
def test_an_interrupted_history_import_resumes_and_the_files_tile_the_period(
        tmp_path: Path) -> None:
    sites = [new_site("resume-1"), new_site("resume-2")]
    fleet = fleet_for(sites, seed=1, mqtt=False)
    start, until = WET_SEASON - 6 * 3600, WET_SEASON + 30 * 3600  # across two WIB midnights
    twin = Twin(fleet, seed=1, start=start)
    directory = tmp_path / "history-1"
    writer = HistoryWriter(directory, fleet, start=start)
    write_history(twin, Devices(fleet), writer, None, emit_from=start, until=until)
    segments = writer.close(until)
    save_manifest(directory, segments)
    assert len(segments) == 6

    import_segments(segments[:2])  # then the simulator was stopped
    pending = pending_segments(tmp_path)
    assert sorted(s.path for s in pending) == sorted(s.path for s in segments[2:])
    import_segments(pending)
    remove_finished_dirs(pending)
    assert not directory.exists() and pending_segments(tmp_path) == []
    for site in sites:
        rows = list(StatusInterval.objects.filter(site=site).order_by("start"))
        assert rows[0].start.timestamp() == start and rows[-1].end.timestamp() == until
        assert all(a.end == b.start for a, b in itertools.pairwise(rows))

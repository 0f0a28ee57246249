"""Scoring reported outages against the ground truth, on hand-made cases."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from linda.simulate.faults import Cause, Fault
from linda.simulate.groundtruth import (
    Reported,
    TruthFault,
    TruthWriter,
    merge_truth,
    read_truth,
    score,
)

T0 = dt.datetime(2024, 10, 15, 3, 0, tzinfo=dt.UTC)
TIMING = {"a": (60, 180), "b": (60, 180)}


def at(seconds: float) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


def fault(site: str, start: float, end: float, cause: str = "link",
          due: float | None = None, outage: bool = True) -> TruthFault:
    return TruthFault(site, at(start), at(end), cause, "x", outage=outage,
                      due_at=None if due is None else at(due))


def test_overlapping_faults_merge_and_a_ridden_through_cut_is_no_outage() -> None:
    spans = merge_truth([
        fault("a", 100, 400, "power", due=130), fault("a", 300, 700, "link", due=130),
        fault("a", 900, 950), fault("b", 0, 5000, "power", outage=False),
    ])
    assert [(s.site, s.start, s.end, s.causes) for s in spans] == [
        ("a", at(100), at(700), ("link", "power")), ("a", at(900), at(950), ("link",))]


def test_detected_missed_false_delay_and_cause() -> None:
    truth = [fault("a", 100, 700, "power", due=130), fault("a", 2000, 2600, due=2010),
             fault("a", 5000, 5150, due=5040),  # too short to be an outage: not expected
             fault("b", 100, 1000, "upstream", due=150)]
    reported = [
        Reported("a", at(130), at(720), cause="power"),
        Reported("a", at(3500), at(3900)),  # nothing happened then: false
        Reported("b", at(150), at(1030), declared_at=at(150 + 183), cause="link"),
    ]
    result = score(truth, reported, TIMING, start=at(0), end=at(6000))
    assert (result.expected, result.detected) == (3, 2)
    assert [m.start for m in result.missed] == [at(2000)]
    assert [f.start for f in result.false] == [at(3500)]
    assert result.delays_s == [180.0, 183.0]  # import: start + grace; live: declared
    assert result.start_offsets_s == [0.0, 0.0]
    assert result.causes == {("power", "power"): 1, ("upstream", "link"): 1}
    assert result.cause_accuracy == 0.5
    assert "missed 1, false 1" in result.summary()


def test_lines_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "truth.jsonl"
    writer = TruthWriter(path, ["kd-1"])
    t = T0.timestamp()
    writer.write([Fault(id=7, site=0, start=t, end=t + 600.25, cause=Cause.POWER,
                        detail="lvd", due_at=t + 30)])
    writer.close()
    (read,) = read_truth(path)
    assert read == TruthFault("kd-1", T0, at(600.25), "power", "lvd", None, True, at(30), 7)

"""Driving the twin: the past through the historical import, the present over the network.

History: the twin runs from N days ago to now as fast as it can; what the routers would
have delivered goes into import files (`clients.HistoryWriter`) and through the same service
`linda import-observations` uses (`linda.monitoring.history.import_observations`), newest
days first. Live: the same twin goes on from where the history ended, in real time; every
beat is handed to its router's queue at the moment it is measured and sent by a pool of
workers, and each fault's ground-truth line is written once the fault is over.
"""

from __future__ import annotations

import gzip
import json
import logging
import shutil
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Protocol

from linda.simulate.clients import Devices, HistoryWriter, Outcome, Result, Row, Segment, Send
from linda.simulate.engine import HOUR_S, Twin, floor_hour
from linda.simulate.faults import Fault
from linda.simulate.groundtruth import TruthWriter

log = logging.getLogger("linda.simulate")


class Sender(Protocol):
    def send(self, send: Send) -> Result: ...


def write_history(twin: Twin, devices: Devices, writer: HistoryWriter,
                  truth: TruthWriter | None, *, emit_from: float, until: float) -> int:
    """Run the twin to `until`, writing what it delivers from `emit_from` on; returns the
    number of beats measured."""
    measured = 0
    while twin.t < until:
        chunk = twin.advance(min(until, floor_hour(twin.t) + HOUR_S))
        if truth is not None:
            truth.write([f for f in chunk.faults if f.end > emit_from])
        beats = chunk.beats.select(chunk.beats.t >= emit_from)
        measured += len(beats)
        devices.absorb(beats)
        writer.write(beats)
    return measured


@dataclass
class ImportProgress:
    done: int = 0
    total: int = 0
    heartbeats: int = 0
    failed: list[str] = field(default_factory=list)
    failed_codes: set[str] = field(default_factory=set)


MANIFEST = "manifest.json"


def save_manifest(directory: Path, segments: list[Segment]) -> None:
    """What each file covers, so an import cut short (the simulator was stopped) resumes at
    the next start."""
    items = [{"code": s.code, "file": s.path.name, "start": s.start.isoformat(),
              "until": s.until.isoformat(), "lines": s.lines} for s in segments]
    (directory / MANIFEST).write_text(json.dumps(items), encoding="utf-8")


def pending_segments(root: Path) -> list[Segment]:
    """Files of earlier runs not imported yet (their import was interrupted)."""
    out: list[Segment] = []
    for manifest in sorted(root.glob(f"history-*/{MANIFEST}")):
        for item in json.loads(manifest.read_text(encoding="utf-8")):
            path = manifest.parent / item["file"]
            if path.exists():
                out.append(Segment(item["code"], path, datetime.fromisoformat(item["start"]),
                                   datetime.fromisoformat(item["until"]), item["lines"]))
    return out


def remove_finished_dirs(segments: list[Segment]) -> None:
    """Remove each history directory once none of its files is left to import."""
    for directory in {s.path.parent for s in segments}:
        if not any(p.name != MANIFEST for p in directory.iterdir()):
            shutil.rmtree(directory, ignore_errors=True)


def import_segments(segments: list[Segment], *, progress: ImportProgress | None = None,
                    keep_files: bool = False) -> ImportProgress:
    """Feed the files to the historical import, newest first (the dashboard fills from
    today backwards), one transaction per file. A file is removed once imported, or once
    refused (an import that failed will not succeed by trying again)."""
    from linda.monitoring.history import ImportFailed, import_observations

    progress = progress or ImportProgress()
    progress.total = len(segments)
    for segment in sorted(segments, key=lambda s: (s.start, s.code), reverse=True):
        path = segment.path
        if path.suffix == ".gz":  # the import reads plain files: one unpacked at a time
            path = path.with_suffix("")
            with gzip.open(segment.path, "rb") as packed, path.open("wb") as plain:
                shutil.copyfileobj(packed, plain)
        try:
            results = import_observations(path, start=segment.start, until=segment.until)
        except ImportFailed as exc:
            progress.failed.append(f"{segment.path.name}: {exc}")
            progress.failed_codes.add(segment.code)
            log.error("history import of %s failed: %s", segment.path.name, exc)
        else:
            progress.heartbeats += sum(r.heartbeats for r in results)
        finally:
            if not keep_files:
                segment.path.unlink(missing_ok=True)
            if path != segment.path:
                path.unlink(missing_ok=True)
        progress.done += 1
    return progress


def adopt_imported(segments: list[Segment], progress: ImportProgress) -> int:
    """Once a site's history files are imported, count them as monitored time
    (`adopt_history`): activation moves back to the history's start, so the dashboard's
    daily totals and the month's SLA window include it. Returns how many sites."""
    from linda.monitoring.services import adopt_history
    from linda.registry.models import Site

    spans: dict[str, tuple[datetime, datetime]] = {}
    for seg in segments:
        lo, hi = spans.get(seg.code, (seg.start, seg.until))
        spans[seg.code] = (min(lo, seg.start), max(hi, seg.until))
    codes = [code for code in spans if code not in progress.failed_codes]
    sites = Site.objects.in_bulk(codes, field_name="code")
    for code, site in sites.items():
        adopt_history(site=site, start=spans[code][0], end=spans[code][1])
    return len(sites)


class LiveLoop:
    """Real time: plan `step_s` ahead, hand each beat to its router when it is measured."""

    def __init__(self, twin: Twin, devices: Devices, senders: Mapping[str, Sender],
                 truth: TruthWriter | None, *, emit_from: float | None = None,
                 step_s: float = 30.0, workers: int = 16,
                 clock: Callable[[], float] = time.time) -> None:
        self.twin = twin
        # The twin starts on a whole hour; what it simulates before `emit_from` (the moment
        # the simulator started, or the end of the history) is state, not traffic.
        self.emit_from = twin.t if emit_from is None else emit_from
        self.devices = devices
        self.senders = senders
        self.truth = truth
        self.step_s = step_s
        self.clock = clock
        self.workers = workers
        self.faults_written = 0
        self._queue: deque[Row] = deque()
        self._faults: list[Fault] = []

    def _deliver(self, send: Send) -> None:
        try:
            result = self.senders[send.style].send(send)
        except Exception:  # a sender must never kill the loop; the router retries
            log.exception("sending for %s failed", send.code)
            result = Result(Outcome.RETRY)
        self.devices.done(send, result)

    def _plan(self, now: float) -> None:
        while self.twin.t <= now + self.step_s:
            chunk = self.twin.advance(self.twin.t + self.step_s)
            beats = chunk.beats
            if len(beats) and beats.t[0] < self.emit_from:
                beats = beats.select(beats.t >= self.emit_from)
            self._queue.extend(beats.rows())
            self._faults.extend(f for f in chunk.faults if f.end > self.emit_from)

    def _release_faults(self, now: float) -> None:
        over = [f for f in self._faults if f.end <= now]
        if over and self.truth is not None:
            self.truth.write(over)
            self.faults_written += len(over)
        if over:
            self._faults = [f for f in self._faults if f.end > now]

    def run(self, stop: threading.Event, *, duration_s: float | None = None,
            report: Callable[[str], None] | None = None, report_every_s: float = 60.0) -> None:
        started = last_report = self.clock()
        with ThreadPoolExecutor(self.workers, thread_name_prefix="linda-sim") as pool:
            while not stop.is_set():
                now = self.clock()
                if duration_s is not None and now - started >= duration_s:
                    break
                self._plan(now)
                self._release_faults(now)
                while self._queue and self._queue[0]["t"] <= now:
                    send = self.devices.beat(self._queue.popleft())
                    if send is not None:
                        pool.submit(self._deliver, send)
                if report is not None and now - last_report >= report_every_s:
                    report(self.status())
                    last_report = now
                nxt = self._queue[0]["t"] if self._queue else now + 0.5
                stop.wait(min(max(nxt - self.clock(), 0.005), 0.5))
        if report is not None:
            report(self.status())

    def status(self) -> str:
        return (f"{self.devices.stats.line()}; queued on routers {self.devices.queued()}; "
                f"faults over {self.faults_written}")

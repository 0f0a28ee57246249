"""`linda simulate`: the digital twin of the fleet (docs/simulator.md)."""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connections

from linda.monitoring.models import Heartbeat, SiteState, StatusInterval
from linda.registry.models import Site
from linda.simulate.clients import (
    Devices,
    HistoryWriter,
    HttpSender,
    MqttSender,
    Segment,
    Stats,
    broker_reachable,
)
from linda.simulate.engine import Twin
from linda.simulate.faults import DEFAULT_RATES
from linda.simulate.fleet import AGENT, FETCH, MQTT, SCRIPT, Fleet
from linda.simulate.groundtruth import TruthWriter
from linda.simulate.runner import (
    ImportProgress,
    LiveLoop,
    Sender,
    adopt_imported,
    import_segments,
    pending_segments,
    remove_finished_dirs,
    save_manifest,
    write_history,
)
from linda.simulate.sites import (
    DEFAULT_STAGES,
    SiteSelectionError,
    default_keys_path,
    default_truth_path,
    ensure_keys,
    fleet_for,
    list_simulated_sites,
)

DEFAULT_SEED = 6205
LIVE_HISTORY_DAYS = 30.0


def fresh_sites(sites: list[Site]) -> list[Site]:
    """Sites with nothing recorded yet: no heartbeat, no live state, no stored interval."""
    ids = [s.pk for s in sites]
    used = set(Heartbeat.objects.filter(site_id__in=ids).values_list("site_id", flat=True)
               .distinct())
    used |= set(SiteState.objects.filter(site_id__in=ids).values_list("site_id", flat=True))
    used |= set(StatusInterval.objects.filter(site_id__in=ids).values_list("site_id", flat=True)
                .distinct())
    return [s for s in sites if s.pk not in used]


class Command(BaseCommand):
    help = (
        "Simulate the village fleet: power (PLN, solar, battery), satellite link and faults, "
        "with real heartbeats. --live sends them to the server in real time (after writing "
        "the past --history-days, 30 by default, for sites without data); --history-days "
        "alone writes the past through the historical import. Ground truth of every fault "
        "goes to a JSON-lines file."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--live", action="store_true",
                            help="send heartbeats to the server in real time until stopped")
        parser.add_argument("--history-days", type=float, default=None,
                            help="write the past N days through the historical import "
                                 f"(with --live: {LIVE_HISTORY_DAYS:g} for sites without data)")
        parser.add_argument("--url", default=None,
                            help="server for --live (default LINDA_PUBLIC_URL)")
        parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
        parser.add_argument("--sites", nargs="+", metavar="CODE", help="simulate these sites")
        parser.add_argument("--stages", nargs="+", default=list(DEFAULT_STAGES),
                            help="demo sites whose village is at these rollout stages "
                                 "(default: active installed)")
        parser.add_argument("--every-stage", action="store_true",
                            help="every demo site, whatever its village's stage")
        parser.add_argument("--include-real", action="store_true",
                            help="allow non-demo sites (their SLA record would get "
                                 "simulated heartbeats)")
        parser.add_argument("--fault-rate", type=float, default=1.0,
                            help="multiply every fault rate (0: no faults but the physics)")
        parser.add_argument("--truth", type=Path, default=None,
                            help="ground-truth file (default var/simulate/groundtruth.jsonl)")
        parser.add_argument("--keys", type=Path, default=None,
                            help="site keys file (default var/simulate/keys.json, mode 600)")
        parser.add_argument("--mqtt", choices=["auto", "on", "off"], default="auto",
                            help="publish a share of the sites over MQTT (auto: if the "
                                 "broker LINDA_MQTT_HOST:PORT answers)")
        parser.add_argument("--duration", type=float, default=None,
                            help="with --live: stop after this many seconds")
        parser.add_argument("--write-history", type=Path, default=None, metavar="DIR",
                            help="write the history's import files into DIR and stop "
                                 "(for `linda import-observations`)")
        parser.add_argument("--workers", type=int, default=16,
                            help="concurrent requests in --live")

    def handle(self, *args: Any, **options: Any) -> None:
        if not options["live"] and options["history_days"] is None:
            raise CommandError("say what to do: --live, --history-days N, or both")
        try:
            sites = list_simulated_sites(
                codes=options["sites"], stages=options["stages"],
                every_stage=options["every_stage"], include_real=options["include_real"])
        except SiteSelectionError as exc:
            raise CommandError(str(exc)) from None
        if not sites:
            raise CommandError("no sites to simulate: load the demo (`linda demo-data`) or "
                               "name sites with --sites")
        mqtt = self._mqtt(options["mqtt"]) if options["live"] else False
        fleet = fleet_for(sites, seed=options["seed"], mqtt=mqtt)
        rates = DEFAULT_RATES.scaled(options["fault_rate"])
        now = time.time()
        days = options["history_days"]
        history_sites: list[Site] = []
        if days is None:
            days = LIVE_HISTORY_DAYS
        if days > 0:
            history_sites = fresh_sites(sites)
            skipped = len(sites) - len(history_sites)
            if skipped:
                self.stdout.write(f"{skipped} sites already have data: no history for them")
        start = now - days * 86400 if history_sites else now
        twin = Twin(fleet, seed=options["seed"], start=start, rates=rates)
        truth = TruthWriter(options["truth"] or default_truth_path(), fleet.codes)
        devices = Devices(fleet)
        self.stdout.write(
            f"Simulating {fleet.n} sites (seed {options['seed']}, fault rate x"
            f"{options['fault_rate']:g}); ground truth: {truth.path}")
        root = Path(settings.VAR_DIR) / "simulate"
        segments = pending_segments(root)
        if segments:
            self.stdout.write(f"Resuming an interrupted history import: {len(segments)} files")
        if history_sites:
            written = self._history(twin, fleet, devices, truth, history_sites, start=start,
                                    until=now, directory=root / f"history-{int(now)}",
                                    options=options)
            if written is None:
                truth.close()
                return
            segments = written + segments
        importer: threading.Thread | None = None
        if segments and not options["live"]:
            self._import(segments)
        elif segments:
            connections.close_all()
            importer = threading.Thread(target=self._import, args=(segments, True),
                                        name="linda-sim-history", daemon=True)
            importer.start()
            self.stdout.write("Importing the history in the background, newest days first")
        if not options["live"]:
            truth.close()
            return
        signalled = True
        try:
            signalled = self._live(twin, fleet, devices, truth, sites, mqtt=mqtt,
                                   emit_from=now, options=options)
        finally:
            truth.close()
            if importer is not None and importer.is_alive():
                if signalled:
                    self.stdout.write("History import interrupted: it resumes at the next "
                                      "start")
                else:
                    self.stdout.write("Waiting for the history import to finish…")
                    importer.join()

    def _import(self, segments: list[Segment], own_connection: bool = False) -> None:
        progress = ImportProgress()
        try:
            import_segments(segments, progress=progress)
            adopt_imported(segments, progress)
        finally:
            if own_connection:
                connections.close_all()  # this thread's connection
        remove_finished_dirs(segments)
        self.stdout.write(f"History imported: {progress.heartbeats} heartbeats from "
                          f"{progress.done} files"
                          + (f", {len(progress.failed)} refused" if progress.failed else ""))

    def _mqtt(self, mode: str) -> bool:
        host, port = settings.LINDA_MQTT_HOST, settings.LINDA_MQTT_PORT
        if mode == "off":
            return False
        reachable = broker_reachable(host, port)
        if mode == "on" and not reachable:
            raise CommandError(f"--mqtt on: no MQTT broker answers at {host}:{port}")
        if reachable:
            self.stdout.write(f"MQTT broker at {host}:{port}: some sites publish there")
        return reachable

    def _history(self, twin: Twin, fleet: Fleet, devices: Devices, truth: TruthWriter,
                 sites: list[Site], *, start: float, until: float, directory: Path,
                 options: dict[str, Any]) -> list[Segment] | None:
        """Write the history's import files; None if they are only to be written."""
        only_write = options["write_history"] is not None
        directory = options["write_history"] or directory
        writer = HistoryWriter(directory, fleet, start=start,
                               sites=[fleet.index[s.code] for s in sites],
                               compress=not only_write)
        t0 = time.monotonic()
        measured = write_history(twin, devices, writer, truth, emit_from=start, until=until)
        devices.stats = Stats()  # from here on, the live traffic
        segments = writer.close(until)
        lines = sum(s.lines for s in segments)
        self.stdout.write(
            f"History: {(until - start) / 86400:g} days of {len(sites)} sites, {measured} beats "
            f"measured, {lines} import lines in {len(segments)} files "
            f"({time.monotonic() - t0:.1f} s)")
        if not only_write:
            save_manifest(directory, segments)
            return segments
        self.stdout.write(f"Import files in {directory}; import each with\n  linda "
                          "import-observations FILE --start START --until UNTIL\n"
                          "(START and UNTIL per file:)")
        for seg in segments:
            self.stdout.write(f"  {seg.path.name} --start {seg.start.isoformat()} "
                              f"--until {seg.until.isoformat()}")
        return None

    def _live(self, twin: Twin, fleet: Fleet, devices: Devices, truth: TruthWriter,
              sites: list[Site], *, mqtt: bool, emit_from: float,
              options: dict[str, Any]) -> bool:
        """Run the live fleet; True if it was stopped by a signal."""
        keys, issued = ensure_keys(sites, options["keys"] or default_keys_path())
        if issued:
            self.stdout.write(f"Issued {issued} site keys through the monitoring service "
                              f"(kept in {options['keys'] or default_keys_path()})")
        url = options["url"] or settings.LINDA_PUBLIC_URL
        http = HttpSender(url, keys)
        senders: dict[str, Sender] = {FETCH: http, SCRIPT: http, AGENT: http, MQTT: http}
        mqtt_sender: MqttSender | None = None
        if mqtt:
            mqtt_sender = MqttSender(settings.LINDA_MQTT_HOST, settings.LINDA_MQTT_PORT, keys)
            senders[MQTT] = mqtt_sender
        connections.close_all()  # the live loop only speaks HTTP and MQTT
        stop = threading.Event()
        previous: dict[signal.Signals, Any] = {}
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGTERM, signal.SIGINT):
                previous[sig] = signal.signal(sig, lambda *_: stop.set())
        styles = {s: fleet.styles.count(s) for s in (FETCH, SCRIPT, AGENT, MQTT)}
        self.stdout.write(f"Live against {url}: " + ", ".join(
            f"{n} {style}" for style, n in styles.items() if n))
        loop = LiveLoop(twin, devices, senders, truth, emit_from=emit_from,
                        workers=options["workers"])

        def report(line: str) -> None:
            self.stdout.write(line)
            self.stdout.flush()

        try:
            loop.run(stop, duration_s=options["duration"], report=report)
            return stop.is_set()
        finally:
            http.close()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            if mqtt_sender is not None:
                mqtt_sender.close()

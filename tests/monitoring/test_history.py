"""Historical import: the same state machine as the live path, all or nothing."""

from __future__ import annotations

import datetime as dt
import itertools
import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from linda.monitoring.models import CoverageMark, Heartbeat, StatusInterval
from linda.monitoring.monitor import materialize_intervals
from linda.monitoring.selectors import get_site_intervals, max_gap
from linda.monitoring.services import schedule_maintenance
from linda.registry.models import Vendor
from tests.factories import make_contract
from tests.monitoring.conftest import T0, new_site
from tests.monitoring.timeline import World, merged

pytestmark = pytest.mark.django_db
S = dt.timedelta(seconds=1)
M = dt.timedelta(minutes=1)


def stream() -> list[tuple[dt.datetime, dict[str, float]]]:
    """An hour of one site: jitter, degraded beats, an outage, a monitor restart."""
    beats: list[tuple[dt.datetime, dict[str, float]]] = []
    for n in range(60):
        if 10 <= n < 25 or n in (41, 42):  # an outage; then two missed beats (still UP)
            continue
        metrics: dict[str, float] = {"rtt_ms": 1600.0 if n % 7 == 3 else 650.0}
        if n % 11 == 5:
            metrics["loss_pct"] = 8.0
        beats.append((T0 + n * M + (n % 4) * S, metrics))
    return beats


def write_jsonl(path: Path, site_code: str, beats: list[tuple[dt.datetime, dict[str, float]]],
                gaps: list[tuple[dt.datetime, dt.datetime]]) -> None:
    lines = [{"type": "heartbeat", "site": site_code, "at": at.isoformat(), **m}
             for at, m in beats]
    lines += [{"type": "coverage_gap", "start": a.isoformat(), "end": b.isoformat()}
              for a, b in gaps]
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n")


def coverage_gaps() -> list[tuple[dt.datetime, dt.datetime]]:
    marks = list(CoverageMark.objects.order_by("at").values_list("at", flat=True))
    return [(a, b) for a, b in itertools.pairwise(marks) if b - a > max_gap()]


def test_live_path_and_historical_import_give_identical_intervals(tmp_path: Path) -> None:
    live, past = new_site("live-1"), new_site("hist-1")
    contract = make_contract(Vendor.objects.create(name="PT V"), [live, past])
    schedule_maintenance(contract=contract, start=T0 + 45 * M, end=T0 + 47 * M,
                         reason="pemeliharaan", author=None)
    world = World(live)
    world.run(T0 + 62 * M, beats=stream(), dark=(T0 + 30 * M, T0 + 35 * M))
    end = CoverageMark.objects.order_by("-at").values_list("at", flat=True)[0]

    path = tmp_path / "nms.jsonl"
    write_jsonl(path, "hist-1", stream(), coverage_gaps())
    call_command("import_observations", str(path), "--start", T0.isoformat(),
                 "--until", end.isoformat())

    from_live = [(iv.start, iv.end, iv.state.value, iv.degraded)
                 for iv in get_site_intervals(live, T0, end, now=world.now)]
    imported = list(StatusInterval.objects.filter(site=past).order_by("start")
                    .values_list("start", "end", "state", "degraded"))
    assert from_live == imported
    assert {s for _, _, s, _ in imported} == {"up", "down", "unknown", "excluded"}
    assert any(d for *_, d in imported)

    # ...and the live path's stored SLA record says the same for its closed time.
    materialize_intervals(live, world.now)
    stored = merged(StatusInterval.objects.filter(site=live).order_by("start"))
    closed = stored[-1][1]
    cut = [(s, min(e, closed), st, d) for s, e, st, d in imported if s < closed]
    assert stored == cut


def test_csv_import_with_a_coverage_gap(tmp_path: Path) -> None:
    site = new_site("csv-1")
    path = tmp_path / "export.csv"
    path.write_text(
        "type,site,at,start,end,rtt_ms,battery_voltage_v,wan\n"
        "heartbeat,csv-1,2024-10-15T03:00:00Z,,,640,12.8,\n"
        "heartbeat,csv-1,2024-10-15T03:01:00Z,,,650,12.7,\"{\"\"ether1\"\": {\"\"rx_bytes\"\": 5}}\"\n"
        "coverage_gap,,,2024-10-15T03:20:00Z,2024-10-15T03:30:00Z,,,\n"
        "heartbeat,csv-1,2024-10-15T03:30:00Z,,,700,12.6,\n"
    )
    call_command("import_observations", str(path), "--until", "2024-10-15T03:32:00Z")
    rows = list(StatusInterval.objects.filter(site=site).order_by("start")
                .values_list("start", "end", "state"))
    assert rows == [
        (T0, T0 + 2 * M, "up"), (T0 + 2 * M, T0 + 20 * M, "down"),
        (T0 + 20 * M, T0 + 30 * M, "unknown"), (T0 + 30 * M, T0 + 32 * M, "up")]
    assert Heartbeat.objects.get(received_at=T0 + M).wan == {"ether1": {"rx_bytes": 5}}
    assert Heartbeat.objects.filter(site=site, channel="import").count() == 3


def test_a_bad_file_imports_nothing_and_names_every_line(tmp_path: Path) -> None:
    new_site("ok-1")
    path = tmp_path / "bad.jsonl"
    path.write_text(
        '{"site": "ok-1", "at": "2024-10-15T03:00:00Z"}\n'
        '{"site": "nope", "at": "2024-10-15T03:01:00Z"}\n'
        '{"site": "ok-1", "at": "2024-10-15T03:02:00Z", "loss_pct": 150}\n'
        "{broken\n"
        '{"type": "coverage_gap", "start": "2024-10-15T03:05:00Z", "end": "2024-10-15T03:04:00Z"}\n'
        '{"type": "reboot", "site": "ok-1"}\n'
    )
    with pytest.raises(CommandError) as err:
        call_command("import_observations", str(path))
    message = str(err.value)
    for fragment in ("line 3: loss_pct: out of range", "line 4: malformed JSON",
                     "line 5: end: must be after start", "line 6: type: must be one of",
                     "site 'nope': unknown site code"):
        assert fragment in message
    assert not Heartbeat.objects.exists() and not StatusInterval.objects.exists()


def test_reimport_needs_replace_and_never_touches_live_intervals(tmp_path: Path) -> None:
    site = new_site("re-1")
    path = tmp_path / "a.jsonl"
    write_jsonl(path, "re-1", [(T0, {}), (T0 + 10 * M, {})], [])
    call_command("import_observations", str(path))
    with pytest.raises(CommandError, match="already exist"):
        call_command("import_observations", str(path))
    call_command("import_observations", str(path), "--replace")
    assert StatusInterval.objects.filter(site=site).count() == 2
    assert Heartbeat.objects.filter(site=site).count() == 2
    StatusInterval.objects.filter(site=site).update(source="live")
    with pytest.raises(CommandError, match="live intervals are never replaced"):
        call_command("import_observations", str(path), "--replace")

"""Historical import: the same state machine as the live path, all or nothing."""

from __future__ import annotations

import datetime as dt
import io
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


def test_adopted_history_counts_as_monitored_time_and_live_goes_on_after_it(
    tmp_path: Path,
) -> None:
    """A twin's (or an NMS's) history that ends where live monitoring begins: once adopted,
    activation is the history's start, so the day's totals and the month's window include it,
    and the monitor stores its intervals after the imported ones, never over them."""
    from linda.monitoring.models import SiteState
    from linda.monitoring.services import adopt_history
    from linda.web.models import SiteDay
    from linda.web.rollups import fill_site_days
    from linda.web.selectors import WIB

    site = new_site("twin-1")
    start = dt.datetime(2024, 10, 13, 17, 0, tzinfo=dt.UTC)  # 14 Oct 00:00 WIB
    live_from = T0  # 15 Oct 10:00 WIB
    minutes = int((live_from - start) / M)
    history = [(start + n * M, {}) for n in range(minutes) if not 120 <= n < 140]
    path = tmp_path / "twin.jsonl"
    write_jsonl(path, "twin-1", history, [])  # type: ignore[arg-type]
    call_command("import_observations", str(path), "--start", start.isoformat(),
                 "--until", live_from.isoformat())
    world = World(site, start=live_from - 30 * S)
    world.run(live_from + 30 * M, beats=[live_from + n * M for n in range(30)])
    assert world.state.activated_at == live_from  # the first live heartbeat

    adopt_history(site=site, start=start, end=live_from)
    state = SiteState.objects.get(site=site)
    assert (state.activated_at, state.materialized_until) == (start, live_from)
    adopt_history(site=site, start=start, end=live_from)  # idempotent
    assert SiteState.objects.get(site=site).materialized_until == live_from

    assert materialize_intervals(site, world.now) > 0
    rows = list(StatusInterval.objects.filter(site=site).order_by("start")
                .values_list("start", "end", "state"))
    assert all(a[1] <= b[0] for a, b in itertools.pairwise(rows))  # no overlap
    assert next(r for r in rows if r[0] >= live_from)[0] == live_from

    assert fill_site_days([dt.date(2024, 10, 14)], WIB) == 1
    day = SiteDay.objects.get(site=site, day=dt.date(2024, 10, 14))
    assert (day.up_s, day.down_s, day.unknown_s) == (86400 - 20 * 60, 20 * 60, 0)


def test_the_command_adopts_the_period_when_asked(tmp_path: Path) -> None:
    from linda.monitoring.models import SiteState

    new_site("nms-1")
    path = tmp_path / "nms.jsonl"
    write_jsonl(path, "nms-1", [(T0 + n * M, {}) for n in range(10)], [])
    call_command("import_observations", str(path), "--until", (T0 + 10 * M).isoformat())
    assert not SiteState.objects.exists()  # plain import: history only

    new_site("nms-2")
    write_jsonl(path, "nms-2", [(T0 + n * M, {}) for n in range(10)], [])
    out = io.StringIO()
    call_command("import_observations", str(path), "--until", (T0 + 10 * M).isoformat(),
                 "--adopt", stdout=out)
    state = SiteState.objects.get(site__code="nms-2")
    assert (state.activated_at, state.materialized_until) == (T0, T0 + 10 * M)
    assert f"nms-2: monitored from {T0.isoformat()}" in out.getvalue()

"""The simulated routers' queues and encodings, checked against the server's own parsers."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from linda.monitoring.history import parse_file
from linda.monitoring.payload import parse_object, parse_query
from linda.simulate.clients import (
    Devices,
    HistoryWriter,
    Outcome,
    Result,
    _body,
)
from linda.simulate.engine import Twin
from linda.simulate.faults import DEFAULT_RATES, Cause
from linda.simulate.fleet import AGENT, FETCH, SCRIPT, Fleet, SiteSpec
from linda.simulate.telemetry import import_line, import_lines, iso, json_reading, query_params
from tests.simulate.fleets import WET_SEASON, mixed_fleet

NOW = dt.datetime.fromtimestamp(WET_SEASON + 3 * 86400, dt.UTC)
SKEW = dt.timedelta(seconds=300)


def some_rows() -> list[dict[str, object]]:
    fleet = mixed_fleet(1)
    twin = Twin(fleet, seed=3, start=WET_SEASON)
    return twin.advance(WET_SEASON + 600).beats.rows()


def test_every_encoding_is_accepted_by_the_server_parsers(tmp_path: Path) -> None:
    rows = some_rows()
    battery = next(r for r in rows if r["lvd"] >= 0)
    pln = next(r for r in rows if r["lvd"] < 0)
    for row in (battery, pln):
        at = dt.datetime.fromtimestamp(row["t"], dt.UTC)
        reading = parse_object(json_reading(row), now=at, skew=SKEW)
        assert reading.ignored == () and reading.seq == row["seq"]
        assert reading.device_at == dt.datetime.fromtimestamp(round(row["t"], 3), dt.UTC)
        assert reading.uptime_s == row["uptime_s"]
        assert reading.wan == {"ether1": {"rx_bytes": row["rx_bytes"],
                                          "tx_bytes": row["tx_bytes"]}}
        query = parse_query(query_params(row), now=at, skew=SKEW)
        assert query.ignored == () and query.seq == row["seq"]
        assert query.power_source == reading.power_source
        assert query.battery_soc_pct == reading.battery_soc_pct
        assert query.wan == {"wan": reading.wan["ether1"]}
    assert parse_object(json_reading(battery), now=NOW, skew=SKEW).lvd is False
    aged = parse_object(json_reading(pln, age_s=125.0), now=NOW, skew=SKEW)
    assert aged.device_at == NOW - dt.timedelta(seconds=125)
    # A batch body, and the import's line format, through the real import parser.
    body = _body(rows[:3], now=rows[2]["t"], style=SCRIPT)
    assert [parse_object(item, now=NOW, skew=SKEW).seq for item in body["heartbeats"]] == [
        r["seq"] for r in rows[:3]]
    path = tmp_path / "h.jsonl"
    path.write_text("".join(import_line("lemo-2", iso(r["recv"]), r) for r in rows[:5]))
    fleet = mixed_fleet(1)
    beats = Twin(fleet, seed=3, start=WET_SEASON).advance(WET_SEASON + 600).beats
    assert import_lines(beats, fleet.codes) == [
        import_line(fleet.codes[r["site"]], iso(r["recv"]), r) for r in beats.rows()]
    parsed = parse_file(path)
    assert parsed.errors == []
    assert [reading.seq for _, reading in parsed.beats["lemo-2"]] == [r["seq"] for r in rows[:5]]
    assert json.loads(path.read_text().splitlines()[0])["at"] == iso(rows[0]["recv"])


def test_routers_queue_while_the_link_is_down_and_send_a_batch_after() -> None:
    fleet = Fleet([SiteSpec("script", style=SCRIPT), SiteSpec("fetch", style=FETCH),
                   SiteSpec("agent", style=AGENT)])
    twin = Twin(fleet, seed=1, start=WET_SEASON, rates=DEFAULT_RATES.scaled(0))
    for code in fleet.codes:
        twin.inject(code, WET_SEASON + 600, WET_SEASON + 1200, Cause.LINK)
    devices = Devices(fleet)
    sends = []
    for row in twin.advance(WET_SEASON + 1500).beats.rows():
        send = devices.beat(row)
        if send is not None:
            sends.append(send)
            devices.done(send, Result(Outcome.DELIVERED))
    first_after = {s.code: s for s in reversed(sends) if s.rows[-1]["t"] >= WET_SEASON + 1200}
    assert len(first_after["script"].rows) == 11  # 10 queued + the one just measured
    assert len(first_after["agent"].rows) == 11
    assert len(first_after["fetch"].rows) == 1  # a bare fetch has no queue: 10 lost
    assert devices.stats.lost_beats == 10 and devices.stats.queued_beats == 20

    # The server does not answer: the beats stay queued (up to the queue's length).
    row = {**first_after["script"].rows[-1], "t": WET_SEASON + 1500}
    send = devices.beat(row)
    assert send is not None
    devices.done(send, Result(Outcome.RETRY))
    assert len(devices.queues[send.site]) == 1
    send = devices.beat({**row, "t": WET_SEASON + 1560})
    assert send is not None and len(send.rows) == 2


def test_history_files_are_cut_only_where_a_site_was_alive(tmp_path: Path) -> None:
    fleet = Fleet([SiteSpec("a", style=SCRIPT), SiteSpec("b", style=SCRIPT)])
    start = WET_SEASON - 6 * 3600  # 18:00 WIB
    twin = Twin(fleet, seed=2, start=start, rates=DEFAULT_RATES.scaled(0))
    midnight = WET_SEASON  # 00:00 WIB
    twin.inject("b", midnight - 1800, midnight + 1800, Cause.POWER)
    writer = HistoryWriter(tmp_path, fleet, start=start, compress=False)
    devices = Devices(fleet)
    beats = twin.advance(midnight + 6 * 3600).beats
    devices.absorb(beats)
    writer.write(beats)
    segments = writer.close(midnight + 6 * 3600)
    cuts = {s.code: [seg.start.timestamp() for seg in segments if seg.code == s.code][1:]
            for s in segments}
    assert midnight <= cuts["a"][0] < midnight + 61
    assert cuts["b"][0] > midnight + 1800 + 60  # after the outage, at a beat with a neighbour
    assert all(seg.lines > 0 for seg in segments)
    assert sum(seg.lines for seg in segments) == beats.link.sum()  # what arrived live
    # b's router was dark, and the modem then looked for the satellite: nothing is left
    # in its queue, the beats it measured meanwhile were sent when the link came back.
    assert devices.queues == {}
    lines = [line for seg in segments if seg.code == "b" for line in seg.path.read_text()
             .splitlines()]
    assert len(lines) == beats.select(beats.site == 1).link.sum()

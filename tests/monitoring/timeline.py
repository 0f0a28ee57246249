"""A fake-clock world for monitoring tests: a monitor ticking every 5 s and a router beating."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from linda.domain.status import State
from linda.monitoring.models import Channel, SiteState, StatusInterval
from linda.monitoring.monitor import Flip, tick
from linda.monitoring.payload import Reading
from linda.monitoring.selectors import get_site_intervals
from linda.monitoring.services import record_heartbeat
from linda.registry.models import Site
from tests.monitoring.conftest import T0

S = dt.timedelta(seconds=1)
STEP = 5 * S


class World:
    """A monitor ticking every 5 s and a router beating, in time order, on a fake clock."""

    def __init__(self, site: Site, start: dt.datetime = T0 - 30 * S) -> None:
        self.site = site
        self.now = start
        self.flips: list[Flip] = []
        self.restarts: list[dt.datetime] = []

    def run(self, until: dt.datetime,
            beats: Iterable[dt.datetime | tuple[dt.datetime, dict[str, float]]] = (),
            dark: tuple[dt.datetime, dt.datetime] | None = None) -> None:
        """Tick every 5 s up to `until` (except while dark); beats arrive in time order."""
        pending = sorted((b, {}) if isinstance(b, dt.datetime) else b for b in beats)
        pending = [(at, m) for at, m in pending if at > self.now - STEP]
        while self.now + STEP <= until:
            self.now += STEP
            while pending and pending[0][0] <= self.now:
                at, metrics = pending.pop(0)
                self.beat(at, **metrics)
            if dark and dark[0] <= self.now < dark[1]:
                continue
            result = tick(monitor_id="m1", now=self.now)
            self.flips.extend(result.flips)
            if result.restarted:
                self.restarts.append(self.now)

    def beat(self, at: dt.datetime, **metrics: float) -> None:
        record_heartbeat(site_id=self.site.pk, reading=Reading(**metrics),  # type: ignore[arg-type]
                         channel=Channel.HB, now=at)

    @property
    def state(self) -> SiteState:
        return SiteState.objects.get(site=self.site)

    def intervals(self, start: dt.datetime, end: dt.datetime) -> list[tuple[dt.datetime, dt.datetime, State]]:
        return [(iv.start, iv.end, iv.state)
                for iv in get_site_intervals(self.site, start, end, now=self.now)]


def merged(rows: Iterable[StatusInterval]) -> list[tuple[dt.datetime, dt.datetime, str, bool]]:
    out: list[tuple[dt.datetime, dt.datetime, str, bool]] = []
    for r in rows:
        if out and out[-1][1] == r.start and out[-1][2:] == (r.state, r.degraded):
            out[-1] = (out[-1][0], r.end, r.state, r.degraded)
        else:
            out.append((r.start, r.end, r.state, r.degraded))
    return out

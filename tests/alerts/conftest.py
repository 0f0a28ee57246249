"""A loopback HTTP receiver that Apprise `json://` channels deliver to, and a fleet of sites
driven by the real monitor (heartbeats in, `tick()` flips out, each flip handed to
`record_status_change` exactly as the monitor's `on_commit` hook does)."""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import time_machine
from django.urls import NoReverseMatch, reverse

from linda.alerts.models import Channel, Rule
from linda.alerts.services import PassResult, record_status_change, run_pass
from linda.monitoring.models import Channel as HbChannel
from linda.monitoring.monitor import tick
from linda.monitoring.payload import Reading
from linda.monitoring.services import activate_monitoring, record_heartbeat
from linda.registry.models import Contract, Region, RegionLevel, Site, Vendor

T0 = dt.datetime(2024, 10, 15, 3, 0, tzinfo=dt.UTC)  # 10:00 WIB
S = dt.timedelta(seconds=1)
M = dt.timedelta(minutes=1)


@pytest.fixture(autouse=True)
def _alerts_urls(settings: Any) -> None:
    """Acknowledgement links need the alerts URLs mounted (docs/alerts.md, "Installing")."""
    try:
        reverse("alerts:ack", args=["x"])
    except NoReverseMatch:
        settings.ROOT_URLCONF = "tests.alerts.urls"


# --- the receiver -----------------------------------------------------------------------------


@dataclass
class Delivery:
    path: str
    headers: dict[str, str]
    payload: dict[str, Any]

    @property
    def title(self) -> str:
        return str(self.payload.get("title", ""))

    @property
    def message(self) -> str:
        return str(self.payload.get("message", ""))


@dataclass
class Receiver:
    """Records every POST; answers with `statuses` in turn (then 200); `on_request` runs
    before the answer (a test may kill the sender there)."""

    port: int = 0
    received: list[Delivery] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    on_request: Callable[[Delivery], None] | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, name: str) -> str:
        return f"json://127.0.0.1:{self.port}/{name}"

    def at(self, name: str) -> list[Delivery]:
        with self.lock:
            return [d for d in self.received if d.path == f"/{name}"]

    def titles(self, name: str) -> list[str]:
        return [d.title for d in self.at(name)]

    def paths(self) -> set[str]:
        with self.lock:
            return {d.path.strip("/") for d in self.received}


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            body = json.loads(self.rfile.read(length) or b"{}")
            delivery = Delivery(self.path, dict(self.headers.items()), body)
            with state.lock:
                state.received.append(delivery)
                status = state.statuses.pop(0) if state.statuses else 200
            if state.on_request is not None:
                state.on_request(delivery)
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()
    thread.join(5)


# --- the fleet --------------------------------------------------------------------------------


class Fleet:
    """Kecamatan Teweh Tengah and Montallat with numbered villages, one site per village,
    two vendors, and a fake clock that moves heartbeats, the monitor and the alert worker."""

    def __init__(self, receiver: Receiver, start: dt.datetime = T0) -> None:
        self.receiver = receiver
        self.now = start
        self.start = start
        prov, _ = Region.objects.get_or_create(
            code="62", defaults={"level": RegionLevel.PROVINCE, "name": "Kalimantan Tengah"})
        regency, _ = Region.objects.get_or_create(
            code="62.05", defaults={"level": RegionLevel.REGENCY, "name": "Barito Utara",
                                    "parent": prov})
        self.teweh = Region.objects.create(code="62.05.05", level=RegionLevel.DISTRICT,
                                           name="Teweh Tengah", parent=regency)
        self.montallat = Region.objects.create(code="62.05.01", level=RegionLevel.DISTRICT,
                                               name="Montallat", parent=regency)
        self.vendors: dict[str, Vendor] = {}
        self.contracts: dict[str, Contract] = {}
        self.sites: list[Site] = []
        self.silent: set[int] = set()
        self.dark = False
        self.flips = 0

    def vendor(self, name: str) -> Vendor:
        if name not in self.vendors:
            vendor = Vendor.objects.create(name=name)
            self.vendors[name] = vendor
            self.contracts[name] = Contract.objects.create(
                vendor=vendor, number=f"K/{len(self.vendors)}/2024",
                starts_on=dt.date(2024, 1, 1), ends_on=dt.date(2025, 12, 31))
        return self.vendors[name]

    def add_sites(self, n: int, *, vendor: str, kecamatan: Region | None = None) -> list[Site]:
        kecamatan = kecamatan or self.teweh
        self.vendor(vendor)
        made = []
        for _ in range(n):
            number = 2001 + sum(1 for s in self.sites if s.village.parent_id == kecamatan.pk)
            village = Region.objects.create(
                code=f"{kecamatan.code}.{number}", level=RegionLevel.DESA,
                name=f"Desa {kecamatan.name} {number - 2000}", parent=kecamatan)
            site = Site.objects.create(code=f"{kecamatan.code.replace('.', '')}-{number}",
                                       village=village)
            self.contracts[vendor].sites.add(site)
            activate_monitoring(site=site, at=self.start)
            record_heartbeat(site_id=site.pk, reading=Reading(), channel=HbChannel.API,
                             now=self.start)
            self.sites.append(site)
            made.append(site)
        return made

    def channel(self, name: str, **fields: Any) -> Channel:
        return Channel.objects.create(name=name, url=self.receiver.url(name), **fields)

    def rule(self, channel: Channel, audience: str, **fields: Any) -> Rule:
        return Rule.objects.create(name=f"{audience} {channel.name}", channel=channel,
                                   audience=audience, **fields)

    def run(self, until: dt.datetime, *, step: dt.timedelta = 10 * S,
            alerts_every: dt.timedelta | None = 30 * S) -> None:
        """Move the clock: sites that are not silent beat once a minute (spread over the
        minute), the monitor ticks every step unless dark, the alert worker runs every
        `alerts_every`."""
        while self.now + step <= until:
            self.now += step
            slot = int((self.now - self.start) / step) % int(M / step)
            for i, site in enumerate(self.sites):
                if i % int(M / step) == slot and site.pk not in self.silent:
                    record_heartbeat(site_id=site.pk, reading=Reading(), channel=HbChannel.API,
                                     now=self.now)
            if not self.dark:
                self.monitor()
            if alerts_every and (self.now - self.start) % alerts_every == dt.timedelta(0):
                self.alerts()

    def monitor(self) -> None:
        """One monitor pass, each flip handed to the alerts as the monitor's hook does."""
        result = tick(monitor_id="m1", now=self.now)
        with time_machine.travel(self.now, tick=False):
            for flip in result.flips:
                record_status_change(site_id=flip.site_id, old_state=flip.old,
                                     new_state=flip.new, at=flip.since)
        self.flips += len(result.flips)

    def alerts(self, now: dt.datetime | None = None, worker: str = "w1") -> PassResult:
        return run_pass(worker=worker, now=now or self.now)


@pytest.fixture
def fleet(db: None, receiver: Receiver) -> Fleet:
    return Fleet(receiver)

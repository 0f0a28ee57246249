"""Every monitoring write: site keys, heartbeats, activation, maintenance windows.

Heartbeats are committed in one short transaction per request (or per batch) and the caller
answers 2xx only after it returns, so an acknowledged heartbeat is durable (decision 7).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils import timezone

from linda.domain.status import require_aware
from linda.monitoring.models import (
    Channel,
    Heartbeat,
    MaintenanceWindow,
    SiteKey,
    SiteState,
    StateChoice,
)
from linda.monitoring.payload import Reading
from linda.registry.models import Contract, Region, RegionLevel, Site

if TYPE_CHECKING:
    from django.contrib.auth.models import User

KEY_PATTERN = re.compile(r"^[A-Za-z0-9_-]{16,128}$")
PREFIX_LEN = 6


# --- site keys ------------------------------------------------------------------------------


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def issue_site_key(site: Site, *, now: datetime | None = None) -> str:
    """Create a new key for `site` and return it; only its hash is stored, so show it once.

    Older keys stay valid until revoked, so a router can be moved to the new key first.
    """
    key = secrets.token_urlsafe(24)
    SiteKey.objects.create(
        site=site, key_hash=hash_key(key), prefix=key[:PREFIX_LEN],
        created_at=now or timezone.now(),
    )
    return key


def revoke_site_key(site_key: SiteKey, *, now: datetime | None = None) -> bool:
    """Revoke a key; True if this call revoked it (False if it already was)."""
    revoked = SiteKey.objects.filter(pk=site_key.pk, revoked_at__isnull=True).update(
        revoked_at=now or timezone.now()
    ) == 1
    _KEY_CACHE.forget(site_key.key_hash)
    return revoked


class KeyRejected(Exception):
    """The key is malformed or unknown (401) or revoked (403)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


class _KeyCache:
    """Recent successful key lookups of this process, for at most LINDA_HB_KEY_CACHE_S."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[str, tuple[float, int, bool]] = {}

    def get(self, digest: str) -> tuple[int, bool] | None:
        with self._lock:
            entry = self._entries.get(digest)
        if entry is None or entry[0] < time.monotonic():
            return None
        return entry[1], entry[2]

    def put(self, digest: str, site_id: int, revoked: bool) -> None:
        ttl = settings.LINDA_HB_KEY_CACHE_S
        if ttl <= 0:
            return
        with self._lock:
            if len(self._entries) > 100_000:
                self._entries.clear()
            self._entries[digest] = (time.monotonic() + ttl, site_id, revoked)

    def forget(self, digest: str) -> None:
        with self._lock:
            self._entries.pop(digest, None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


_KEY_CACHE = _KeyCache()


def authenticate_key(key: str) -> int:
    """The site id a key belongs to; raises KeyRejected. The key itself is never logged."""
    if not KEY_PATTERN.match(key):
        raise KeyRejected(401, "unknown key")
    digest = hash_key(key)
    cached = _KEY_CACHE.get(digest)
    if cached is None:
        row = SiteKey.objects.filter(key_hash=digest).values_list(
            "key_hash", "site_id", "revoked_at"
        ).first()
        # The lookup is by hash, so its timing says nothing about the key; the comparison
        # of the stored hash is constant-time all the same.
        if row is None or not hmac.compare_digest(row[0], digest):
            raise KeyRejected(401, "unknown key")
        cached = (row[1], row[2] is not None)
        _KEY_CACHE.put(digest, *cached)
    site_id, revoked = cached
    if revoked:
        raise KeyRejected(403, "revoked key")
    return site_id


# --- heartbeats -----------------------------------------------------------------------------


@dataclass
class BatchResult:
    accepted: int = 0
    duplicates: int = 0
    late: int = 0
    live: bool = False


def is_late(reading: Reading, received_at: datetime) -> bool:
    window = timedelta(seconds=settings.LINDA_HB_LIVE_WINDOW_S)
    return reading.device_at is not None and received_at - reading.device_at > window


def heartbeat_row(site_id: int, reading: Reading, *, received_at: datetime, late: bool,
         channel: str) -> Heartbeat:
    return Heartbeat(
        site_id=site_id, received_at=received_at, device_at=reading.device_at, channel=channel,
        late=late, seq=reading.seq, uptime_s=reading.uptime_s,
        supply_voltage_v=reading.supply_voltage_v, battery_voltage_v=reading.battery_voltage_v,
        battery_soc_pct=reading.battery_soc_pct, power_source=reading.power_source,
        lvd=reading.lvd, temperature_c=reading.temperature_c, cpu_load_pct=reading.cpu_load_pct,
        wan=reading.wan, hotspot_users=reading.hotspot_users, dhcp_leases=reading.dhcp_leases,
        rtt_ms=reading.rtt_ms, loss_pct=reading.loss_pct,
    )


def tally(readings: Sequence[Reading], late: Sequence[bool],
          stored_seqs: set[int]) -> BatchResult:
    """What a batch's answer counts, once its rows are stored: a reading with a sequence
    number not among `stored_seqs` (sent before), or repeated in the batch, is a duplicate."""
    result = BatchResult()
    seen: set[int] = set()
    for reading, is_late_ in zip(readings, late, strict=True):
        if reading.seq is not None:
            if reading.seq in seen or reading.seq not in stored_seqs:
                result.duplicates += 1
                continue
            seen.add(reading.seq)
        result.accepted += 1
        result.late += is_late_
        result.live = result.live or not is_late_
    return result


HB_COLUMNS = (
    "site_id", "received_at", "device_at", "channel", "late", "seq", "uptime_s",
    "supply_voltage_v", "battery_voltage_v", "battery_soc_pct", "power_source", "lvd",
    "temperature_c", "cpu_load_pct", "wan", "hotspot_users", "dhcp_leases", "rtt_ms",
    "loss_pct",
)
_HB_INSERT_ROWS = 500  # rows per INSERT statement (19 parameters each)


def heartbeat_values(site_id: int, received_at: object, device_at: object, channel: str,
                     late: bool, reading: Reading, wan: object) -> tuple[object, ...]:
    """One heartbeat row's values in HB_COLUMNS order; the times and `wan` come already in
    the form the caller's database driver takes."""
    r = reading
    return (site_id, received_at, device_at, channel, late, r.seq, r.uptime_s,
            r.supply_voltage_v, r.battery_voltage_v, r.battery_soc_pct, r.power_source, r.lvd,
            r.temperature_c, r.cpu_load_pct, wan, r.hotspot_users, r.dhcp_leases, r.rtt_ms,
            r.loss_pct)


def _insert_heartbeats(connection: BaseDatabaseWrapper, site_id: int,
                       readings: Sequence[Reading], late: Sequence[bool],
                       received_at: datetime, channel: str) -> set[int]:
    """INSERT … ON CONFLICT DO NOTHING RETURNING seq: the sequence numbers stored now (a
    (site, seq) already stored, perhaps by a concurrent request, is skipped)."""
    ops = connection.ops
    db_received = ops.adapt_datetimefield_value(received_at)
    rows = [
        heartbeat_values(site_id, db_received, ops.adapt_datetimefield_value(r.device_at),
                         channel, is_late_, r,
                         None if r.wan is None else ops.adapt_json_value(r.wan, None))
        for r, is_late_ in zip(readings, late, strict=True)
    ]
    one_row = "(" + ", ".join(["%s"] * len(HB_COLUMNS)) + ")"
    stored: set[int] = set()
    with connection.cursor() as cursor:
        for i in range(0, len(rows), _HB_INSERT_ROWS):
            chunk = rows[i:i + _HB_INSERT_ROWS]
            cursor.execute(
                f"INSERT INTO {Heartbeat._meta.db_table} ({', '.join(HB_COLUMNS)}) "
                f"VALUES {', '.join([one_row] * len(chunk))} "
                "ON CONFLICT DO NOTHING RETURNING seq",
                [value for row in chunk for value in row])
            stored.update(seq for (seq,) in cursor.fetchall() if seq is not None)
    return stored


def record_heartbeat(
    *, site_id: int, reading: Reading, channel: Channel, now: datetime | None = None
) -> BatchResult:
    """Store one heartbeat received now; see `record_batch`."""
    return record_batch(site_id=site_id, readings=[reading], channel=channel, now=now)


def record_batch(
    *, site_id: int, readings: Sequence[Reading], channel: Channel, now: datetime | None = None
) -> BatchResult:
    """Store heartbeats received together at server time `now`, in one transaction.

    A reading whose sequence number the site already sent is a duplicate: counted, not stored
    again. A reading measured longer ago than LINDA_HB_LIVE_WINDOW_S is stored `late=True`
    (store-and-forward) and never advances the site's last live time (decision 1).

    Two statements, compiled by hand (the ORM's would cost more CPU than the database's
    work): one INSERT of the rows, skipping stored (site, seq), and `mark_live`'s upsert.
    """
    received_at = require_aware(now or timezone.now(), "now")
    late = [is_late(r, received_at) for r in readings]
    firsts: dict[int, int] = {}  # a sequence number repeated in the batch is stored once
    keep = [i for i, r in enumerate(readings)
            if r.seq is None or firsts.setdefault(r.seq, i) == i]
    with transaction.atomic():
        connection = connections[Heartbeat.objects.db]
        stored = _insert_heartbeats(connection, site_id, [readings[i] for i in keep],
                                    [late[i] for i in keep], received_at, channel)
        result = tally(readings, late, stored)
        if result.live:
            mark_live(site_id=site_id, at=received_at)
    return result


# The live-state rule as the SET of an upsert whose new row is (site, at, at, 'up', at, 0),
# in portable SQL (PostgreSQL, SQLite >= 3.24): a site's first live heartbeat creates its
# state row (monitoring starts); later ones advance last_live_at and flip DOWN or UNKNOWN
# to UP. `mark_live` and the lean intake's group commit both use it.
_STATE = SiteState._meta.db_table
_WAKING = (f"{_STATE}.state IN ('{StateChoice.DOWN.value}', "
           f"'{StateChoice.UNKNOWN.value}')")
LIVE_STATE_UPSERT = f"""
ON CONFLICT (site_id) DO UPDATE SET
    last_live_at = CASE WHEN {_STATE}.last_live_at IS NULL
                              OR {_STATE}.last_live_at < excluded.last_live_at
                         THEN excluded.last_live_at ELSE {_STATE}.last_live_at END,
    state = CASE WHEN {_WAKING} THEN excluded.state ELSE {_STATE}.state END,
    state_since = CASE WHEN {_WAKING} THEN excluded.state_since ELSE {_STATE}.state_since END,
    version = CASE WHEN {_WAKING} THEN {_STATE}.version + 1 ELSE {_STATE}.version END
"""
_MARK_LIVE_SQL = f"""
INSERT INTO {_STATE} (site_id, activated_at, last_live_at, state, state_since, version)
VALUES (%s, %s, %s, '{StateChoice.UP.value}', %s, 0)
{LIVE_STATE_UPSERT}"""


def mark_live(*, site_id: int, at: datetime) -> None:
    """The site was reachable at server time `at`: advance last_live_at, flip DOWN/UNKNOWN to UP.

    One statement; the row is created (monitoring starts) on the site's first live heartbeat.
    """
    connection = connections[SiteState.objects.db]
    db_at = connection.ops.adapt_datetimefield_value(require_aware(at, "at"))
    with connection.cursor() as cursor:
        cursor.execute(_MARK_LIVE_SQL, [site_id, db_at, db_at, db_at])


def activate_monitoring(*, site: Site, at: datetime) -> SiteState:
    """Start monitoring `site` at `at` (e.g. the BAST date) before its first heartbeat.

    Until then a site is not monitored; without this call monitoring starts at the first
    live heartbeat. An existing activation is moved only earlier, never later.
    """
    at = require_aware(at, "at")
    state, created = SiteState.objects.get_or_create(
        site=site, defaults={"activated_at": at, "state_since": at}
    )
    if not created and at < state.activated_at:
        SiteState.objects.filter(pk=state.pk).update(activated_at=at)
        state.refresh_from_db()
    return state


def adopt_history(*, site: Site, start: datetime, end: datetime) -> SiteState:
    """Count an imported stretch [start, end) (status intervals already stored by the
    historical import) as monitored time: activation moves back to `start`, and the monitor
    goes on storing intervals from where live monitoring began (or from `end`), never over
    the imported ones. For a twin's or an NMS's history that ends where live data begins.
    """
    start, end = require_aware(start, "start"), require_aware(end, "end")
    if end <= start:
        raise ValueError("end: must be after start")
    with transaction.atomic():
        state, _ = SiteState.objects.select_for_update().get_or_create(
            site=site, defaults={"activated_at": end, "state_since": end}
        )
        if state.activated_at <= start:
            return state
        closed_from = state.materialized_until
        if closed_from is None:  # nothing stored live yet: the live part starts at activation
            closed_from = state.activated_at
            state.materialized_anchor = state.activated_at
        state.materialized_until = closed_from
        state.activated_at = start
        state.save(update_fields=["activated_at", "materialized_until", "materialized_anchor"])
    return state


# --- maintenance ----------------------------------------------------------------------------


def schedule_maintenance(
    *,
    start: datetime,
    end: datetime,
    reason: str,
    author: User | None,
    site: Site | None = None,
    kecamatan: Region | None = None,
    contract: Contract | None = None,
) -> MaintenanceWindow:
    """A maintenance window (or declared force majeure): EXCLUDED time for its scope."""
    if kecamatan is not None and kecamatan.level != RegionLevel.DISTRICT:
        raise ValueError(f"{kecamatan} is not a kecamatan")
    window = MaintenanceWindow(
        site=site, kecamatan=kecamatan, contract=contract, start=require_aware(start, "start"),
        end=require_aware(end, "end"), reason=reason, author=author,
    )
    window.full_clean()
    with transaction.atomic():
        window.save()
    return window

from __future__ import annotations

import datetime as dt

import pytest

from linda.monitoring.models import Channel, Heartbeat, SiteKey, SiteState, StateChoice
from linda.monitoring.payload import Reading
from linda.monitoring.services import (
    KeyRejected,
    activate_monitoring,
    authenticate_key,
    hash_key,
    issue_site_key,
    record_batch,
    record_heartbeat,
    revoke_site_key,
)
from linda.registry.models import Site
from tests.monitoring.conftest import T0

pytestmark = pytest.mark.django_db
S = dt.timedelta(seconds=1)


def test_a_key_is_stored_only_as_its_hash_and_identifies_its_site(site: Site) -> None:
    key = issue_site_key(site)
    row = SiteKey.objects.get()
    assert len(key) == 32 and row.key_hash == hash_key(key) and key not in row.key_hash
    assert row.prefix == key[:6]
    assert authenticate_key(key) == site.pk


@pytest.mark.parametrize("presented", ["", "short", "x" * 32, "not a key!" * 4])
def test_unknown_or_malformed_keys_are_401(site: Site, presented: str) -> None:
    issue_site_key(site)
    with pytest.raises(KeyRejected) as err:
        authenticate_key(presented)
    assert err.value.status == 401


def test_a_revoked_key_is_403_and_other_keys_keep_working(site: Site) -> None:
    old, new = issue_site_key(site), issue_site_key(site)
    authenticate_key(old)  # cached in this process...
    assert revoke_site_key(SiteKey.objects.get(key_hash=hash_key(old))) is True
    with pytest.raises(KeyRejected) as err:  # ...and forgotten on revocation
        authenticate_key(old)
    assert err.value.status == 403
    assert authenticate_key(new) == site.pk
    assert revoke_site_key(SiteKey.objects.get(key_hash=hash_key(old))) is False


def test_first_live_heartbeat_starts_monitoring_up(site: Site) -> None:
    result = record_heartbeat(site_id=site.pk, reading=Reading(seq=1, rtt_ms=650.0),
                              channel=Channel.API, now=T0)
    assert (result.accepted, result.duplicates, result.live) == (1, 0, True)
    state = SiteState.objects.get(site=site)
    assert (state.activated_at, state.last_live_at, state.state) == (T0, T0, StateChoice.UP)
    beat = Heartbeat.objects.get()
    assert (beat.received_at, beat.rtt_ms, beat.late, beat.channel) == (T0, 650.0, False, "api")


def test_duplicate_sequence_is_idempotent(site: Site) -> None:
    record_heartbeat(site_id=site.pk, reading=Reading(seq=7), channel=Channel.HB, now=T0)
    again = record_batch(site_id=site.pk, readings=[Reading(seq=7), Reading(seq=8),
                                                    Reading(seq=8)],
                         channel=Channel.API, now=T0 + 60 * S)
    assert (again.accepted, again.duplicates) == (1, 2)
    assert sorted(Heartbeat.objects.values_list("seq", flat=True)) == [7, 8]


def test_late_batch_keeps_metrics_but_gains_no_uptime(site: Site) -> None:
    record_heartbeat(site_id=site.pk, reading=Reading(seq=1), channel=Channel.API, now=T0)
    arrival = T0 + dt.timedelta(minutes=40)
    buffered = [Reading(seq=n, device_at=T0 + n * 60 * S, battery_voltage_v=12.0 - n / 100)
                for n in range(2, 30)]
    result = record_batch(site_id=site.pk, readings=buffered, channel=Channel.API, now=arrival)
    assert (result.accepted, result.late, result.live) == (28, 28, False)
    state = SiteState.objects.get(site=site)
    assert state.last_live_at == T0
    assert Heartbeat.objects.filter(late=True).count() == 28
    assert Heartbeat.objects.get(seq=29).battery_voltage_v == pytest.approx(11.71)


def test_a_live_heartbeat_wakes_a_down_site_and_bumps_the_version(site: Site) -> None:
    record_heartbeat(site_id=site.pk, reading=Reading(), channel=Channel.HB, now=T0)
    SiteState.objects.filter(site=site).update(state=StateChoice.DOWN, version=5)
    later = T0 + dt.timedelta(minutes=10)
    record_heartbeat(site_id=site.pk, reading=Reading(), channel=Channel.HB, now=later)
    state = SiteState.objects.get(site=site)
    assert (state.state, state.state_since, state.version, state.last_live_at) == (
        StateChoice.UP, later, 6, later)


def test_a_heartbeat_never_moves_last_live_backwards(site: Site) -> None:
    record_heartbeat(site_id=site.pk, reading=Reading(), channel=Channel.HB, now=T0 + 60 * S)
    record_heartbeat(site_id=site.pk, reading=Reading(), channel=Channel.HB, now=T0)
    assert SiteState.objects.get(site=site).last_live_at == T0 + 60 * S


def test_activation_before_the_first_heartbeat(site: Site) -> None:
    activate_monitoring(site=site, at=T0)
    state = SiteState.objects.get(site=site)
    assert (state.activated_at, state.state, state.last_live_at) == (T0, "unknown", None)
    record_heartbeat(site_id=site.pk, reading=Reading(), channel=Channel.HB, now=T0 + 5 * S)
    state.refresh_from_db()
    assert (state.activated_at, state.state) == (T0, "up")

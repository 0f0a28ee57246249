"""The monitor reports every flip to the alert engine, once, after the flip is committed."""

from __future__ import annotations

import datetime as dt

import pytest

from linda.alerts.models import AlertEvent
from linda.monitoring.models import Channel
from linda.monitoring.monitor import tick
from linda.monitoring.payload import Reading
from linda.monitoring.services import activate_monitoring, record_heartbeat
from tests.factories import make_site

pytestmark = pytest.mark.usefixtures("barito_utara")
T0 = dt.datetime(2024, 10, 1, 3, 0, tzinfo=dt.UTC)


def test_a_site_going_down_writes_one_alert_event(django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    site = make_site("62.05.05.2011")
    activate_monitoring(site=site, at=T0)
    with django_capture_on_commit_callbacks(execute=True):
        tick(monitor_id="m", now=T0 - dt.timedelta(seconds=5))  # the monitor was already up
        record_heartbeat(site_id=site.pk, channel=Channel.HB, now=T0, reading=Reading(seq=1))
        for k in range(0, 6 * 60, 5):  # six minutes of coverage, no more heartbeats
            tick(monitor_id="m", now=T0 + dt.timedelta(seconds=k))
    events = list(AlertEvent.objects.values_list("site_id", "old_state", "new_state", "at"))
    # DOWN is declared after I + G (4 min) and backdated to the first missing beat (T0 + I)
    assert events == [(site.pk, "up", "down", T0 + dt.timedelta(seconds=60))]

"""Alert writes: the monitor's one door in (`record_status_change`), acknowledgements,
channel tests, and one worker pass (`run_pass`)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import transaction
from django.utils import timezone

from linda.alerts import delivery, planner
from linda.alerts.messages import render_test
from linda.alerts.models import (
    AlertEvent,
    Channel,
    Incident,
    Notification,
    NotificationKind,
)
from linda.domain.status import State, require_aware

log = logging.getLogger("linda.alerts")
STATES = frozenset(s.value for s in State)


def record_status_change(
    *, site_id: int, old_state: str, new_state: str, at: datetime, cause_hint: str = ""
) -> None:
    """Store that a site's live state changed at `at` (the time the new state began).

    The monitor calls it once per flip, from `transaction.on_commit` after the flip is durable.
    It only appends a row; the `linda alerts` worker decides later, with the whole picture
    (other sites, maintenance, coverage, flapping), whether and whom to tell.
    """
    if new_state not in STATES or (old_state and old_state not in STATES):
        raise ValueError(f"unknown state change {old_state!r} -> {new_state!r}")
    with transaction.atomic():
        AlertEvent.objects.create(
            site_id=site_id, old_state=old_state, new_state=new_state,
            at=require_aware(at, "at"), cause_hint=cause_hint[:40], recorded_at=timezone.now(),
        )


def acknowledge_incident(
    *, incident: Incident, user: AbstractBaseUser | AnonymousUser | None = None,
    name: str = "", now: datetime | None = None,
) -> bool:
    """Acknowledge an incident (stops its escalation and reminders); False if it already was."""
    real = user if user is not None and user.is_authenticated else None
    label = name.strip()[:120] or (real.get_username() if real is not None else "")
    done = Incident.objects.filter(pk=incident.pk, acknowledged_at__isnull=True).update(
        acknowledged_at=now or timezone.now(), acknowledged_by=real, acknowledged_name=label,
    ) == 1
    if done:
        log.info("incident #%d acknowledged by %s", incident.pk, label or "?")
    return done


def send_test(*, channel: Channel, worker: str = "admin", now: datetime | None = None) -> str:
    """Store a test message for `channel` and send it at once through the normal path;
    returns the notification's status."""
    now = now or timezone.now()
    message = render_test(channel.name, lang=channel.language, now=now)
    notification = Notification.objects.create(
        channel=channel, kind=NotificationKind.TEST, dedupe_key=f"test:{channel.pk}:"
        f"{now.isoformat()}", title=message.title, body=message.body,
        notify_type=message.notify_type, created_at=now, next_attempt_at=now,
    )
    return delivery.deliver(notification.pk, worker=worker)


@dataclass(frozen=True, slots=True)
class PassResult:
    planned: bool
    events: int
    notifications_stored: int
    tried: int


def run_pass(*, worker: str, now: datetime | None = None) -> PassResult:
    """One worker pass: plan (if this worker holds the planner lease), then deliver what is due.

    `now` is for tests: it drives both the planner and the delivery clock.
    """
    fixed = require_aware(now, "now") if now is not None else None
    plan_now = fixed or timezone.now()
    planned = planner.plan(now=plan_now, worker=worker)
    tried = delivery.deliver_due(worker=worker, clock=(lambda: fixed) if fixed else timezone.now)
    return PassResult(planned.planned, planned.events, planned.notifications, tried)

"""Sending stored notifications through Apprise, safely with several workers and restarts.

The guarantees, precisely (docs/alerts.md, "Delivery"):

- **Claim.** A worker sends a notification only after winning
  `UPDATE … SET status='sending', claim_token=<new random> WHERE id=… AND status='pending'`.
  One winner; every later write about that try names the token, so a worker that lost its
  claim cannot record an outcome.
- **Before the network.** A `DeliveryAttempt` row (outcome `started`) is committed just before
  the Apprise call, and the outcome is written with the notification's new status in one
  transaction just after it.
- **After a crash** (the claim is older than `LINDA_ALERT_CLAIM_LEASE_S`):
  - no `started` attempt for the claim → nothing left the machine: back to `pending` and sent
    by the next worker (no loss, no repeat);
  - a `started` attempt with no outcome → the worker died during the network call and nobody
    can know whether the service got it: the attempt and the notification become `in_doubt`
    and are **not** sent again (at-most-once; shown in the delivery log and the admin, where
    "kirim ulang" requeues it by hand). A channel with `resend_in_doubt` (a webhook whose
    receiver drops repeats by the `X-Linda-Notification` header) gets it again instead
    (at-least-once, duplicates removed at the receiver = effectively once).
- **Failures** Apprise reports (a refused connection, an HTTP error) are retried with
  exponential backoff up to `LINDA_ALERT_MAX_ATTEMPTS`, then `failed`. A service that
  processed a message but answered with an error may see it again: that is the only repeat
  this design allows, and it is a service's own fault.
- **Idempotent per notification id.** A notification with a successful attempt is never sent
  again, whoever claims it; webhook channels receive the id as `X-Linda-Notification`.
"""

from __future__ import annotations

import functools
import logging
import os
import secrets
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import apprise
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from linda.alerts import conf
from linda.alerts.models import (
    AttemptOutcome,
    Channel,
    DeliveryAttempt,
    Notification,
    NotificationStatus,
)
from linda.domain.alerting import expand_env, retry_delay, scrub, secret_parts

log = logging.getLogger("linda.alerts")

Clock = Callable[[], datetime]
WEBHOOK_SCHEMES = frozenset({"json", "jsons", "form", "forms", "xml", "xmls"})
IDEMPOTENCY_HEADER = "X-Linda-Notification"


@dataclass(frozen=True, slots=True)
class SendResult:
    ok: bool
    error: str = ""
    permanent: bool = False  # retrying cannot help (a malformed URL)


def apprise_url(channel: Channel, notification_id: int) -> str:
    """The channel's URL with `{env:NAME}` secrets filled in and, for webhooks, the
    notification id as an idempotency header. Raises KeyError for a missing variable."""
    url = expand_env(channel.url, os.environ)
    if channel.scheme in WEBHOOK_SCHEMES:
        url += ("&" if "?" in url else "?") + f"+{IDEMPOTENCY_HEADER}={notification_id}"
    return url


@functools.cache
def load_plugins() -> None:
    """Load Apprise's plugins once. Some import modules deprecated in Python 3.11 (imghdr);
    that is Apprise's business, not a reason to fail a delivery under warnings-as-errors."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        apprise.Apprise.instantiate("json://localhost")


def send_apprise(notification: Notification) -> SendResult:
    """One try through Apprise; never raises for a service's failure."""
    load_plugins()
    channel = notification.channel
    try:
        url = apprise_url(channel, notification.pk)
    except KeyError as missing:
        return SendResult(False, f"variabel lingkungan {missing} tidak ada")
    secrets_in_url = secret_parts(url)
    asset = apprise.AppriseAsset(app_id="Linda", app_desc="Linda Batara",
                                 storage_mode="memory")
    client = apprise.Apprise(asset=asset)
    if not client.add(url):
        shown = scrub(channel.url, secrets_in_url)
        return SendResult(False, f"URL Apprise tidak dikenali: {shown}", permanent=True)
    with apprise.LogCapture(level=logging.WARNING) as captured:  # type: ignore[no-untyped-call]
        ok = client.notify(body=notification.body, title=notification.title,
                           notify_type=apprise.NotifyType(notification.notify_type))
        text = captured.getvalue() if not ok else ""
    return SendResult(bool(ok), scrub(text.strip(), secrets_in_url)[:2000])


Sender = Callable[[Notification], SendResult]


def claim(pk: int, *, now: datetime) -> str | None:
    """Win the notification for one try; the claim token, or None if someone else has it."""
    token = secrets.token_hex(16)
    won = Notification.objects.filter(pk=pk, status=NotificationStatus.PENDING).update(
        status=NotificationStatus.SENDING, claim_token=token, claimed_at=now,
        attempts=F("attempts") + 1,
    ) == 1
    return token if won else None


def deliver(pk: int, *, worker: str, clock: Clock = timezone.now,
            sender: Sender = send_apprise) -> str:
    """Claim, send and record one notification; returns its status afterwards."""
    token = claim(pk, now=clock())
    if token is None:
        return "taken"
    notification = Notification.objects.select_related("channel").get(pk=pk)
    if notification.attempts_log.filter(outcome=AttemptOutcome.OK).exists():
        _finish(notification, token, None, SendResult(True), clock())
        return NotificationStatus.SENT
    if not notification.channel.is_active:
        _finish(notification, token, None, SendResult(False, "kanal nonaktif", True), clock())
        return NotificationStatus.FAILED
    attempt = DeliveryAttempt.objects.create(
        notification=notification, number=notification.attempts, claim_token=token,
        worker=worker[:80], started_at=clock(),
    )
    try:
        result = sender(notification)
    except Exception as exc:  # a bug in a plugin must not kill the worker
        log.exception("sending notification %s raised", pk)
        result = SendResult(False, f"{type(exc).__name__}: {exc}"[:2000])
    return _finish(notification, token, attempt, result, clock())


def _finish(notification: Notification, token: str, attempt: DeliveryAttempt | None,
            result: SendResult, now: datetime) -> str:
    if result.ok:
        status, next_at = NotificationStatus.SENT, notification.next_attempt_at
    elif result.permanent or notification.attempts >= conf.count("LINDA_ALERT_MAX_ATTEMPTS"):
        status, next_at = NotificationStatus.FAILED, notification.next_attempt_at
    else:
        delay = retry_delay(notification.attempts, base=conf.seconds("LINDA_ALERT_RETRY_BASE_S"),
                            cap=conf.seconds("LINDA_ALERT_RETRY_MAX_S"))
        status, next_at = NotificationStatus.PENDING, now + delay
    with transaction.atomic():
        if attempt is not None:
            DeliveryAttempt.objects.filter(pk=attempt.pk, outcome=AttemptOutcome.STARTED).update(
                outcome=AttemptOutcome.OK if result.ok else AttemptOutcome.ERROR,
                finished_at=now, error=result.error)
        Notification.objects.filter(
            pk=notification.pk, claim_token=token, status=NotificationStatus.SENDING
        ).update(status=status, next_attempt_at=next_at, last_error=result.error,
                 sent_at=now if result.ok else None)
    if not result.ok:
        log.warning("notification %s to %s failed (%s): %s", notification.pk,
                    notification.channel, status, result.error)
    return status


def recover_stale(*, now: datetime) -> int:
    """Settle the claims of workers that died mid-try (see the module docstring)."""
    lease = conf.seconds("LINDA_ALERT_CLAIM_LEASE_S")
    stale = Notification.objects.filter(status=NotificationStatus.SENDING,
                                        claimed_at__lt=now - lease).select_related("channel")
    count = 0
    for notification in stale:
        token = notification.claim_token
        started = notification.attempts_log.filter(claim_token=token).first()
        with transaction.atomic():
            mine = Notification.objects.filter(pk=notification.pk, claim_token=token,
                                               status=NotificationStatus.SENDING)
            if started is None:
                count += mine.update(status=NotificationStatus.PENDING, claim_token="",
                                     claimed_at=None, attempts=F("attempts") - 1)
                continue
            DeliveryAttempt.objects.filter(pk=started.pk, outcome=AttemptOutcome.STARTED).update(
                outcome=AttemptOutcome.IN_DOUBT, finished_at=now,
                error="pekerja berhenti saat mengirim")
            again = notification.channel.resend_in_doubt
            count += mine.update(
                status=NotificationStatus.PENDING if again else NotificationStatus.IN_DOUBT,
                claim_token="", claimed_at=None, next_attempt_at=now,
                last_error="pekerja berhenti saat mengirim; "
                           + ("dikirim ulang" if again else "tidak dikirim ulang"),
            )
        log.warning("notification %s was being sent by a worker that stopped: %s",
                    notification.pk, "resent" if notification.channel.resend_in_doubt
                    else "in doubt" if started else "requeued")
    return count


def deliver_due(*, worker: str, clock: Clock = timezone.now, limit: int = 100,
                sender: Sender = send_apprise) -> int:
    """Settle dead workers' claims, then send every due notification; how many were tried."""
    now = clock()
    recover_stale(now=now)
    due = list(Notification.objects.filter(
        status=NotificationStatus.PENDING, next_attempt_at__lte=now
    ).order_by("next_attempt_at", "pk").values_list("pk", flat=True)[:limit])
    tried = 0
    for pk in due:
        tried += deliver(pk, worker=worker, clock=clock, sender=sender) != "taken"
    return tried


def requeue(notification: Notification, *, now: datetime) -> bool:
    """Send an in-doubt or failed notification again (an operator's decision)."""
    return Notification.objects.filter(
        pk=notification.pk,
        status__in=[NotificationStatus.IN_DOUBT, NotificationStatus.FAILED],
    ).update(status=NotificationStatus.PENDING, next_attempt_at=now, claim_token="",
             claimed_at=None) == 1

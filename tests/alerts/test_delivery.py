"""Delivery: every attempt logged, retries with backoff, no duplicate after a worker dies
mid-send (in-process and a real killed process), secrets kept out of the log."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys

import pytest
from django.utils import timezone

from linda.alerts import delivery
from linda.alerts.models import (
    Channel,
    DeliveryAttempt,
    Notification,
    NotificationKind,
    NotificationStatus,
)
from linda.alerts.services import run_pass
from tests.alerts.conftest import T0, Receiver
from tests.processes import REPO, database_url

S = dt.timedelta(seconds=1)


class Killed(BaseException):
    """Stands for SIGKILL: nothing after it in the worker runs."""


def _notification(channel: Channel, now: dt.datetime, key: str = "n1") -> Notification:
    return Notification.objects.create(
        channel=channel, kind=NotificationKind.TEST, dedupe_key=key, title="MATI: Lemo II",
        body="Situs lemo-2 tidak terhubung.", notify_type="failure", created_at=now,
        next_attempt_at=now,
    )


@pytest.mark.django_db
def test_failed_attempts_are_logged_and_retried_with_backoff(receiver: Receiver) -> None:
    channel = Channel.objects.create(name="noc", url=receiver.url("noc"))
    n = _notification(channel, T0)
    receiver.statuses = [500, 503]
    run_pass(worker="w1", now=T0)
    n.refresh_from_db()
    assert (n.status, n.attempts, n.next_attempt_at) == ("pending", 1, T0 + 30 * S)
    run_pass(worker="w1", now=T0 + 29 * S)
    assert len(receiver.received) == 1  # not due yet
    run_pass(worker="w1", now=T0 + 30 * S)
    n.refresh_from_db()
    assert (n.status, n.next_attempt_at) == ("pending", T0 + 90 * S)
    run_pass(worker="w1", now=T0 + 90 * S)
    n.refresh_from_db()
    assert (n.status, n.attempts, n.sent_at) == ("sent", 3, T0 + 90 * S)
    log = list(n.attempts_log.values_list("number", "outcome"))
    assert log == [(1, "error"), (2, "error"), (3, "ok")]
    assert "500" in n.attempts_log.get(number=1).error
    assert len(receiver.received) == 3
    assert {d.headers["X-Linda-Notification"] for d in receiver.received} == {str(n.pk)}


@pytest.mark.django_db
def test_gives_up_after_max_attempts(receiver: Receiver, settings: object) -> None:
    settings.LINDA_ALERT_MAX_ATTEMPTS = 2  # type: ignore[attr-defined]
    n = _notification(Channel.objects.create(name="noc", url=receiver.url("noc")), T0)
    receiver.statuses = [500, 500, 500]
    run_pass(worker="w1", now=T0)
    run_pass(worker="w1", now=T0 + 1000 * S)
    run_pass(worker="w1", now=T0 + 9000 * S)
    n.refresh_from_db()
    assert (n.status, n.attempts, len(receiver.received)) == ("failed", 2, 2)


@pytest.mark.django_db
def test_worker_killed_after_sending_does_not_send_again(
    receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    n = _notification(Channel.objects.create(name="noc", url=receiver.url("noc")), T0)

    def die(*args: object, **kwargs: object) -> str:
        raise Killed

    with monkeypatch.context() as m:
        m.setattr(delivery, "_finish", die)  # the message is out; the worker dies before noting it
        with pytest.raises(Killed):
            run_pass(worker="w1", now=T0)
    assert len(receiver.received) == 1
    n.refresh_from_db()
    assert n.status == "sending"

    run_pass(worker="w2", now=T0 + 60 * S)  # restarted, but the claim is still fresh
    assert len(receiver.received) == 1
    run_pass(worker="w2", now=T0 + 121 * S)  # the dead worker's claim has expired
    n.refresh_from_db()
    assert (n.status, len(receiver.received)) == ("in_doubt", 1)
    assert list(n.attempts_log.values_list("outcome", flat=True)) == ["in_doubt"]
    run_pass(worker="w2", now=T0 + 3600 * S)
    assert len(receiver.received) == 1

    assert delivery.requeue(n, now=T0 + 3601 * S)  # an operator decides to send it again
    run_pass(worker="w2", now=T0 + 3601 * S)
    n.refresh_from_db()
    assert (n.status, len(receiver.received)) == ("sent", 2)


@pytest.mark.django_db
def test_worker_killed_before_sending_sends_once_after_restart(
    receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    n = _notification(Channel.objects.create(name="noc", url=receiver.url("noc")), T0)

    def die(*args: object, **kwargs: object) -> None:
        raise Killed

    with monkeypatch.context() as m:
        m.setattr(DeliveryAttempt.objects, "create", die)  # claimed, nothing left the machine
        with pytest.raises(Killed):
            run_pass(worker="w1", now=T0)
    assert receiver.received == []
    run_pass(worker="w2", now=T0 + 121 * S)
    n.refresh_from_db()
    assert (n.status, n.attempts, len(receiver.received)) == ("sent", 1, 1)


@pytest.mark.django_db
def test_at_least_once_channel_resends_with_the_same_idempotency_key(
    receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    channel = Channel.objects.create(name="hook", url=receiver.url("hook"), resend_in_doubt=True)
    n = _notification(channel, T0)

    def die(*args: object, **kwargs: object) -> str:
        raise Killed

    with monkeypatch.context() as m:
        m.setattr(delivery, "_finish", die)
        with pytest.raises(Killed):
            run_pass(worker="w1", now=T0)
    run_pass(worker="w2", now=T0 + 121 * S)
    n.refresh_from_db()
    assert n.status == "sent"
    keys = [d.headers["X-Linda-Notification"] for d in receiver.received]
    assert keys == [str(n.pk), str(n.pk)]  # the receiver can drop the repeat


@pytest.mark.django_db
def test_two_workers_never_send_the_same_notification(receiver: Receiver) -> None:
    n = _notification(Channel.objects.create(name="noc", url=receiver.url("noc")), T0)
    token = delivery.claim(n.pk, now=T0)
    assert token is not None
    assert delivery.claim(n.pk, now=T0) is None
    assert delivery.deliver(n.pk, worker="w2") == "taken"
    assert receiver.received == []


@pytest.mark.django_db
def test_secrets_from_the_environment_and_never_in_the_log(
    receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "hK9sQ2vX7mP4tR8wZ1"
    channel = Channel.objects.create(
        name="hook", url=f"json://linda:{{env:LINDA_TEST_HOOK_PW}}@127.0.0.1:{receiver.port}/x")
    n = _notification(channel, T0)
    run_pass(worker="w1", now=T0)
    n.refresh_from_db()
    assert n.status == "pending" and "LINDA_TEST_HOOK_PW" in n.last_error

    monkeypatch.setenv("LINDA_TEST_HOOK_PW", secret)
    receiver.statuses = [401]
    run_pass(worker="w1", now=T0 + 30 * S)
    n.refresh_from_db()
    assert receiver.received[0].headers["Authorization"].startswith("Basic ")
    assert secret not in n.last_error and all(secret not in a.error for a in n.attempts_log.all())
    run_pass(worker="w1", now=T0 + 90 * S)
    n.refresh_from_db()
    assert n.status == "sent"


@pytest.mark.django_db
def test_a_url_apprise_does_not_know_fails_at_once() -> None:
    n = _notification(Channel.objects.create(name="bad", url="nosuchscheme://abc"), T0)
    run_pass(worker="w1", now=T0)
    n.refresh_from_db()
    assert (n.status, n.attempts) == ("failed", 1)
    assert "tidak dikenali" in n.last_error


@pytest.mark.django_db(transaction=True)
def test_real_worker_process_killed_mid_send_is_not_repeated(receiver: Receiver) -> None:
    """`linda alerts --once` in its own process, killed (SIGKILL) while the receiver holds its
    request: the message arrived, the worker never learned it. A new worker must not repeat it."""
    now = timezone.now()
    n = _notification(Channel.objects.create(name="noc", url=receiver.url("noc")), now)
    env = {**os.environ, "DATABASE_URL": database_url(), "PYTHONWARNINGS": "ignore"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "linda", "alerts", "--once", "--worker-id", "doomed"],
        cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    receiver.on_request = lambda delivery: os.kill(proc.pid, signal.SIGKILL)
    try:
        _, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == -signal.SIGKILL, stderr.decode()[-2000:]
    assert len(receiver.received) == 1
    n.refresh_from_db()
    assert n.status == "sending"
    attempt = n.attempts_log.get()
    assert (attempt.worker, attempt.outcome) == ("doomed", "started")

    receiver.on_request = None
    run_pass(worker="w2", now=now + 121 * S)
    run_pass(worker="w2", now=now + 300 * S)
    n.refresh_from_db()
    assert (n.status, len(receiver.received)) == (NotificationStatus.IN_DOUBT, 1)

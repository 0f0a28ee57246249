"""The accelerated day's loopback server (tests/simulate/conftest.py) keeps connections alive
and stops cleanly."""

from __future__ import annotations

import http.client
import time

import pytest

from tests.simulate.conftest import start_pooled_server


@pytest.mark.django_db(transaction=True)
def test_keeps_a_connection_alive_and_stops_with_it_still_open() -> None:
    """An agent's kept-alive connection holds a worker thread while idle; a run that ends
    without closing it (a failed test) must not leave the thread, and its database
    connection, behind: PostgreSQL would refuse to drop the test database."""
    thread = start_pooled_server()
    conn = http.client.HTTPConnection("127.0.0.1", thread.port, timeout=5)
    for _ in range(2):
        conn.request("GET", "/hb/" + "Q" * 32)
        response = conn.getresponse()
        response.read()
        assert response.status == 401 and not response.will_close
    started = time.monotonic()
    thread.terminate()
    assert time.monotonic() - started < 5
    server = thread.httpd
    assert not any(worker.is_alive() for worker in server.threads)
    conn.close()

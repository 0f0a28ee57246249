"""Shared fixtures. Database tests run on SQLite by default and on PostgreSQL when
DATABASE_URL points there (`make test` runs both)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
BARITO_UTARA_CSV = REPO / "data" / "regions" / "barito_utara_62.05.csv"


@pytest.fixture
def barito_utara(db: None) -> None:
    """The official Barito Utara region list, loaded through the real import service."""
    from linda.registry.regions import import_regions_file

    import_regions_file(BARITO_UTARA_CSV, actor=None)


@pytest.fixture
def today() -> dt.date:
    return dt.date(2024, 10, 15)


def _no_nagle_live_server() -> None:
    """The live server answers with two writes (headers, then body). On a kept-alive
    connection Nagle holds the second until the client's delayed ACK (~40 ms on Linux), so
    an agent's heartbeat took 40 ms of nothing. TCP_NODELAY, as gunicorn and nginx set it."""
    import socket

    from django.core.servers.basehttp import ThreadedWSGIServer
    from django.test.testcases import LiveServerThread

    class NoDelayWSGIServer(ThreadedWSGIServer):
        def get_request(self) -> tuple[socket.socket, object]:
            conn, addr = super().get_request()
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            return conn, addr

    LiveServerThread.server_class = NoDelayWSGIServer


_no_nagle_live_server()

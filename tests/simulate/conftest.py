"""A live server for long accelerated runs: the real Django app over loopback HTTP, its
requests handled by a fixed set of threads that keep their database connections, the way a
gunicorn `gthread` worker does.

pytest-django's live_server starts a thread per connection and closes its database
connection after every request: on PostgreSQL each heartbeat then paid for a new backend
(about 9 of the 13.5 ms a heartbeat took in the accelerated day).
"""

from __future__ import annotations

import contextlib
import queue
import socket
import socketserver
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.staticfiles.handlers import StaticFilesHandler
from django.core.servers.basehttp import WSGIServer
from django.db import connections
from django.test.testcases import LiveServerThread, QuietWSGIRequestHandler

WORKERS = 8  # a kept-alive connection holds its thread while idle, as under gunicorn


class PooledWSGIServer(socketserver.ThreadingMixIn, WSGIServer):
    """ThreadingMixIn only by name (its process_request is replaced): Django's handler
    answers `Connection: close` to everything from a server that is not one, and the agent's
    kept-alive connection would be a new one per request."""

    def __init__(self, *args: Any, connections_override: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.jobs: queue.SimpleQueue[tuple[socket.socket, Any] | None] = queue.SimpleQueue()
        self.open: set[socket.socket] = set()  # connections not closed yet
        self.open_lock = threading.Lock()
        self.threads = [threading.Thread(target=self._work, daemon=True)
                        for _ in range(WORKERS)]
        for thread in self.threads:
            thread.start()

    def get_request(self) -> tuple[socket.socket, Any]:
        conn, address = super().get_request()
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return conn, address

    def process_request(self, request: Any, client_address: Any) -> None:
        with self.open_lock:
            self.open.add(request)
        self.jobs.put((request, client_address))

    def _work(self) -> None:
        try:
            while (job := self.jobs.get()) is not None:
                request, address = job
                try:
                    self.finish_request(request, address)
                except Exception:
                    self.handle_error(request, address)
                finally:
                    with self.open_lock:
                        self.open.discard(request)
                    self.shutdown_request(request)
        finally:
            connections.close_all()

    def server_close(self) -> None:
        super().server_close()
        with self.open_lock:  # a kept-alive connection left open (a failed test) frees its thread
            for conn in self.open:
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
        for _ in self.threads:
            self.jobs.put(None)
        for thread in self.threads:
            thread.join(10)


class PooledLiveServerThread(LiveServerThread):
    server_class = PooledWSGIServer

    def _create_server(self, connections_override: Any = None) -> PooledWSGIServer:
        return self.server_class((self.host, self.port), QuietWSGIRequestHandler,
                                 allow_reuse_address=False)


class PooledLiveServer:
    def __init__(self, thread: PooledLiveServerThread) -> None:
        self.thread = thread
        self.url = f"http://{thread.host}:{thread.port}"


def start_pooled_server() -> PooledLiveServerThread:
    thread = PooledLiveServerThread("127.0.0.1", StaticFilesHandler)
    thread.daemon = True
    thread.start()
    thread.is_ready.wait()
    if thread.error:
        raise thread.error
    return thread


@pytest.fixture
def pooled_live_server(transactional_db: None, monkeypatch: pytest.MonkeyPatch
                       ) -> Iterator[PooledLiveServer]:
    # Connections live as long as their thread (SQLite's are otherwise closed per request).
    monkeypatch.setitem(connections.settings["default"], "CONN_MAX_AGE", None)
    thread = start_pooled_server()
    try:
        yield PooledLiveServer(thread)
    finally:
        thread.terminate()

"""`linda intake-server`: the lean heartbeat intake (PostgreSQL, group commit)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
from typing import Any

import uvloop
from django.core.management.base import BaseCommand, CommandError, CommandParser

from linda.monitoring.fastintake import conninfo_from_settings, serve


def _run_worker(sock: socket.socket, conninfo: str) -> None:
    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await serve(sock, conninfo, stop)

    uvloop.run(main())  # libuv's loop: about a third less CPU per request than asyncio's


def _listen(host: str, port: int, *, shared: bool) -> socket.socket:
    """A listening socket. With several workers each gets its own, bound with SO_REUSEPORT,
    so the kernel spreads new connections evenly over them: on one shared socket, whichever
    worker wakes first takes the connection, and long-lived keep-alive connections pile up on
    one worker while the other idles (seen in bench/ingest.py as a 54 % / 33 % CPU split)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if shared:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(4096)
    sock.setblocking(False)
    return sock


class Command(BaseCommand):
    help = (
        "Serve /hb/<key> and /api/v1/heartbeats with group commit (PostgreSQL only). Route "
        "those two paths here from the reverse proxy; everything else goes to the web app."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8001)
        parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                            help="processes sharing the socket (default: one per core)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            conninfo = conninfo_from_settings()
        except RuntimeError as exc:
            raise CommandError(str(exc)) from None
        workers = max(1, options["workers"])
        try:
            # A plain bind first: SO_REUSEPORT would let a second server share the port
            # without a word; this fails if anything is listening there already.
            _listen(options["host"], options["port"], shared=False).close()
            socks = [_listen(options["host"], options["port"], shared=workers > 1)
                     for _ in range(workers)]
        except OSError as exc:
            raise CommandError(f"cannot listen on {options['host']}:{options['port']}: "
                               f"{exc.strerror}") from None
        self.stdout.write(f"fast intake on http://{options['host']}:{options['port']} "
                          f"with {workers} workers")
        self.stdout.flush()
        if workers == 1:
            _run_worker(socks[0], conninfo)
            return
        children = []
        for mine in socks:
            pid = os.fork()
            if pid == 0:  # pragma: no cover - child
                try:
                    for other in socks:
                        if other is not mine:
                            other.close()
                    _run_worker(mine, conninfo)
                finally:
                    os._exit(0)
            children.append(pid)
        for sock in socks:
            sock.close()

        def forward(signum: int, _frame: object) -> None:
            for child in children:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(child, signal.SIGTERM)

        signal.signal(signal.SIGTERM, forward)
        signal.signal(signal.SIGINT, forward)
        for child in children:
            os.waitpid(child, 0)

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
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((options["host"], options["port"]))
        sock.listen(4096)
        sock.setblocking(False)
        self.stdout.write(f"fast intake on http://{options['host']}:{options['port']} "
                          f"with {options['workers']} workers")
        self.stdout.flush()
        if options["workers"] <= 1:
            _run_worker(sock, conninfo)
            return
        children = []
        for _ in range(options["workers"]):
            pid = os.fork()
            if pid == 0:  # pragma: no cover - child
                try:
                    _run_worker(sock, conninfo)
                finally:
                    os._exit(0)
            children.append(pid)

        def forward(signum: int, _frame: object) -> None:
            for child in children:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(child, signal.SIGTERM)

        signal.signal(signal.SIGTERM, forward)
        signal.signal(signal.SIGINT, forward)
        for child in children:
            os.waitpid(child, 0)

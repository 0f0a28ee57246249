"""Start everything the demo needs and keep it running until Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from linda.rollout.demo import DEMO_PASSWORD

# Each background process of the demo, started only when its command exists.
WORKERS: list[tuple[str, list[str]]] = [
    ("monitor", ["monitor"]),
    ("mqtt", ["mqtt"]),
    ("simulate", ["simulate", "--live"]),
    ("alerts", ["alerts"]),
    ("checks", ["checks"]),
    ("site-days", ["fill_site_days", "--every", "60"]),
]


def local_url(host: str, port: int) -> str:
    """Where processes on this machine reach the server bound to host:port."""
    if host in ("", "0.0.0.0", "::"):
        host = "127.0.0.1"
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def worker_argv(argv: list[str], url: str) -> list[str]:
    """A worker's command line: the simulator sends its heartbeats to the server just
    started (not LINDA_PUBLIC_URL's default port when the demo runs on another)."""
    return [*argv, "--url", url] if argv[0] == "simulate" else argv


def _available(command: str) -> bool:
    from django.core.management import get_commands

    return command in get_commands()


class Command(BaseCommand):
    help = ("Run the web server and the demo's workers (monitor, MQTT intake, simulator, "
            "alerts, active checks, daily totals).")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)

    def handle(self, *args: Any, **options: Any) -> None:
        call_command("collectstatic", interactive=False, verbosity=0)
        log_dir = Path(settings.VAR_DIR) / "log"
        log_dir.mkdir(parents=True, exist_ok=True)
        bind = f"{options['host']}:{options['port']}"
        url = local_url(options["host"], options["port"])
        # Links in alerts and router scripts point at this server unless set on purpose.
        env = {**os.environ, "LINDA_PUBLIC_URL": os.environ.get("LINDA_PUBLIC_URL", url)}
        procs: list[subprocess.Popen[bytes]] = [
            subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "config.wsgi", "--bind", bind,
                 "--workers", "2", "--threads", "4", "--access-logfile", "-",
                 "--access-logformat", '%(t)s "%(m)s %(U)s" %(s)s'],
                stdout=(log_dir / "web.log").open("ab"), stderr=subprocess.STDOUT, env=env,
            )
        ]
        for name, argv in WORKERS:
            if _available(argv[0]):
                procs.append(subprocess.Popen(
                    [sys.executable, "-m", "linda", *worker_argv(argv, url)],
                    stdout=(log_dir / f"{name}.log").open("ab"), stderr=subprocess.STDOUT,
                    env=env,
                ))
        password = (Path(settings.VAR_DIR) / "admin-password").read_text().strip()
        self.stdout.write(
            f"\nLinda is running at http://{bind}/\n"
            f"  admin login: admin / {password}\n"
            "  demo logins: demo-operator, demo-vendor, demo-kades, demo-viewer"
            f" / {DEMO_PASSWORD}\n"
            f"  logs: {log_dir}\n  stop with Ctrl-C\n"
        )
        self._wait(procs)

    def _wait(self, procs: list[subprocess.Popen[bytes]]) -> None:
        stopping = False

        def stop(*_: object) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGTERM, stop)
        try:
            while not stopping and procs[0].poll() is None:
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()

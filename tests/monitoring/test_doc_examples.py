"""The curl and wget commands of docs/devices.md, run as written (host and key substituted) with
the real clients a village device has: curl, GNU wget and BusyBox wget (`make test` installs
Debian's busybox). Each must be answered 2xx and leave a committed heartbeat."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from linda.monitoring.models import Heartbeat
from linda.monitoring.services import issue_site_key
from tests.monitoring.conftest import new_site

pytestmark = pytest.mark.django_db(transaction=True)

DOCS = Path(__file__).resolve().parents[2] / "docs" / "devices.md"
DOC_HOST = "https://linda.example.go.id"


def doc_commands() -> list[str]:
    """Every curl/wget command in the docs' sh blocks, continuation lines joined (cron lines
    are the same command behind a schedule and are left out)."""
    commands: list[str] = []
    for block in re.findall(r"```sh\n(.*?)```", DOCS.read_text(encoding="utf-8"), re.S):
        joined = re.sub(r"\\\n\s*", " ", block)
        statement = ""
        for line in joined.splitlines():
            statement = f"{statement}\n{line}" if statement else line
            if statement.count("'") % 2:  # inside a quoted multi-line JSON body
                continue
            if statement.startswith(("curl ", "wget ")) and DOC_HOST in statement:
                commands.append(statement)
            statement = ""
    return commands


def busybox_path(tmp_path: Path) -> str:
    busybox = shutil.which("busybox")
    if busybox is None:
        pytest.fail("busybox not found: `make test` installs Debian's package")
    (tmp_path / "wget").symlink_to(busybox)
    return f"{tmp_path}:{os.environ['PATH']}"


def test_the_docs_list_curl_and_wget_examples() -> None:
    commands = doc_commands()
    assert sum(c.startswith("curl ") for c in commands) >= 3
    assert sum(c.startswith("wget ") for c in commands) >= 2
    assert any("--post-data" in c for c in commands)


@pytest.mark.parametrize("client", ["curl+gnu-wget", "busybox-wget"])
def test_doc_examples_work_with_real_clients(live_server: Any, tmp_path: Path,
                                             client: str) -> None:
    site = new_site()
    key = issue_site_key(site)
    env = dict(os.environ)
    commands = doc_commands()
    if client == "busybox-wget":
        env["PATH"] = busybox_path(tmp_path)
        commands = [c for c in commands if c.startswith("wget ")]
        version = subprocess.run(["wget", "--help"], env=env, capture_output=True, text=True)
        assert "BusyBox" in version.stdout + version.stderr
    for n, command in enumerate(commands, start=1):
        line = command.replace(DOC_HOST, live_server.url).replace("KEY", key)
        line = re.sub(r"seq=\d+", f"seq={n}", line)  # each example a new heartbeat
        line = re.sub(r'"seq": \d+', f'"seq": {n}', line)
        before = Heartbeat.objects.filter(site=site).count()
        done = subprocess.run(["sh", "-c", line], env=env, capture_output=True, text=True,
                              timeout=30)
        assert done.returncode == 0, (line, done.stdout, done.stderr)
        assert Heartbeat.objects.filter(site=site).count() > before, line

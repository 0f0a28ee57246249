"""The generated router scripts: balanced quoting and blocks, the expected commands."""

from __future__ import annotations

import io
import re
import subprocess

import pytest
from django.core.management import CommandError, call_command

from linda.monitoring.models import SiteKey
from linda.monitoring.routeros import linux_oneliner, routeros_script
from linda.monitoring.services import authenticate_key, issue_site_key
from linda.registry.models import Site

KEY = "AbCdEfGhIjKlMnOpQrStUvWxYz012_-9"


def check_balanced(script: str) -> None:
    """RouterOS lexing: strings in double quotes with backslash escapes; outside them
    {} [] () must nest properly; '?' outside a string would open the terminal's help."""
    stack: list[tuple[str, int]] = []
    pairs = {"}": "{", "]": "[", ")": "("}
    for number, line in enumerate(script.splitlines(), start=1):
        if line.lstrip().startswith("#") and not stack:
            continue
        in_string = escaped = False
        for ch in line:
            if in_string:
                if escaped:
                    escaped = False
                elif ch == "\\":
                    escaped = True
                elif ch == '"':
                    in_string = False
                continue
            if ch == '"':
                in_string = True
            elif ch in "{[(":
                stack.append((ch, number))
            elif ch in "}])":
                assert stack and stack[-1][0] == pairs[ch], f"line {number}: unbalanced {ch}"
                stack.pop()
            elif ch == "?":
                raise AssertionError(f"line {number}: '?' outside a string")
        assert not in_string, f"line {number}: unterminated string"
    assert not stack, f"unclosed {stack[-1][0]} from line {stack[-1][1]}"


@pytest.mark.parametrize("v6", [False, True])
def test_scripts_are_balanced_and_install_the_scheduler(v6: bool) -> None:
    script = routeros_script(url="https://linda.baritoutarakab.go.id/", key=KEY,
                             site_code="lemo-2", boot_base=1729000000, v6=v6)
    check_balanced(script)
    for expected in (
        '/system script add name="linda-hb"',
        '/system scheduler add name="linda-hb" comment="1729000000" interval=1m '
        "start-time=startup",
        'on-event="/system script run linda-hb"',
        '/system scheduler remove [find where name="linda-hb"]',
        '"https://linda.baritoutarakab.go.id/api/v1/heartbeats"',
        f'"{KEY}"', "/system health", "/system resource get", "rx-byte", "tx-byte",
        "/ip hotspot active find", '/ip dhcp-server lease find where status="bound"',
        "/tool flood-ping $target count=5", "/tool fetch url=$url http-method=post",
        '"Authorization: Bearer "', "Content-Type: application/json",
        ":global lindaQueue", "age_s", "uptime_s", "loss_pct", "rtt_ms",
    ):
        assert expected in script, expected
    if v6:
        assert ":serialize" not in script and "[/system health get voltage]" in script
    else:
        assert ":serialize to=json value=" in script and ":onerror err in=" in script
    # The key is the only secret and it appears once, in the script's header variable.
    assert script.count(KEY) == 1
    # A '?' opens the terminal's help even inside a string: the scripts have none.
    assert "?" not in script


def test_script_source_block_is_one_block() -> None:
    script = routeros_script(url="http://10.0.0.1:8000", key=KEY, site_code="s", boot_base=1)
    body = script.split('/system script add name="linda-hb" policy=read,write,policy,test source=', 1)[1]
    depth = 0
    for i, ch in enumerate(body):
        depth += ch == "{"
        depth -= ch == "}"
        if depth == 0:
            rest = body[i + 1:].strip().splitlines()
            break
    assert rest[0].startswith("/system scheduler add") and rest[1] == "/system script run linda-hb"


@pytest.mark.parametrize("bad", ['x"y', "a{b", "$x", "a?b"])
def test_values_that_would_break_the_script_are_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        routeros_script(url="http://h", key=KEY, site_code="s", boot_base=1, wan=bad)


def test_linux_oneliner_is_valid_shell() -> None:
    text = linux_oneliner(url="http://127.0.0.1:8000/", key=KEY)
    assert f'curl -fsS -m 20 "http://127.0.0.1:8000/hb/{KEY}?uptime=' in text
    assert r"\%" not in text.splitlines()[1]
    for line in text.splitlines():
        if not line.startswith("#"):
            subprocess.run(["sh", "-n", "-c", line], check=True)


@pytest.mark.django_db
def test_command_issues_a_working_key_and_prints_both(site: Site) -> None:
    out = io.StringIO()
    call_command("routeros-script".replace("-", "_"), "lemo-2", "--url", "http://192.0.2.1",
                 stdout=out)
    text = out.getvalue()
    key = re.search(r':local key "([^"]+)"', text).group(1)  # type: ignore[union-attr]
    assert authenticate_key(key) == site.pk and SiteKey.objects.count() == 1
    assert ":serialize" in text and "curl -fsS" in text
    out = io.StringIO()
    call_command("routeros_script", "lemo-2", "--v6", "--key", key, stdout=out)
    assert SiteKey.objects.count() == 1 and key in out.getvalue()
    check_balanced(out.getvalue().split("# Linux/OpenWrt")[0])


@pytest.mark.django_db
def test_command_refuses_unknown_sites_and_foreign_keys(site: Site) -> None:
    with pytest.raises(CommandError, match="no site"):
        call_command("routeros_script", "nowhere")
    other = Site.objects.create(code="other", village=site.village)
    with pytest.raises(CommandError, match="another site"):
        call_command("routeros_script", "lemo-2", "--key", issue_site_key(other))

"""Paste-ready router onboarding: RouterOS v7 and v6 scripts, and a Linux/OpenWrt one-liner.

The RouterOS scripts install `linda-hb`, run by a scheduler every minute: read health voltage
and temperature, uptime, CPU, the WAN interface's byte counters, hotspot active users, bound
DHCP leases, and a 5-packet ping (rtt_ms, loss_pct); queue the beat; post the whole queue as
one JSON batch to /api/v1/heartbeats. The queue is cleared when the server has taken it, kept
(up to QUEUE_MAX beats) while the link is down. Buffered beats carry `age_s`, computed from the
router's uptime, so no clock is needed. `seq` = boot count x 10^8 + beat number. The boot
count lives in the scheduler's comment and starts at the Unix time the script was generated,
so sequence numbers never repeat across reboots, reinstalls or a replaced router (the server
drops a repeated (site, seq) as a duplicate).
"""

from __future__ import annotations

import shlex
from functools import cache
from pathlib import Path

QUEUE_MAX = 120  # two hours of beats; well under /tool fetch's 64 KB http-data limit
SEQ_PER_BOOT = 100_000_000
TEMPLATES = Path(__file__).resolve().parent / "templates" / "monitoring"


@cache
def _template(name: str) -> str:
    return (TEMPLATES / name).read_text(encoding="utf-8")


def _fill(template: str, *, url: str, key: str, site_code: str, wan: str, target: str,
          boot_base: int) -> str:
    for name, value in {"URL": url, "KEY": key, "SITE": site_code, "WAN": wan,
                        "TARGET": target}.items():
        if any(c in value for c in '"\\${}[];?\n'):
            raise ValueError(f"{name.lower()} {value!r} holds characters RouterOS would "
                             "interpret")
        template = template.replace(f"@{name}@", value)
    return (template.replace("@MAX@", str(QUEUE_MAX))
            .replace("@SEQ_PER_BOOT@", str(SEQ_PER_BOOT)).replace("@BOOT_BASE@", str(boot_base)))


def routeros_script(*, url: str, key: str, site_code: str, boot_base: int,
                    wan: str = "ether1", target: str = "8.8.8.8", v6: bool = False) -> str:
    """The script for RouterOS v7.13+ (default) or v6; `boot_base` is the Unix time now."""
    template = _template("routeros_v6.rsc" if v6 else "routeros_v7.rsc")
    return _fill(template, url=url.rstrip("/"), key=key, site_code=site_code, wan=wan,
                 target=target, boot_base=boot_base)


def linux_oneliner(*, url: str, key: str) -> str:
    """A curl heartbeat for Linux/OpenWrt, and the crontab line that sends it each minute."""
    hb = f"{url.rstrip('/')}/hb/{key}"
    # No seq: a clock reset after a reboot would repeat it, and a repeated seq is dropped.
    command = f'curl -fsS -m 20 "{hb}?uptime=$(cut -d. -f1 /proc/uptime)" >/dev/null'
    cron = "* * * * * " + command.replace("%", r"\%")
    return (f"# Linux/OpenWrt: one heartbeat now\n{command}\n"
            f"# every minute (crontab -e, or /etc/crontabs/root on OpenWrt)\n"
            f"echo {shlex.quote(cron)} >> /etc/crontabs/root\n")

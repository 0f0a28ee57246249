"""Which registry sites the simulator plays, what they look like to it, and their keys.

Keys are obtained the way an installer obtains them: `issue_site_key`, the monitoring
service, once per site; the clear key is kept in a file (mode 600) under the var directory,
so a restarted simulator goes on with the same keys. Nothing else here writes to the
database: the simulated routers speak HTTP and MQTT like real ones.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet

from linda.domain import energy
from linda.domain.lifecycle import Stage
from linda.energy.selectors import equipment_counts, site_grid_hours
from linda.monitoring.models import SiteKey
from linda.monitoring.services import hash_key, issue_site_key
from linda.registry.models import Site
from linda.rollout.models import PriorityVillage
from linda.simulate.fleet import Fleet, SiteSpec, pick_style, stable_fraction

# Sites on the air: accepted (active), and installed ones being commissioned (their routers
# already send heartbeats; acceptance looks at them).
DEFAULT_STAGES = (Stage.ACTIVE.value, Stage.INSTALLED.value)
DEFAULT_EQUIPMENT_W = 59.0  # VSAT modem + router + one access point, when none is recorded


class SiteSelectionError(ValueError):
    pass


def default_keys_path() -> Path:
    return Path(settings.VAR_DIR) / "simulate" / "keys.json"


def default_truth_path() -> Path:
    return Path(settings.VAR_DIR) / "simulate" / "groundtruth.jsonl"


def list_simulated_sites(
    *,
    codes: Sequence[str] | None = None,
    stages: Sequence[str] = DEFAULT_STAGES,
    every_stage: bool = False,
    include_real: bool = False,
) -> list[Site]:
    """The sites to simulate: `codes` if given, else the demo sites whose village is at one
    of `stages` (every demo site with `every_stage`). Real (non-demo) sites only with
    `include_real`: simulated heartbeats would enter their SLA record."""
    qs: QuerySet[Site] = Site.objects.select_related("village").prefetch_related(
        "equipment", "contracts__vendor")
    if codes:
        found = {s.code: s for s in qs.filter(code__in=codes)}
        unknown = [c for c in codes if c not in found]
        if unknown:
            raise SiteSelectionError(f"unknown site codes: {', '.join(unknown)}")
        sites = [found[c] for c in codes]
    else:
        if not include_real:
            qs = qs.filter(is_demo=True)
        if not every_stage:
            villages = PriorityVillage.objects.filter(stage__in=list(stages)).values("village")
            qs = qs.filter(village__in=villages)
        sites = list(qs.order_by("code"))
    real = [s.code for s in sites if not s.is_demo]
    if real and not include_real:
        raise SiteSelectionError(
            f"{len(real)} real (non-demo) sites selected ({', '.join(real[:5])}…): simulated "
            "heartbeats would enter their SLA record; pass --include-real if you mean it")
    return sites


def spec_for(site: Site, *, seed: int, mqtt: bool) -> SiteSpec:
    counts = equipment_counts(site)
    equipment_w = energy.equipment_load_w(counts) if counts else DEFAULT_EQUIPMENT_W
    contracts = list(site.contracts.all())
    lat = site.latitude if site.latitude is not None else site.village.latitude
    lon = site.longitude if site.longitude is not None else site.village.longitude
    return SiteSpec(
        code=site.code,
        latitude=float(lat) if lat is not None else -0.95,
        longitude=float(lon) if lon is not None else 114.89,
        interval_s=site.expected_interval_s,
        grace_s=site.grace_s,
        power_profile=site.power_profile,
        grid_hours=site_grid_hours(site),
        pv_wp=float(site.solar_pv_wp or 0),
        battery_wh=float(site.battery_wh or 0),
        chemistry=site.battery_chemistry or "lfp",
        equipment_w=equipment_w or DEFAULT_EQUIPMENT_W,
        technology=site.technology,
        down_mbps=float(site.bandwidth_down_mbps),
        up_mbps=float(site.bandwidth_up_mbps),
        vendor=contracts[0].vendor.name if contracts else "",
        feeder=site.village.parent.code if site.village.parent is not None else "",
        users_peak=round(12 + 33 * stable_fraction("users", site.code), 1),
        style=pick_style(site.code, seed, mqtt=mqtt),
    )


def fleet_for(sites: Iterable[Site], *, seed: int, mqtt: bool) -> Fleet:
    return Fleet([spec_for(s, seed=seed, mqtt=mqtt) for s in sites])


# --- keys ------------------------------------------------------------------------------------


def read_keys(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def write_keys(path: Path, keys: dict[str, str]) -> None:
    """Atomically, readable by the owner only (the file holds secrets)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(keys, handle, indent=0, sort_keys=True)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def _valid(keys: dict[str, str], sites: Sequence[Site]) -> set[str]:
    """Codes whose stored key is active and belongs to that site."""
    wanted = {hash_key(keys[s.code]): s.pk for s in sites if s.code in keys}
    ok: set[int] = set()
    digests = list(wanted)
    for i in range(0, len(digests), 500):
        rows = SiteKey.objects.filter(key_hash__in=digests[i:i + 500], revoked_at__isnull=True)
        ok.update(site_id for digest, site_id in rows.values_list("key_hash", "site_id")
                  if wanted[digest] == site_id)
    return {s.code for s in sites if s.pk in ok}


def ensure_keys(sites: Sequence[Site], path: Path) -> tuple[dict[str, str], int]:
    """A working key for every site (issued through the monitoring service where the file has
    none, or its key no longer works); returns the keys and how many were issued."""
    keys = read_keys(path)
    valid = _valid(keys, sites)
    missing = [s for s in sites if s.code not in valid]
    if missing:
        with transaction.atomic():  # no key is stored unless the file has it too
            for site in missing:
                keys[site.code] = issue_site_key(site)
            write_keys(path, keys)
    elif path.exists():
        os.chmod(path, 0o600)
    return {s.code: keys[s.code] for s in sites}, len(missing)

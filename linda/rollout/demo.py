"""The demo scenario: Linda Batara as the seed article describes it, with invented details.

68 of Barito Utara's 93 desa are marked as program priorities: 25 already active (APBD 2024)
and 43 at earlier stages (APBD-P 2024), vendor PT Comtelindo, one contract, one site per
village with generated coordinates. The official priority list is not public, so the choice
of villages, the coordinates, the fees and the dates are invented and flagged `is_demo`.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import models, transaction
from django.utils import timezone

from linda.accounts.models import Profile, Role
from linda.domain.lifecycle import Stage
from linda.registry.models import (
    BatteryChemistry,
    Contract,
    ContractTerms,
    Equipment,
    EquipmentType,
    PowerProfile,
    Region,
    RegionLevel,
    Responsibility,
    RestitutionKind,
    Site,
    Technology,
    Vendor,
)
from linda.registry.selectors import demo_data_present, non_demo_data_present
from linda.rollout.models import BudgetLine, PriorityVillage, Program
from linda.rollout.services import add_priority_village, transition_village

REGENCY_CODE = "62.05"
PRIORITY_COUNT = 68
ACTIVE_COUNT = 25
SEED = 6205
DEMO_USER_PREFIX = "demo-"
DEMO_PASSWORD = "linda-demo-2024"  # printed by `make demo`; demo accounts only

# The article: launch meeting 6 Sep 2024, target the regional election of 27 Nov 2024.
LISTED_ON = dt.date(2024, 1, 8)
LAUNCH_ON = dt.date(2024, 9, 6)
TARGET_ON = dt.date(2024, 11, 27)

# Later stages the 43 new villages have reached, in order (a spread for the demo).
NEW_VILLAGE_STAGES = (
    [Stage.INSTALLED] * 12 + [Stage.SURVEYED] * 14 + [Stage.PLANNED] * 13 + [Stage.BLANKSPOT] * 4
)
PATH = (Stage.PLANNED, Stage.SURVEYED, Stage.INSTALLED, Stage.ACTIVE)


class DemoRefused(Exception):
    pass


@dataclass(frozen=True)
class DemoSummary:
    priorities: int
    active: int
    sites: int
    users: list[tuple[str, str]]  # (username, role)


def _rng() -> random.Random:
    return random.Random(SEED)


def _generated_coordinates(rng: random.Random, kecamatan_index: int) -> tuple[Decimal, Decimal]:
    """Invented coordinates inside the regency's rough bounding box, clustered by kecamatan."""
    base_lat = -1.35 + 0.17 * (kecamatan_index % 9)
    base_lon = 114.55 + 0.11 * ((kecamatan_index * 4) % 9)
    lat = base_lat + rng.uniform(-0.07, 0.07)
    lon = base_lon + rng.uniform(-0.07, 0.07)
    return Decimal(f"{lat:.6f}"), Decimal(f"{lon:.6f}")


def _walk(pv: PriorityVillage, target: Stage, start: dt.date, line: BudgetLine, n: int) -> None:
    day = start
    for step in PATH:
        if step is Stage.ACTIVE and target is not Stage.ACTIVE:
            return
        transition_village(
            actor=None, priority=pv, to_stage=step, effective_on=day,
            budget_line=line if step is Stage.PLANNED else None,
            bast_number=f"DEMO/BAST/{n:03d}/2024" if step is Stage.ACTIVE else "",
            bast_date=day if step is Stage.ACTIVE else None,
            note="demo", check_permission=False,
        )
        if step is target:
            return
        day += dt.timedelta(days=9 + n % 6)


def _make_site(rng: random.Random, village: Region, kec_index: int, new: bool, n: int) -> Site:
    lat, lon = _generated_coordinates(rng, kec_index)
    profile = rng.choice([PowerProfile.PLN_PARTIAL, PowerProfile.OFF_GRID]) if new else (
        PowerProfile.PLN_24H
    )
    undersized = new and n % 7 == 0
    site = Site(
        code=f"kd-{village.code.replace('.', '')}",
        village=village,
        name="Kantor Desa",
        latitude=lat,
        longitude=lon,
        technology=Technology.VSAT,
        bandwidth_down_mbps=Decimal(20),
        bandwidth_up_mbps=Decimal(5),
        power_profile=profile,
        pln_on_from=dt.time(18, 0) if profile == PowerProfile.PLN_PARTIAL else None,
        pln_on_until=dt.time(6, 0) if profile == PowerProfile.PLN_PARTIAL else None,
        solar_pv_wp=(400 if undersized else 900) if new else None,
        battery_wh=(1200 if undersized else 4800) if new else None,
        battery_chemistry=BatteryChemistry.LFP if new else "",
        is_demo=True,
    )
    site.full_clean()
    site.save()
    Equipment.objects.create(site=site, type=EquipmentType.ROUTER, model="MikroTik hAP ac2",
                             serial=f"DEMO-RB{n:04d}")
    Equipment.objects.create(site=site, type=EquipmentType.VSAT_MODEM, model="Hughes HT2010",
                             serial=f"DEMO-HT{n:04d}")
    Equipment.objects.create(site=site, type=EquipmentType.ACCESS_POINT, model="Ubiquiti UAP-AC-M",
                             serial=f"DEMO-AP{n:04d}")
    return site


def _users(vendor: Vendor, head_village: Region) -> list[tuple[str, str]]:
    user_model = get_user_model()
    created = []
    for suffix, role in [("operator", Role.OPERATOR), ("vendor", Role.VENDOR),
                         ("kades", Role.VILLAGE_HEAD), ("viewer", Role.VIEWER)]:
        username = f"{DEMO_USER_PREFIX}{suffix}"
        user = user_model.objects.create_user(username=username, password=DEMO_PASSWORD)
        Profile.objects.create(
            user=user, role=role,
            vendor=vendor if role == Role.VENDOR else None,
            village=head_village if role == Role.VILLAGE_HEAD else None,
        )
        created.append((username, str(role)))
    return created


@transaction.atomic
def _contract_end() -> dt.date:
    """The article's contract runs to the end of 2025; the simulated fleet runs in real time,
    so the demo's contract reaches the end of next year, whenever the demo is loaded."""
    return max(dt.date(2025, 12, 31), dt.date(timezone.localdate().year + 1, 12, 31))


def load_demo() -> DemoSummary:
    if non_demo_data_present():
        raise DemoRefused(
            "This database holds real (non-demo) program, site, vendor or contract data; "
            "the demo scenario is only loaded into a database without it."
        )
    if demo_data_present():
        raise DemoRefused("Demo data is already loaded; remove it first with --remove.")
    regency = Region.objects.filter(code=REGENCY_CODE).first()
    if regency is None:
        raise DemoRefused("Region 62.05 is missing: run `linda import-regions` first.")
    rng = _rng()
    desa = list(Region.objects.filter(level=RegionLevel.DESA, code__startswith=REGENCY_CODE + "."))
    kecamatan = sorted({v.parent_id for v in desa})
    chosen = sorted(rng.sample(desa, PRIORITY_COUNT), key=lambda v: v.code)
    active_codes = {v.code for v in rng.sample(chosen, ACTIVE_COUNT)}
    program = Program.objects.create(
        name="Linda Batara (demo)",
        owner_office="Diskominfosandi Kabupaten Barito Utara — Bidang E-Government",
        regency=regency, target_date=TARGET_ON, is_demo=True,
    )
    apbd = BudgetLine.objects.create(program=program, code="APBD 2024", year=2024,
                                     name="APBD Kabupaten Barito Utara 2024")
    apbdp = BudgetLine.objects.create(program=program, code="APBD-P 2024", year=2024,
                                      name="APBD Perubahan 2024")
    vendor = Vendor.objects.create(name="PT Comtelindo", is_demo=True)
    contract = Contract.objects.create(
        vendor=vendor, number="DEMO/027/DKIS-BU/2024", title="Layanan Internet Desa (demo)",
        starts_on=dt.date(2024, 1, 1), ends_on=_contract_end(), is_demo=True,
    )
    ContractTerms.objects.create(
        contract=contract, version=1, effective_from=dt.date(2024, 1, 1),
        monthly_fee_idr=1_500_000, sla_target_pct=Decimal("98.000"),
        power_outage_responsibility=Responsibility.REGENCY,
        restitution_kind=RestitutionKind.TIERED,
        restitution_tiers=[
            {"min_availability_pct": "98", "deduct_pct": "0"},
            {"min_availability_pct": "95", "deduct_pct": "5"},
            {"min_availability_pct": "90", "deduct_pct": "10"},
            {"min_availability_pct": "0", "deduct_pct": "20"},
        ],
    )
    new_stages = iter(NEW_VILLAGE_STAGES)
    sites = []
    for n, village in enumerate(chosen, start=1):
        pv = add_priority_village(actor=None, program=program, village=village,
                                  listed_on=LISTED_ON)
        active = village.code in active_codes
        if active:
            _walk(pv, Stage.ACTIVE, dt.date(2024, 2, 1) + dt.timedelta(days=n), apbd, n)
        else:
            target = next(new_stages)
            if target is not Stage.BLANKSPOT:
                _walk(pv, target, LAUNCH_ON + dt.timedelta(days=n % 10), apbdp, n)
        sites.append(_make_site(rng, village, kecamatan.index(village.parent_id), not active, n))
    contract.sites.set(sites)
    users = _users(vendor, chosen[0])
    return DemoSummary(PRIORITY_COUNT, ACTIVE_COUNT, len(sites), users)


def _purge(queryset: models.QuerySet[models.Model]) -> None:
    """Delete rows and, first, every row that points at them (PROTECT included)."""
    model = queryset.model
    for rel in model._meta.related_objects:
        if rel.many_to_many or rel.related_model is model:
            continue  # M2M rows go with their owner; no self-references here
        children = rel.related_model._default_manager.filter(
            **{f"{rel.field.name}__in": queryset}
        )
        if children.exists():
            _purge(children)
    queryset.delete()


@transaction.atomic
def remove_demo() -> int:
    """Remove every demo row; real data stays. Returns the number of demo sites removed."""
    sites = Site.objects.filter(is_demo=True)
    count = sites.count()
    for contract in Contract.objects.filter(is_demo=True):
        contract.sites.clear()
    _purge(sites)
    _purge(Contract.objects.filter(is_demo=True))
    _purge(Program.objects.filter(is_demo=True))
    get_user_model().objects.filter(username__startswith=DEMO_USER_PREFIX).delete()
    _purge(Vendor.objects.filter(is_demo=True))
    return count

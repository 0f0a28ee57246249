"""Small builders for registry and rollout rows, through the real services where they exist."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser

from linda.accounts.models import Profile, Role
from linda.registry.models import Contract, ContractTerms, Region, Site, Vendor
from linda.rollout.models import BudgetLine, Program


def make_user(username: str, role: Role | None, **scope: object) -> AbstractUser:
    user = get_user_model().objects.create_user(username=username, password="pw-123456-x")
    if role is not None:
        Profile.objects.create(user=user, role=role, **scope)
    return user  # type: ignore[return-value]


def make_program() -> Program:
    return Program.objects.create(
        name="Linda Batara", owner_office="Diskominfosandi Barito Utara",
        regency=Region.objects.get(code="62.05"), target_date=dt.date(2024, 11, 27),
    )


def make_budget_line(program: Program, code: str = "APBD-P 2024") -> BudgetLine:
    return BudgetLine.objects.create(program=program, code=code, year=2024)


def make_site(village_code: str, code: str | None = None) -> Site:
    village = Region.objects.get(code=village_code)
    return Site.objects.create(code=code or f"kd-{village_code.replace('.', '')}", village=village)


def make_contract(vendor: Vendor, sites: list[Site], number: str = "K/1/2024") -> Contract:
    contract = Contract.objects.create(
        vendor=vendor, number=number, starts_on=dt.date(2024, 1, 1), ends_on=dt.date(2025, 12, 31)
    )
    contract.sites.set(sites)
    ContractTerms.objects.create(
        contract=contract, version=1, effective_from=dt.date(2024, 1, 1),
        monthly_fee_idr=1_500_000, sla_target_pct=Decimal("98"), restitution_kind="tiered",
        restitution_tiers=[{"min_availability_pct": "98", "deduct_pct": "0"}],
    )
    return contract

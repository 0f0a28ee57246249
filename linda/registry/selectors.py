"""Reads of the registry, scoped to what each role may see."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from linda.accounts.models import Role
from linda.accounts.selectors import User, get_profile, get_role
from linda.registry.models import VILLAGE_LEVELS, Contract, Region, RegionLevel, Site, Vendor


def demo_data_present() -> bool:
    from linda.rollout.models import Program

    return (
        Program.objects.filter(is_demo=True).exists()
        or Site.objects.filter(is_demo=True).exists()
        or Vendor.objects.filter(is_demo=True).exists()
    )


def non_demo_data_present() -> bool:
    """Real (non-demo) program, site, vendor or contract data exists."""
    from linda.rollout.models import Program

    return (
        Program.objects.filter(is_demo=False).exists()
        or Site.objects.filter(is_demo=False).exists()
        or Vendor.objects.filter(is_demo=False).exists()
        or Contract.objects.filter(is_demo=False).exists()
    )


def list_kecamatan(regency_code: str | None = None) -> QuerySet[Region]:
    qs = Region.objects.filter(level=RegionLevel.DISTRICT)
    if regency_code:
        qs = qs.filter(parent__code=regency_code)
    return qs.order_by("code")


def _nothing_for(role: Role | None) -> bool:
    return role is None


def visible_sites(user: User) -> QuerySet[Site]:
    """Sites the user may see: all for office roles, its contracts' for a vendor,
    its own village's for a village head, none for anyone else."""
    qs = Site.objects.select_related("village", "village__parent")
    role = get_role(user)
    if _nothing_for(role):
        return qs.none()
    if role == Role.VENDOR:
        profile = get_profile(user)
        assert profile is not None
        return qs.filter(contracts__vendor_id=profile.vendor_id).distinct()
    if role == Role.VILLAGE_HEAD:
        profile = get_profile(user)
        assert profile is not None
        return qs.filter(village_id=profile.village_id)
    return qs


def visible_villages(user: User) -> QuerySet[Region]:
    qs = Region.objects.filter(level__in=VILLAGE_LEVELS).select_related("parent")
    role = get_role(user)
    if _nothing_for(role):
        return qs.none()
    if role == Role.VENDOR:
        profile = get_profile(user)
        assert profile is not None
        return qs.filter(
            Q(sites__contracts__vendor_id=profile.vendor_id)
        ).distinct()
    if role == Role.VILLAGE_HEAD:
        profile = get_profile(user)
        assert profile is not None
        return qs.filter(pk=profile.village_id)
    return qs


def visible_contracts(user: User) -> QuerySet[Contract]:
    qs = Contract.objects.select_related("vendor")
    role = get_role(user)
    if role in {Role.ADMIN, Role.OPERATOR, Role.VIEWER}:
        return qs
    if role == Role.VENDOR:
        profile = get_profile(user)
        assert profile is not None
        return qs.filter(vendor_id=profile.vendor_id)
    return qs.none()

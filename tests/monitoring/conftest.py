"""Fixtures for the monitoring tests: a minimal region chain, sites, keys and a clock."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest

from linda.monitoring import views
from linda.monitoring.services import _KEY_CACHE, issue_site_key
from linda.registry.models import Region, RegionLevel, Site

T0 = dt.datetime(2024, 10, 15, 3, 0, tzinfo=dt.UTC)  # 10:00 WIB


@pytest.fixture(autouse=True)
def _fresh_caches() -> Iterator[None]:
    """Key lookups and rate buckets are per process; no test sees another's."""
    _KEY_CACHE.clear()
    views._bucket.cache_clear()
    yield
    _KEY_CACHE.clear()
    views._bucket.cache_clear()


def make_regions() -> Region:
    """62 → 62.05 → 62.05.05 Teweh Tengah → 62.05.05.2011 Lemo II; returns the village."""
    prov, _ = Region.objects.get_or_create(
        code="62", defaults={"level": RegionLevel.PROVINCE, "name": "Kalimantan Tengah"})
    regency, _ = Region.objects.get_or_create(
        code="62.05", defaults={"level": RegionLevel.REGENCY, "name": "Barito Utara",
                                "parent": prov})
    kec, _ = Region.objects.get_or_create(
        code="62.05.05", defaults={"level": RegionLevel.DISTRICT, "name": "Teweh Tengah",
                                   "parent": regency})
    village, _ = Region.objects.get_or_create(
        code="62.05.05.2011", defaults={"level": RegionLevel.DESA, "name": "Lemo II",
                                        "parent": kec})
    return village


def new_site(code: str = "lemo-2", **fields: object) -> Site:
    return Site.objects.create(code=code, village=make_regions(), **fields)


@pytest.fixture
def site(db: None) -> Site:
    return new_site()


@pytest.fixture
def key(site: Site) -> str:
    return issue_site_key(site)

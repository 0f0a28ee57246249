"""Shared fixtures. Database tests run on SQLite by default and on PostgreSQL when
DATABASE_URL points there (`make test` runs both)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
BARITO_UTARA_CSV = REPO / "data" / "regions" / "barito_utara_62.05.csv"


@pytest.fixture
def barito_utara(db: None) -> None:
    """The official Barito Utara region list, loaded through the real import service."""
    from linda.registry.regions import import_regions_file

    import_regions_file(BARITO_UTARA_CSV, actor=None)


@pytest.fixture
def today() -> dt.date:
    return dt.date(2024, 10, 15)

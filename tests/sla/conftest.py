"""Fixtures for the SLA tests: the October 2024 scenario (see scenario.py)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.sla.scenario import October, build_october


@pytest.fixture
def coverage_hourly(settings: Any) -> None:
    """Coverage marks every 30 min in the scenario: a gap over 1 h is a monitor outage."""
    settings.LINDA_MONITOR_MAX_GAP_S = 3600


@pytest.fixture
def october(barito_utara: None, coverage_hourly: None) -> October:
    return build_october()

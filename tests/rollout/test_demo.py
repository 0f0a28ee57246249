from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.test import Client

from linda.registry.models import Contract, Region, Site, Vendor
from linda.rollout.models import PriorityVillage, StageTransition

pytestmark = pytest.mark.usefixtures("barito_utara")


def test_demo_marks_68_priorities_25_active_43_in_rollout() -> None:
    call_command("demo_data")
    villages = PriorityVillage.objects.all()
    assert villages.count() == 68
    assert villages.filter(village__level="desa").count() == 68
    assert villages.filter(stage="active").count() == 25
    assert villages.exclude(stage="active").count() == 43
    assert Site.objects.filter(is_demo=True).count() == 68
    assert Contract.objects.get().sites.count() == 68
    assert not Site.objects.filter(latitude__isnull=True).exists()
    # every active village has its BAST on record
    assert not villages.filter(stage="active", bast_number="").exists()
    # official villages keep no invented coordinates
    assert not Region.objects.filter(latitude__isnull=False).exists()


def test_demo_refuses_a_database_with_real_data() -> None:
    Vendor.objects.create(name="PT Real")
    with pytest.raises(CommandError, match="non-demo"):
        call_command("demo_data")
    assert PriorityVillage.objects.count() == 0


def test_demo_removal_leaves_the_registry_and_real_data() -> None:
    call_command("demo_data")
    real = Vendor.objects.create(name="PT Real")
    call_command("demo_data", "--remove")
    assert PriorityVillage.objects.count() == 0
    assert StageTransition.objects.count() == 0
    assert Site.objects.count() == 0
    assert list(Vendor.objects.all()) == [real]
    assert Region.objects.count() == 114


def test_demo_banner_shows_on_every_page_while_demo_data_exists() -> None:
    client = Client()
    assert "DATA DEMO" not in client.get("/login/").content.decode()
    call_command("demo_data")
    assert "DATA DEMO" in client.get("/login/").content.decode()


def test_demo_contract_covers_the_live_month_whenever_it_is_loaded() -> None:
    """The simulated fleet runs in real time, so the contract must cover the month the demo
    is watched in: loaded on 29 Nov 2026, the SLA page has November 2026 to show."""
    with time_machine.travel(dt.datetime(2026, 11, 29, 5, 0, tzinfo=dt.UTC), tick=False):
        call_command("demo_data")
    contract = Contract.objects.get()
    assert contract.starts_on == dt.date(2024, 1, 1)
    assert contract.ends_on == dt.date(2027, 12, 31)

"""A village suspended or decommissioned mid-month leaves the SLA window at that moment; a
reactivation opens a new part of it (docs/sla.md, "Suspended and decommissioned villages").
Worked by hand on the October 2024 scenario (scenario.py, test_figures.py): every site
I = 1800 s, G = 600 s,
tiers ≥ 99 % → 0 %, ≥ 97 % → 5 %, ≥ 95 % → 10 %, else 25 %, Rp 1.500.000 a month,
October 2024 in WIB = [Sep 30 17:00, Oct 31 17:00) UTC = 2_678_400 s.

A stage transition takes effect at 00:00 WIB of its date (17:00 UTC the day before).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from linda.domain.lifecycle import Stage
from linda.registry.models import Region
from linda.rollout.models import BudgetLine, PriorityVillage, Program
from linda.rollout.services import add_priority_village, transition_village
from linda.sla.selectors import get_contract_month_content
from tests.sla.scenario import NOW, October
from tests.sla.test_figures import figures

pytestmark = pytest.mark.django_db

BEFORE_OCTOBER = [Stage.PLANNED, Stage.SURVEYED, Stage.INSTALLED, Stage.ACTIVE]


def active_priority(village_code: str) -> PriorityVillage:
    """The village walked to active in September, as the rollout does it."""
    regency = Region.objects.get(code="62.05")
    program, _ = Program.objects.get_or_create(
        name="Program uji", defaults={"owner_office": "Diskominfosandi", "regency": regency,
                                      "target_date": dt.date(2025, 12, 31)})
    line, _ = BudgetLine.objects.get_or_create(program=program, code="APBD 2024", year=2024)
    pv = add_priority_village(actor=None, program=program,
                              village=Region.objects.get(code=village_code),
                              listed_on=dt.date(2024, 8, 1))
    for n, stage in enumerate(BEFORE_OCTOBER):
        move(pv, stage, dt.date(2024, 9, 1 + n), budget_line=line if n == 0 else None)
    return pv


def move(pv: PriorityVillage, stage: Stage, on: dt.date, **facts: Any) -> None:
    if stage is Stage.ACTIVE:
        facts |= {"bast_number": f"BAST/{on.isoformat()}", "bast_date": on}
    transition_village(actor=None, priority=pv, to_stage=stage, effective_on=on,
                       check_permission=False, **facts)


def site(content: dict[str, Any], code: str) -> dict[str, Any]:
    return next(s for s in content["sites"] if s["code"] == code)


def test_a_suspension_and_a_reactivation_cut_a_hole_in_the_window(october: October) -> None:
    # mtn (Lemo II): suspended on Oct 16 (Oct 15 17:00 UTC), active again on Oct 26
    # (Oct 25 17:00 UTC). Window parts:
    #   [Sep 30 17:00, Oct 15 17:00) = 15 days = 1_296_000 s
    #   [Oct 25 17:00, Oct 31 17:00) =  6 days =   518_400 s  → window 1_814_400 s.
    # Inside the first part: the maintenance window Oct 10 02:00-06:00 = 14_400 s EXCLUDED
    # and the dark monitor Oct 15 00:00-06:00 = 21_600 s UNKNOWN. Its link outage of Oct 20
    # 03:30-11:30 falls in the suspension: not in the window, not counted.
    # UP = 1_814_400 - 14_400 - 21_600 = 1_778_400; DOWN 0; availability 1/1.
    # Fee due ⌊1_500_000 x 1_814_400 ÷ 2_678_400⌋ = ⌊1_016_129.03⌋ = 1_016_129, nothing
    # deducted, payable 1_016_129.
    pv = active_priority("62.05.05.2011")
    move(pv, Stage.SUSPENDED, dt.date(2024, 10, 16))
    move(pv, Stage.ACTIVE, dt.date(2024, 10, 26))
    content = get_contract_month_content(october.contract, 2024, 10, now=NOW)
    assert figures(content)["mtn"] == {
        "window_s": 1_814_400, "up_s": 1_778_400, "down_s": 0, "vendor_down_s": 0,
        "excluded_s": 14_400, "unknown_s": 21_600, "availability": "1/1",
        "availability_pct": "100.0000", "fee_due_idr": 1_016_129, "restitution_idr": 0,
        "payable_idr": 1_016_129,
    }
    mtn = site(content, "mtn")
    assert (mtn["window_start"], mtn["window_end"]) == ("2024-09-30T17:00:00Z",
                                                        "2024-10-31T17:00:00Z")
    assert mtn["window_parts"] == [["2024-09-30T17:00:00Z", "2024-10-15T17:00:00Z"],
                                   ["2024-10-25T17:00:00Z", "2024-10-31T17:00:00Z"]]
    assert (mtn["outage_count"], mtn["outages"]) == (0, [])
    # The other sites are untouched (and have no window parts).
    assert "window_parts" not in site(content, "mon")
    assert figures(content)["mon"]["window_s"] == 2_678_400


def test_a_decommissioning_ends_the_window_and_cuts_the_outage_across_it(
        october: October) -> None:
    # up1 (activated Oct 25 00:00 WIB = Oct 24 17:00 UTC), decommissioned on Oct 26 (Oct 25
    # 17:00 UTC): window [Oct 24 17:00, Oct 25 17:00) = 86_400 s. The upstream outage
    # 05:30-18:00 counts with its part inside: 05:30-17:00 = 11.5 h = 41_400 s (still an
    # upstream incident: the five sites' outages began together) → vendor.
    # UP = 86_400 - 41_400 = 45_000; availability 45_000 ÷ 86_400 = 25/48 = 52.0833…%.
    # Fee due ⌊1_500_000 x 86_400 ÷ 2_678_400⌋ = ⌊48_387.09⌋ = 48_387; below 95 % → 25 %:
    # ⌊12_096.75⌋ = 12_096; payable 36_291.
    pv = active_priority("62.05.02.2001")
    move(pv, Stage.DECOMMISSIONED, dt.date(2024, 10, 26))
    content = get_contract_month_content(october.contract, 2024, 10, now=NOW)
    assert figures(content)["up1"] == {
        "window_s": 86_400, "up_s": 45_000, "down_s": 41_400, "vendor_down_s": 41_400,
        "excluded_s": 0, "unknown_s": 0, "availability": "25/48",
        "availability_pct": "52.0833", "fee_due_idr": 48_387, "restitution_idr": 12_096,
        "payable_idr": 36_291,
    }
    up1 = site(content, "up1")
    assert (up1["window_start"], up1["window_end"]) == ("2024-10-24T17:00:00Z",
                                                        "2024-10-25T17:00:00Z")
    assert "window_parts" not in up1  # one part: window_start and window_end say it all
    assert [(o["start"], o["end"], o["in_window_s"], o["cause"]) for o in up1["outages"]] == [
        ("2024-10-25T05:30:00Z", "2024-10-25T18:00:00Z", 41_400, "upstream")]
    # November: nothing is due for a decommissioned village.
    november = get_contract_month_content(october.contract, 2024, 11,
                                          now=dt.datetime(2024, 12, 10, tzinfo=dt.UTC))
    assert (site(november, "up1")["window_s"], site(november, "up1")["fee_due_idr"]) == (0, 0)
    # up2…up5 keep their week: Rp 338_709 each, as in test_figures.
    assert {k: figures(content)["up2"][k] for k in ("window_s", "fee_due_idr")} == {
        "window_s": 604_800, "fee_due_idr": 338_709}


"""October 2024, worked by hand to the second and the Rupiah (scenario in scenario.py).

October 2024 in WIB = [2024-09-30 17:00, 2024-10-31 17:00) UTC = 31 x 86_400 = 2_678_400 s.
Every site: I = 1800 s, G = 600 s. The monitor was dark Oct 15 00:00-06:00 UTC: 6 h =
21_600 s UNKNOWN for every site active then. Tiers: ≥ 99 % → 0 %, ≥ 97 % → 5 %, ≥ 95 % →
10 %, else 25 %. Fee Rp 1_500_000 a month. Power outages are the regency's.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from linda.registry.models import Region
from linda.sla.content import content_sha256
from linda.sla.selectors import get_contract_month_content
from tests.sla.scenario import NOW, October, build_october, utc

pytestmark = pytest.mark.django_db

FIGURES = ("window_s", "up_s", "down_s", "vendor_down_s", "excluded_s", "unknown_s",
           "availability", "availability_pct", "fee_due_idr", "restitution_idr", "payable_idr")


def figures(content: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["code"]: {k: s[k] for k in FIGURES} for s in content["sites"]}


def outages(content: dict[str, Any], code: str) -> list[tuple[str, str, int, str, str]]:
    site = next(s for s in content["sites"] if s["code"] == code)
    return [(o["start"], o["end"], o["in_window_s"], o["cause"], o["responsibility"])
            for o in site["outages"]]


# Expected figures, by hand.
#
# mtn — maintenance window Oct 10 02:00-06:00 = 4 h = 14_400 s EXCLUDED (beats kept coming,
#   EXCLUDED wins). Last beat Oct 20 03:00, next 11:30: DOWN 03:30-11:30 = 8 h = 480 min =
#   28_800 s, uptime counted through → link → vendor.
#   UP = 2_678_400 - 14_400 - 21_600 - 28_800 = 2_613_600.
#   Availability 2_613_600 ÷ 2_642_400 = 363/367 = 98.9100…% → the 97 % tier: 5 % of
#   1_500_000 = 75_000; payable 1_425_000.
MTN = {"window_s": 2_678_400, "up_s": 2_613_600, "down_s": 28_800, "vendor_down_s": 28_800,
       "excluded_s": 14_400, "unknown_s": 21_600, "availability": "363/367",
       "availability_pct": "98.9100", "fee_due_idr": 1_500_000, "restitution_idr": 75_000,
       "payable_idr": 1_425_000}
# mon — last beat Oct 14 23:00; the monitor goes dark at 00:00 and is back at 06:00 with the
#   next beat. DOWN 23:30-00:00 = 30 min = 1_800 s (the dark 6 h are UNKNOWN, never DOWN).
#   UP = 2_678_400 - 21_600 - 1_800 = 2_655_000; availability 2_655_000 ÷ 2_656_800 =
#   1475/1476 = 99.9322…% ≥ 99 → nothing deducted.
MON = {"window_s": 2_678_400, "up_s": 2_655_000, "down_s": 1_800, "vendor_down_s": 1_800,
       "excluded_s": 0, "unknown_s": 21_600, "availability": "1475/1476",
       "availability_pct": "99.9322", "fee_due_idr": 1_500_000, "restitution_idr": 0,
       "payable_idr": 1_500_000}
# part — activated Oct 11 00:00 WIB: window Oct 11-31 = 21 days = 1_814_400 s.
#   Fee due ⌊1_500_000 x 1_814_400 ÷ 2_678_400⌋ = ⌊1_016_129.03⌋ = 1_016_129.
#   Last beat Oct 20 00:00, next 10:00: DOWN 00:30-10:00 = 570 min = 34_200 s (link).
#   UP = 1_814_400 - 21_600 - 34_200 = 1_758_600; availability 1_758_600 ÷ 1_792_800 =
#   977/996 = 98.0923…% → 5 % tier: ⌊1_016_129 x 5 ÷ 100⌋ = ⌊50_806.45⌋ = 50_806;
#   payable 965_323.
PART = {"window_s": 1_814_400, "up_s": 1_758_600, "down_s": 34_200, "vendor_down_s": 34_200,
        "excluded_s": 0, "unknown_s": 21_600, "availability": "977/996",
        "availability_pct": "98.0923", "fee_due_idr": 1_016_129, "restitution_idr": 50_806,
        "payable_idr": 965_323}
# sol — off-grid solar, battery flat two nights: DOWN Oct 22 20:30 → Oct 23 01:00 and Oct 23
#   20:30 → Oct 24 01:00 (03:30-08:00 WIB), 270 min = 16_200 s each, 32_400 s in all; uptime
#   reset, 11.6 V, 9 %, night → power → the regency's: vendor DOWN 0.
#   UP = 2_678_400 - 21_600 - 32_400 = 2_624_400; published availability 2_624_400 ÷
#   2_656_800 = 81/82 = 98.7804…% (under the 99 % target) but the tiers see 100 % → nothing
#   deducted. (Were it the vendor's, 5 %: 75_000.)
SOL = {"window_s": 2_678_400, "up_s": 2_624_400, "down_s": 32_400, "vendor_down_s": 0,
       "excluded_s": 0, "unknown_s": 21_600, "availability": "81/82",
       "availability_pct": "98.7804", "fee_due_idr": 1_500_000, "restitution_idr": 0,
       "payable_idr": 1_500_000}
# up1…up5 — activated Oct 25 00:00 WIB: window 7 days = 604_800 s; fee due
#   ⌊1_500_000 x 604_800 ÷ 2_678_400⌋ = ⌊338_709.67⌋ = 338_709. All five silent from Oct 25
#   05:00 to 18:00: DOWN 05:30-18:00 = 750 min = 45_000 s each, starting together → one
#   upstream incident → vendor. UP = 604_800 - 45_000 = 559_800; availability
#   559_800 ÷ 604_800 = 311/336 = 92.5595…% → below 95 %: 25 % → ⌊84_677.25⌋ = 84_677;
#   payable 254_032.
UP_N = {"window_s": 604_800, "up_s": 559_800, "down_s": 45_000, "vendor_down_s": 45_000,
        "excluded_s": 0, "unknown_s": 0, "availability": "311/336",
        "availability_pct": "92.5595", "fee_due_idr": 338_709, "restitution_idr": 84_677,
        "payable_idr": 254_032}


def test_october_figures_to_the_second_and_the_rupiah(october: October) -> None:
    content = get_contract_month_content(october.contract, 2024, 10, now=NOW)
    assert content["period"] == {
        "month": "2024-10", "start": "2024-09-30T17:00:00Z", "end": "2024-10-31T17:00:00Z",
        "month_s": 2_678_400, "tz": "Asia/Jakarta",
    }
    assert figures(content) == {
        "mtn": MTN, "mon": MON, "part": PART, "sol": SOL,
        "up1": UP_N, "up2": UP_N, "up3": UP_N, "up4": UP_N, "up5": UP_N,
    }
    # Fees: 1_500_000 x 3 + 1_016_129 + 338_709 x 5 = 7_209_674.
    # Restitution 75_000 + 0 + 50_806 + 0 + 84_677 x 5 = 549_191. Payable 6_660_483.
    totals = content["totals"]
    assert (totals["fee_due_idr"], totals["restitution_idr"], totals["payable_idr"]) == (
        7_209_674, 549_191, 6_660_483)
    assert (totals["sites"], totals["outage_count"], totals["down_s"],
            totals["vendor_down_s"]) == (9, 10, 322_200, 289_800)
    assert content["final"] is True
    assert content["manual_signoff_required"] is False


def test_minutes_of_each_outage_and_its_attribution(october: October) -> None:
    content = get_contract_month_content(october.contract, 2024, 10, now=NOW)
    assert outages(content, "mtn") == [
        ("2024-10-20T03:30:00Z", "2024-10-20T11:30:00Z", 480 * 60, "link", "vendor")]
    assert outages(content, "mon") == [
        ("2024-10-14T23:30:00Z", "2024-10-15T00:00:00Z", 30 * 60, "link", "vendor")]
    assert outages(content, "part") == [
        ("2024-10-20T00:30:00Z", "2024-10-20T10:00:00Z", 570 * 60, "link", "vendor")]
    assert outages(content, "sol") == [
        ("2024-10-22T20:30:00Z", "2024-10-23T01:00:00Z", 270 * 60, "power", "regency"),
        ("2024-10-23T20:30:00Z", "2024-10-24T01:00:00Z", 270 * 60, "power", "regency"),
    ]
    for n in range(1, 6):
        assert outages(content, f"up{n}") == [
            ("2024-10-25T05:30:00Z", "2024-10-25T18:00:00Z", 750 * 60, "upstream", "vendor")]
    sol = next(s for s in content["sites"] if s["code"] == "sol")
    assert "tegangan baterai rendah: 11.60 V ≤ 11.80 V" in sol["outages"][0]["evidence"]
    assert "malam hari di situs tenaga surya (matahari di bawah cakrawala)" in (
        sol["outages"][0]["evidence"])
    up1 = next(s for s in content["sites"] if s["code"] == "up1")["outages"][0]
    assert up1["concurrent_sites"] == 4
    assert up1["incident"] == "2024-10-25T05:30:00Z"


def test_per_kecamatan_totals_and_report(october: October) -> None:
    content = get_contract_month_content(october.contract, 2024, 10, now=NOW)
    by_code = {k["code"]: k for k in content["kecamatan_totals"]}
    assert {code: (k["name"], k["sites"], k["fee_due_idr"], k["restitution_idr"],
                   k["payable_idr"]) for code, k in by_code.items()} == {
        "62.05.02": ("Gunung Timang", 5, 1_693_545, 423_385, 1_270_160),
        "62.05.05": ("Teweh Tengah", 2, 3_000_000, 75_000, 2_925_000),
        "62.05.06": ("Lahei", 2, 2_516_129, 50_806, 2_465_323),
    }
    lahei = Region.objects.get(code="62.05.06")
    only = get_contract_month_content(october.contract, 2024, 10, now=NOW, kecamatan=lahei)
    assert only["kecamatan"] == {"code": "62.05.06", "name": "Lahei"}
    assert [s["code"] for s in only["sites"]] == ["part", "sol"]
    assert figures(only) == {"part": PART, "sol": SOL}
    assert (only["totals"]["fee_due_idr"], only["totals"]["payable_idr"]) == (
        2_516_129, 2_465_323)
    gunung_timang = Region.objects.get(code="62.05.02")
    five = get_contract_month_content(october.contract, 2024, 10, now=NOW,
                                      kecamatan=gunung_timang)
    # The incident is still seen across the vendor's whole fleet.
    assert {o["cause"] for s in five["sites"] for o in s["outages"]} == {"upstream"}


def test_without_the_maintenance_window_its_four_hours_are_up(
    barito_utara: None, coverage_hourly: None
) -> None:
    october = build_october(with_maintenance=False)
    content = get_contract_month_content(october.contract, 2024, 10, now=NOW)
    mtn = figures(content)["mtn"]
    # UP 2_613_600 + 14_400 = 2_628_000 ÷ 2_656_800 = 365/369 = 98.9159…%: still 5 %.
    assert (mtn["up_s"], mtn["excluded_s"], mtn["availability_pct"], mtn["restitution_idr"]) == (
        2_628_000, 0, "98.9159", 75_000)


def test_a_final_report_does_not_depend_on_when_it_is_generated(october: October) -> None:
    first = get_contract_month_content(october.contract, 2024, 10, now=NOW)
    later = get_contract_month_content(october.contract, 2024, 10,
                                       now=NOW + timedelta(days=40))
    assert content_sha256(first) == content_sha256(later)
    assert first["computed_until"] == "2024-11-03T17:00:00Z"  # month end + 3 evidence days


def test_a_report_before_the_evidence_days_are_over_is_provisional(october: October) -> None:
    early = get_contract_month_content(october.contract, 2024, 10, now=utc(11, 1, 12))
    assert early["final"] is False
    assert early["computed_until"] == "2024-11-01T12:00:00Z"
    # The month is over, so the figures already agree with the final ones.
    final = get_contract_month_content(october.contract, 2024, 10, now=NOW)
    assert figures(early) == figures(final)


def test_unknown_time_above_the_threshold_asks_for_manual_signoff(
    october: October, settings: Any
) -> None:
    # 21_600 s UNKNOWN: 0.806…% of a full month, 1.190…% of `part`'s 21-day window.
    settings.LINDA_SLA_MANUAL_SIGNOFF_UNKNOWN_PCT = "0.81"
    content = get_contract_month_content(october.contract, 2024, 10, now=NOW)
    flagged = {s["code"] for s in content["sites"] if s["manual_signoff"]}
    assert flagged == {"part"}
    assert content["manual_signoff_required"] is True
    settings.LINDA_SLA_MANUAL_SIGNOFF_UNKNOWN_PCT = "0.80"
    content = get_contract_month_content(october.contract, 2024, 10, now=NOW)
    assert {s["code"] for s in content["sites"] if s["manual_signoff"]} == {
        "mtn", "mon", "part", "sol"}


def test_fewer_sites_than_the_upstream_threshold_is_not_an_incident(
    october: October, settings: Any
) -> None:
    settings.LINDA_SLA_UPSTREAM_MIN_SITES = 6
    content = get_contract_month_content(october.contract, 2024, 10, now=NOW)
    # Uptime counted through the gap: without the incident, each is a link outage.
    assert outages(content, "up1")[0][3:] == ("link", "vendor")
    assert figures(content)["up1"] == UP_N  # the vendor's either way

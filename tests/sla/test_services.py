"""Overrides (append-only, audited, shown in reports) and stored report generations."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from linda.accounts.models import Role
from linda.audit.models import AuditEntry
from linda.domain.attribution import Cause, Responsibility
from linda.sla.content import content_sha256
from linda.sla.models import OutageOverride, SlaReport
from linda.sla.selectors import (
    get_contract_month_content,
    get_current_report,
    report_content,
    verify_report,
)
from linda.sla.services import NoSuchOutage, generate_report, record_outage_override
from tests.factories import make_user
from tests.sla.scenario import NOW, October, utc

pytestmark = pytest.mark.django_db
SOL_NIGHT_1 = utc(10, 22, 20, 30)
SOL_NIGHT_2 = utc(10, 23, 20, 30)
MTN_OUTAGE = utc(10, 20, 3, 30)


def site_of(content: dict, code: str) -> dict:
    return next(s for s in content["sites"] if s["code"] == code)


def test_an_override_is_audited_and_shown_in_the_report(october: October) -> None:
    operator = make_user("operator", Role.OPERATOR)
    override = record_outage_override(
        site=october.sites["sol"], outage_start=SOL_NIGHT_1, author=operator, now=NOW,
        responsibility=Responsibility.VENDOR,
        reason="Baterai sudah dilaporkan rusak ke vendor sejak September (tiket #118).",
    )
    entry = AuditEntry.objects.get(object_type="sla.OutageOverride", object_id=str(override.pk))
    assert (entry.action, entry.actor_username) == ("create", "operator")
    assert entry.after["responsibility"] == "vendor"
    assert entry.note.startswith("Baterai sudah dilaporkan rusak")

    content = get_contract_month_content(october.contract, 2024, 10, now=NOW)
    night_1, night_2 = site_of(content, "sol")["outages"]
    assert (night_1["auto_cause"], night_1["auto_responsibility"]) == ("power", "regency")
    assert (night_1["cause"], night_1["responsibility"]) == ("power", "vendor")
    assert night_1["override"] == {
        "cause": None, "responsibility": "vendor", "author": "operator",
        "created_at": "2024-11-10T03:00:00Z",
        "reason": "Baterai sudah dilaporkan rusak ke vendor sejak September (tiket #118).",
    }
    assert night_2["override"] is None and night_2["responsibility"] == "regency"
    sol = site_of(content, "sol")
    # One night now the vendor's: 16_200 s. Tiers see (2_656_800 - 16_200) ÷ 2_656_800 =
    # 99.39…% ≥ 99 → still nothing deducted.
    assert (sol["vendor_down_s"], sol["restitution_idr"]) == (16_200, 0)

    record_outage_override(
        site=october.sites["sol"], outage_start=SOL_NIGHT_2, author=operator, now=NOW,
        responsibility=Responsibility.VENDOR, reason="Sama: baterai rusak (tiket #118).",
    )
    sol = site_of(get_contract_month_content(october.contract, 2024, 10, now=NOW), "sol")
    # Both nights: 32_400 s → (2_656_800 - 32_400) ÷ 2_656_800 = 81/82 = 98.78…% → 5 % tier.
    assert (sol["vendor_down_s"], sol["restitution_idr"], sol["payable_idr"]) == (
        32_400, 75_000, 1_425_000)


def test_the_latest_override_of_an_outage_applies(october: October) -> None:
    operator = make_user("operator", Role.OPERATOR)
    site = october.sites["mtn"]
    record_outage_override(site=site, outage_start=MTN_OUTAGE, author=operator, now=NOW,
                           cause=Cause.POWER, reason="PLN padam di Lemo II (surat PLN 12/X).")
    content = get_contract_month_content(october.contract, 2024, 10, now=NOW)
    mtn = site_of(content, "mtn")
    # The cause decides the responsibility through the terms: power → the regency's.
    assert mtn["outages"][0]["responsibility"] == "regency"
    assert (mtn["vendor_down_s"], mtn["restitution_idr"]) == (0, 0)
    record_outage_override(site=site, outage_start=MTN_OUTAGE, author=operator,
                           now=NOW.replace(hour=4), cause=Cause.LINK,
                           reason="Koreksi: PLN menyala, modem VSAT rusak.")
    mtn = site_of(get_contract_month_content(october.contract, 2024, 10, now=NOW), "mtn")
    assert mtn["outages"][0]["override"]["reason"] == "Koreksi: PLN menyala, modem VSAT rusak."
    assert (mtn["outages"][0]["cause"], mtn["restitution_idr"]) == ("link", 75_000)
    assert OutageOverride.objects.count() == 2  # history kept


def test_an_override_needs_a_reason_and_an_existing_outage(october: October) -> None:
    operator = make_user("operator", Role.OPERATOR)
    with pytest.raises(ValidationError):
        record_outage_override(site=october.sites["mtn"], outage_start=MTN_OUTAGE,
                               author=operator, now=NOW, cause=Cause.LINK, reason="  ")
    with pytest.raises(ValidationError):
        record_outage_override(site=october.sites["mtn"], outage_start=MTN_OUTAGE,
                               author=operator, now=NOW, reason="nothing to change")
    with pytest.raises(NoSuchOutage):
        record_outage_override(site=october.sites["mtn"], outage_start=utc(10, 20, 3, 31),
                               author=operator, now=NOW, cause=Cause.LINK, reason="typo")
    assert not OutageOverride.objects.exists()
    assert not AuditEntry.objects.filter(object_type="sla.OutageOverride").exists()


def test_a_stored_report_is_reused_and_force_regenerates_identically(october: October) -> None:
    first = generate_report(contract=october.contract, year=2024, month=10, author=None, now=NOW)
    report = first.report
    assert first.previous is None
    assert (report.fee_due_idr, report.restitution_idr, report.payable_idr) == (
        7_209_674, 549_191, 6_660_483)
    assert report.is_final and not report.manual_signoff_required
    assert report.terms.version == 1 and report.rule_version.startswith("linda-sla/2")
    assert verify_report(report)
    again = generate_report(contract=october.contract, year=2024, month=10, author=None,
                            now=NOW)
    assert again.report.pk == report.pk
    forced = generate_report(contract=october.contract, year=2024, month=10, author=None,
                             now=NOW.replace(day=20), force=True)
    assert forced.report.pk != report.pk
    assert forced.identical_to_previous is True
    assert forced.report.content_json == report.content_json
    assert get_current_report(october.contract, 2024, 10) == forced.report
    assert SlaReport.objects.count() == 2


def test_a_new_override_changes_the_regenerated_hash(october: October) -> None:
    stored = generate_report(contract=october.contract, year=2024, month=10, author=None,
                             now=NOW).report
    record_outage_override(site=october.sites["mtn"], outage_start=MTN_OUTAGE,
                           author=make_user("admin", Role.ADMIN), now=NOW,
                           responsibility=Responsibility.FORCE_MAJEURE,
                           reason="Banjir besar Sungai Barito (status tanggap darurat).")
    fresh = get_contract_month_content(october.contract, 2024, 10, now=NOW)
    assert content_sha256(fresh) != stored.content_sha256
    assert report_content(stored)["totals"]["restitution_idr"] == 549_191
    assert fresh["totals"]["restitution_idr"] == 549_191 - 75_000

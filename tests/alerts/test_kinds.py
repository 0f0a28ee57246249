"""The two kinds that are not outages, as routing sees them (pure, no database)."""

from __future__ import annotations

from linda.domain.alerting import (
    KIND_SEVERITY,
    Audience,
    Kind,
    RuleFacts,
    Severity,
    SiteFacts,
    Target,
    route,
    subscribers,
)

LEMO = SiteFacts(site_id=1, village_id=11, kecamatan_id=101, vendor_ids=frozenset({7}))


def rule(rule_id: int, audience: Audience, **fields: object) -> RuleFacts:
    return RuleFacts(rule_id=rule_id, channel_id=rule_id, audience=audience,
                     **fields)  # type: ignore[arg-type]


def test_the_summary_goes_only_to_rules_that_name_it_one_per_channel() -> None:
    noc_all = rule(1, Audience.OPERATOR)
    office = rule(2, Audience.VIEWER, kinds=frozenset({"summary"}))
    again = RuleFacts(rule_id=3, channel_id=2, audience=Audience.ADMIN,
                      kinds=frozenset({"summary", "site_down"}))
    escalated = rule(4, Audience.ADMIN, kinds=frozenset({"summary"}), level=1)
    chosen = subscribers([again, noc_all, office, escalated], Kind.SUMMARY)
    assert chosen == [office]
    summary = Target(Kind.SUMMARY, KIND_SEVERITY[Kind.SUMMARY])
    assert route([noc_all, office], summary, level=0) == [office]


def test_power_risk_routes_like_an_outage_of_its_site_with_cause_power() -> None:
    target = Target(Kind.POWER_RISK, KIND_SEVERITY[Kind.POWER_RISK], "power", (LEMO,))
    rules = [
        rule(1, Audience.OPERATOR),
        rule(2, Audience.VILLAGE_HEAD, village_id=11),
        rule(3, Audience.VILLAGE_HEAD, village_id=12),
        rule(4, Audience.VENDOR, vendor_id=7, causes=frozenset({"link", "upstream"})),
        rule(5, Audience.VENDOR, vendor_id=7, kinds=frozenset({"power_risk"})),
        rule(6, Audience.VIEWER, min_severity=Severity.CRITICAL),
        rule(7, Audience.VIEWER, kinds=frozenset({"site_down"})),
    ]
    assert [r.rule_id for r in route(rules, target, level=0)] == [1, 2, 5]

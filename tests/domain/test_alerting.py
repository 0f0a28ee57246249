"""Alert decisions: routing by role and scope, grouping, flapping, coverage gaps, escalation,
retries, and secrets kept out of sight."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from linda.domain.alerting import (
    Audience,
    Down,
    Gap,
    GroupingPolicy,
    Kind,
    RuleFacts,
    Severity,
    SiteFacts,
    Target,
    classify_down,
    coverage_gaps,
    escalation_due,
    expand_env,
    is_flapping,
    is_stable,
    mask_url,
    matches,
    reminders_due,
    retry_delay,
    route,
    scrub,
    secret_parts,
)

T0 = datetime(2024, 10, 15, 3, 0, tzinfo=UTC)
S = timedelta(seconds=1)
M = timedelta(minutes=1)

LEMO = SiteFacts(site_id=1, village_id=11, kecamatan_id=100, vendor_ids=frozenset({7}),
                 contract_ids=frozenset({70}))
JAAR = SiteFacts(site_id=2, village_id=12, kecamatan_id=200, vendor_ids=frozenset({8}),
                 contract_ids=frozenset({80}))


def rule(rule_id: int, audience: Audience, **kw: object) -> RuleFacts:
    return RuleFacts(rule_id=rule_id, channel_id=kw.pop("channel_id", rule_id),  # type: ignore[arg-type]
                     audience=audience, **kw)  # type: ignore[arg-type]


def down_of(site: SiteFacts, kind: Kind = Kind.SITE_DOWN, cause: str = "unknown") -> Target:
    severity = Severity.CRITICAL if kind != Kind.SITE_DOWN else Severity.WARNING
    return Target(kind=kind, severity=severity, cause=cause, sites=(site,))


# --- routing ----------------------------------------------------------------------------------


def test_noc_hears_everything_others_only_their_own_sites() -> None:
    rules = [
        rule(1, Audience.OPERATOR),
        rule(2, Audience.VENDOR, vendor_id=7),
        rule(3, Audience.VENDOR, vendor_id=8),
        rule(4, Audience.VILLAGE_HEAD, village_id=11),
        rule(5, Audience.VIEWER, kecamatan_id=200),
        rule(6, Audience.VIEWER, contract_id=70),
    ]
    assert [r.rule_id for r in route(rules, down_of(LEMO), level=0)] == [1, 2, 4, 6]
    assert [r.rule_id for r in route(rules, down_of(JAAR), level=0)] == [1, 3, 5]


def test_monitor_trouble_goes_to_the_noc_only() -> None:
    rules = [rule(1, Audience.ADMIN), rule(2, Audience.VENDOR, vendor_id=7),
             rule(3, Audience.VILLAGE_HEAD, village_id=11), rule(4, Audience.VIEWER)]
    for kind in (Kind.MONITOR_GAP, Kind.MONITOR_SUSPECT):
        target = Target(kind=kind, severity=Severity.CRITICAL, sites=(LEMO,))
        assert [r.rule_id for r in route(rules, target, level=0)] == [1]


def test_vendor_and_village_head_rules_without_scope_hear_nothing() -> None:
    assert not matches(rule(1, Audience.VENDOR), down_of(LEMO))
    assert not matches(rule(1, Audience.VILLAGE_HEAD), down_of(LEMO))


def test_kinds_causes_and_severity_filter() -> None:
    vendor_link = rule(1, Audience.VENDOR, vendor_id=7, causes=frozenset({"link", "upstream"}))
    assert not matches(vendor_link, down_of(LEMO, cause="power"))
    assert matches(vendor_link, down_of(LEMO, cause="link"))
    critical = rule(2, Audience.VIEWER, min_severity=Severity.CRITICAL)
    assert not matches(critical, down_of(LEMO))
    assert matches(critical, down_of(LEMO, Kind.UPSTREAM))
    only_upstream = rule(3, Audience.OPERATOR, kinds=frozenset({"upstream"}))
    assert not matches(only_upstream, down_of(LEMO))


def test_one_message_per_channel_and_levels_are_separate() -> None:
    rules = [rule(1, Audience.OPERATOR, channel_id=9), rule(2, Audience.ADMIN, channel_id=9),
             rule(3, Audience.ADMIN, channel_id=10, level=1)]
    assert [r.rule_id for r in route(rules, down_of(LEMO), level=0)] == [1]
    assert [r.rule_id for r in route(rules, down_of(LEMO), level=1)] == [3]


# --- grouping ---------------------------------------------------------------------------------

POLICY = GroupingPolicy(window=2 * M, min_sites=5, suspect_pct=50)


def downs(n: int, vendor: int = 7, start: datetime = T0, every: timedelta = 10 * S,
          first_id: int = 1) -> list[Down]:
    return [Down(first_id + i, start + i * every, frozenset({vendor})) for i in range(n)]


def test_a_lone_down_is_its_own_outage() -> None:
    me, *_ = downs(1)
    assert classify_down(me, [me], monitored=100, policy=POLICY).kind == Kind.SITE_DOWN


def test_five_of_one_vendor_within_the_window_is_one_upstream_incident() -> None:
    five = downs(5)
    grouping = classify_down(five[2], five, monitored=100, policy=POLICY)
    assert (grouping.kind, grouping.vendor_id, len(grouping.members)) == (Kind.UPSTREAM, 7, 5)
    four = downs(4) + downs(1, vendor=8, first_id=50)
    assert classify_down(four[0], four, monitored=100, policy=POLICY).kind == Kind.SITE_DOWN


def test_downs_spread_wider_than_the_window_are_separate() -> None:
    spread = downs(6, every=3 * M)
    assert classify_down(spread[0], spread, monitored=100, policy=POLICY).kind == Kind.SITE_DOWN


def test_a_chain_lists_every_site_it_swept_up() -> None:
    chain = downs(5) + downs(10, start=T0 + 90 * S, every=90 * S, first_id=20)
    grouping = classify_down(chain[0], chain, monitored=100, policy=POLICY)
    assert grouping.kind == Kind.UPSTREAM and len(grouping.members) == 15


def test_more_than_the_share_of_all_sites_is_suspected_monitor_or_upstream() -> None:
    mixed = downs(3, vendor=7) + downs(3, vendor=8, first_id=10)
    assert classify_down(mixed[0], mixed, monitored=10, policy=POLICY).kind \
        == Kind.MONITOR_SUSPECT
    assert classify_down(mixed[0], mixed, monitored=13, policy=POLICY).kind == Kind.SITE_DOWN


@given(st.lists(st.integers(min_value=0, max_value=600), min_size=1, max_size=40),
       st.integers(min_value=1, max_value=200))
def test_the_down_itself_is_always_a_member(offsets: list[int], monitored: int) -> None:
    pool = [Down(i, T0 + o * S, frozenset({i % 3})) for i, o in enumerate(offsets)]
    grouping = classify_down(pool[0], pool, monitored=monitored, policy=POLICY)
    assert pool[0] in grouping.members
    if grouping.kind != Kind.SITE_DOWN:
        assert len({d.site_id for d in grouping.members}) >= POLICY.min_sites


# --- flapping and coverage --------------------------------------------------------------------


def test_flapping_is_more_than_k_changes_within_m() -> None:
    changes = [T0 + i * M for i in range(5)]
    assert is_flapping(changes, now=T0 + 4 * M, window=15 * M, max_flips=4)
    assert not is_flapping(changes[:4], now=T0 + 4 * M, window=15 * M, max_flips=4)
    assert not is_flapping(changes, now=T0 + 20 * M, window=15 * M, max_flips=4)
    assert is_stable(T0, now=T0 + 15 * M, stable_for=15 * M)
    assert not is_stable(T0, now=T0 + 14 * M, stable_for=15 * M)


def test_coverage_gaps() -> None:
    marks = [T0, T0 + 5 * S, T0 + 10 * S, T0 + 20 * M, T0 + 20 * M + 5 * S]
    assert coverage_gaps(marks, now=T0 + 20 * M + 10 * S, longer_than=M) == [
        Gap(T0 + 10 * S, T0 + 20 * M)]
    assert coverage_gaps(marks, now=T0 + 30 * M, longer_than=M)[-1] == Gap(
        T0 + 20 * M + 5 * S, None)
    assert coverage_gaps([], now=T0, longer_than=M) == []


# --- escalation and retries -------------------------------------------------------------------


def test_escalation_and_reminders() -> None:
    assert not escalation_due(opened_at=T0, acknowledged=False, now=T0 + 14 * M, after=15 * M)
    assert escalation_due(opened_at=T0, acknowledged=False, now=T0 + 15 * M, after=15 * M)
    assert not escalation_due(opened_at=T0, acknowledged=True, now=T0 + 60 * M, after=15 * M)
    assert reminders_due(since=T0, now=T0 + 65 * M, every=30 * M) == 2
    assert reminders_due(since=T0, now=T0 + 65 * M, every=timedelta(0)) == 0


@given(st.integers(min_value=1, max_value=100))
def test_retry_delay_doubles_up_to_the_cap(attempt: int) -> None:
    base, cap = 30 * S, timedelta(hours=1)
    delay = retry_delay(attempt, base=base, cap=cap)
    assert base <= delay <= cap
    assert retry_delay(attempt + 1, base=base, cap=cap) >= delay
    assert retry_delay(1, base=base, cap=cap) == base
    assert retry_delay(3, base=base, cap=cap) == 4 * base


# --- secrets ----------------------------------------------------------------------------------

BOT = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
WA_TOKEN = "EAAGm0PX4ZCpsBAKYR8ZAa4x9tZCk2kbZB"


@pytest.mark.parametrize(("url", "masked"), [
    (f"tgram://{BOT}/-1001234567890", "tgram://123456789:AAH…/-1001234567890"),
    (f"tgram://{BOT}/-1001234567890:12", "tgram://123456789:AAH…/-1001234567890:12"),
    (f"whatsapp://{WA_TOKEN}@1234567890123/6281234567890",
     "whatsapp://EAA…@1234567890123/6281234567890"),
    (f"whatsapp://linda_alert:{WA_TOKEN}@1234567890123/6281234567890",
     "whatsapp://linda_alert:EAA…@1234567890123/6281234567890"),
    ("mailtos://noc:s3cretpassw0rd@mail.baritoutarakab.go.id?to=noc@baritoutarakab.go.id",
     "mailtos://noc:s3c…@mail.baritoutarakab.go.id?to=noc@baritoutarakab.go.id"),
    ("ntfy://ntfy.sh/linda-barut-9f8e7d6c5b4a", "ntfy://ntfy.sh/lin…"),
    ("json://127.0.0.1:8080/hook", "json://127.0.0.1:8080/hook"),
    ("tgram://{env:LINDA_TG_TOKEN}/-1001234567890", "tgram://{env:LINDA_TG_TOKEN}/-1001234567890"),
    ("jsons://hooks.example.org/x?token=abc123", "jsons://hooks.example.org/x?token=…"),
])
def test_urls_are_shown_masked(url: str, masked: str) -> None:
    assert mask_url(url) == masked


@given(st.text(alphabet="abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ0123456789_-",
               min_size=16, max_size=60).filter(lambda s: not s.lstrip("-").isdigit()))
def test_a_token_never_survives_masking(token: str) -> None:
    for url in (f"tgram://987654:{token}/-100123", f"whatsapp://{token}@12345/62812",
                f"mailto://me:{token}@example.org", f"ntfy://ntfy.sh/{token}"):
        assert token not in mask_url(url)
        assert token in secret_parts(url)


def test_env_references_and_scrubbing() -> None:
    url = "tgram://{env:LINDA_TG_TOKEN}/-100123"
    assert expand_env(url, {"LINDA_TG_TOKEN": BOT}) == f"tgram://{BOT}/-100123"
    with pytest.raises(KeyError, match="LINDA_TG_TOKEN"):
        expand_env(url, {})
    error = f"Failed to send to https://api.telegram.org/bot{BOT}/sendMessage"
    assert BOT.split(":")[1] not in scrub(error, secret_parts(f"tgram://{BOT}/-100123"))

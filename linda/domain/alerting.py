"""Alert decisions: who hears about what, and when to stay quiet (issue 7).

The Django side (`linda.alerts`) reads events, rules and coverage marks from the database and
asks these functions what to do; they answer with values. Pure: no Django, no clock, no I/O.

- **Routing** (`route`): a rule is an audience (a role) plus optional scope filters. The NOC
  (admin, operator) hears everything; everyone else hears only about sites (never about the
  monitor itself, decision 2), and a vendor's or a village head's rule only about its own
  vendor's or village's sites.
- **Grouping** (`classify_down`): a DOWN that arrives together with many others is not an
  outage of its own. When more than `suspect_pct` % of all monitored sites (and at least
  `min_sites`) went quiet within `window`, the monitor or the shared upstream is suspected and
  only the NOC is told; when `min_sites` sites of one vendor did, it is one upstream incident.
- **Flapping** (`is_flapping`, `is_stable`): more than `max_flips` state changes within
  `flap_window` is one "flapping" alert, then silence until `stable_for` without a change.
- **Coverage** (`coverage_gaps`): time between two monitor marks longer than `max_gap`.
- **Subscriptions** (`subscribers`): the daily summary goes only to rules that name its kind.
- **Escalation and retries** (`escalation_due`, `reminders_due`, `retry_delay`).
- **Secrets** (`mask_url`, `expand_env`): an Apprise URL is shown only with its secrets masked.
"""

from __future__ import annotations

import enum
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise

__all__ = [
    "KIND_SEVERITY",
    "NOC",
    "SITE_KINDS",
    "Audience",
    "Down",
    "Gap",
    "Grouping",
    "GroupingPolicy",
    "Kind",
    "RuleFacts",
    "Severity",
    "SiteFacts",
    "Target",
    "classify_down",
    "coverage_gaps",
    "escalation_due",
    "expand_env",
    "is_flapping",
    "is_stable",
    "mask_url",
    "matches",
    "reminders_due",
    "retry_delay",
    "route",
    "scrub",
    "secret_parts",
    "subscribers",
]


class Audience(enum.StrEnum):
    """Who a rule speaks to (values are `linda.accounts.models.Role`)."""

    ADMIN = "admin"
    OPERATOR = "operator"
    VENDOR = "vendor"
    VILLAGE_HEAD = "village_head"
    VIEWER = "viewer"


NOC = frozenset({Audience.ADMIN, Audience.OPERATOR})


class Severity(enum.IntEnum):
    INFO = 10
    WARNING = 20
    CRITICAL = 30


class Kind(enum.StrEnum):
    """What an incident is about."""

    SITE_DOWN = "site_down"  # one site is down
    UPSTREAM = "upstream"  # many sites of one vendor went down together
    FLAPPING = "flapping"  # one site keeps changing state
    MONITOR_GAP = "monitor_gap"  # the monitor itself wrote no coverage marks
    MONITOR_SUSPECT = "monitor_suspect"  # too many sites went quiet at once
    POWER_RISK = "power_risk"  # a site's battery will not last until sunrise (a forecast)
    SUMMARY = "summary"  # the daily summary; only rules that name it explicitly receive it


SITE_KINDS = frozenset({Kind.SITE_DOWN, Kind.UPSTREAM, Kind.FLAPPING, Kind.POWER_RISK})
KIND_SEVERITY = {
    Kind.SITE_DOWN: Severity.WARNING,
    Kind.FLAPPING: Severity.WARNING,
    Kind.UPSTREAM: Severity.CRITICAL,
    Kind.MONITOR_GAP: Severity.CRITICAL,
    Kind.MONITOR_SUSPECT: Severity.CRITICAL,
    Kind.POWER_RISK: Severity.WARNING,
    Kind.SUMMARY: Severity.INFO,
}


# --- routing ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SiteFacts:
    site_id: int
    village_id: int
    kecamatan_id: int | None
    vendor_ids: frozenset[int] = frozenset()
    contract_ids: frozenset[int] = frozenset()


@dataclass(frozen=True, slots=True)
class Target:
    """What a message is about: an incident's kind, severity, cause and sites."""

    kind: Kind
    severity: Severity
    cause: str = "unknown"
    sites: tuple[SiteFacts, ...] = ()


@dataclass(frozen=True, slots=True)
class RuleFacts:
    """A routing rule. Empty `kinds`/`causes` mean any; a None scope field means any."""

    rule_id: int
    channel_id: int
    audience: Audience
    level: int = 0
    kinds: frozenset[str] = frozenset()
    causes: frozenset[str] = frozenset()
    min_severity: Severity = Severity.INFO
    kecamatan_id: int | None = None
    village_id: int | None = None
    vendor_id: int | None = None
    contract_id: int | None = None


def _site_in_scope(rule: RuleFacts, site: SiteFacts) -> bool:
    return (
        (rule.kecamatan_id is None or rule.kecamatan_id == site.kecamatan_id)
        and (rule.village_id is None or rule.village_id == site.village_id)
        and (rule.vendor_id is None or rule.vendor_id in site.vendor_ids)
        and (rule.contract_id is None or rule.contract_id in site.contract_ids)
    )


def matches(rule: RuleFacts, target: Target) -> bool:
    """Whether `rule` wants to hear about `target` (at any escalation level)."""
    if target.kind is Kind.SUMMARY:
        return target.kind in rule.kinds  # opt-in only, see `subscribers`
    if target.kind not in SITE_KINDS:
        # Decision 2: the monitor's own trouble is the NOC's business alone.
        return rule.audience in NOC and (not rule.kinds or target.kind in rule.kinds)
    if rule.audience is Audience.VENDOR and rule.vendor_id is None:
        return False
    if rule.audience is Audience.VILLAGE_HEAD and rule.village_id is None:
        return False
    if rule.kinds and target.kind not in rule.kinds:
        return False
    if rule.causes and target.cause not in rule.causes:
        return False
    if target.severity < rule.min_severity:
        return False
    return any(_site_in_scope(rule, site) for site in target.sites)


def subscribers(rules: Iterable[RuleFacts], kind: Kind) -> list[RuleFacts]:
    """The level-0 rules that name `kind` explicitly, one per channel (the first by rule id).
    For messages nobody should receive by default (the daily summary): a rule with no kinds
    ("everything") does not get them."""
    chosen: dict[int, RuleFacts] = {}
    for rule in sorted(rules, key=lambda r: r.rule_id):
        if rule.level == 0 and kind in rule.kinds and rule.channel_id not in chosen:
            chosen[rule.channel_id] = rule
    return list(chosen.values())


def route(rules: Iterable[RuleFacts], target: Target, *, level: int) -> list[RuleFacts]:
    """The rules of escalation `level` that hear about `target`, one per channel (the first
    by rule id), so a channel named by two rules gets one message."""
    chosen: dict[int, RuleFacts] = {}
    for rule in sorted(rules, key=lambda r: r.rule_id):
        if rule.level == level and rule.channel_id not in chosen and matches(rule, target):
            chosen[rule.channel_id] = rule
    return list(chosen.values())


# --- grouping ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Down:
    """A site went DOWN at `at` (the backdated start the monitor declared)."""

    site_id: int
    at: datetime
    vendor_ids: frozenset[int] = frozenset()


@dataclass(frozen=True, slots=True)
class GroupingPolicy:
    window: timedelta = timedelta(minutes=2)
    min_sites: int = 5
    suspect_pct: float = 50.0


@dataclass(frozen=True, slots=True)
class Grouping:
    kind: Kind  # SITE_DOWN, UPSTREAM or MONITOR_SUSPECT
    members: tuple[Down, ...]
    vendor_id: int | None = None


def _chain(downs: Sequence[Down], around: Down, window: timedelta) -> list[Down]:
    """The downs linked to `around` by steps of at most `window` (sorted by time)."""
    ordered = sorted(downs, key=lambda d: (d.at, d.site_id))
    lo = hi = ordered.index(around)
    while lo > 0 and ordered[lo].at - ordered[lo - 1].at <= window:
        lo -= 1
    while hi + 1 < len(ordered) and ordered[hi + 1].at - ordered[hi].at <= window:
        hi += 1
    return ordered[lo : hi + 1]


def _densest(downs: Sequence[Down], window: timedelta) -> int:
    """The most distinct sites down within any span of length `window`."""
    ordered = sorted(downs, key=lambda d: d.at)
    best = lo = 0
    for hi in range(len(ordered)):
        while ordered[hi].at - ordered[lo].at > window:
            lo += 1
        best = max(best, len({d.site_id for d in ordered[lo : hi + 1]}))
    return best


def classify_down(
    down: Down, recent: Sequence[Down], *, monitored: int, policy: GroupingPolicy
) -> Grouping:
    """Is `down` one site's outage, part of a vendor's upstream incident, or part of so many
    sites going quiet at once that the monitor or the shared upstream is suspected?

    `recent` is every DOWN near `down` (it may include `down`); `monitored` is how many sites
    were being watched. The members returned are the whole chain of downs linked to `down` by
    steps of at most `policy.window`, so an incident lists every site it swept up.
    """
    pool = list({(d.site_id, d.at): d for d in [*recent, down]}.values())
    everyone = _chain(pool, down, policy.window)
    threshold = max(policy.min_sites, math.ceil(monitored * policy.suspect_pct / 100))
    if _densest(everyone, policy.window) >= threshold:
        return Grouping(Kind.MONITOR_SUSPECT, tuple(everyone))
    for vendor_id in sorted(down.vendor_ids):
        same = [d for d in pool if vendor_id in d.vendor_ids]
        chain = _chain(same, down, policy.window)
        if _densest(chain, policy.window) >= policy.min_sites:
            return Grouping(Kind.UPSTREAM, tuple(chain), vendor_id)
    return Grouping(Kind.SITE_DOWN, (down,))


# --- flapping ---------------------------------------------------------------------------------


def is_flapping(
    changes: Iterable[datetime], *, now: datetime, window: timedelta, max_flips: int
) -> bool:
    """More than `max_flips` state changes in (now - window, now]."""
    return sum(1 for at in changes if now - window < at <= now) > max_flips


def is_stable(last_change: datetime, *, now: datetime, stable_for: timedelta) -> bool:
    return now - last_change >= stable_for


# --- coverage ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Gap:
    """The monitor wrote nothing from `start` (its last mark) to `end` (its next mark);
    `end` is None while the gap is still open."""

    start: datetime
    end: datetime | None


def coverage_gaps(marks: Sequence[datetime], *, now: datetime, longer_than: timedelta) -> list[Gap]:
    """Gaps between consecutive marks longer than `longer_than`, and an open one at the end if
    the last mark is older than that. No marks at all: no gaps (the monitor never ran)."""
    ordered = sorted(marks)
    gaps = [Gap(a, b) for a, b in pairwise(ordered) if b - a > longer_than]
    if ordered and now - ordered[-1] > longer_than:
        gaps.append(Gap(ordered[-1], None))
    return gaps


# --- escalation, reminders, retries -----------------------------------------------------------


def escalation_due(
    *, opened_at: datetime, acknowledged: bool, now: datetime, after: timedelta
) -> bool:
    """An incident still unacknowledged `after` its opening goes to the next level."""
    return not acknowledged and now - opened_at >= after


def reminders_due(*, since: datetime, now: datetime, every: timedelta) -> int:
    """How many reminders an unacknowledged incident has earned since `since` (0 if off)."""
    if every <= timedelta(0) or now < since:
        return 0
    return (now - since) // every


def retry_delay(attempt: int, *, base: timedelta, cap: timedelta) -> timedelta:
    """Backoff after failed attempt number `attempt` (1-based): base, 2 base, 4 base... cap."""
    factor: int = 2 ** max(0, min(attempt - 1, 30))
    return min(cap, base * factor)


# --- secrets in channel URLs ------------------------------------------------------------------

_ENV_REF = re.compile(r"\{env:([A-Za-z_][A-Za-z0-9_]*)\}")
_SECRET_QUERY_KEYS = frozenset(
    {"token", "key", "apikey", "api_key", "secret", "password", "pass", "pwd", "access",
     "access_token", "auth", "bot", "webhook", "signature", "sig"}
)
_TOKENISH = re.compile(r"[A-Za-z0-9_\-:.~%]{12,}")


def expand_env(url: str, env: Mapping[str, str]) -> str:
    """Replace each `{env:NAME}` with the variable's value; KeyError names a missing one."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in env:
            raise KeyError(name)
        return env[name]

    return _ENV_REF.sub(value, url)


def _secretish(part: str) -> bool:
    """A URL part that looks like a credential: long, not a plain number, not a host name."""
    if len(part) < 12 or _ENV_REF.fullmatch(part):
        return False
    plain = part.lstrip("+-")
    if plain.isdigit():
        return False  # chat ids, phone numbers
    if "." in part and re.fullmatch(r"[A-Za-z0-9.\-]+", part):
        return False  # host names, addresses
    if "@" in part:
        return False  # e-mail addresses
    return _TOKENISH.fullmatch(part) is not None


def secret_parts(url: str) -> list[str]:
    """The parts of an Apprise URL to keep out of sight: the password, long token-like path
    and host parts (a Telegram bot token, a WhatsApp access token), values of secret-named
    query parameters. Longest first, so masking replaces whole secrets."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        rest = scheme
    main, _, query = rest.partition("?")
    found: set[str] = set()
    authority, _, path = main.partition("/")
    if "@" in authority:
        userinfo, _, host = authority.rpartition("@")
        user, colon, password = userinfo.partition(":")
        if colon and password:
            found.add(password)
        if _secretish(user):
            found.add(user)
    else:
        host = authority
    # Telegram writes its bot token as "123456:ABC…" where a host:port would be, and a forum
    # topic as "-100123:7": judge each colon-separated piece on its own.
    for segment in [host, *path.split("/")]:
        found.update(part for part in segment.split(":") if _secretish(part))
    for pair in query.split("&"):
        name, eq, val = pair.partition("=")
        if eq and val and (name.lower().lstrip("+-:") in _SECRET_QUERY_KEYS or _secretish(val)):
            found.add(val)
    return sorted((p for p in found if not _ENV_REF.fullmatch(p)), key=len, reverse=True)


def _mask_one(secret: str) -> str:
    return secret[:3] + "…" if len(secret) >= 8 else "…"


def mask_url(url: str, *, extra: Sequence[str] = ()) -> str:
    """`url` with every secret part shortened to its first three characters and "…"."""
    return scrub(url, [*secret_parts(url), *extra])


def scrub(text: str, secrets: Iterable[str], mask: Callable[[str], str] = _mask_one) -> str:
    """Replace every occurrence of each secret in `text` (error messages, logs) by its mask."""
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        text = text.replace(secret, mask(secret))
    return text


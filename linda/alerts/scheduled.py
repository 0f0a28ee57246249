"""The planner's two clock-driven steps, after the incidents (they belong to no incident):

- **The daily summary** (`plan_summaries`): from `LINDA_ALERT_SUMMARY_HOUR` WIB each day, one
  message about yesterday (WIB) to each channel of a level-0 rule that names the kind
  `summary`, over that rule's scope. Dedupe key `summary:<yesterday>:<channel>`.
- **"Will go dark tonight"** (`plan_power_risks`): each WIB evening (from
  `LINDA_ALERT_POWER_RISK_FROM_HOUR` until sunrise, `LINDA_ALERT_SUNRISE_HOUR`), at most every
  `LINDA_ALERT_POWER_RISK_EVERY_S`, every battery site with a fresh state of charge is
  forecast (`linda.energy.selectors`); a site whose pessimistic (10th percentile) hours to the
  low-voltage disconnect end before sunrise is told once that night to the channels its
  `power_risk` routing reaches (NOC, the village head, a vendor whose rule allows the kind and
  the cause `power`). Dedupe key `power_risk:<evening's date>:<site>:<channel>`.

Both store notifications with unique dedupe keys, so a second planner pass, a restart or a
second planner stores nothing twice; the delivery worker sends them like any other.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db import IntegrityError, transaction
from django.db.models import Q

from linda.alerts import conf, selectors
from linda.alerts.messages import Message, render_power_risk, render_summary
from linda.alerts.models import Notification, NotificationKind, PlannerState
from linda.domain.alerting import KIND_SEVERITY, Kind, RuleFacts, Target, route, subscribers

log = logging.getLogger("linda.alerts")
WIB = ZoneInfo("Asia/Jakarta")


def store(*, key: str, rule: RuleFacts, kind: str, message: Message, now: datetime) -> bool:
    """Store one incident-less notification; False if its key was stored already."""
    try:
        with transaction.atomic():
            Notification.objects.create(
                rule_id=rule.rule_id, channel_id=rule.channel_id, kind=kind, dedupe_key=key,
                title=message.title, body=message.body, notify_type=message.notify_type,
                created_at=now, next_attempt_at=now,
            )
    except IntegrityError:
        return False  # stored by an earlier pass, or by another planner
    return True


def _stored(keys: Sequence[str]) -> set[str]:
    return set(Notification.objects.filter(dedupe_key__in=keys).values_list("dedupe_key",
                                                                             flat=True))


# --- the daily summary ------------------------------------------------------------------------


def summary_day(now: datetime) -> date | None:
    """The WIB day whose summary is due at `now` (yesterday), or None before the hour."""
    local = now.astimezone(WIB)
    if local.hour < conf.count("LINDA_ALERT_SUMMARY_HOUR"):
        return None
    return local.date() - timedelta(days=1)


def plan_summaries(rules: Sequence[RuleFacts], languages: dict[int, str], *,
                   now: datetime) -> int:
    """Store yesterday's summary for every subscribed channel that has none yet."""
    day = summary_day(now)
    chosen = subscribers(rules, Kind.SUMMARY)
    if day is None or not chosen:
        return 0
    keys = {r.channel_id: f"summary:{day.isoformat()}:{r.channel_id}" for r in chosen}
    done = _stored(list(keys.values()))
    stored = 0
    for rule in chosen:
        if keys[rule.channel_id] in done:
            continue
        summary = selectors.daily_summary(rule, day=day, now=now)
        message = render_summary(summary, lang=languages.get(rule.channel_id, "id"))
        stored += store(key=keys[rule.channel_id], rule=rule, kind=NotificationKind.SUMMARY,
                        message=message, now=now)
    if stored:
        log.info("daily summary of %s stored for %d channels", day, stored)
    return stored


# --- will it go dark tonight ------------------------------------------------------------------


def evening(now: datetime) -> tuple[date, datetime] | None:
    """(the evening's WIB date, the coming sunrise) when `now` is in a WIB evening or night
    (from the evening hour until sunrise), else None. After midnight the night still belongs
    to the evening before."""
    local = now.astimezone(WIB)
    starts, sunrise_h = (conf.count("LINDA_ALERT_POWER_RISK_FROM_HOUR"),
                         conf.count("LINDA_ALERT_SUNRISE_HOUR"))
    if local.hour >= starts:
        night_of = local.date()
    elif local.hour < sunrise_h:
        night_of = local.date() - timedelta(days=1)
    else:
        return None
    sunrise = datetime.combine(night_of + timedelta(days=1), time(sunrise_h), tzinfo=WIB)
    return night_of, sunrise


def _due(now: datetime, state_name: str) -> bool:
    """Claim this evaluation: at most one every LINDA_ALERT_POWER_RISK_EVERY_S."""
    every = conf.seconds("LINDA_ALERT_POWER_RISK_EVERY_S")
    stale = Q(power_risk_checked_at__isnull=True) | Q(power_risk_checked_at__lte=now - every)
    return PlannerState.objects.filter(stale, name=state_name).update(
        power_risk_checked_at=now) == 1


def plan_power_risks(rules: Sequence[RuleFacts], languages: dict[int, str], *,
                     now: datetime, state_name: str) -> int:
    """Forecast tonight's batteries and store "will go dark tonight" where it is due."""
    night = evening(now)
    if night is None or not rules or not _due(now, state_name):
        return 0
    night_of, sunrise = night
    stored = 0
    for site, soc, measured_at in selectors.battery_sites(now):
        facts = selectors.site_facts([site.pk]).get(site.pk)
        if facts is None or selectors.under_maintenance(site.pk, now):
            continue
        target = Target(kind=Kind.POWER_RISK, severity=KIND_SEVERITY[Kind.POWER_RISK],
                        cause="power", sites=(facts,))
        routed = route(rules, target, level=0)
        keys = {r.channel_id: f"power_risk:{night_of.isoformat()}:{site.pk}:{r.channel_id}"
                for r in routed}
        done = _stored(list(keys.values()))
        todo = [r for r in routed if keys[r.channel_id] not in done]
        if not todo:
            continue  # nobody to tell, or told already tonight
        try:
            risk = selectors.power_risk(site, soc_pct=soc, measured_at=measured_at, now=now,
                                        sunrise=sunrise)
        except (ValueError, ArithmeticError):
            log.exception("battery forecast for %s failed", site.code)
            continue
        if not risk.goes_dark:
            continue
        for rule in todo:
            message = render_power_risk(risk, lang=languages.get(rule.channel_id, "id"),
                                        now=now, sunrise=sunrise)
            stored += store(key=keys[rule.channel_id], rule=rule,
                            kind=NotificationKind.POWER_RISK, message=message, now=now)
        log.info("site %s may go dark tonight (p10 %.1f h, sunrise in %.1f h)", site.code,
                 risk.hours_p10 or 0.0, risk.hours_to_sunrise)
    return stored

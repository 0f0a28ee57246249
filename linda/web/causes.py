"""The dashboard's "downtime this month by cause": every visible monitored site's outages of
the WIB month, attributed by the report's rules (linda.sla.outages), summed per cause.

It reads the evidence of every outage, so it is computed once per scope every few minutes
and shared through the cache; the dashboard loads it after the page (htmx), so the page
itself never waits for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.cache import cache

from linda.accounts.selectors import User
from linda.domain.attribution import Cause
from linda.registry.selectors import visible_sites
from linda.sla.models import CauseChoice
from linda.sla.outages import recent_outages
from linda.sla.selectors import get_sla_settings
from linda.web.selectors import site_history

CACHE_S = 300


@dataclass(frozen=True, slots=True)
class CauseShare:
    cause: str
    label: str
    down_s: int
    share: float  # of all DOWN time in the month, 0..1


def _scope_key(user: User) -> str:
    profile = getattr(user, "profile", None)
    if profile is None or user.is_superuser:
        return "all"
    return f"{profile.role}:{profile.vendor_id}:{profile.village_id}"


def downtime_by_cause(user: User, *, month_start: datetime, now: datetime) -> list[CauseShare]:
    key = f"linda:causes:{_scope_key(user)}:{month_start.isoformat()}"
    cached: list[CauseShare] | None = cache.get(key)
    if cached is not None:
        return cached
    settings = get_sla_settings()
    totals = {cause: timedelta(0) for cause in Cause}
    sites = visible_sites(user).filter(monitoring_state__isnull=False).select_related(
        "village", "village__parent")
    for site in sites:
        history = site_history(site, month_start - timedelta(days=1), now, now)
        for outage in recent_outages(site, start=month_start, end=now, now=now,
                                     settings=settings, intervals=history):
            totals[outage.cause] += min(outage.end, now) - max(outage.start, month_start)
    whole = sum(totals.values(), timedelta(0))
    shares = [
        CauseShare(cause=c.value, label=str(CauseChoice(c.value).label),
                   down_s=int(totals[c].total_seconds()),
                   share=totals[c] / whole if whole else 0.0)
        for c in Cause
    ]
    cache.set(key, shares, CACHE_S)
    return shares

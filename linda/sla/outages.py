"""Recent outages with their probable cause and responsibility, for the web pages (a site's
last 30 days, the dashboard's downtime by cause).

The rules are the monthly report's (`linda.domain.attribution`, DESIGN decision 5) with the
same evidence (`heartbeat_evidence`) and the same overrides. The one difference is how the
upstream context is found: the report computes every site of the vendor over the month; a
page asks the stored intervals (and the live states) which other sites of the same vendor
went DOWN within the upstream window of each outage start, one query per page. The signed
monthly report stays the reference for money.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Q

from linda.domain.attribution import Cause, Evidence, Responsibility, attribute, responsibility_for
from linda.domain.status import Interval, Span, outages
from linda.monitoring.models import SiteState, StateChoice, StatusInterval
from linda.monitoring.selectors import get_site_intervals
from linda.registry.models import Contract, Site
from linda.sla.calc import SlaSettings, fill_unknown, upstream_settings
from linda.sla.selectors import (
    NoTermsError,
    get_sla_settings,
    get_terms_in_force,
    heartbeat_evidence,
    imported_intervals,
    latest_overrides,
    site_info,
)

# What a site's power outages are when no contract names who answers for them.
DEFAULT_POWER_RESPONSIBILITY = Responsibility.REGENCY


@dataclass(frozen=True, slots=True)
class RecentOutage:
    start: datetime
    end: datetime
    ongoing: bool
    cause: Cause
    responsibility: Responsibility
    evidence: tuple[str, ...]
    concurrent_sites: int
    overridden: bool

    @property
    def duration(self) -> timedelta:
        return self.end - self.start


def _vendor_ids(site: Site) -> list[int]:
    return list(Contract.objects.filter(sites=site).values_list("vendor_id", flat=True)
                .distinct())


def _power_responsibility(site: Site, on: date) -> Responsibility:
    for contract in Contract.objects.filter(sites=site, starts_on__lte=on, ends_on__gte=on):
        try:
            terms = get_terms_in_force(contract, on.year, on.month)
        except NoTermsError:
            continue
        return Responsibility(terms.power_outage_responsibility)
    return DEFAULT_POWER_RESPONSIBILITY


def _vendor_intervals(site: Site) -> list[timedelta]:
    """The heartbeat intervals of the monitored sites of the site's vendors (and its own):
    the upstream window is at least the longest + a minute, as in the report."""
    seconds = SiteState.objects.filter(
        Q(site__contracts__vendor_id__in=_vendor_ids(site)) | Q(site=site)
    ).values_list("site__expected_interval_s", flat=True).distinct()
    return [timedelta(seconds=s) for s in seconds]


def concurrent_outage_counts(site: Site, starts: Sequence[datetime], *,
                             window: timedelta) -> dict[datetime, int]:
    """Per outage start: other sites of the same vendor whose DOWN began within `window`."""
    vendors = _vendor_ids(site)
    if not starts or not vendors:
        return {at: 0 for at in starts}
    others = (Site.objects.filter(contracts__vendor_id__in=vendors).exclude(pk=site.pk)
              .values("pk"))
    near = Q()
    for at in starts:
        near |= Q(start__gte=at - window, start__lte=at + window)
    rows = list(StatusInterval.objects.filter(near, site__in=others, state=StateChoice.DOWN)
                .values_list("site_id", "start"))
    live_near = Q()
    for at in starts:
        live_near |= Q(state_since__gte=at - window, state_since__lte=at + window)
    rows += list(SiteState.objects.filter(live_near, site__in=others, state=StateChoice.DOWN)
                 .values_list("site_id", "state_since"))
    return {at: len({pk for pk, began in rows if abs(began - at) <= window}) for at in starts}


def recent_outages(site: Site, *, start: datetime, end: datetime, now: datetime,
                   settings: SlaSettings | None = None,
                   intervals: Sequence[Interval] | None = None) -> list[RecentOutage]:
    """The site's outages overlapping [start, end), newest first, each attributed.
    `intervals` may pass the site's intervals when the caller has them already (from at
    least a day before `start`, so an outage that began earlier keeps its real start)."""
    settings = settings or get_sla_settings()
    settings = dataclasses.replace(settings, attribution=upstream_settings(
        settings.attribution, _vendor_intervals(site)))
    info = site_info(site)
    lookback = timedelta(days=1)
    if intervals is None:
        intervals = fill_unknown(
            get_site_intervals(site, start - lookback, end, now),
            imported_intervals([site], start - lookback, min(end, now)).get(site.pk, []),
        )
    runs = [run for run in outages(intervals) if run.end > start and run.start < end]
    counts = concurrent_outage_counts(site, [r.start for r in runs],
                                      window=settings.attribution.upstream_window)
    overrides = latest_overrides([site.pk], start - lookback, end)
    result: list[RecentOutage] = []
    for run in runs:
        evidence: Evidence = dataclasses.replace(
            heartbeat_evidence(info, run, now), concurrent_sites=counts[run.start])
        auto = attribute(run, evidence, info.power, settings.attribution)
        power_resp = _power_responsibility(site, run.start.date())
        cause = auto.cause
        override = overrides.get((site.pk, run.start))
        if override is not None and override.cause is not None:
            cause = override.cause
        resp = responsibility_for(cause, power_outage_responsibility=power_resp)
        if override is not None and override.responsibility is not None:
            resp = override.responsibility
        result.append(RecentOutage(
            start=run.start, end=run.end, ongoing=run.end >= end, cause=cause,
            responsibility=resp, evidence=auto.evidence, concurrent_sites=counts[run.start],
            overridden=override is not None))
    return sorted(result, key=lambda o: o.start, reverse=True)


def downtime_by_cause(sites: Iterable[Site], *, start: datetime, end: datetime,
                      now: datetime) -> dict[Cause, timedelta]:
    """DOWN time inside [start, end) per probable cause over `sites`."""
    settings = get_sla_settings()
    totals = {cause: timedelta(0) for cause in Cause}
    window = Span(start, end)
    for site in sites:
        for outage in recent_outages(site, start=start, end=end, now=now, settings=settings):
            overlap = min(outage.end, window.end) - max(outage.start, window.start)
            if overlap > timedelta(0):
                totals[outage.cause] += overlap
    return totals

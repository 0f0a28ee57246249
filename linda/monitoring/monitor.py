"""The monitor loop's work: coverage marks, live state flips, materialized intervals.

Nothing here keeps state in memory between ticks: every decision is read from the database
and every flip is a conditional UPDATE on the row's version, so any number of monitors may
run at once (decision 8) and a flip happens exactly once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial

from django.db import transaction
from django.db.models import F, Max
from django.utils import timezone

from linda.alerts.services import record_status_change
from linda.domain.status import State, clip, live_status, require_aware
from linda.monitoring.models import CoverageMark, SiteState, StateChoice, StatusInterval
from linda.monitoring.selectors import engine_input, excluded_site_ids, max_gap, site_timing
from linda.registry.models import Site

log = logging.getLogger("linda.monitor")


@dataclass(frozen=True, slots=True)
class Flip:
    site_id: int
    old: str
    new: str
    since: datetime


@dataclass
class TickResult:
    stretch_start: datetime
    restarted: bool
    flips: list[Flip] = field(default_factory=list)


def write_mark(*, monitor_id: str, now: datetime) -> tuple[datetime, bool]:
    """Write a coverage mark at `now`; return the start of the current watched stretch and
    whether this mark begins a new one (no mark in the last LINDA_MONITOR_MAX_GAP_S)."""
    gap = max_gap()
    horizon = _longest_wait() + 2 * gap
    with transaction.atomic():
        recent = list(
            CoverageMark.objects.filter(at__gte=now - horizon, at__lte=now)
            .order_by("at").values_list("at", flat=True)
        )
        CoverageMark.objects.create(at=now, monitor_id=monitor_id)
    if not recent or now - recent[-1] > gap:
        return now, True
    start = recent[-1]
    for earlier in reversed(recent[:-1]):
        if start - earlier > gap:
            break
        start = earlier
    # A stretch reaching back past the horizon started long enough ago not to matter.
    return start, False


def _longest_wait() -> timedelta:
    longest = Site.objects.aggregate(m=Max(F("expected_interval_s") + F("grace_s")))["m"]
    return timedelta(seconds=longest or 240)


def flip(row: SiteState, new: str, since: datetime) -> Flip | None:
    """Change a site's live state if nobody changed it since we read it (one winner)."""
    won = SiteState.objects.filter(pk=row.pk, version=row.version).update(
        state=new, state_since=since, version=row.version + 1
    ) == 1
    if not won:
        return None
    done = Flip(row.pk, row.state, new, since)
    # The alert worker decides who hears of it (grouping, flapping, monitor outages); the
    # event is written only once the flip is committed.
    transaction.on_commit(partial(
        record_status_change, site_id=done.site_id, old_state=done.old, new_state=done.new,
        at=done.since, cause_hint=""), robust=True)
    return done


def desired_state(
    row: SiteState, *, now: datetime, stretch_start: datetime, excluded_since: datetime | None
) -> tuple[str, datetime] | None:
    """The state the monitor should give a site now, with its start; None to leave it.

    The monitor never declares UP (only a live heartbeat does): it declares DOWN once the last
    point is more than I + G old, backdated to that point + I (decision 3), EXCLUDED inside a
    maintenance window, and UNKNOWN when a window ends before the site is seen again.
    """
    if excluded_since is not None:
        if row.state == StateChoice.EXCLUDED:
            return None
        return StateChoice.EXCLUDED, max(excluded_since, row.state_since)
    if row.state == StateChoice.DOWN:
        return None
    interval, grace = site_timing(row.site)
    point = max(p for p in (row.last_live_at, stretch_start, row.activated_at) if p is not None)
    overdue = live_status(last_point=point, now=now, interval=interval, grace=grace) is State.DOWN
    if row.state == StateChoice.EXCLUDED:
        return (StateChoice.DOWN if overdue else StateChoice.UNKNOWN), now
    if overdue:
        return StateChoice.DOWN, max(point + interval, row.state_since)
    return None


def tick(*, monitor_id: str, now: datetime | None = None) -> TickResult:
    """One pass of the monitor: mark coverage, then flip every site that is due."""
    now = require_aware(now or timezone.now(), "now")
    stretch_start, restarted = write_mark(monitor_id=monitor_id, now=now)
    result = TickResult(stretch_start=stretch_start, restarted=restarted)
    if restarted:
        # The monitor was dark: nobody knows what happened meanwhile. Sites stay UNKNOWN until
        # seen again, and each gets a fresh I + G from now before it can go DOWN.
        n = SiteState.objects.filter(
            state__in=[StateChoice.UP, StateChoice.DOWN], activated_at__lte=now
        ).update(state=StateChoice.UNKNOWN, state_since=now, version=F("version") + 1)
        log.warning("coverage resumed at %s after a gap: %d sites UNKNOWN until seen", now, n)
    excluded = excluded_site_ids(now)
    rows = SiteState.objects.filter(activated_at__lte=now).select_related("site")
    for row in rows:
        wanted = desired_state(row, now=now, stretch_start=stretch_start,
                               excluded_since=excluded.get(row.pk))
        if wanted is None:
            continue
        done = flip(row, wanted[0], wanted[1])
        if done is not None:
            result.flips.append(done)
            log.info("site %s: %s -> %s since %s", row.site.code, done.old, done.new, done.since)
    return result


# --- the stored SLA record ------------------------------------------------------------------


def materialize_intervals(site: Site, until: datetime) -> int:
    """Store the site's StatusInterval rows for closed time before `until`; return how many.

    Time is closed once no future mark or heartbeat can change it: up to
    min(until, last coverage mark) - (I + G). Each call continues from where the last one
    stopped, computing again from the last point the site was known alive so the stored
    rows equal one computation over the whole timeline. Safe to run from several monitors.
    """
    until = require_aware(until, "until")
    state = SiteState.objects.filter(site=site).first()
    last_mark = CoverageMark.objects.filter(at__lte=until).aggregate(m=Max("at"))["m"]
    if state is None or last_mark is None:
        return 0
    interval, grace = site_timing(site)
    closed = min(until, last_mark) - (interval + grace)
    done_until = state.materialized_until or state.activated_at
    if closed <= done_until:
        return 0
    origin = state.materialized_anchor or state.activated_at
    data = engine_input(site, start=origin, until=until)
    new = clip(data.compute(), done_until, closed)
    rows = [StatusInterval(site=site, start=iv.start, end=iv.end, state=iv.state,
                           degraded=iv.degraded) for iv in new]
    with transaction.atomic():
        claimed = SiteState.objects.filter(
            pk=state.pk, materialized_until=state.materialized_until
        ).update(materialized_until=closed, materialized_anchor=data.last_point(closed))
        if claimed != 1:
            return 0  # another monitor stored this stretch first
        StatusInterval.objects.bulk_create(rows)
    return len(rows)


def materialize_all(until: datetime) -> int:
    return sum(
        materialize_intervals(site, until)
        for site in Site.objects.filter(monitoring_state__isnull=False).select_related("village")
    )

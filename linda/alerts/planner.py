"""The planner: status-change events and coverage marks in, incidents and stored notifications
out. It sends nothing itself (that is `linda.alerts.delivery`).

One planner runs at a time (a lease taken with a conditional UPDATE on `PlannerState`), so its
grouping decisions never race; every notification it stores has a unique `dedupe_key`, so a
planner that dies half-way and runs again stores nothing twice.

Each pass, at `now`:
1. coverage: gaps in the monitor's marks become MONITOR_GAP incidents, told to the NOC only;
2. a safety sweep: a site DOWN in the live state with no event for it gets one;
3. events, oldest first: a DOWN waits `LINDA_ALERT_HOLD_S` to see whether others join it,
   then becomes its own incident, a vendor's upstream incident, a monitor-suspect incident,
   or nothing (maintenance, coverage gap, flapping); an UP recovers the site's incidents;
4. reconcile: members that are UP again (from the live state) recover; flapping that has been
   quiet long enough ends; incidents whose members are all back close;
5. announce and escalate: new and grown incidents are told to the routed channels; the
   unacknowledged ones escalate and remind;
6. clock-driven messages (`linda.alerts.scheduled`): yesterday's daily summary from the
   summary hour, and "will go dark tonight" from the evening's battery forecasts.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Q

from linda.alerts import conf, scheduled, selectors
from linda.alerts.messages import render
from linda.alerts.models import (
    AlertEvent,
    Channel,
    EventOutcome,
    Incident,
    IncidentSite,
    Notification,
    NotificationKind,
    PlannerState,
)
from linda.domain.alerting import (
    KIND_SEVERITY,
    Down,
    Kind,
    RuleFacts,
    classify_down,
    coverage_gaps,
    escalation_due,
    is_flapping,
    is_stable,
    reminders_due,
    route,
)
from linda.monitoring.models import CoverageMark, SiteState, StateChoice

log = logging.getLogger("linda.alerts")

PLANNER = "planner"
PLANNER_LEASE = timedelta(seconds=60)
COVERAGE_LOOKBACK = timedelta(hours=1)
SWEEP_LOOKBACK = timedelta(hours=6)
GROUP_KINDS = (Kind.UPSTREAM, Kind.MONITOR_SUSPECT)


@dataclass
class PlanResult:
    planned: bool = False
    events: int = 0
    incidents: list[int] = field(default_factory=list)
    notifications: int = 0


# --- the lease --------------------------------------------------------------------------------


def take_lease(worker: str, now: datetime) -> bool:
    PlannerState.objects.get_or_create(name=PLANNER)
    free = Q(lease_until__isnull=True) | Q(lease_until__lt=now) | Q(holder=worker)
    return PlannerState.objects.filter(free, name=PLANNER).update(
        holder=worker, lease_until=now + PLANNER_LEASE
    ) == 1


def release_lease(worker: str) -> None:
    PlannerState.objects.filter(name=PLANNER, holder=worker).update(lease_until=None)


def plan(*, now: datetime, worker: str) -> PlanResult:
    result = PlanResult()
    if not take_lease(worker, now):
        return result
    result.planned = True
    planner = _Planner(now, result)
    planner.check_coverage()
    planner.sweep_missed()
    planner.handle_events()
    planner.reconcile()
    planner.announce_all()
    planner.escalate_all()
    planner.scheduled()
    return result


# --- the work ---------------------------------------------------------------------------------


class _Planner:
    def __init__(self, now: datetime, result: PlanResult) -> None:
        self.now = now
        self.result = result
        self.rules: list[RuleFacts] = selectors.rule_facts()
        self.languages = dict(Channel.objects.values_list("pk", "language"))
        self.policy = conf.grouping_policy()
        self.flap = conf.flap_policy()
        self.hold = conf.seconds("LINDA_ALERT_HOLD_S")
        self.gaps: list[tuple[datetime, datetime]] = []

    # 1. coverage ------------------------------------------------------------------------------

    def check_coverage(self) -> None:
        state = PlannerState.objects.get(name=PLANNER)
        since = state.coverage_checked_at or self.now - COVERAGE_LOOKBACK
        before = CoverageMark.objects.filter(at__lt=since).order_by("-at").values_list(
            "at", flat=True).first()
        marks = list(CoverageMark.objects.filter(at__gte=since, at__lte=self.now)
                     .order_by("at").values_list("at", flat=True))
        if before is not None:
            marks.insert(0, before)
        longer_than = conf.seconds("LINDA_ALERT_MONITOR_GAP_S")
        for gap in coverage_gaps(marks, now=self.now, longer_than=longer_than):
            self._gap_incident(gap.start, gap.end)
        if marks:
            PlannerState.objects.filter(name=PLANNER).update(coverage_checked_at=marks[-1])
        for inc in Incident.objects.filter(kind=Kind.MONITOR_GAP).filter(
            Q(closed_at__isnull=True) | Q(closed_at__gte=self.now - SWEEP_LOOKBACK)
        ):
            self.gaps.append((inc.opened_at, inc.closed_at or self.now))

    def _gap_incident(self, start: datetime, end: datetime | None) -> None:
        key = f"gap:{start.isoformat()}"
        incident = Incident.objects.filter(key=key).first()
        if incident is None:
            incident = self._open(Kind.MONITOR_GAP, opened_at=start, key=key, cause="monitor")
            log.warning("monitor coverage gap since %s", start)
        if end is not None and incident.closed_at is None:
            self._close(incident, end)

    # 2. the safety sweep ----------------------------------------------------------------------

    def sweep_missed(self) -> None:
        """A DOWN the monitor flipped but whose event never arrived (on_commit lost in a crash)
        is recorded here, so the alert is late rather than missing."""
        rows = SiteState.objects.filter(state=StateChoice.DOWN,
                                        state_since__gte=self.now - SWEEP_LOOKBACK,
                                        state_since__lte=self.now - self.hold)
        for site_id, since in rows.values_list("site_id", "state_since"):
            seen = AlertEvent.objects.filter(site_id=site_id, new_state=StateChoice.DOWN,
                                             at__gte=since).exists()
            if not seen:
                AlertEvent.objects.create(site_id=site_id, old_state="", at=since,
                                          new_state=StateChoice.DOWN, cause_hint="sweep",
                                          recorded_at=self.now)

    # 3. events --------------------------------------------------------------------------------

    def handle_events(self) -> None:
        waiting: set[int] = set()
        pending = AlertEvent.objects.filter(processed_at__isnull=True).order_by("at", "pk")
        for event in pending.select_related("site"):
            if event.site_id in waiting:
                continue  # a site's events are handled in order
            fresh = AlertEvent.objects.filter(pk=event.pk, processed_at__isnull=True).first()
            if fresh is None:
                continue  # swept into a group earlier in this pass
            if event.new_state == StateChoice.DOWN:
                done = self._down(fresh)
            elif event.new_state == StateChoice.UP:
                done = self._up(fresh)
            else:
                self._done(fresh, EventOutcome.IGNORED)
                done = True
            if not done:
                waiting.add(event.site_id)
            self.result.events += done

    def _done(self, event: AlertEvent, outcome: str, incident: Incident | None = None) -> None:
        AlertEvent.objects.filter(pk=event.pk, processed_at__isnull=True).update(
            processed_at=self.now, outcome=outcome, incident=incident)

    def _in_gap(self, at: datetime) -> bool:
        return any(start <= at <= end for start, end in self.gaps)

    def _down(self, event: AlertEvent) -> bool:
        if self._in_gap(event.at) or event.cause_hint == "monitor":
            self._done(event, EventOutcome.MONITOR)
            return True
        if selectors.under_maintenance(event.site_id, event.at):
            self._done(event, EventOutcome.MAINTENANCE)
            return True
        flapping = selectors.open_incidents([Kind.FLAPPING]).filter(
            members__site_id=event.site_id).first()
        if flapping is not None:
            self._touch(flapping, event.at)
            self._done(event, EventOutcome.FLAPPING, flapping)
            return True
        changes = selectors.site_changes(event.site_id, event.at - self.flap.window)
        if is_flapping(changes, now=event.at, window=self.flap.window,
                       max_flips=self.flap.max_flips):
            self._flapping(event, len(changes))
            return True
        vendors = selectors.vendor_ids_by_site([event.site_id]).get(event.site_id, frozenset())
        if self._join_open_group(event, vendors):
            return True
        if self.now < event.recorded_at + self.hold:
            return False
        self._classify(event, vendors)
        return True

    def _flapping(self, event: AlertEvent, flips: int) -> None:
        for inc in selectors.open_incidents([Kind.SITE_DOWN]).filter(
                members__site_id=event.site_id):
            # Folded into the flapping alert: it ends when the site is stable, not at each UP.
            self._close(inc, event.at, silent=True)
        incident = self._open(Kind.FLAPPING, opened_at=event.at, cause=event.cause_hint,
                              sites=[(event.site_id, event.at)], flips=flips)
        self._done(event, EventOutcome.FLAPPING, incident)

    def _join_open_group(self, event: AlertEvent, vendors: frozenset[int]) -> bool:
        """An open upstream/monitor-suspect incident still growing takes a DOWN at once."""
        window = self.policy.window
        for incident in selectors.open_incidents(GROUP_KINDS).order_by("kind"):
            if incident.kind == Kind.UPSTREAM and incident.vendor_id not in vendors:
                continue
            if not (incident.last_change_at - window <= event.at <= incident.last_change_at
                    + window):
                continue
            self._add_member(incident, event.site_id, event.at)
            self._done(event, EventOutcome.GROUPED, incident)
            return True
        return False

    def _classify(self, event: AlertEvent, vendors: frozenset[int]) -> None:
        reach = self.policy.window * 10
        nearby = list(AlertEvent.objects.filter(
            new_state=StateChoice.DOWN, at__gte=event.at - reach, at__lte=event.at + reach,
        ).exclude(outcome__in=[EventOutcome.MAINTENANCE, EventOutcome.MONITOR])
            .values_list("pk", "site_id", "at"))
        vendor_map = selectors.vendor_ids_by_site(site for _, site, _ in nearby)
        downs = [Down(site, at, vendor_map.get(site, frozenset())) for _, site, at in nearby]
        me = Down(event.site_id, event.at, vendors)
        grouping = classify_down(me, downs, monitored=selectors.monitored_count(self.now),
                                 policy=self.policy)
        if grouping.kind == Kind.SITE_DOWN:
            existing = selectors.open_incidents([Kind.SITE_DOWN]).filter(
                members__site_id=event.site_id, members__recovered_at__isnull=True).first()
            incident = existing or self._open(
                Kind.SITE_DOWN, opened_at=event.at, cause=event.cause_hint or "unknown",
                sites=[(event.site_id, event.at)])
            self._done(event, EventOutcome.GROUPED if existing else EventOutcome.OPENED,
                       incident)
            return
        incident = self._open(
            grouping.kind, opened_at=min(d.at for d in grouping.members),
            cause="upstream" if grouping.kind == Kind.UPSTREAM else "monitor",
            vendor_id=grouping.vendor_id,
            sites=[(d.site_id, d.at) for d in grouping.members],
        )
        members = {(d.site_id, d.at) for d in grouping.members}
        for pk, site, at in nearby:
            if (site, at) in members:
                swept = AlertEvent(pk=pk)
                self._done(swept, EventOutcome.OPENED if pk == event.pk else EventOutcome.GROUPED,
                           incident)
        self._done(event, EventOutcome.OPENED, incident)

    def _up(self, event: AlertEvent) -> bool:
        recovered = self._recover(event.site_id, event.at)
        self._done(event, EventOutcome.RECOVERED if recovered else EventOutcome.IGNORED)
        return True

    def _recover(self, site_id: int, at: datetime) -> bool:
        """Mark the site back in each open incident it is down in; True if it was in one."""
        open_members = IncidentSite.objects.filter(
            site_id=site_id, recovered_at__isnull=True, incident__closed_at__isnull=True,
            down_at__lte=at,
        ).select_related("incident")
        found = False
        for member in open_members:
            found = True
            incident = member.incident
            if incident.kind == Kind.FLAPPING:
                self._touch(incident, at)
                continue
            IncidentSite.objects.filter(pk=member.pk).update(recovered_at=at)
            if not incident.members.filter(recovered_at__isnull=True).exists():
                self._close(incident, at)
        return found

    # 4. reconcile -----------------------------------------------------------------------------

    def reconcile(self) -> None:
        members = IncidentSite.objects.filter(
            incident__closed_at__isnull=True, recovered_at__isnull=True
        ).exclude(incident__kind=Kind.MONITOR_GAP).values_list("site_id", "down_at")
        states = selectors.live_states(site for site, _ in members)
        for site_id, down_at in members:
            state, since = states.get(site_id, ("", down_at))
            if state == StateChoice.UP and since > down_at:
                self._recover(site_id, since)
        for incident in selectors.open_incidents([Kind.FLAPPING]):
            member = incident.members.first()
            if member is None:
                continue
            state, since = states.get(member.site_id) or selectors.live_states(
                [member.site_id]).get(member.site_id, ("", incident.last_change_at))
            last = max(incident.last_change_at, since)
            if is_stable(last, now=self.now, stable_for=self.flap.stable_for):
                self._close(incident, self.now, state=state)
                if state == StateChoice.DOWN:
                    # Stable, but down: from here on it is an ordinary outage.
                    self._open(Kind.SITE_DOWN, opened_at=since, cause=incident.cause,
                               sites=[(member.site_id, since)])

    # 5. announce and escalate -----------------------------------------------------------------

    def announce_all(self) -> None:
        for incident in selectors.open_incidents():
            self._announce(incident)

    def escalate_all(self) -> None:
        delays = selectors.escalation_delays()
        every = selectors.renotify_every()
        pending = selectors.open_incidents().filter(acknowledged_at__isnull=True,
                                                    announced_at__isnull=False)
        for incident in pending:
            members = selectors.members_of(incident)
            target = selectors.target_for(incident, members)
            since = incident.announced_at
            assert since is not None
            for level in sorted({r.level for r in self.rules if r.level > 0}):
                for rule in route(self.rules, target, level=level):
                    after = timedelta(seconds=delays.get(rule.rule_id, 0))
                    if escalation_due(opened_at=since, acknowledged=False, now=self.now,
                                      after=after):
                        self._notify(incident, members, rule, NotificationKind.ESCALATE,
                                     level=level, key_suffix=str(level))
            for level in sorted({r.level for r in self.rules}):
                for rule in route(self.rules, target, level=level):
                    start = since + timedelta(seconds=delays.get(rule.rule_id, 0))
                    n = reminders_due(since=start, now=self.now,
                                      every=timedelta(seconds=every.get(rule.rule_id, 0)))
                    if n:
                        self._notify(incident, members, rule, NotificationKind.REMIND,
                                     level=level, key_suffix=str(n))

    # 6. clock-driven messages ----------------------------------------------------------------

    def scheduled(self) -> None:
        """The summary and the battery forecasts read much of the database and run the energy
        model: a failure there is logged and retried later, and never keeps the incidents'
        alerts from being delivered."""
        steps: tuple[Callable[[], int], ...] = (
            lambda: scheduled.plan_summaries(self.rules, self.languages, now=self.now),
            lambda: scheduled.plan_power_risks(self.rules, self.languages, now=self.now,
                                               state_name=PLANNER),
        )
        for step in steps:
            try:
                self.result.notifications += step()
            except Exception:  # a bug in a report must not stop the alerts
                log.exception("scheduled alert step failed at %s", self.now)

    def _announce(self, incident: Incident, *, flips: int = 0) -> None:
        members = selectors.members_of(incident)
        target = selectors.target_for(incident, members)
        told = selectors.told_channels(incident)
        rules = route(self.rules, target, level=0)
        fresh = [r for r in rules if r.channel_id not in told]
        for rule in fresh:
            self._notify(incident, members, rule, NotificationKind.OPEN, flips=flips)
        grown = len(members) > incident.announced_size
        every = conf.seconds("LINDA_ALERT_UPDATE_EVERY_S")
        last = incident.last_update_at or incident.announced_at
        updates = bool(grown and incident.announced_size
                       and (last is None or self.now - last >= every))
        if updates:
            for rule in rules:
                if rule.channel_id in told:
                    self._notify(incident, members, rule, NotificationKind.UPDATE,
                                 key_suffix=str(len(members)))
        if fresh or updates or incident.announced_size == 0:
            Incident.objects.filter(pk=incident.pk).update(
                announced_at=incident.announced_at or self.now,
                announced_size=len(members),
                last_update_at=self.now if updates else incident.last_update_at,
            )

    def _notify(
        self, incident: Incident, members: Sequence[IncidentSite], rule: RuleFacts | None,
        kind: str, *, channel_id: int | None = None, level: int = 0, key_suffix: str = "",
        flips: int = 0, state: str = "",
    ) -> None:
        channel = channel_id if channel_id is not None else rule.channel_id if rule else None
        assert channel is not None
        key = f"{incident.pk}:{kind}:{channel}:{key_suffix}"
        if Notification.objects.filter(dedupe_key=key).exists():
            return
        lang = self.languages.get(channel, "id")
        total = selectors.monitored_count(self.now) if incident.kind == Kind.MONITOR_SUSPECT \
            else 0
        message = render(incident, members, kind=kind, lang=lang, now=self.now, level=level,
                         total_sites=total, flips=flips, state=state)
        try:
            with transaction.atomic():
                Notification.objects.create(
                    incident=incident, rule_id=rule.rule_id if rule else None,
                    channel_id=channel, kind=kind, level=level, dedupe_key=key,
                    title=message.title, body=message.body, notify_type=message.notify_type,
                    created_at=self.now, next_attempt_at=self.now,
                )
        except IntegrityError:
            return  # stored by an earlier run of this planner
        self.result.notifications += 1

    # incidents --------------------------------------------------------------------------------

    def _open(
        self, kind: Kind, *, opened_at: datetime, cause: str = "", key: str | None = None,
        vendor_id: int | None = None, sites: Sequence[tuple[int, datetime]] = (),
        flips: int = 0,
    ) -> Incident:
        incident = Incident.objects.create(
            kind=kind, severity=KIND_SEVERITY[kind], cause=cause or "unknown",
            vendor_id=vendor_id, key=key, opened_at=opened_at, last_change_at=opened_at,
            ack_token=secrets.token_urlsafe(24),
        )
        IncidentSite.objects.bulk_create(
            [IncidentSite(incident=incident, site_id=s, down_at=at) for s, at in sites],
            ignore_conflicts=True,
        )
        if sites:
            Incident.objects.filter(pk=incident.pk).update(
                last_change_at=max(at for _, at in sites))
            incident.refresh_from_db()
        self.result.incidents.append(incident.pk)
        log.info("incident #%d %s opened at %s with %d sites", incident.pk, kind, opened_at,
                 len(sites))
        if kind == Kind.FLAPPING:
            self._announce(incident, flips=flips)
        return incident

    def _add_member(self, incident: Incident, site_id: int, at: datetime) -> None:
        IncidentSite.objects.bulk_create(
            [IncidentSite(incident=incident, site_id=site_id, down_at=at)],
            ignore_conflicts=True)
        self._touch(incident, at)

    def _touch(self, incident: Incident, at: datetime) -> None:
        if at > incident.last_change_at:
            Incident.objects.filter(pk=incident.pk).update(last_change_at=at)
            incident.last_change_at = at

    def _close(self, incident: Incident, at: datetime, *, silent: bool = False,
               state: str = "") -> None:
        closed = Incident.objects.filter(pk=incident.pk, closed_at__isnull=True).update(
            closed_at=max(at, incident.opened_at))
        if closed != 1 or silent:
            return
        incident.refresh_from_db()
        members = selectors.members_of(incident)
        channels = selectors.told_channels(incident)
        if not channels and incident.announced_at is None:
            # Closed before it was ever told (a gap found after it ended): one message saying
            # it happened, to whoever it is routed to.
            target = selectors.target_for(incident, members)
            channels = {r.channel_id for r in route(self.rules, target, level=0)}
        for channel_id in sorted(channels):
            self._notify(incident, members, None, NotificationKind.CLOSE, channel_id=channel_id,
                         state=state)
        Incident.objects.filter(pk=incident.pk).update(announced_at=incident.announced_at
                                                       or self.now)

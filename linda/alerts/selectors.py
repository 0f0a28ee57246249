"""Alert reads, and the adapters that turn rows into `linda.domain.alerting` facts."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from fractions import Fraction
from zoneinfo import ZoneInfo

from django.db.models import Prefetch, Q, QuerySet

from linda.alerts.models import (
    AlertEvent,
    Incident,
    IncidentSite,
    Notification,
    NotificationKind,
    Rule,
)
from linda.domain.alerting import (
    KIND_SEVERITY,
    NOC,
    SITE_KINDS,
    Audience,
    Kind,
    RuleFacts,
    Severity,
    SiteFacts,
    Target,
)
from linda.domain.sla import availability
from linda.domain.status import State, clip, totals_s
from linda.monitoring.models import Heartbeat, MaintenanceWindow, SiteState, StateChoice
from linda.registry.models import Contract, Site

WIB = ZoneInfo("Asia/Jakarta")


def site_facts(site_ids: Iterable[int]) -> dict[int, SiteFacts]:
    ids = set(site_ids)
    sites = Site.objects.filter(pk__in=ids).select_related("village").prefetch_related(
        Prefetch("contracts", queryset=Contract.objects.only("pk", "vendor_id"))
    )
    return {
        s.pk: SiteFacts(
            site_id=s.pk, village_id=s.village_id, kecamatan_id=s.village.parent_id,
            vendor_ids=frozenset(c.vendor_id for c in s.contracts.all()),
            contract_ids=frozenset(c.pk for c in s.contracts.all()),
        )
        for s in sites
    }


def vendor_ids_by_site(site_ids: Iterable[int]) -> dict[int, frozenset[int]]:
    pairs = Contract.sites.through.objects.filter(site_id__in=set(site_ids)).values_list(
        "site_id", "contract__vendor_id"
    )
    out: dict[int, set[int]] = {}
    for site_id, vendor_id in pairs:
        out.setdefault(site_id, set()).add(vendor_id)
    return {k: frozenset(v) for k, v in out.items()}


def rule_facts() -> list[RuleFacts]:
    rules = Rule.objects.filter(is_active=True, channel__is_active=True)
    return [
        RuleFacts(
            rule_id=r.pk, channel_id=r.channel_id, audience=Audience(r.audience), level=r.level,
            kinds=frozenset(r.kinds or ()), causes=frozenset(r.causes or ()),
            min_severity=Severity(r.min_severity), kecamatan_id=r.kecamatan_id,
            village_id=r.village_id, vendor_id=r.vendor_id, contract_id=r.contract_id,
        )
        for r in rules
    ]


def escalation_delays() -> dict[int, int]:
    """Rule id → seconds without acknowledgement before that (level > 0) rule hears."""
    return dict(Rule.objects.filter(level__gt=0).values_list("pk", "escalate_after_s"))


def renotify_every() -> dict[int, int]:
    return dict(Rule.objects.filter(renotify_every_s__gt=0).values_list("pk", "renotify_every_s"))


def members_of(incident: Incident) -> list[IncidentSite]:
    return list(
        incident.members.select_related("site__village__parent")
        .prefetch_related("site__contracts__vendor").order_by("down_at", "site__code")
    )


def target_for(incident: Incident, members: Sequence[IncidentSite]) -> Target:
    facts = site_facts(m.site_id for m in members)
    kind = Kind(incident.kind)
    return Target(
        kind=kind, severity=KIND_SEVERITY[kind], cause=incident.cause,
        sites=tuple(facts[m.site_id] for m in members if m.site_id in facts),
    )


def under_maintenance(site_id: int, at: datetime) -> bool:
    """Whether a maintenance window (site, its kecamatan or one of its contracts) covers `at`."""
    site = Site.objects.select_related("village").get(pk=site_id)
    scope = (Q(site_id=site_id) | Q(kecamatan_id=site.village.parent_id)
             | Q(contract__sites=site_id))
    return MaintenanceWindow.objects.filter(scope, start__lte=at, end__gt=at).exists()


def monitored_count(now: datetime) -> int:
    """Sites being watched now (activated, not in maintenance)."""
    return SiteState.objects.filter(activated_at__lte=now).exclude(
        state=StateChoice.EXCLUDED
    ).count()


def live_states(site_ids: Iterable[int]) -> dict[int, tuple[str, datetime]]:
    return {
        pk: (state, since)
        for pk, state, since in SiteState.objects.filter(site_id__in=set(site_ids))
        .values_list("site_id", "state", "state_since")
    }


def open_incidents(kinds: Iterable[str] | None = None) -> QuerySet[Incident]:
    qs = Incident.objects.filter(closed_at__isnull=True)
    return qs.filter(kind__in=list(kinds)) if kinds is not None else qs


def told_channels(incident: Incident) -> set[int]:
    """Channels that were sent something about `incident` (they hear its end too)."""
    return set(
        Notification.objects.filter(incident=incident).exclude(kind=NotificationKind.CLOSE)
        .values_list("channel_id", flat=True)
    )


def site_changes(site_id: int, since: datetime) -> list[datetime]:
    """The site's UP/DOWN changes since `since`, from its events. Two DOWNs in a row mean it
    came up in between (intake's UP may not be reported): that counts as a change too."""
    rows = AlertEvent.objects.filter(
        site_id=site_id, at__gt=since, new_state__in=[StateChoice.UP, StateChoice.DOWN]
    ).order_by("at", "pk").values_list("at", "new_state")
    changes: list[datetime] = []
    previous = ""
    for at, state in rows:
        if state == previous == StateChoice.DOWN:
            changes.append(at)  # the unreported UP before this DOWN
        changes.append(at)
        previous = state
    return changes


def get_incident_by_token(token: str) -> Incident | None:
    return Incident.objects.filter(ack_token=token).first()


def list_delivery_log(incident: Incident) -> QuerySet[Notification]:
    return incident.notifications.select_related("channel").prefetch_related("attempts_log")


# --- the daily summary ------------------------------------------------------------------------

WORST_SITES = 5


@dataclass(frozen=True, slots=True)
class SiteDay:
    """One site's WIB day: seconds per state and its outages."""

    code: str
    village: str
    kecamatan: str
    up_s: int
    down_s: int
    unknown_s: int
    outages: int

    @property
    def availability(self) -> Fraction | None:
        return availability(up_s=self.up_s, down_s=self.down_s)


@dataclass(frozen=True, slots=True)
class OpenIncident:
    kind: str
    cause: str
    opened_at: datetime
    sites: int
    first_village: str


@dataclass(frozen=True, slots=True)
class DailySummary:
    """A fleet's WIB day `day` (yesterday when sent) and its state at `now`."""

    day: date
    now: datetime
    states_now: dict[str, int]  # up / down / unknown / excluded: sites in each now
    sites: list[SiteDay]  # monitored during the day
    outages_by_cause: dict[str, int]  # linda.domain.attribution.Cause values
    per_vendor: list[tuple[str, Fraction | None]]
    open_incidents: list[OpenIncident]
    rollout: tuple[int, int] | None  # (connected, to connect) of the main program

    @property
    def up_s(self) -> int:
        return sum(s.up_s for s in self.sites)

    @property
    def down_s(self) -> int:
        return sum(s.down_s for s in self.sites)

    @property
    def availability(self) -> Fraction | None:
        return availability(up_s=self.up_s, down_s=self.down_s)

    @property
    def outages(self) -> int:
        return sum(self.outages_by_cause.values())

    @property
    def worst(self) -> list[SiteDay]:
        """The sites with the least availability (only those that were down at all)."""
        hit = [s for s in self.sites if s.down_s > 0]
        return sorted(hit, key=lambda s: (s.availability or 0, s.code))[:WORST_SITES]


def wib_day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(0), tzinfo=WIB)
    return start, datetime.combine(day + timedelta(days=1), time(0), tzinfo=WIB)


def scope_sites(rule: RuleFacts, now: datetime) -> QuerySet[Site]:
    """The monitored sites a rule's scope filters (kecamatan, village, vendor, contract)
    cover; with no filter, every monitored site."""
    qs = Site.objects.filter(monitoring_state__activated_at__lte=now)
    if rule.kecamatan_id is not None:
        qs = qs.filter(village__parent_id=rule.kecamatan_id)
    if rule.village_id is not None:
        qs = qs.filter(village_id=rule.village_id)
    if rule.vendor_id is not None:
        qs = qs.filter(contracts__vendor_id=rule.vendor_id)
    if rule.contract_id is not None:
        qs = qs.filter(contracts=rule.contract_id)
    return qs.distinct().select_related("village__parent", "monitoring_state").order_by("code")


def _site_day(site: Site, day: date, now: datetime) -> tuple[SiteDay, list[str]]:
    """The site's totals for `day` and the probable cause of each outage in it, by the
    report's rules (`linda.sla.outages`)."""
    from linda.sla.outages import recent_outages
    from linda.web.selectors import site_history

    start, end = wib_day_bounds(day)
    history = site_history(site, start - timedelta(days=1), end, now)
    totals = totals_s(clip(history, start, min(end, now)))
    causes = [str(o.cause) for o in recent_outages(site, start=start, end=end, now=now,
                                                   intervals=history)]
    village = site.village
    return SiteDay(
        code=site.code, village=village.name,
        kecamatan=village.parent.name if village.parent is not None else "",
        up_s=totals.get(State.UP, 0), down_s=totals.get(State.DOWN, 0),
        unknown_s=totals.get(State.UNKNOWN, 0), outages=len(causes),
    ), causes


def _open_incidents(site_ids: set[int], *, noc: bool) -> list[OpenIncident]:
    out = []
    for incident in open_incidents().exclude(kind__in=[Kind.SUMMARY, Kind.POWER_RISK]) \
            .prefetch_related("members__site__village").order_by("opened_at", "pk"):
        if not noc and incident.kind not in SITE_KINDS:
            continue  # the monitor's own trouble is the NOC's business alone (decision 2)
        members = [m for m in incident.members.all() if m.site_id in site_ids]
        if not members and incident.members.all():
            continue  # about sites outside this scope
        first = min(members, key=lambda m: (m.down_at, m.site_id)) if members else None
        out.append(OpenIncident(
            kind=incident.kind, cause=incident.cause, opened_at=incident.opened_at,
            sites=len(members), first_village=first.site.village.name if first else "",
        ))
    return out


def _rollout(today: date) -> tuple[int, int] | None:
    from linda.domain.lifecycle import Stage
    from linda.rollout.selectors import get_main_program, get_progress

    program = get_main_program()
    if program is None:
        return None
    progress = get_progress(program, today=today)
    return progress.connected, progress.total - progress.by_stage.get(Stage.DECOMMISSIONED, 0)


def daily_summary(rule: RuleFacts, *, day: date, now: datetime) -> DailySummary:
    """The summary of WIB `day` over the sites of `rule`'s scope, as of `now`."""
    end = wib_day_bounds(day)[1]
    sites = list(scope_sites(rule, now))
    ids = {s.pk for s in sites}
    states = Counter(SiteState.objects.filter(site_id__in=ids).values_list("state", flat=True))
    days: list[SiteDay] = []
    causes: Counter[str] = Counter()
    by_vendor: dict[str, list[SiteDay]] = {}
    vendors = dict(Contract.sites.through.objects.filter(site_id__in=ids).values_list(
        "site_id", "contract__vendor__name"))
    for site in sites:
        if site.monitoring_state.activated_at >= end:
            continue
        figures, site_causes = _site_day(site, day, now)
        days.append(figures)
        causes.update(site_causes)
        if site.pk in vendors:
            by_vendor.setdefault(vendors[site.pk], []).append(figures)
    per_vendor = [
        (name, availability(up_s=sum(d.up_s for d in ds), down_s=sum(d.down_s for d in ds)))
        for name, ds in sorted(by_vendor.items())
    ]
    return DailySummary(
        day=day, now=now,
        states_now={state: states.get(state, 0) for state in StateChoice.values},
        sites=days, outages_by_cause=dict(causes), per_vendor=per_vendor,
        open_incidents=_open_incidents(ids, noc=rule.audience in NOC),
        rollout=_rollout(day + timedelta(days=1)),
    )


# --- will it go dark tonight ------------------------------------------------------------------

SOC_FRESH = timedelta(hours=2)  # an older state of charge says nothing about tonight


@dataclass(frozen=True, slots=True)
class PowerRisk:
    """A battery forecast for one site, from its latest reported state of charge."""

    site: Site
    soc_pct: float
    measured_at: datetime
    hours_p10: float | None  # pessimistic hours to low-voltage disconnect; None: beyond horizon
    hours_p50: float | None
    hours_to_sunrise: float

    @property
    def goes_dark(self) -> bool:
        return self.hours_p10 is not None and self.hours_p10 < self.hours_to_sunrise


def battery_sites(now: datetime) -> list[tuple[Site, float, datetime]]:
    """Monitored sites with a battery and a state of charge reported in the last two hours:
    (site, SoC %, when it was measured). Sites in maintenance are left out."""
    sites = Site.objects.filter(battery_wh__gt=0, monitoring_state__activated_at__lte=now) \
        .exclude(monitoring_state__state=StateChoice.EXCLUDED) \
        .select_related("village__parent").prefetch_related("equipment").order_by("code")
    out = []
    for site in sites:
        latest = Heartbeat.objects.filter(
            site=site, battery_soc_pct__isnull=False, received_at__gte=now - SOC_FRESH,
            received_at__lte=now,
        ).order_by("-received_at").values_list("battery_soc_pct", "received_at").first()
        if latest is not None and latest[0] is not None:
            out.append((site, float(latest[0]), latest[1]))
    return out


def power_risk(site: Site, *, soc_pct: float, measured_at: datetime, now: datetime,
               sunrise: datetime) -> PowerRisk:
    """The live autonomy forecast (`linda.energy.selectors`) against the hours to `sunrise`."""
    from linda.energy.selectors import forecast_site_autonomy, get_site_energy

    forecast = forecast_site_autonomy(get_site_energy(site, years=1), at=now,
                                      soc_fraction=max(0.0, min(soc_pct, 100.0)) / 100,
                                      scenarios=100)
    return PowerRisk(site=site, soc_pct=soc_pct, measured_at=measured_at,
                     hours_p10=forecast.hours_p10, hours_p50=forecast.hours_p50,
                     hours_to_sunrise=(sunrise - now) / timedelta(hours=1))

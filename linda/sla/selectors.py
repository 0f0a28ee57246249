"""SLA reads: a contract's month from the status intervals, evidence, overrides and terms.

The intervals always come from `linda.monitoring.selectors.get_site_intervals` (the status
rule lives once, in `linda.domain.status`); this module only loads rows and hands them to
`linda.sla.calc.compute_month`.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings as django_settings
from django.db.models import Q, QuerySet

from linda.accounts.selectors import User
from linda.domain.attribution import (
    WIB,
    AttributionSettings,
    Beat,
    Cause,
    Evidence,
    PlnSupply,
    Responsibility,
    SitePower,
)
from linda.domain.lifecycle import Stage
from linda.domain.sla import month_bounds
from linda.domain.status import Interval, Span, State, clip
from linda.monitoring.models import Heartbeat, SiteState, StatusInterval
from linda.monitoring.selectors import get_site_intervals
from linda.registry.models import Contract, ContractTerms, PowerProfile, Region, Site
from linda.registry.selectors import visible_contracts
from linda.rollout.models import StageTransition
from linda.sla.calc import (
    MonthFigures,
    MonthScope,
    OverrideRecord,
    SiteInfo,
    SiteTimeline,
    SlaSettings,
    Terms,
    compute_month,
    fill_unknown,
)
from linda.sla.content import Content, build_content, canonical_json, content_sha256
from linda.sla.models import OutageOverride, SlaReport

RECENT = timedelta(hours=3)  # live heartbeats before an outage read for the battery trend
MAX_LATE_BEATS = 5000


class NoTermsError(ValueError):
    """The contract has no terms version in force for the month."""


def get_sla_settings() -> SlaSettings:
    """The SLA settings, read when called (never at import time)."""

    def setting(name: str, default: object) -> object:
        return getattr(django_settings, name, default)

    return SlaSettings(
        attribution=AttributionSettings(
            upstream_min_sites=int(str(setting("LINDA_SLA_UPSTREAM_MIN_SITES", 5))),
            upstream_window=timedelta(
                seconds=int(str(setting("LINDA_SLA_UPSTREAM_WINDOW_S", 120)))
            ),
            uptime_tolerance_s=int(str(setting("LINDA_SLA_UPTIME_TOLERANCE_S", 60))),
        ),
        manual_signoff_unknown_pct=Decimal(
            str(setting("LINDA_SLA_MANUAL_SIGNOFF_UNKNOWN_PCT", "5"))
        ),
        evidence_days=int(str(setting("LINDA_SLA_EVIDENCE_DAYS", 3))),
    )


# --- scope ------------------------------------------------------------------------------------


def list_sla_contracts(user: User) -> QuerySet[Contract]:
    """Contracts whose SLA the user may read: every one for office roles, its own for a
    vendor, none for anyone else."""
    return visible_contracts(user).order_by("number")


def get_visible_contract(user: User, *, pk: int) -> Contract | None:
    return list_sla_contracts(user).filter(pk=pk).first()


def contract_period(contract: Contract) -> Span:
    """[starts_on 00:00 WIB, the day after ends_on 00:00 WIB)."""
    start = datetime.combine(contract.starts_on, dt.time(), tzinfo=WIB)
    end = datetime.combine(contract.ends_on + timedelta(days=1), dt.time(), tzinfo=WIB)
    return Span(start, end)


def get_terms_in_force(contract: Contract, year: int, month: int) -> ContractTerms:
    """The terms version in force on the month's first day (or on the contract's first day,
    when the contract starts inside the month)."""
    first_day = max(dt.date(year, month, 1), contract.starts_on)
    terms = (
        ContractTerms.objects.filter(contract=contract, effective_from__lte=first_day)
        .order_by("-effective_from")
        .first()
    )
    if terms is None:
        raise NoTermsError(f"contract {contract.number} has no terms in force on {first_day}")
    return terms


def to_terms(terms: ContractTerms) -> Terms:
    return Terms(
        version=terms.version,
        effective_from=terms.effective_from,
        monthly_fee_idr=int(terms.monthly_fee_idr),
        sla_target_pct=Decimal(terms.sla_target_pct),
        power_outage_responsibility=Responsibility(terms.power_outage_responsibility),
        restitution_kind=terms.restitution_kind,
        restitution_tiers=tuple(
            (Decimal(str(t["min_availability_pct"])), Decimal(str(t["deduct_pct"])))
            for t in terms.restitution_tiers or []
        ),
        allowance_pct=None if terms.allowance_pct is None else Decimal(terms.allowance_pct),
    )


# --- sites ------------------------------------------------------------------------------------


def site_power(site: Site) -> SitePower:
    latitude = site.latitude if site.latitude is not None else site.village.latitude
    longitude = site.longitude if site.longitude is not None else site.village.longitude
    pln = {
        PowerProfile.PLN_24H: PlnSupply.FULL,
        PowerProfile.PLN_PARTIAL: PlnSupply.PARTIAL,
        PowerProfile.OFF_GRID: PlnSupply.NONE,
    }[PowerProfile(site.power_profile)]
    return SitePower(
        solar=pln is not PlnSupply.FULL and (pln is PlnSupply.NONE or bool(site.solar_pv_wp)),
        pln=pln,
        pln_on_from=site.pln_on_from,
        pln_on_until=site.pln_on_until,
        latitude=None if latitude is None else float(latitude),
        longitude=None if longitude is None else float(longitude),
        backup=bool(site.battery_wh) or bool(site.solar_pv_wp),
    )


def site_info(site: Site) -> SiteInfo:
    village = site.village
    kecamatan = village.parent
    return SiteInfo(
        pk=site.pk,
        code=site.code,
        name=site.name,
        village_code=village.code,
        village=village.name,
        kecamatan_code=kecamatan.code if kecamatan else "",
        kecamatan=kecamatan.name if kecamatan else "",
        interval=timedelta(seconds=site.expected_interval_s),
        grace=timedelta(seconds=site.grace_s),
        power=site_power(site),
    )


def _sites(qs: QuerySet[Site]) -> list[Site]:
    return list(qs.select_related("village", "village__parent").order_by("code").distinct())


# Stage moves that stop a village's service (its sites leave the SLA window) or start it.
_SERVICE = {Stage.SUSPENDED.value: False, Stage.DECOMMISSIONED.value: False,
            Stage.ACTIVE.value: True}


def service_changes(sites: Sequence[Site]) -> dict[int, list[tuple[datetime, bool]]]:
    """Per site, when its village was suspended or decommissioned (False) or (re)activated
    (True): each rollout stage transition at 00:00 WIB of its effective date."""
    by_village: dict[int, list[tuple[datetime, bool]]] = {}
    rows = StageTransition.objects.filter(
        priority_village__village_id__in={s.village_id for s in sites},
        to_stage__in=list(_SERVICE),
    ).order_by("effective_on", "id").values_list(
        "priority_village__village_id", "effective_on", "to_stage")
    for village_id, effective_on, to_stage in rows:
        at = datetime.combine(effective_on, dt.time(), tzinfo=WIB)
        by_village.setdefault(village_id, []).append((at, _SERVICE[to_stage]))
    return {s.pk: by_village.get(s.village_id, []) for s in sites}


def imported_intervals(
    sites: Sequence[Site], start: datetime, until: datetime
) -> dict[int, list[Interval]]:
    """Per site, the intervals a historical import stored in [start, until)."""
    rows = StatusInterval.objects.filter(
        site__in=sites, source="import", start__lt=until, end__gt=start
    ).order_by("site_id", "start").values_list("site_id", "start", "end", "state", "degraded")
    out: dict[int, list[Interval]] = {}
    for site_id, iv_start, iv_end, state, degraded in rows:
        out.setdefault(site_id, []).append(Interval(iv_start, iv_end, State(state), degraded))
    return {pk: clip(ivs, start, until) for pk, ivs in out.items()}


def load_timelines(
    sites: Sequence[Site], *, scope: MonthScope, lookback: timedelta, now: datetime
) -> list[SiteTimeline]:
    activations = dict(
        SiteState.objects.filter(site__in=sites).values_list("site_id", "activated_at")
    )
    changes = service_changes(sites)
    start = scope.period.start - lookback
    imported = imported_intervals(sites, start, min(scope.until, now))
    return [
        SiteTimeline(
            site=site_info(site),
            activated_at=activations.get(site.pk),
            intervals=fill_unknown(
                get_site_intervals(site, start, scope.until, now),
                imported.get(site.pk, []),
            ) if site.pk in activations else [],
            service_changes=tuple(changes[site.pk]),
        )
        for site in sites
    ]


# --- evidence ---------------------------------------------------------------------------------


def _beat(row: dict[str, object], *, late: bool) -> Beat:
    at = row["device_at"] if late else row["received_at"]
    assert isinstance(at, datetime)
    uptime = row["uptime_s"]
    return Beat(
        at=at,
        late=late,
        uptime_s=int(uptime) if isinstance(uptime, int) else None,
        battery_voltage_v=_float(row["battery_voltage_v"]),
        battery_soc_pct=_float(row["battery_soc_pct"]),
        lvd=row["lvd"] if isinstance(row["lvd"], bool) else None,
        power_source=_text(row["power_source"]),
    )


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _float(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) else None


_FIELDS = ("received_at", "device_at", "uptime_s", "battery_voltage_v", "battery_soc_pct",
           "lvd", "power_source")


def heartbeat_evidence(site: SiteInfo, outage: Span, until: datetime) -> Evidence:
    """The heartbeats around one outage, as received before `until` (so a report computed
    to the same `until` reads the same evidence whenever it is generated)."""
    beats = Heartbeat.objects.filter(site_id=site.pk, received_at__lt=until)
    live = beats.filter(late=False)
    before_row = (
        live.filter(received_at__lte=outage.start).order_by("-received_at").values(*_FIELDS)
        .first()
    )
    after_row = live.filter(received_at__gte=outage.end).order_by("received_at").values(
        *_FIELDS).first()
    gap_from = before_row["received_at"] if before_row else outage.start - site.interval
    late_rows = (
        beats.filter(late=True, received_at__gte=outage.start, device_at__gt=gap_from,
                     device_at__lt=outage.end)
        .order_by("device_at").values(*_FIELDS)[:MAX_LATE_BEATS]
    )
    recent_rows = (
        live.filter(received_at__gte=outage.start - RECENT, received_at__lte=outage.start)
        .filter(Q(battery_voltage_v__isnull=False) | Q(battery_soc_pct__isnull=False))
        .order_by("received_at").values(*_FIELDS)
    )
    return Evidence(
        before=_beat(before_row, late=False) if before_row else None,
        during=tuple(_beat(r, late=True) for r in late_rows),
        after=_beat(after_row, late=False) if after_row else None,
        recent=tuple(_beat(r, late=False) for r in recent_rows),
    )


# --- overrides --------------------------------------------------------------------------------


def latest_overrides(
    site_ids: Iterable[int], start: datetime, end: datetime
) -> dict[tuple[int, datetime], OverrideRecord]:
    """The override that applies to each (site, outage start): the latest one."""
    rows = OutageOverride.objects.filter(
        site_id__in=list(site_ids), outage_start__gte=start, outage_start__lte=end
    ).order_by("created_at", "id")
    result: dict[tuple[int, datetime], OverrideRecord] = {}
    for row in rows:
        result[(row.site_id, row.outage_start)] = OverrideRecord(
            cause=Cause(row.cause) if row.cause else None,
            responsibility=Responsibility(row.responsibility) if row.responsibility else None,
            reason=row.reason,
            author=row.author_username,
            created_at=row.created_at,
        )
    return result


def list_overrides(site: Site, outage_start: datetime) -> QuerySet[OutageOverride]:
    return OutageOverride.objects.filter(site=site, outage_start=outage_start).order_by(
        "created_at", "id"
    )


# --- the month --------------------------------------------------------------------------------


def month_scope(contract: Contract, year: int, month: int, *, now: datetime,
                settings: SlaSettings) -> MonthScope:
    period = month_bounds(year, month, WIB)
    if now < period.start:
        raise ValueError(f"{year:04d}-{month:02d} has not started yet")
    within = contract_period(contract)
    if period.end <= within.start or within.end <= period.start:
        raise ValueError(
            f"{year:04d}-{month:02d} is outside the contract period of {contract.number} "
            f"({contract.starts_on} to {contract.ends_on})"
        )
    settle_at = period.end + timedelta(days=settings.evidence_days)
    return MonthScope(
        period=period,
        contract_period=within,
        until=min(now, settle_at),
        final=now >= settle_at,
    )


def get_contract_month(
    contract: Contract,
    year: int,
    month: int,
    *,
    now: datetime,
    kecamatan: Region | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> MonthFigures:
    """Every figure of one contract's month (all its sites, or one kecamatan's)."""
    settings = get_sla_settings()
    scope = month_scope(contract, year, month, now=now, settings=settings)
    terms = get_terms_in_force(contract, year, month)
    lookback = timedelta(days=settings.lookback_days)
    vendor_sites = _sites(Site.objects.filter(contracts__vendor_id=contract.vendor_id))
    vendor_timelines = load_timelines(vendor_sites, scope=scope, lookback=lookback, now=now)
    in_contract = set(contract.sites.values_list("pk", flat=True))
    if kecamatan is not None:
        in_contract &= set(
            Site.objects.filter(village__parent=kecamatan).values_list("pk", flat=True)
        )
    timelines = [t for t in vendor_timelines if t.site.pk in in_contract]
    overrides = latest_overrides(in_contract, scope.period.start - lookback, scope.until)
    return compute_month(
        scope=scope, terms=to_terms(terms), timelines=timelines,
        vendor_timelines=vendor_timelines, evidence=heartbeat_evidence, overrides=overrides,
        settings=settings, progress=progress,
    )


def contract_header(contract: Contract) -> Content:
    return {
        "number": contract.number,
        "title": contract.title,
        "vendor": contract.vendor.name,
        "starts_on": contract.starts_on.isoformat(),
        "ends_on": contract.ends_on.isoformat(),
    }


def kecamatan_header(kecamatan: Region | None) -> Content | None:
    return None if kecamatan is None else {"code": kecamatan.code, "name": kecamatan.name}


def get_contract_month_content(
    contract: Contract,
    year: int,
    month: int,
    *,
    now: datetime,
    kecamatan: Region | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Content:
    figures = get_contract_month(
        contract, year, month, now=now, kecamatan=kecamatan, progress=progress
    )
    return build_content(
        figures, contract=contract_header(contract), kecamatan=kecamatan_header(kecamatan)
    )


# --- stored reports ---------------------------------------------------------------------------


def get_current_report(
    contract: Contract, year: int, month: int, *, kecamatan: Region | None = None
) -> SlaReport | None:
    """The latest stored generation of the report, if any."""
    return (
        SlaReport.objects.filter(
            contract=contract, month=dt.date(year, month, 1), kecamatan=kecamatan
        )
        .order_by("-generated_at", "-id")
        .first()
    )


def report_content(report: SlaReport) -> Content:
    content: Content = json.loads(report.content_json)
    return content


def verify_report(report: SlaReport) -> bool:
    """The stored content is canonical and still hashes to the stored SHA-256."""
    content = json.loads(report.content_json)
    return (
        canonical_json(content) == report.content_json
        and content_sha256(content) == report.content_sha256
    )

"""SLA writes: outage overrides (audited) and stored report generations."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from linda.audit.models import AuditAction
from linda.audit.services import Actor, record_audit, snapshot
from linda.domain.attribution import Cause, Responsibility
from linda.domain.status import outages, require_aware
from linda.monitoring.selectors import get_site_intervals
from linda.registry.models import Contract, Region, Site
from linda.sla.calc import RULE_VERSION
from linda.sla.content import Content, canonical_json, content_sha256
from linda.sla.models import OutageOverride, SlaReport
from linda.sla.selectors import get_contract_month_content, get_current_report, get_terms_in_force


class NoSuchOutage(ValueError):
    """No outage of the site begins at the given instant."""


def _real_user(actor: Actor) -> Actor:
    return actor if actor is not None and actor.is_authenticated else None


def outage_begins_at(site: Site, start: datetime, *, now: datetime) -> bool:
    """Whether one of the site's outages (a maximal DOWN run) begins exactly at `start`.

    The timeline is computed well past `start` (a day, or up to now): an outage is only
    visible once its grace has passed."""
    day = timedelta(days=1)
    runs = outages(get_site_intervals(site, start - day, start + day, now))
    return any(run.start == start for run in runs)


def record_outage_override(
    *,
    site: Site,
    outage_start: datetime,
    reason: str,
    author: Actor,
    cause: Cause | None = None,
    responsibility: Responsibility | None = None,
    now: datetime | None = None,
    check_outage: bool = True,
) -> OutageOverride:
    """Correct an outage's cause and/or responsibility. Appended and audited; the latest
    override of an outage applies in every report generated after it."""
    now = require_aware(now or timezone.now(), "now")
    outage_start = require_aware(outage_start, "outage_start")
    if check_outage and not outage_begins_at(site, outage_start, now=now):
        raise NoSuchOutage(f"no outage of {site.code} begins at {outage_start.isoformat()}")
    user = _real_user(author)
    override = OutageOverride(
        site=site,
        outage_start=outage_start,
        cause=cause.value if cause else "",
        responsibility=responsibility.value if responsibility else "",
        reason=reason.strip(),
        author_id=user.pk if user is not None else None,
        author_username=user.get_username() if user is not None else "system",
        created_at=now,
    )
    override.full_clean()
    with transaction.atomic():
        override.save()
        record_audit(
            actor=author, action=AuditAction.CREATE, obj=override, before=None,
            after=snapshot(override), note=override.reason,
        )
    return override


@dataclass(frozen=True)
class Generation:
    report: SlaReport
    previous: SlaReport | None

    @property
    def identical_to_previous(self) -> bool | None:
        if self.previous is None:
            return None
        return self.previous.content_sha256 == self.report.content_sha256


def store_report(
    *,
    contract: Contract,
    year: int,
    month: int,
    content: Content,
    author: Actor,
    now: datetime,
    kecamatan: Region | None = None,
) -> SlaReport:
    """Freeze computed content as a new generation of the report."""
    totals = content["totals"]
    user = _real_user(author)
    report = SlaReport(
        contract=contract,
        kecamatan=kecamatan,
        month=dt.date(year, month, 1),
        terms=get_terms_in_force(contract, year, month),
        rule_version=RULE_VERSION,
        generated_at=now,
        generated_by_id=user.pk if user is not None else None,
        generated_by_username=user.get_username() if user is not None else "system",
        is_final=bool(content["final"]),
        manual_signoff_required=bool(content["manual_signoff_required"]),
        site_count=int(totals["sites"]),
        fee_due_idr=int(totals["fee_due_idr"]),
        restitution_idr=int(totals["restitution_idr"]),
        payable_idr=int(totals["payable_idr"]),
        content_json=canonical_json(content),
        content_sha256=content_sha256(content),
    )
    report.full_clean()
    with transaction.atomic():
        report.save()
    return report


def generate_report(
    *,
    contract: Contract,
    year: int,
    month: int,
    author: Actor,
    kecamatan: Region | None = None,
    now: datetime | None = None,
    force: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> Generation:
    """The current generation of a report: the stored one, or (when there is none, or with
    `force`) a new one computed now and stored."""
    now = require_aware(now or timezone.now(), "now")
    previous = get_current_report(contract, year, month, kecamatan=kecamatan)
    if previous is not None and not force:
        return Generation(report=previous, previous=None)
    content = get_contract_month_content(
        contract, year, month, now=now, kecamatan=kecamatan, progress=progress
    )
    report = store_report(
        contract=contract, year=year, month=month, content=content, author=author, now=now,
        kecamatan=kecamatan,
    )
    return Generation(report=report, previous=previous)

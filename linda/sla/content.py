"""A month's figures as the report's canonical content: JSON with sorted keys and no floats.

Every output (CSV, XLSX, PDF, the web page) is rendered from this dict alone, so a report
read back from the database renders exactly as it did when it was generated. Exact ratios are
written as "p/q" strings next to a percentage truncated (never rounded up) to 4 decimals, so
a displayed figure never reaches a tier threshold the exact one missed.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable
from datetime import UTC, datetime
from fractions import Fraction
from typing import Any

from linda.domain.attribution import WIB
from linda.domain.sla import month_bounds
from linda.domain.status import ONE_SECOND
from linda.sla.calc import RULE_VERSION, MonthFigures, OutageFigures, SiteFigures

SCHEMA = "linda.sla.report/1"
Content = dict[str, Any]

MONEY = ("fee_due_idr", "restitution_idr", "payable_idr")
SECONDS = ("window_s", "up_s", "down_s", "vendor_down_s", "excluded_s", "unknown_s")


def iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def ratio(value: Fraction | None) -> str | None:
    return None if value is None else f"{value.numerator}/{value.denominator}"


def pct(value: Fraction | None, places: int = 4) -> str | None:
    """`value` as a percentage, truncated to `places` decimals."""
    if value is None:
        return None
    scaled = math.floor(value * 100 * 10**places)
    whole, frac = divmod(scaled, 10**places)
    return f"{whole}.{frac:0{places}d}" if places else str(whole)


def build_content(
    figures: MonthFigures, *, contract: Content, kecamatan: Content | None
) -> Content:
    scope, terms, settings = figures.scope, figures.terms, figures.settings
    sites = [_site(s) for s in figures.sites]
    return {
        "schema": SCHEMA,
        "rule_version": RULE_VERSION,
        "contract": contract,
        "kecamatan": kecamatan,
        "period": {
            "month": scope.period.start.astimezone(WIB).strftime("%Y-%m"),
            "start": iso(scope.period.start),
            "end": iso(scope.period.end),
            "month_s": scope.period.duration // ONE_SECOND,
            "tz": "Asia/Jakarta",
        },
        "computed_until": iso(scope.until),
        "final": scope.final,
        "terms": {
            "version": terms.version,
            "effective_from": terms.effective_from.isoformat(),
            "monthly_fee_idr": terms.monthly_fee_idr,
            "sla_target_pct": str(terms.sla_target_pct),
            "power_outage_responsibility": terms.power_outage_responsibility.value,
            "restitution_kind": terms.restitution_kind,
            "restitution_tiers": [
                {"min_availability_pct": str(a), "deduct_pct": str(d)}
                for a, d in terms.restitution_tiers
            ],
            "allowance_pct": None if terms.allowance_pct is None else str(terms.allowance_pct),
        },
        "settings": {
            "upstream_min_sites": settings.attribution.upstream_min_sites,
            "upstream_window_s": settings.attribution.upstream_window // ONE_SECOND,
            "uptime_tolerance_s": settings.attribution.uptime_tolerance_s,
            "manual_signoff_unknown_pct": str(settings.manual_signoff_unknown_pct),
            "evidence_days": settings.evidence_days,
        },
        "sites": sites,
        "kecamatan_totals": [
            {"code": code, "name": name, **_totals(rows)}
            for (code, name), rows in _by_kecamatan(sites)
        ],
        "totals": _totals(sites),
        "manual_signoff_required": figures.manual_signoff_required,
    }


def _site(s: SiteFigures) -> Content:
    m, st, money = s.month, s.stats, s.settlement
    site: Content = {
        "code": s.site.code,
        "name": s.site.name,
        "village_code": s.site.village_code,
        "village": s.site.village,
        "kecamatan_code": s.site.kecamatan_code,
        "kecamatan": s.site.kecamatan,
        "activated_at": iso(s.activated_at),
        "window_start": iso(s.window.start) if s.window else None,
        "window_end": iso(s.window.end) if s.window else None,
        "window_s": m.window_s,
        "up_s": m.up_s,
        "down_s": m.down_s,
        "vendor_down_s": m.vendor_down_s,
        "excluded_s": m.excluded_s,
        "unknown_s": m.unknown_s,
        "degraded_s": st.degraded_s,
        "availability": ratio(money.availability),
        "availability_pct": pct(money.availability),
        "restitution_availability": ratio(money.restitution_availability),
        "restitution_availability_pct": pct(money.restitution_availability),
        "sla_met": s.sla_met,
        "outage_count": st.outage_count,
        "longest_outage_s": st.longest_outage_s,
        "mttr_s": ratio(st.mttr_s),
        "mtbf_s": ratio(st.mtbf_s),
        "fee_due_idr": money.fee_due_idr,
        "restitution_idr": money.restitution_idr,
        "payable_idr": money.payable_idr,
        "manual_signoff": s.manual_signoff,
        "outages": [_outage(o) for o in s.outages],
    }
    if len(s.window_parts) > 1:  # a suspension cut a hole in the window (docs/sla.md)
        site["window_parts"] = [[iso(p.start), iso(p.end)] for p in s.window_parts]
    return site


def _outage(o: OutageFigures) -> Content:
    override = o.override
    return {
        "start": iso(o.start),
        "end": iso(o.end),
        "in_window_s": o.in_window // ONE_SECOND,
        "auto_cause": o.auto_cause.value,
        "auto_responsibility": o.auto_responsibility.value,
        "cause": o.cause.value,
        "responsibility": o.responsibility.value,
        "evidence": list(o.evidence),
        "concurrent_sites": o.concurrent_sites,
        "incident": iso(o.incident),
        "override": None if override is None else {
            "cause": override.cause.value if override.cause else None,
            "responsibility": override.responsibility.value if override.responsibility else None,
            "reason": override.reason,
            "author": override.author,
            "created_at": iso(override.created_at),
        },
    }


def _by_kecamatan(sites: list[Content]) -> Iterable[tuple[tuple[str, str], list[Content]]]:
    groups: dict[tuple[str, str], list[Content]] = {}
    for site in sites:
        groups.setdefault((site["kecamatan_code"], site["kecamatan"]), []).append(site)
    return sorted(groups.items())


def _totals(sites: list[Content]) -> Content:
    totals: Content = {key: sum(s[key] for s in sites) for key in (*MONEY, *SECONDS)}
    observed = totals["up_s"] + totals["down_s"]
    overall = Fraction(totals["up_s"], observed) if observed else None
    totals.update(
        sites=len(sites),
        outage_count=sum(s["outage_count"] for s in sites),
        manual_signoff_sites=sum(1 for s in sites if s["manual_signoff"]),
        availability=ratio(overall),
        availability_pct=pct(overall),
    )
    return totals


def canonical_json(content: Content) -> str:
    return json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def content_sha256(content: Content) -> str:
    return hashlib.sha256(canonical_json(content).encode("utf-8")).hexdigest()


def month_label(year: int, month: int) -> str:
    return f"{year:04d}-{month:02d}"


def parse_month(value: str) -> tuple[int, int]:
    """'2024-10' → (2024, 10); ValueError otherwise."""
    try:
        year_s, month_s = value.split("-")
        year, month = int(year_s), int(month_s)
        month_bounds(year, month, WIB)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"month must look like 2024-10, got {value!r}") from exc
    return year, month

"""The PDF report: an official report of the office (letterhead, period, tables, an
availability chart, signatures), rendered from an HTML template with WeasyPrint."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from xml.sax.saxutils import escape

from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe

from linda.sla.content import Content, content_sha256
from linda.sla.reports.format import (
    cause_label,
    day,
    hms,
    month_name,
    number,
    pct,
    plain,
    responsibility_label,
    rupiah,
    site_row,
    when,
)


def availability_chart(content: Content) -> SafeString:
    """Inline SVG: one bar per site (availability), the SLA target as a line."""
    sites = [s for s in content["sites"] if s["availability_pct"] is not None]
    target = Decimal(content["terms"]["sla_target_pct"])
    width, height, left, bottom, top = 1000, 260, 46, 70, 12
    if not sites:
        return mark_safe(
            f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} 40" width="100%">'
            '<text x="10" y="25" font-size="14">—</text></svg>'
        )
    values = [Decimal(s["availability_pct"]) for s in sites]
    floor = max(Decimal(0), min(min(values), target) // 5 * 5 - 5)
    span = Decimal(100) - floor or Decimal(1)
    plot_h = height - bottom - top
    step = Decimal(width - left - 10) / len(sites)

    def y(value: Decimal) -> float:
        return float(top + plot_h * (1 - (value - floor) / span))

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" '
        f'font-family="sans-serif" font-size="10">'
    ]
    for tick in range(int(floor), 101, 5 if span > 10 else 1):
        ty = y(Decimal(tick))
        parts.append(f'<line x1="{left}" x2="{width - 10}" y1="{ty:.1f}" y2="{ty:.1f}" '
                     'stroke="#ddd"/>')
        parts.append(f'<text x="{left - 4}" y="{ty + 3:.1f}" text-anchor="end">{tick}%</text>')
    for i, (site, value) in enumerate(zip(sites, values, strict=True)):
        x = float(left + step * i + step * Decimal("0.15"))
        bar_w = float(step * Decimal("0.7"))
        colour = "#2e7d32" if value >= target else "#c62828"
        parts.append(f'<rect x="{x:.1f}" y="{y(value):.1f}" width="{bar_w:.1f}" '
                     f'height="{y(floor) - y(value):.1f}" fill="{colour}"/>')
        lx = x + bar_w / 2
        ly = height - bottom + 6
        parts.append(f'<text x="{lx:.1f}" y="{ly}" transform="rotate(60 {lx:.1f} {ly})" '
                     f'font-size="8">{escape(site["code"])}</text>')
    ty = y(target)
    parts.append(f'<line x1="{left}" x2="{width - 10}" y1="{ty:.1f}" y2="{ty:.1f}" '
                 'stroke="#1565c0" stroke-dasharray="6 3" stroke-width="1.5"/>')
    parts.append(f'<text x="{width - 12}" y="{ty - 4:.1f}" text-anchor="end" fill="#1565c0">'
                 f'target {escape(pct(plain(str(target))))}</text>')
    parts.append("</svg>")
    return mark_safe("".join(parts))  # built here from escaped values only


def _outage_rows(content: Content) -> list[dict[str, Any]]:
    rows = []
    for s in content["sites"]:
        for o in s["outages"]:
            override = o["override"]
            rows.append({
                "site": s["code"], "start": when(o["start"]), "end": when(o["end"]),
                "duration": hms(o["in_window_s"]), "cause": cause_label(o["cause"]),
                "auto_cause": cause_label(o["auto_cause"]),
                "responsibility": responsibility_label(o["responsibility"]),
                "evidence": o["evidence"],
                "override": None if override is None else {
                    "reason": override["reason"], "author": override["author"],
                    "at": when(override["created_at"]),
                },
            })
    return rows


def pdf_context(content: Content) -> dict[str, Any]:
    totals = content["totals"]
    return {
        "c": content,
        "month_name": month_name(content["period"]["month"]),
        "period_start": day(content["period"]["start"]),
        "period_end": day(content["period"]["end"], last=True),
        "computed_until": when(content["computed_until"]),
        "sha256": content_sha256(content),
        "chart": availability_chart(content),
        "sites": [site_row(s) for s in content["sites"]],
        "kecamatan": [
            {**site_row({**k, "code": k["code"], "village": "", "kecamatan": k["name"],
                          "sla_met": None, "manual_signoff": False}), "sites": k["sites"]}
            for k in content["kecamatan_totals"]
        ],
        "totals": {
            "sites": number(totals["sites"]), "fee_due": rupiah(totals["fee_due_idr"]),
            "restitution": rupiah(totals["restitution_idr"]),
            "payable": rupiah(totals["payable_idr"]),
            "availability": pct(totals["availability_pct"]),
            "down": hms(totals["down_s"]), "vendor_down": hms(totals["vendor_down_s"]),
            "outages": number(totals["outage_count"]),
        },
        "outages": _outage_rows(content),
        "monthly_fee": rupiah(content["terms"]["monthly_fee_idr"]),
        "target": pct(plain(content["terms"]["sla_target_pct"])),
        "responsibility_power": responsibility_label(
            content["terms"]["power_outage_responsibility"]
        ),
    }


def render_html(content: Content) -> str:
    return render_to_string("sla/report_pdf.html", pdf_context(content))


def render_pdf(content: Content) -> bytes:
    from weasyprint import HTML

    # No clock in the document: its dates (in the template) are the period's and its
    # identifier is the content hash, so the same content renders the same file.
    document = HTML(string=render_html(content), base_url=".")
    pdf = document.write_pdf(pdf_identifier=content_sha256(content)[:32].encode("ascii"))
    assert isinstance(pdf, bytes)
    return pdf

"""The XLSX report: summary, per site, per kecamatan, outages with cause and evidence.

Money cells are integers with a Rupiah number format; durations are integer seconds (with an
h:mm:ss column beside them); availability is the truncated percentage as a number, with the
exact fraction as text. Instants are written as text in WIB.
"""

from __future__ import annotations

import io
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from linda.sla.content import Content, content_sha256
from linda.sla.reports.format import (
    cause_label,
    hms,
    month_name,
    responsibility_label,
    when,
    yes_no,
)

RUPIAH = '"Rp" #,##0'
SECONDS = "#,##0"
PERCENT = "0.0000"
BOLD = Font(bold=True)


def _pct_number(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def _header(ws: Worksheet, row: int, titles: list[str]) -> None:
    for col, title in enumerate(titles, start=1):
        cell = ws.cell(row=row, column=col, value=title)
        cell.font = BOLD
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    ws.freeze_panes = ws.cell(row=row + 1, column=1)


def _put(ws: Worksheet, row: int, values: list[tuple[Any, str | None]]) -> None:
    for col, (value, fmt) in enumerate(values, start=1):
        cell = ws.cell(row=row, column=col, value=value)
        if fmt:
            cell.number_format = fmt


def _widths(ws: Worksheet, widths: list[int]) -> None:
    for col, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(col)].width = width


def _summary(ws: Worksheet, content: Content) -> None:
    ws.title = _("Ringkasan")
    contract, terms, totals = content["contract"], content["terms"], content["totals"]
    scope = content["kecamatan"]
    rows: list[tuple[str, Any, str | None]] = [
        (_("Laporan capaian SLA layanan internet desa"), None, None),
        (_("Kontrak"), f"{contract['number']} {contract['title']}".strip(), None),
        (_("Vendor"), contract["vendor"], None),
        (_("Periode"), month_name(content["period"]["month"]), None),
        (_("Cakupan"), f"{_('Kecamatan')} {scope['name']} ({scope['code']})" if scope
         else _("seluruh situs kontrak"), None),
        (_("Ketentuan kontrak"), f"v{terms['version']} ({terms['effective_from']})", None),
        (_("Aturan restitusi"), terms["restitution_kind"], None),
        (_("Target SLA (%)"), Decimal(terms["sla_target_pct"]), None),
        (_("Biaya bulanan per situs"), terms["monthly_fee_idr"], RUPIAH),
        (_("Jumlah situs"), totals["sites"], None),
        (_("Ketersediaan gabungan (%)"), _pct_number(totals["availability_pct"]), PERCENT),
        (_("Jumlah gangguan"), totals["outage_count"], None),
        (_("Biaya terutang"), totals["fee_due_idr"], RUPIAH),
        (_("Restitusi"), totals["restitution_idr"], RUPIAH),
        (_("Jumlah dibayar"), totals["payable_idr"], RUPIAH),
        (_("Perlu persetujuan manual"), yes_no(content["manual_signoff_required"]), None),
        (_("Final"), yes_no(content["final"]), None),
        (_("Dihitung sampai"), when(content["computed_until"]) + " WIB", None),
        (_("Versi aturan"), content["rule_version"], None),
        (_("SHA-256 isi"), content_sha256(content), None),
    ]
    for row, (label, value, fmt) in enumerate(rows, start=1):
        _put(ws, row, [(label, None), (value, fmt)])
        ws.cell(row=row, column=1).font = BOLD
    ws.cell(row=1, column=1).font = Font(bold=True, size=14)
    _widths(ws, [32, 70])


SITE_TITLES = [
    _l("Kode situs"), _l("Nama"), _l("Desa"), _l("Kecamatan"), _l("Aktif sejak (WIB)"),
    _l("Jendela (detik)"), _l("UP (detik)"), _l("DOWN (detik)"), _l("DOWN vendor (detik)"),
    _l("DIKECUALIKAN (detik)"), _l("TIDAK DIKETAHUI (detik)"), _l("Kualitas turun (detik)"),
    _l("DOWN (j:mm:dd)"), _l("Gangguan"), _l("Gangguan terlama (detik)"),
    _l("Ketersediaan (%)"), _l("Ketersediaan (pecahan tepat)"),
    _l("Ketersediaan restitusi (%)"), _l("Memenuhi target"), _l("Biaya terutang"),
    _l("Restitusi"), _l("Dibayar"), _l("Persetujuan manual"),
]


def _sites(ws: Worksheet, content: Content) -> None:
    _header(ws, 1, [str(t) for t in SITE_TITLES])
    for row, s in enumerate(content["sites"], start=2):
        _put(ws, row, [
            (s["code"], None), (s["name"], None), (s["village"], None), (s["kecamatan"], None),
            (when(s["activated_at"]), None), (s["window_s"], SECONDS), (s["up_s"], SECONDS),
            (s["down_s"], SECONDS), (s["vendor_down_s"], SECONDS), (s["excluded_s"], SECONDS),
            (s["unknown_s"], SECONDS), (s["degraded_s"], SECONDS), (hms(s["down_s"]), None),
            (s["outage_count"], None), (s["longest_outage_s"], SECONDS),
            (_pct_number(s["availability_pct"]), PERCENT), (s["availability"], None),
            (_pct_number(s["restitution_availability_pct"]), PERCENT),
            (yes_no(s["sla_met"]), None), (s["fee_due_idr"], RUPIAH),
            (s["restitution_idr"], RUPIAH), (s["payable_idr"], RUPIAH),
            (yes_no(s["manual_signoff"]), None),
        ])
    _widths(ws, [16, 18, 18, 18, 20] + [14] * 18)


def _kecamatan(ws: Worksheet, content: Content) -> None:
    titles = [
        _l("Kode"), _l("Kecamatan"), _l("Situs"), _l("UP (detik)"), _l("DOWN (detik)"),
        _l("DOWN vendor (detik)"), _l("Ketersediaan (%)"), _l("Biaya terutang"),
        _l("Restitusi"), _l("Dibayar"),
    ]
    _header(ws, 1, [str(t) for t in titles])
    rows = [*content["kecamatan_totals"], {"code": "", "name": _("Jumlah"),
                                            **content["totals"]}]
    for row, k in enumerate(rows, start=2):
        _put(ws, row, [
            (k["code"], None), (k["name"], None), (k["sites"], None), (k["up_s"], SECONDS),
            (k["down_s"], SECONDS), (k["vendor_down_s"], SECONDS),
            (_pct_number(k["availability_pct"]), PERCENT), (k["fee_due_idr"], RUPIAH),
            (k["restitution_idr"], RUPIAH), (k["payable_idr"], RUPIAH),
        ])
    ws.cell(row=len(rows) + 1, column=2).font = BOLD
    _widths(ws, [12, 22, 8, 14, 14, 14, 14, 16, 16, 16])


OUTAGE_TITLES = [
    _l("Kode situs"), _l("Kecamatan"), _l("Mulai (WIB)"), _l("Selesai (WIB)"),
    _l("Durasi dalam periode (detik)"), _l("Durasi (j:mm:dd)"), _l("Penyebab otomatis"),
    _l("Penyebab"), _l("Penanggung jawab"), _l("Bukti"), _l("Insiden hulu"),
    _l("Situs lain serentak"), _l("Koreksi: alasan"), _l("Koreksi: oleh"),
    _l("Koreksi: waktu (WIB)"),
]


def _outages(ws: Worksheet, content: Content) -> None:
    _header(ws, 1, [str(t) for t in OUTAGE_TITLES])
    row = 2
    for s in content["sites"]:
        for o in s["outages"]:
            override = o["override"] or {}
            _put(ws, row, [
                (s["code"], None), (s["kecamatan"], None), (when(o["start"]), None),
                (when(o["end"]), None), (o["in_window_s"], SECONDS),
                (hms(o["in_window_s"]), None), (cause_label(o["auto_cause"]), None),
                (cause_label(o["cause"]), None),
                (responsibility_label(o["responsibility"]), None),
                ("; ".join(o["evidence"]), None),
                (when(o["incident"]) if o["incident"] else "", None),
                (o["concurrent_sites"], None), (override.get("reason", ""), None),
                (override.get("author", ""), None),
                (when(override["created_at"]) if override else "", None),
            ])
            ws.cell(row=row, column=10).alignment = Alignment(wrap_text=True, vertical="top")
            row += 1
    _widths(ws, [16, 18, 20, 20, 14, 12, 16, 16, 18, 80, 20, 10, 40, 14, 20])


def render_xlsx(content: Content) -> bytes:
    wb = Workbook()
    _summary(wb.active, content)
    _sites(wb.create_sheet(_("Per situs")), content)
    _kecamatan(wb.create_sheet(_("Per kecamatan")), content)
    _outages(wb.create_sheet(_("Gangguan")), content)
    # Fixed document dates: the same content gives the same workbook properties.
    stamp = datetime.fromisoformat(content["period"]["end"]).replace(tzinfo=None)
    wb.properties.created = stamp
    wb.properties.modified = stamp
    wb.properties.creator = "Linda"
    wb.properties.title = f"SLA {content['contract']['number']} {content['period']['month']}"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()

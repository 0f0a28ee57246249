"""SLA pages: contracts with a month picker and the per-site table, and report downloads.

Scoped on the server: a vendor sees only its own contracts (`visible_contracts`); any other
contract is a 404.
"""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from linda.registry.models import Contract, Region, RegionLevel
from linda.sla.content import Content, parse_month
from linda.sla.reports import CONTENT_TYPES, FORMATS, filename
from linda.sla.reports import render as render_report
from linda.sla.reports.format import month_name, rupiah, site_row
from linda.sla.selectors import (
    NoTermsError,
    get_contract_month_content,
    get_current_report,
    get_visible_contract,
    list_sla_contracts,
    report_content,
)


def _previous_month(today: dt.date) -> str:
    first = today.replace(day=1) - dt.timedelta(days=1)
    return f"{first.year:04d}-{first.month:02d}"


def _kecamatan(code: str | None) -> Region | None:
    if not code:
        return None
    kecamatan = Region.objects.filter(code=code, level=RegionLevel.DISTRICT).first()
    if kecamatan is None:
        raise Http404("no such kecamatan")
    return kecamatan


def _content(contract: Contract, year: int, month: int,
             kecamatan: Region | None) -> tuple[Content, bool]:
    """The stored report's content, else the month computed now (not stored)."""
    stored = get_current_report(contract, year, month, kecamatan=kecamatan)
    if stored is not None:
        return report_content(stored), True
    return get_contract_month_content(
        contract, year, month, now=timezone.now(), kecamatan=kecamatan
    ), False


@login_required
def index(request: HttpRequest) -> HttpResponse:
    contracts = list(list_sla_contracts(request.user))
    month = request.GET.get("month") or _previous_month(timezone.localdate())
    context: dict[str, object] = {"contracts": contracts, "month": month, "formats": FORMATS}
    try:
        year, number = parse_month(month)
    except ValueError:
        context["error"] = _("Bulan tidak valid; gunakan bentuk 2024-10.")
        return render(request, "sla/index.html", context, status=400)
    pk = request.GET.get("contract")
    contract = (
        get_visible_contract(request.user, pk=int(pk)) if pk and pk.isdigit()
        else (contracts[0] if contracts else None)
    )
    if pk and contract is None:
        raise Http404("no such contract")
    kecamatan = _kecamatan(request.GET.get("kecamatan"))
    context.update(contract=contract, kecamatan=kecamatan)
    if contract is not None:
        try:
            content, stored = _content(contract, year, number, kecamatan)
        except (NoTermsError, ValueError) as exc:
            context["error"] = str(exc)
        else:
            context.update(
                content=content, stored=stored, month_name=month_name(month),
                rows=[site_row(s) for s in content["sites"]],
                kecamatan_rows=[
                    {**site_row({**k, "village": "", "kecamatan": k["name"],
                                 "sla_met": None, "manual_signoff": False}),
                     "sites": k["sites"]}
                    for k in content["kecamatan_totals"]
                ],
                totals={key: rupiah(content["totals"][key])
                        for key in ("fee_due_idr", "restitution_idr", "payable_idr")},
                kecamatan_choices=sorted({(s["kecamatan_code"], s["kecamatan"])
                                          for s in content["sites"]}),
            )
    return render(request, "sla/index.html", context)


@login_required
def download(request: HttpRequest, pk: int, month: str, fmt: str) -> HttpResponse:
    contract = get_visible_contract(request.user, pk=pk)
    if contract is None or fmt not in FORMATS:
        raise Http404("no such report")
    try:
        year, number = parse_month(month)
    except ValueError as exc:
        raise Http404("no such month") from exc
    kecamatan = _kecamatan(request.GET.get("kecamatan"))
    try:
        content, _stored = _content(contract, year, number, kecamatan)
    except (NoTermsError, ValueError) as exc:
        raise Http404(str(exc)) from exc
    response = HttpResponse(render_report(content, fmt), content_type=CONTENT_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="{filename(content, fmt)}"'
    return response

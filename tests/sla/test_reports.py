"""The XLSX, CSV and PDF reports, rendered from the October scenario's content."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from openpyxl import load_workbook

from linda.accounts.models import Role
from linda.domain.attribution import Responsibility
from linda.sla.content import content_sha256
from linda.sla.reports import filename, render
from linda.sla.reports.pdf import availability_chart, render_html
from linda.sla.selectors import get_contract_month_content, report_content
from linda.sla.services import generate_report, record_outage_override
from tests.factories import make_user
from tests.sla.scenario import NOW, October, utc

pytestmark = pytest.mark.django_db


@pytest.fixture
def content(october: October) -> dict[str, Any]:
    record_outage_override(
        site=october.sites["sol"], outage_start=utc(10, 22, 20, 30), now=NOW,
        author=make_user("operator", Role.OPERATOR), responsibility=Responsibility.VENDOR,
        reason="Baterai rusak dilaporkan sejak September (tiket #118).",
    )
    return get_contract_month_content(october.contract, 2024, 10, now=NOW)


def test_csv_is_one_row_per_site_and_regenerates_byte_for_byte(
    october: October, content: dict[str, Any]
) -> None:
    data = render(content, "csv")
    again = render(get_contract_month_content(october.contract, 2024, 10, now=NOW), "csv")
    assert data == again
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8"))))
    assert [r["site_code"] for r in rows] == [
        "mon", "mtn", "part", "sol", "up1", "up2", "up3", "up4", "up5"]
    part = next(r for r in rows if r["site_code"] == "part")
    assert {k: part[k] for k in ("window_s", "up_s", "down_s", "unknown_s", "availability",
                                 "availability_pct", "fee_due_idr", "restitution_idr",
                                 "payable_idr", "kecamatan", "village")} == {
        "window_s": "1814400", "up_s": "1758600", "down_s": "34200", "unknown_s": "21600",
        "availability": "977/996", "availability_pct": "98.0923", "fee_due_idr": "1016129",
        "restitution_idr": "50806", "payable_idr": "965323", "kecamatan": "Lahei",
        "village": "Ipu",
    }
    assert {r["content_sha256"] for r in rows} == {content_sha256(content)}
    assert {r["rule_version"] for r in rows} == {content["rule_version"]}
    assert data.startswith(b"contract_number,month,") and b"\r\n" in data


def test_a_stored_report_renders_the_same_csv_as_a_fresh_computation(
    october: October, content: dict[str, Any]
) -> None:
    stored = generate_report(contract=october.contract, year=2024, month=10, author=None,
                             now=NOW).report
    assert render(report_content(stored), "csv") == render(content, "csv")
    assert stored.content_sha256 == content_sha256(content)


def test_xlsx_reads_back_with_integer_rupiah(content: dict[str, Any]) -> None:
    book = load_workbook(io.BytesIO(render(content, "xlsx")))
    assert book.sheetnames == ["Ringkasan", "Per situs", "Per kecamatan", "Gangguan"]
    summary = {row[0]: row[1] for row in book["Ringkasan"].iter_rows(values_only=True)}
    assert summary["Kontrak"] == "K/SLA/2024 Internet desa 2024"
    assert summary["Periode"] == "Oktober 2024"
    assert summary["SHA-256 isi"] == content_sha256(content)
    # The override makes the first night of `sol` the vendor's; 16_200 s keeps it ≥ 99 %.
    assert (summary["Biaya terutang"], summary["Restitusi"], summary["Jumlah dibayar"]) == (
        7_209_674, 549_191, 6_660_483)
    sites = book["Per situs"]
    header = [c.value for c in sites[1]]
    by_code = {row[0]: dict(zip(header, row, strict=True))
               for row in sites.iter_rows(min_row=2, values_only=True)}
    up1 = by_code["up1"]
    assert (up1["Biaya terutang"], up1["Restitusi"], up1["Dibayar"]) == (
        338_709, 84_677, 254_032)
    assert all(isinstance(r[k], int) for r in by_code.values()
               for k in ("Biaya terutang", "Restitusi", "Dibayar", "DOWN (detik)"))
    fee_col = header.index("Biaya terutang") + 1
    assert sites.cell(row=2, column=fee_col).number_format == '"Rp" #,##0'
    assert by_code["mtn"]["DOWN (j:mm:dd)"] == "8:00:00"
    kec = {row[1]: row for row in book["Per kecamatan"].iter_rows(min_row=2, values_only=True)}
    assert kec["Jumlah"][7:] == (7_209_674, 549_191, 6_660_483)
    outages = book["Gangguan"]
    oheader = [c.value for c in outages[1]]
    rows = [dict(zip(oheader, r, strict=True))
            for r in outages.iter_rows(min_row=2, values_only=True)]
    assert len(rows) == 10
    sol = [r for r in rows if r["Kode situs"] == "sol"]
    assert [(r["Mulai (WIB)"], r["Penyebab"], r["Penanggung jawab"]) for r in sol] == [
        ("23-10-2024 03:30:00", "listrik", "vendor"),
        ("24-10-2024 03:30:00", "listrik", "pemerintah kabupaten"),
    ]
    assert sol[0]["Koreksi: alasan"] == "Baterai rusak dilaporkan sejak September (tiket #118)."
    assert "uptime router direset" in sol[0]["Bukti"]
    upstream = [r for r in rows if r["Penyebab"] == "hulu (insiden massal)"]
    assert len(upstream) == 5 and {r["Insiden hulu"] for r in upstream} == {
        "25-10-2024 12:30:00"}


def test_pdf_is_an_official_report(content: dict[str, Any]) -> None:
    html = render_html(content)
    for text in ("PEMERINTAH KABUPATEN BARITO UTARA",
                 "DINAS KOMUNIKASI, INFORMATIKA DAN PERSANDIAN", "Oktober 2024",
                 "Rp 6.660.483", "Kepala Dinas Komunikasi, Informatika dan Persandian",
                 "PT Comtelindo", content_sha256(content), "<svg",
                 "Baterai rusak dilaporkan sejak September (tiket #118)."):
        assert text in html, text
    pdf = render(content, "pdf")
    assert pdf.startswith(b"%PDF-") and len(pdf) > 10_000
    assert render(content, "pdf") == pdf  # no clock inside


def test_chart_has_a_bar_per_measured_site(content: dict[str, Any]) -> None:
    svg = str(availability_chart(content))
    assert svg.count("<rect") == 9
    assert "target 99%" in svg


def test_file_names(content: dict[str, Any]) -> None:
    assert filename(content, "pdf") == "sla-K-SLA-2024-2024-10.pdf"

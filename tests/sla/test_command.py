"""`linda report sla`: stores a generation, renders it, verifies and regenerates it."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from openpyxl import load_workbook

from linda.sla.models import SlaReport
from tests.sla.scenario import October

pytestmark = pytest.mark.django_db


def report(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("report", "sla", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_csv_then_stored_xlsx_then_verify_and_force(october: October, tmp_path: Path) -> None:
    first = tmp_path / "oct.csv"
    _, err = report("--contract", "K/SLA/2024", "--month", "2024-10", "--format", "csv",
                    "--output", str(first))
    assert "situs 9/9" in err and "final" in err
    rows = list(csv.DictReader(io.StringIO(first.read_text("utf-8"))))
    assert sum(int(r["payable_idr"]) for r in rows) == 6_660_483
    stored = SlaReport.objects.get()
    assert stored.content_sha256 in err

    again = tmp_path / "again.csv"
    report("--contract", "K/SLA/2024", "--month", "2024-10", "--format", "csv",
           "--output", str(again))
    assert again.read_bytes() == first.read_bytes()
    assert SlaReport.objects.count() == 1  # rendered from the stored generation

    xlsx = tmp_path / "oct.xlsx"
    report("--contract", "K/SLA/2024", "--month", "2024-10", "--output", str(xlsx))
    assert load_workbook(xlsx).sheetnames[0] == "Ringkasan"

    out, _ = report("--contract", "K/SLA/2024", "--month", "2024-10", "--verify")
    assert out.strip() == f"OK {stored.content_sha256}"

    forced = tmp_path / "forced.csv"
    _, err = report("--contract", "K/SLA/2024", "--month", "2024-10", "--format", "csv",
                    "--force", "--output", str(forced))
    assert "sama persis dengan generasi sebelumnya" in err
    assert forced.read_bytes() == first.read_bytes()
    assert SlaReport.objects.count() == 2


def test_one_kecamatan(october: October, tmp_path: Path) -> None:
    target = tmp_path / "lahei.csv"
    report("--contract", "K/SLA/2024", "--month", "2024-10", "--format", "csv",
           "--kecamatan", "62.05.06", "--output", str(target))
    rows = list(csv.DictReader(io.StringIO(target.read_text("utf-8"))))
    assert [r["site_code"] for r in rows] == ["part", "sol"]
    assert SlaReport.objects.get().kecamatan.code == "62.05.06"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--contract", "NOPE", "--month", "2024-10"], "no contract"),
        (["--contract", "K/SLA/2024", "--month", "2024-13"], "month must look like"),
        (["--contract", "K/SLA/2024", "--month", "2024-10", "--kecamatan", "62.05.99"],
         "no kecamatan"),
        (["--contract", "K/SLA/2024", "--month", "2023-12"], "outside the contract period"),
        (["--contract", "K/SLA/2024", "--month", "2024-10", "--verify"], "no stored report"),
    ],
)
def test_bad_arguments_fail_loudly(october: October, args: list[str], message: str) -> None:
    with pytest.raises(CommandError, match=message):
        report(*args)

"""`linda report sla --contract NUMBER --month 2024-10 --format xlsx|pdf|csv`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from linda.registry.models import Contract, Region, RegionLevel
from linda.sla.content import content_sha256, parse_month
from linda.sla.models import SlaReport
from linda.sla.reports import FORMATS, filename, render
from linda.sla.selectors import (
    NoTermsError,
    get_contract_month_content,
    get_current_report,
    report_content,
)
from linda.sla.services import generate_report


class Command(BaseCommand):
    help = (
        "Monthly SLA report of a contract (or one kecamatan of it) as XLSX, PDF or CSV. The "
        "first run computes the month and stores it with the SHA-256 of its content; later "
        "runs render the stored report unless --force regenerates it. --verify recomputes "
        "and compares with the stored hash without storing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("kind", choices=["sla"], help="the report (sla)")
        parser.add_argument("--contract", required=True, help="contract number")
        parser.add_argument("--month", required=True, help="calendar month in WIB, 2024-10")
        parser.add_argument("--format", choices=FORMATS, default="xlsx", dest="fmt")
        parser.add_argument("--output", help="file to write (default: sla-<contract>-<month>"
                                             ".<format> in the current directory; - = stdout)")
        parser.add_argument("--kecamatan", help="only this kecamatan's sites (code, 62.05.05)")
        parser.add_argument("--force", action="store_true",
                            help="recompute and store a new generation")
        parser.add_argument("--verify", action="store_true",
                            help="recompute, compare with the stored report, store nothing")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            year, month = parse_month(options["month"])
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        contract = Contract.objects.select_related("vendor").filter(
            number=options["contract"]).first()
        if contract is None:
            raise CommandError(f"no contract numbered {options['contract']!r}")
        kecamatan = self._kecamatan(options["kecamatan"])
        try:
            if options["verify"]:
                self._verify(contract, year, month, kecamatan)
                return
            generation = generate_report(
                contract=contract, year=year, month=month, author=None, kecamatan=kecamatan,
                force=options["force"], progress=self._progress,
            )
        except (NoTermsError, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        content = report_content(generation.report)
        data = render(content, options["fmt"])
        target = options["output"] or filename(content, options["fmt"])
        if target == "-":
            sys.stdout.buffer.write(data)
        else:
            Path(target).write_bytes(data)
            self.stderr.write(f"{target}: {len(data)} bytes")
        self._describe(generation.report, generation.identical_to_previous)

    def _kecamatan(self, code: str | None) -> Region | None:
        if not code:
            return None
        kecamatan = Region.objects.filter(code=code, level=RegionLevel.DISTRICT).first()
        if kecamatan is None:
            raise CommandError(f"no kecamatan with code {code!r}")
        return kecamatan

    def _progress(self, done: int, total: int) -> None:
        if done == total or done % max(1, total // 20) == 0:
            self.stderr.write(f"\rsitus {done}/{total}", ending="\n" if done == total else "")
            self.stderr.flush()

    def _describe(self, report: SlaReport, identical: bool | None) -> None:
        state = "final" if report.is_final else "SEMENTARA (belum final)"
        self.stderr.write(
            f"laporan #{report.pk} {state}, dibuat {report.generated_at.isoformat()}, "
            f"sha256 {report.content_sha256}"
        )
        if report.manual_signoff_required:
            self.stderr.write("PERLU PERSETUJUAN MANUAL: waktu TIDAK DIKETAHUI di atas ambang")
        if identical is True:
            self.stderr.write("sama persis dengan generasi sebelumnya")
        elif identical is False:
            self.stderr.write("BERBEDA dari generasi sebelumnya")

    def _verify(self, contract: Contract, year: int, month: int,
                kecamatan: Region | None) -> None:
        stored = get_current_report(contract, year, month, kecamatan=kecamatan)
        if stored is None:
            raise CommandError("no stored report to verify")
        fresh = get_contract_month_content(
            contract, year, month, now=timezone.now(), kecamatan=kecamatan,
            progress=self._progress,
        )
        digest = content_sha256(fresh)
        if digest != stored.content_sha256:
            raise CommandError(
                f"BERBEDA: tersimpan {stored.content_sha256}, dihitung ulang {digest}"
            )
        self.stdout.write(f"OK {digest}")

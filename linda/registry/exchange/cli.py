"""What the four exchange commands share: arguments, format choice, refusal as CommandError."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from linda.registry.exchange.formats import Format, format_for_path
from linda.registry.importing import ImportRefused, ImportResult
from linda.registry.models import Region, RegionLevel

FORMATS = [f.value for f in Format]


class ImportCommand(BaseCommand):
    noun = ""  # "villages", "sites"

    def import_file(self, path: str, fmt: Format) -> ImportResult:
        raise NotImplementedError

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file")
        parser.add_argument(
            "--format", choices=FORMATS, help="csv or geojson (default: from the extension)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            fmt = format_for_path(options["file"], options["format"])
            result = self.import_file(options["file"], fmt)
        except ImportRefused as exc:
            lines = "\n".join(str(e) for e in exc.errors)
            count = f"{len(exc.errors)} error{'s' if len(exc.errors) > 1 else ''}"
            raise CommandError(f"Refused, nothing written ({count}):\n{lines}") from exc
        except OSError as exc:
            raise CommandError(f"file: {exc}") from exc
        if options["verbosity"] > 1:
            for line in result.details:
                self.stdout.write(line)
        self.stdout.write(f"{self.noun.capitalize()}: {result}")


class ExportCommand(BaseCommand):
    noun = ""

    def export(self, fmt: Format, kecamatan_code: str | None) -> tuple[str, int]:
        """The file's text and how many rows it holds."""
        raise NotImplementedError

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--format", choices=FORMATS,
                            help="csv or geojson (default: from --output's extension, else csv)")
        parser.add_argument("--output", help="file to write (default: standard output)")
        parser.add_argument("--kecamatan", metavar="CODE",
                            help="only this kecamatan's, e.g. 62.05.05")

    def handle(self, *args: Any, **options: Any) -> None:
        output: str | None = options["output"]
        kecamatan: str | None = options["kecamatan"]
        is_kecamatan = Region.objects.filter(code=kecamatan, level=RegionLevel.DISTRICT).exists()
        if kecamatan and not is_kecamatan:
            raise CommandError(f"kecamatan: {kecamatan!r} is not a kecamatan in the registry")
        fmt = _export_format(output, options["format"])
        text, count = self.export(fmt, kecamatan)
        if output is None:
            self.stdout.write(text, ending="")
            return
        try:
            Path(output).write_text(text, encoding="utf-8")
        except OSError as exc:
            raise CommandError(f"output: {exc}") from exc
        self.stdout.write(f"{count} {self.noun} written to {output}")


def _export_format(output: str | None, explicit: str | None) -> Format:
    if explicit or output is None:
        return Format(explicit or Format.CSV)
    try:
        return format_for_path(output)
    except ImportRefused as exc:
        raise CommandError(str(exc)) from exc

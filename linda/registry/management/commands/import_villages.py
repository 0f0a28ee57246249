from __future__ import annotations

from linda.registry.exchange import Format, import_villages_file
from linda.registry.exchange.cli import ImportCommand
from linda.registry.importing import ImportResult


class Command(ImportCommand):
    help = (
        "Update names and coordinates of official villages from CSV or GeoJSON "
        "(docs/import-export.md). All or nothing; unknown village codes are refused."
    )
    noun = "villages"

    def import_file(self, path: str, fmt: Format) -> ImportResult:
        return import_villages_file(path, fmt=fmt, actor=None)

from __future__ import annotations

from linda.registry.exchange import Format, import_sites_file
from linda.registry.exchange.cli import ImportCommand
from linda.registry.importing import ImportResult


class Command(ImportCommand):
    help = (
        "Create or update sites by code from CSV or GeoJSON (docs/import-export.md). "
        "All or nothing; every error is listed by row and field."
    )
    noun = "sites"

    def import_file(self, path: str, fmt: Format) -> ImportResult:
        return import_sites_file(path, fmt=fmt, actor=None)

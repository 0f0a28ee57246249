from __future__ import annotations

from linda.registry.exchange import Format, export_sites, list_sites
from linda.registry.exchange.cli import ExportCommand


class Command(ExportCommand):
    help = "Write the sites, every editable field, as CSV or GeoJSON."
    noun = "sites"

    def export(self, fmt: Format, kecamatan_code: str | None) -> tuple[str, int]:
        text = export_sites(fmt, kecamatan_code=kecamatan_code)
        return text, list_sites(kecamatan_code).count()

from __future__ import annotations

from linda.registry.exchange import Format, export_villages, list_villages
from linda.registry.exchange.cli import ExportCommand


class Command(ExportCommand):
    help = "Write the official villages with their coordinates as CSV or GeoJSON."
    noun = "villages"

    def export(self, fmt: Format, kecamatan_code: str | None) -> tuple[str, int]:
        text = export_villages(fmt, kecamatan_code=kecamatan_code)
        return text, list_villages(kecamatan_code).count()

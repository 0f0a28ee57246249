"""Report renderers. Each takes the canonical content dict and returns the file's bytes.

Reports are written in the office's language (settings.LANGUAGE_CODE, Bahasa Indonesia)
whatever the reader's, so a report renders the same for everyone.
"""

from __future__ import annotations

import re

from django.conf import settings
from django.utils import translation

from linda.sla.content import Content

FORMATS = ("xlsx", "pdf", "csv")
CONTENT_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
    "csv": "text/csv; charset=utf-8",
}


def render(content: Content, fmt: str) -> bytes:
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    with translation.override(settings.LANGUAGE_CODE):
        if fmt == "csv":
            from linda.sla.reports.tabular import render_csv

            return render_csv(content)
        if fmt == "xlsx":
            from linda.sla.reports.workbook import render_xlsx

            return render_xlsx(content)
        from linda.sla.reports.pdf import render_pdf

        return render_pdf(content)


def filename(content: Content, fmt: str) -> str:
    """sla-K-1-2024-2024-10[-62.05.05].xlsx"""
    number = re.sub(r"[^A-Za-z0-9]+", "-", content["contract"]["number"]).strip("-")
    scope = f"-{content['kecamatan']['code']}" if content["kecamatan"] else ""
    return f"sla-{number}-{content['period']['month']}{scope}.{fmt}"

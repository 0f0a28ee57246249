"""Shared machinery for imports that are all-or-nothing and list every error by row and field."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True, slots=True)
class RowError:
    row: int  # 1-based data row (the header is row 0); 0 means the file itself
    field: str
    message: str

    def __str__(self) -> str:
        where = "file" if self.row == 0 else f"row {self.row}"
        return f"{where}, {self.field}: {self.message}"


class ImportRefused(Exception):
    """The whole file was refused; nothing was written."""

    def __init__(self, errors: list[RowError]) -> None:
        self.errors = errors
        super().__init__("\n".join(str(e) for e in errors))


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    details: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return f"{self.created} created, {self.updated} updated, {self.unchanged} unchanged"


def read_text(path: Path | str) -> str:
    data = Path(path).read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportRefused([RowError(0, "encoding", f"not UTF-8 ({exc.reason})")]) from exc


def csv_rows(
    text: str, *, required: tuple[str, ...], optional: tuple[str, ...] = ()
) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield (row number, row) with stripped values; refuse a header missing a column."""
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [col for col in required if col not in header]
    unknown = [col for col in header if col not in required + optional]
    errors = [RowError(0, col, "required column is missing") for col in missing]
    errors += [RowError(0, col, "unknown column") for col in unknown]
    if errors:
        raise ImportRefused(errors)
    reader.fieldnames = header
    for number, raw in enumerate(reader, start=1):
        if None in raw:
            raise ImportRefused([RowError(number, "row", "more values than columns")])
        yield number, {k: (v or "").strip() for k, v in raw.items()}

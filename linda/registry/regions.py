"""Import of official Kemendagri region lists (`linda import-regions FILE`).

CSV shape: code, parent_code, level, name (the shape of data/regions/*.csv). The file is
validated whole before anything is written; re-importing the same file changes nothing.
"""

from __future__ import annotations

from pathlib import Path

from django.db import transaction

from linda.accounts.selectors import User
from linda.audit.models import AuditAction
from linda.audit.services import record_audit, snapshot
from linda.registry.importing import (
    ImportRefused,
    ImportResult,
    RowError,
    csv_rows,
    read_text,
)
from linda.registry.models import LEVEL_DEPTH, REGION_CODE_VALIDATOR, Region, RegionLevel

PARENT_LEVEL = {
    RegionLevel.REGENCY: RegionLevel.PROVINCE,
    RegionLevel.DISTRICT: RegionLevel.REGENCY,
    RegionLevel.DESA: RegionLevel.DISTRICT,
    RegionLevel.KELURAHAN: RegionLevel.DISTRICT,
}


def _validate_row(number: int, row: dict[str, str], levels: dict[str, str]) -> list[RowError]:
    errors: list[RowError] = []
    code, parent_code, level, name = row["code"], row["parent_code"], row["level"], row["name"]
    if not REGION_CODE_VALIDATOR.regex.match(code):
        errors.append(RowError(number, "code", f"{code!r} is not a Kemendagri code"))
    if level not in RegionLevel.values:
        allowed = ", ".join(RegionLevel.values)
        errors.append(RowError(number, "level", f"{level!r} is not one of {allowed}"))
        return errors
    if not name:
        errors.append(RowError(number, "name", "must not be empty"))
    elif len(name) > 120:
        errors.append(RowError(number, "name", "longer than 120 characters"))
    depth = LEVEL_DEPTH[RegionLevel(level)]
    if code and code.count(".") + 1 != depth:
        errors.append(RowError(number, "code", f"{code!r} does not have the shape of a {level}"))
    if level == RegionLevel.PROVINCE:
        if parent_code:
            errors.append(RowError(number, "parent_code", "a province has no parent"))
        return errors
    if not code.startswith(parent_code + ".") or parent_code.count(".") + 2 != depth:
        message = f"{parent_code!r} is not the parent of {code}"
        errors.append(RowError(number, "parent_code", message))
        return errors
    parent_level = levels.get(parent_code) or _existing_level(parent_code)
    expected = PARENT_LEVEL[RegionLevel(level)]
    if parent_level is None:
        message = f"{parent_code!r} is not in the file or the registry"
        errors.append(RowError(number, "parent_code", message))
    elif parent_level != expected:
        message = f"{parent_code!r} is a {parent_level}, not a {expected}"
        errors.append(RowError(number, "parent_code", message))
    return errors


def _existing_level(code: str) -> str | None:
    return Region.objects.filter(code=code).values_list("level", flat=True).first()


def parse_regions(text: str) -> list[dict[str, str]]:
    rows = list(csv_rows(text, required=("code", "parent_code", "level", "name")))
    levels: dict[str, str] = {}
    errors: list[RowError] = []
    for number, row in rows:
        if row["code"] in levels:
            errors.append(RowError(number, "code", f"{row['code']!r} appears twice"))
        levels[row["code"]] = row["level"]
    for number, row in rows:
        errors += _validate_row(number, row, levels)
    if not rows:
        errors.append(RowError(0, "rows", "the file holds no regions"))
    if errors:
        raise ImportRefused(errors)
    return [row for _, row in sorted(rows, key=lambda item: item[1]["code"].count("."))]


@transaction.atomic
def import_regions(text: str, *, actor: User | None) -> ImportResult:
    result = ImportResult()
    for row in parse_regions(text):
        parent = Region.objects.get(code=row["parent_code"]) if row["parent_code"] else None
        existing = Region.objects.filter(code=row["code"]).first()
        if existing is None:
            region = Region.objects.create(
                code=row["code"], parent=parent, level=row["level"], name=row["name"]
            )
            record_audit(actor=actor, action=AuditAction.IMPORT, obj=region, before=None,
                         after=snapshot(region), note="import-regions")
            result.created += 1
            continue
        wanted = (parent.pk if parent else None, row["level"], row["name"])
        if (existing.parent_id, existing.level, existing.name) == wanted:
            result.unchanged += 1
            continue
        before = snapshot(existing)
        existing.parent, existing.level, existing.name = parent, row["level"], row["name"]
        existing.save(update_fields=["parent", "level", "name"])
        record_audit(actor=actor, action=AuditAction.IMPORT, obj=existing, before=before,
                     after=snapshot(existing), note="import-regions")
        result.updated += 1
    return result


def import_regions_file(path: Path | str, *, actor: User | None) -> ImportResult:
    return import_regions(read_text(path), actor=actor)

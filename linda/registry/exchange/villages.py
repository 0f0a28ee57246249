"""Villages out and in: coordinates (and names) of the official desa and kelurahan.

Villages themselves come only from the official list (`linda import-regions`); this import
updates existing villages and refuses an unknown code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import transaction
from django.db.models import QuerySet

from linda.audit.models import AuditAction
from linda.audit.services import Actor, record_audit, snapshot
from linda.registry.exchange.formats import (
    Format,
    model_errors,
    parse_coordinates,
    point,
    read_rows,
    refuse,
    write_csv,
    write_geojson,
)
from linda.registry.importing import ImportResult, RowError, read_text
from linda.registry.models import VILLAGE_LEVELS, Region

VILLAGE_COLUMNS = ("code", "name", "kecamatan_code", "level", "latitude", "longitude")
# GeoJSON carries the location in the geometry, and the kecamatan's name for people to read.
VILLAGE_PROPERTIES = ("code", "name", "kecamatan_code", "kecamatan", "level")
EDITABLE = ("name", "latitude", "longitude")
AUDIT_NOTE = "import-villages"


def list_villages(kecamatan_code: str | None = None) -> QuerySet[Region]:
    qs = Region.objects.filter(level__in=VILLAGE_LEVELS).select_related("parent")
    if kecamatan_code:
        qs = qs.filter(parent__code=kecamatan_code)
    return qs.order_by("code")


def export_villages(fmt: Format, *, kecamatan_code: str | None = None) -> str:
    villages = list(list_villages(kecamatan_code))
    if fmt == Format.CSV:
        return write_csv(VILLAGE_COLUMNS, (
            (v.code, v.name, _parent_code(v), v.level, v.latitude, v.longitude)
            for v in villages
        ))
    return write_geojson(
        (point(v.latitude, v.longitude), {
            "code": v.code, "name": v.name, "kecamatan_code": _parent_code(v),
            "kecamatan": v.parent.name if v.parent else "", "level": v.level,
        })
        for v in villages
    )


def _parent_code(village: Region) -> str:
    return village.parent.code if village.parent else ""


@dataclass
class _Plan:
    number: int
    village: Region
    before: dict[str, Any]
    changed: list[str] = field(default_factory=list)


@transaction.atomic
def import_villages(text: str, *, fmt: Format, actor: Actor) -> ImportResult:
    """Validate the whole file, then write every changed village; refuse it all on any error."""
    rows, errors = read_rows(
        text, fmt, required=("code",), csv_columns=VILLAGE_COLUMNS, properties=VILLAGE_PROPERTIES
    )
    codes = [row.get("code", "") for _, row in rows]
    villages = {
        v.code: v for v in list_villages().filter(code__in=codes).select_for_update(of=("self",))
    }
    plans: list[_Plan] = []
    seen: set[str] = set()
    for number, row in rows:
        plan, row_errors = _plan_row(number, row, villages, seen)
        errors += row_errors
        if plan is not None and not row_errors:
            plans.append(plan)
    if not rows and not errors:
        errors.append(RowError(0, "rows", "the file holds no villages"))
    if errors:
        raise refuse(errors, VILLAGE_COLUMNS)
    return _write(plans, actor=actor)


def _plan_row(
    number: int, row: dict[str, str], villages: dict[str, Region], seen: set[str]
) -> tuple[_Plan | None, list[RowError]]:
    code = row["code"]
    if not code:
        return None, [RowError(number, "code", "must not be empty")]
    if code in seen:
        return None, [RowError(number, "code", f"{code!r} appears twice")]
    seen.add(code)
    village = villages.get(code)
    if village is None:
        return None, [RowError(number, "code", unknown_village(code))]
    plan = _Plan(number, village, snapshot(village))
    before = [getattr(village, name) for name in EDITABLE]
    errors = _checks(number, row, village)
    failed = {e.field for e in errors}
    if "name" in row and "name" not in failed:
        village.name = row["name"]
    coordinates, coordinate_errors = parse_coordinates(number, row)
    errors += coordinate_errors
    if coordinate_errors:
        failed |= {"latitude", "longitude"}
    elif "latitude" in row:
        village.latitude, village.longitude = coordinates or (None, None)
    errors += model_errors(number, village, exclude=failed | {"parent"}, columns={})
    plan.changed = [n for n, old in zip(EDITABLE, before, strict=True)
                    if getattr(village, n) != old]
    return plan, errors


def _checks(number: int, row: dict[str, str], village: Region) -> list[RowError]:
    """What the file may state but not change: the kecamatan and the level."""
    errors = []
    if "name" in row and not row["name"]:
        errors.append(RowError(number, "name", "must not be empty"))
    parent_code = _parent_code(village)
    if row.get("kecamatan_code") and row["kecamatan_code"] != parent_code:
        message = f"{village.code} lies in kecamatan {parent_code}, not {row['kecamatan_code']}"
        errors.append(RowError(number, "kecamatan_code", message))
    if row.get("level") and row["level"] != village.level:
        message = f"{village.code} is a {village.level}, not a {row['level']}"
        errors.append(RowError(number, "level", message))
    return errors


def unknown_village(code: str) -> str:
    level = Region.objects.filter(code=code).values_list("level", flat=True).first()
    if level is not None:
        return f"{code!r} is a {level}, not a desa or kelurahan"
    return f"{code!r} is not a village in the registry (villages come from import-regions)"


def _write(plans: list[_Plan], *, actor: Actor) -> ImportResult:
    result = ImportResult()
    for plan in plans:
        if not plan.changed:
            result.unchanged += 1
            continue
        plan.village.save(update_fields=plan.changed)
        record_audit(actor=actor, action=AuditAction.IMPORT, obj=plan.village,
                     before=plan.before, after=snapshot(plan.village), note=AUDIT_NOTE)
        result.updated += 1
        result.details.append(f"row {plan.number}: {plan.village.code} {', '.join(plan.changed)}")
    return result


def import_villages_file(path: Path | str, *, fmt: Format, actor: Actor) -> ImportResult:
    return import_villages(read_text(path), fmt=fmt, actor=actor)

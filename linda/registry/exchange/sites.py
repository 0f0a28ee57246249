"""Sites out and in: every editable field, upserted by `code`, all or nothing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import QuerySet

from linda.audit.models import AuditAction
from linda.audit.services import Actor, record_audit, snapshot
from linda.registry.exchange.formats import (
    BadValue,
    Format,
    model_errors,
    parse_choice,
    parse_coordinates,
    parse_decimal,
    parse_integer,
    parse_time,
    point,
    read_rows,
    refuse,
    write_csv,
    write_geojson,
)
from linda.registry.exchange.villages import list_villages, unknown_village
from linda.registry.importing import ImportRefused, ImportResult, RowError, read_text
from linda.registry.models import BatteryChemistry, PowerProfile, Region, Site, Technology

SITE_COLUMNS = (
    "code", "village_code", "name", "latitude", "longitude", "technology",
    "bandwidth_down_mbps", "bandwidth_up_mbps", "power_profile", "pln_on_from", "pln_on_until",
    "solar_pv_wp", "battery_wh", "battery_chemistry", "expected_interval_s", "grace_s",
)
SITE_PROPERTIES = tuple(c for c in SITE_COLUMNS if c not in ("latitude", "longitude"))
REQUIRED = ("code", "village_code")
# Model fields the import writes (`village` is the file's `village_code`).
EDITABLE = ("village", *(c for c in SITE_COLUMNS if c not in ("code", "village_code")))
ATTRIBUTES = tuple("village_id" if name == "village" else name for name in EDITABLE)
MODEL_TO_COLUMN = {"village": "village_code"}
AUDIT_NOTE = "import-sites"


def _present(parse: Callable[[str], object]) -> Callable[[str], object]:
    """A field that must have a value: an empty cell is an error (leave the column out)."""
    def parse_present(text: str) -> object:
        if not text:
            raise BadValue("must not be empty")
        return parse(text)
    return parse_present


def _nullable(parse: Callable[[str], object]) -> Callable[[str], object]:
    """A field that may be empty: an empty cell clears it."""
    return lambda text: parse(text) if text else None


PARSERS: dict[str, Callable[[str], object]] = {
    "name": _present(str),
    "technology": lambda t: parse_choice(t, Technology.values),
    "bandwidth_down_mbps": _present(lambda t: parse_decimal(t, places=2)),
    "bandwidth_up_mbps": _present(lambda t: parse_decimal(t, places=2)),
    "power_profile": lambda t: parse_choice(t, PowerProfile.values),
    "pln_on_from": _nullable(parse_time),
    "pln_on_until": _nullable(parse_time),
    "solar_pv_wp": _nullable(parse_integer),
    "battery_wh": _nullable(parse_integer),
    "battery_chemistry": lambda t: parse_choice(t, BatteryChemistry.values, blank=True),
    "expected_interval_s": _present(parse_integer),
    "grace_s": _present(parse_integer),
}


def list_sites(kecamatan_code: str | None = None) -> QuerySet[Site]:
    qs = Site.objects.select_related("village", "village__parent")
    if kecamatan_code:
        qs = qs.filter(village__parent__code=kecamatan_code)
    return qs.order_by("code")


def _values(site: Site) -> dict[str, object]:
    """The site's value for every column, in column order."""
    named = {"code": site.code, "village_code": site.village.code}
    return {c: named[c] if c in named else getattr(site, c) for c in SITE_COLUMNS}


def export_sites(fmt: Format, *, kecamatan_code: str | None = None) -> str:
    sites = list(list_sites(kecamatan_code))
    if fmt == Format.CSV:
        return write_csv(SITE_COLUMNS, (_values(site).values() for site in sites))
    return write_geojson(
        (point(site.latitude, site.longitude),
         {c: v for c, v in _values(site).items() if c in SITE_PROPERTIES})
        for site in sites
    )


@dataclass
class _Plan:
    number: int
    site: Site
    before: dict[str, Any] | None  # None: a new site
    changed: list[str]


@transaction.atomic
def import_sites(text: str, *, fmt: Format, actor: Actor) -> ImportResult:
    """Validate the whole file, then create or update every site by code; refuse it all on
    any error. A row equal to the registry writes nothing."""
    rows, errors = read_rows(
        text, fmt, required=REQUIRED, csv_columns=SITE_COLUMNS, properties=SITE_PROPERTIES
    )
    codes = [row.get("code", "") for _, row in rows]
    existing = {s.code: s for s in Site.objects.select_for_update().filter(code__in=codes)}
    villages = {v.code: v for v in list_villages()}
    plans: list[_Plan] = []
    seen: set[str] = set()
    for number, row in rows:
        plan, row_errors = _plan_row(number, row, existing, villages, seen)
        errors += row_errors
        if plan is not None and not row_errors:
            plans.append(plan)
    if not rows and not errors:
        errors.append(RowError(0, "rows", "the file holds no sites"))
    if errors:
        raise refuse(errors, SITE_COLUMNS)
    return _write(plans, actor=actor)


def _plan_row(
    number: int,
    row: dict[str, str],
    existing: dict[str, Site],
    villages: dict[str, Region],
    seen: set[str],
) -> tuple[_Plan | None, list[RowError]]:
    code = row["code"]
    if not code:
        return None, [RowError(number, "code", "must not be empty")]
    if code in seen:
        return None, [RowError(number, "code", f"{code!r} appears twice")]
    seen.add(code)
    site = existing.get(code) or Site(code=code)
    before = snapshot(site) if site.pk else None
    old = [getattr(site, attribute) for attribute in ATTRIBUTES]
    errors, failed = _assign(number, row, site, villages)
    errors += _partial_pln_hours(number, site, failed)
    failed |= {e.field for e in errors}
    errors += model_errors(number, site, exclude=failed | {"village"}, columns=MODEL_TO_COLUMN)
    new = [getattr(site, attribute) for attribute in ATTRIBUTES]
    changed = [n for n, a, b in zip(EDITABLE, old, new, strict=True) if a != b]
    return _Plan(number, site, before, changed), errors


def _assign(
    number: int, row: dict[str, str], site: Site, villages: dict[str, Region]
) -> tuple[list[RowError], set[str]]:
    """Set every value the row gives; the errors of those it cannot, and their fields."""
    errors: list[RowError] = []
    village = villages.get(row["village_code"])
    if not row["village_code"]:
        errors.append(RowError(number, "village_code", "must not be empty"))
    elif village is None:
        errors.append(RowError(number, "village_code", unknown_village(row["village_code"])))
    else:
        site.village = village
    for column, parse in PARSERS.items():
        if column not in row:
            continue
        try:
            setattr(site, column, parse(row[column]))
        except BadValue as exc:
            errors.append(RowError(number, column, str(exc)))
    failed = {e.field for e in errors}
    coordinates, coordinate_errors = parse_coordinates(number, row)
    if coordinate_errors:
        errors += coordinate_errors
        failed |= {"latitude", "longitude"}
    elif "latitude" in row:
        site.latitude, site.longitude = coordinates or (None, None)
    return errors, failed


def _partial_pln_hours(number: int, site: Site, failed: set[str]) -> list[RowError]:
    if site.power_profile != PowerProfile.PLN_PARTIAL or "power_profile" in failed:
        return []
    return [
        RowError(number, name, "required when power_profile is pln_partial")
        for name in ("pln_on_from", "pln_on_until")
        if getattr(site, name) is None and name not in failed
    ]


def _write(plans: list[_Plan], *, actor: Actor) -> ImportResult:
    result = ImportResult()
    for plan in plans:
        if plan.before is not None and not plan.changed:
            result.unchanged += 1
            continue
        try:
            _save(plan)
        except IntegrityError as exc:  # a concurrent writer won a race; nothing is kept
            raise ImportRefused([RowError(plan.number, "row", str(exc))]) from exc
        record_audit(actor=actor, action=AuditAction.IMPORT, obj=plan.site,
                     before=plan.before, after=snapshot(plan.site), note=AUDIT_NOTE)
        if plan.before is None:
            result.created += 1
            result.details.append(f"row {plan.number}: {plan.site.code} created")
        else:
            result.updated += 1
            changed = ", ".join(plan.changed)
            result.details.append(f"row {plan.number}: {plan.site.code} {changed}")
    return result


def _save(plan: _Plan) -> None:
    with transaction.atomic():  # a savepoint, so the error above leaves a usable connection
        if plan.before is None:
            plan.site.save(force_insert=True)
        else:
            plan.site.save(update_fields=plan.changed)


def import_sites_file(path: Path | str, *, fmt: Format, actor: Actor) -> ImportResult:
    return import_sites(read_text(path), fmt=fmt, actor=actor)

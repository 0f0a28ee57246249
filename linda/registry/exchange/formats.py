"""File shapes shared by the village and site exchange: CSV and GeoJSON, read and written.

Both readers turn a file into the same thing, a list of (row number, {column: text}), so one
validation serves both formats. A row holds only the columns the file gave: an absent column
(or GeoJSON property) means "keep what is there", an empty cell means "empty".
Row numbers: CSV data rows count from 1 (the header is row 0); GeoJSON features count from 1;
row 0 is the file itself.
"""

from __future__ import annotations

import csv
import datetime as dt
import enum
import io
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db.models import Model
from django.utils import translation

from linda.registry.importing import ImportRefused, RowError, csv_rows

Row = dict[str, str]
NumberedRow = tuple[int, Row]

MAX_INTEGER = 2_147_483_647  # the smallest integer column range we run on (PostgreSQL)
COORDINATE_PLACES = 6
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")
_TIME = re.compile(r"(\d{1,2}):(\d{2})(:(\d{2}))?")


class Format(enum.StrEnum):
    CSV = "csv"
    GEOJSON = "geojson"


SUFFIX_FORMAT = {".csv": Format.CSV, ".geojson": Format.GEOJSON, ".json": Format.GEOJSON}


def format_for_path(path: Path | str, explicit: str | None = None) -> Format:
    """The explicit format if given, else the one the file's extension names."""
    if explicit:
        return Format(explicit)
    suffix = Path(path).suffix.lower()
    if suffix not in SUFFIX_FORMAT:
        known = ", ".join(SUFFIX_FORMAT)
        name = suffix or "no extension"
        message = f"cannot tell the format from {name!r} (known: {known}); use --format"
        raise ImportRefused([RowError(0, "format", message)])
    return SUFFIX_FORMAT[suffix]


class BadValue(ValueError):
    """One cell's text cannot become the field's value; the message says why."""


# --- reading cells -------------------------------------------------------------------------


def parse_decimal(text: str, *, places: int) -> Decimal:
    """A plain decimal number (dot separator, no exponent) with at most `places` decimals."""
    if not _NUMBER.fullmatch(text):
        hint = " (use a dot as the decimal separator)" if "," in text else ""
        raise BadValue(f"{text!r} is not a number{hint}")
    value = Decimal(text)
    exponent = value.as_tuple().exponent
    assert isinstance(exponent, int)  # finite by the pattern above
    if -exponent > places:
        raise BadValue(f"{text} has more than {places} decimal places")
    return value.quantize(Decimal(1).scaleb(-places))


def parse_integer(text: str, *, minimum: int = 0) -> int:
    if not re.fullmatch(r"[+-]?\d+", text):
        raise BadValue(f"{text!r} is not a whole number")
    value = int(text)
    if not minimum <= value <= MAX_INTEGER:
        raise BadValue(f"{value} is outside {minimum}..{MAX_INTEGER}")
    return value


def parse_time(text: str) -> dt.time:
    match = _TIME.fullmatch(text)
    if match is None:
        raise BadValue(f"{text!r} is not a time of day as HH:MM")
    hour, minute, second = int(match[1]), int(match[2]), int(match[4] or 0)
    if hour > 23 or minute > 59 or second > 59:
        raise BadValue(f"{text!r} is not a time of day as HH:MM")
    return dt.time(hour, minute, second)


def parse_choice(text: str, choices: Sequence[str], *, blank: bool = False) -> str:
    if text in choices or (blank and text == ""):
        return text
    allowed = ", ".join(choices)
    raise BadValue(f"{text!r} is not one of {allowed}" if text else f"must be one of {allowed}")


def parse_coordinates(
    number: int, row: Row
) -> tuple[tuple[Decimal, Decimal] | None, list[RowError]]:
    """Latitude and longitude of a row: both or neither, in range, up to 6 decimals."""
    lat_text, lon_text = row.get("latitude", ""), row.get("longitude", "")
    if not lat_text and not lon_text:
        return None, []
    if not lat_text or not lon_text:
        empty, other = ("latitude", "longitude") if not lat_text else ("longitude", "latitude")
        return None, [RowError(number, empty, f"is empty but {other} is given: both or neither")]
    values: list[Decimal] = []
    errors: list[RowError] = []
    for name, text, bound in (("latitude", lat_text, 90), ("longitude", lon_text, 180)):
        try:
            value = parse_decimal(text, places=COORDINATE_PLACES)
        except BadValue as exc:
            errors.append(RowError(number, name, str(exc)))
            continue
        if not -bound <= value <= bound:
            errors.append(RowError(number, name, f"{text} is outside -{bound}..{bound}"))
        values.append(value)
    if errors:
        return None, errors
    return (values[0], values[1]), []


def model_errors(
    number: int, instance: Model, *, exclude: Iterable[str], columns: Mapping[str, str]
) -> list[RowError]:
    """The instance's full_clean() errors as row errors, named by the file's columns.

    Fields in `exclude` already failed to parse (or are checked by the caller). Messages are
    in English, like every other import message, so one refusal reads in one language.
    """
    try:
        with translation.override("en"):
            instance.full_clean(exclude=sorted(exclude), validate_unique=False)
    except ValidationError as exc:
        with translation.override("en"):
            items = [(name, list(messages)) for name, messages in exc.message_dict.items()]
    else:
        return []
    errors = []
    for name, messages in items:
        column = "row" if name == NON_FIELD_ERRORS else columns.get(name, name)
        errors += [RowError(number, column, message) for message in messages]
    return errors


def refuse(errors: list[RowError], columns: Sequence[str]) -> ImportRefused:
    """The refusal for a file, its errors in file order: by row, then by column."""
    order = {name: index for index, name in enumerate(columns)}
    return ImportRefused(sorted(errors, key=lambda e: (e.row, order.get(e.field, len(order)))))


# --- reading files -------------------------------------------------------------------------


def read_rows(
    text: str,
    fmt: Format,
    *,
    required: tuple[str, ...],
    csv_columns: tuple[str, ...],
    properties: tuple[str, ...],
) -> tuple[list[NumberedRow], list[RowError]]:
    """The file's rows and its structural errors (a refused header raises at once)."""
    if fmt == Format.CSV:
        optional = tuple(c for c in csv_columns if c not in required)
        rows = list(csv_rows(text, required=required, optional=optional))
        _refuse_half_a_coordinate(rows)
        return rows, []
    return _geojson_rows(text, required=required, properties=properties)


def _refuse_half_a_coordinate(rows: list[NumberedRow]) -> None:
    """A header with latitude but no longitude (or the reverse) is refused, like any header."""
    if not rows or ("latitude" in rows[0][1]) == ("longitude" in rows[0][1]):
        return
    missing = "longitude" if "latitude" in rows[0][1] else "latitude"
    message = "required column is missing: latitude and longitude go together"
    raise ImportRefused([RowError(0, missing, message)])


def _geojson_rows(
    text: str, *, required: tuple[str, ...], properties: tuple[str, ...]
) -> tuple[list[NumberedRow], list[RowError]]:
    try:
        document = json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as exc:
        message = f"not JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
        raise ImportRefused([RowError(0, "json", message)]) from exc
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection":
        raise ImportRefused([RowError(0, "type", "the file is not a GeoJSON FeatureCollection")])
    features = document.get("features")
    if not isinstance(features, list):
        raise ImportRefused([RowError(0, "features", "must be a list of features")])
    rows: list[NumberedRow] = []
    errors: list[RowError] = []
    for number, feature in enumerate(features, start=1):
        row, row_errors = _feature_row(number, feature, required, properties)
        errors += row_errors
        if not row_errors:
            rows.append((number, row))
    return rows, errors


def _feature_row(
    number: int, feature: Any, required: tuple[str, ...], allowed: tuple[str, ...]
) -> tuple[Row, list[RowError]]:
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        return {}, [RowError(number, "type", "is not a GeoJSON Feature")]
    props = feature.get("properties") or {}
    if not isinstance(props, dict):
        return {}, [RowError(number, "properties", "must be an object")]
    errors = [RowError(number, key, "unknown property") for key in props if key not in allowed]
    errors += [RowError(number, key, "required property is missing")
               for key in required if key not in props]
    row: Row = {}
    for key, value in props.items():
        try:
            row[key] = _cell(value)
        except BadValue as exc:
            errors.append(RowError(number, key, str(exc)))
    try:
        row["latitude"], row["longitude"] = _point(feature)
    except BadValue as exc:
        errors.append(RowError(number, "geometry", str(exc)))
    return row, errors


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise BadValue(f"{json.dumps(value, default=str)} is not text or a number")
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value).strip()


def _point(feature: dict[str, Any]) -> tuple[str, str]:
    """(latitude, longitude) as text from a Point geometry; empty for a null geometry."""
    if "geometry" not in feature:
        raise BadValue("is missing (use null for no location)")
    geometry = feature["geometry"]
    if geometry is None:
        return "", ""
    if not isinstance(geometry, dict) or geometry.get("type") != "Point":
        raise BadValue("must be a Point or null")
    coordinates = geometry.get("coordinates")
    if (
        not isinstance(coordinates, list)
        or len(coordinates) not in (2, 3)
        or not all(isinstance(c, int | Decimal) and not isinstance(c, bool) for c in coordinates)
    ):
        raise BadValue("coordinates must be [longitude, latitude]")
    return _cell(coordinates[1]), _cell(coordinates[0])


# --- writing -------------------------------------------------------------------------------


def cell_text(value: object) -> str:
    """A model value as CSV text: the same text the reader turns back into the same value."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dt.time):
        return value.strftime("%H:%M:%S" if value.second else "%H:%M")
    return str(value)


def json_value(value: object) -> object:
    """A model value as a GeoJSON property: numbers as numbers, times as HH:MM."""
    if isinstance(value, Decimal):
        return float(value)  # at most 9 significant digits: float's repr keeps them exactly
    if isinstance(value, dt.time):
        return cell_text(value)
    return value


def write_csv(columns: Sequence[str], rows: Iterable[Iterable[object]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows([cell_text(v) for v in row] for row in rows)
    return out.getvalue()


def point(latitude: Decimal | None, longitude: Decimal | None) -> dict[str, object] | None:
    if latitude is None or longitude is None:
        return None
    return {"type": "Point", "coordinates": [float(longitude), float(latitude)]}


def write_geojson(features: Iterable[tuple[dict[str, object] | None, dict[str, object]]]) -> str:
    """A FeatureCollection of (geometry, properties)."""
    collection = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "geometry": geometry,
             "properties": {k: json_value(v) for k, v in props.items()}}
            for geometry, props in features
        ],
    }
    return json.dumps(collection, ensure_ascii=False, indent=2) + "\n"

"""The CSV report: one row per site, machine-readable, byte-identical on regeneration.

Column names are stable English keys (the same as the report content); numbers are plain
integers or dot-decimal percentages; instants are UTC ISO 8601. UTF-8, comma-separated,
CRLF line ends (RFC 4180).
"""

from __future__ import annotations

import csv
import io

from linda.sla.content import Content, content_sha256

COLUMNS = (
    "contract_number", "month", "kecamatan_code", "kecamatan", "village_code", "village",
    "site_code", "site_name", "activated_at", "window_start", "window_end", "window_s",
    "up_s", "down_s", "vendor_down_s", "excluded_s", "unknown_s", "degraded_s",
    "outage_count", "longest_outage_s", "mttr_s", "mtbf_s", "availability",
    "availability_pct", "restitution_availability_pct", "sla_met", "fee_due_idr",
    "restitution_idr", "payable_idr", "manual_signoff", "terms_version", "rule_version",
    "content_sha256",
)
_FROM_SITE = {
    "kecamatan_code": "kecamatan_code", "kecamatan": "kecamatan",
    "village_code": "village_code", "village": "village", "site_code": "code",
    "site_name": "name",
}


def _cell(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def render_csv(content: Content) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    common = {
        "contract_number": content["contract"]["number"],
        "month": content["period"]["month"],
        "terms_version": content["terms"]["version"],
        "rule_version": content["rule_version"],
        "content_sha256": content_sha256(content),
    }
    for site in content["sites"]:
        row = {**common, **{col: site[key] for col, key in _FROM_SITE.items()}}
        writer.writerow(
            [_cell(row[col] if col in row else site[col]) for col in COLUMNS]
        )
    return out.getvalue().encode("utf-8")

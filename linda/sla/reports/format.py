"""How report figures are written for people: Indonesian number style, WIB, labels."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _

from linda.domain.attribution import WIB

MONTHS_ID = ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus",
             "September", "Oktober", "November", "Desember")


def rupiah(value: int) -> str:
    """Rp 1.250.000"""
    sign = "-" if value < 0 else ""
    return f"{sign}Rp {abs(value):,}".replace(",", ".")


def number(value: int) -> str:
    return f"{value:,}".replace(",", ".")


def pct(value: str | None) -> str:
    """A truncated percentage string from the content ("98.8799") as 98,8799%."""
    return "—" if value is None else f"{value.replace('.', ',')}%"


def plain(value: str) -> str:
    """A decimal string without trailing zeros: '99.000' → '99', '97.50' → '97.5'."""
    text = format(Decimal(value).normalize(), "f")
    return text


def hms(seconds: int) -> str:
    """Seconds as h:mm:ss (hours may exceed 24)."""
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}"


def minutes(seconds: int) -> str:
    """Seconds as minutes with two decimals (truncated), decimal comma."""
    whole, rest = divmod(seconds * 100 // 60, 100)
    return f"{number(whole)},{rest:02d}"


def when(iso: str | None) -> str:
    """An ISO UTC instant from the content in WIB: 12-10-2024 14:01:00."""
    if iso is None:
        return "—"
    return datetime.fromisoformat(iso).astimezone(WIB).strftime("%d-%m-%Y %H:%M:%S")


def day(iso: str, *, last: bool = False) -> str:
    """The WIB calendar day of an instant; `last`: of the instant just before it (a period's
    exclusive end)."""
    moment = datetime.fromisoformat(iso).astimezone(WIB)
    if last:
        moment -= timedelta(microseconds=1)
    return moment.strftime("%d-%m-%Y")


def month_name(month: str) -> str:
    """'2024-10' → 'Oktober 2024'."""
    year, number_ = month.split("-")
    return f"{MONTHS_ID[int(number_) - 1]} {year}"


def cause_label(value: str) -> str:
    return {
        "power": _("listrik"),
        "link": _("tautan"),
        "upstream": _("hulu (insiden massal)"),
        "unknown": _("tidak diketahui"),
    }.get(value, value)


def responsibility_label(value: str) -> str:
    return {
        "vendor": _("vendor"),
        "regency": _("pemerintah kabupaten"),
        "force_majeure": _("keadaan kahar"),
    }.get(value, value)


def yes_no(value: bool | None) -> str:
    if value is None:
        return "—"
    return _("ya") if value else _("tidak")


def site_row(s: dict[str, Any]) -> dict[str, str]:
    """One site's (or kecamatan's) figures written for people."""
    return {
        "code": s["code"], "village": s["village"], "kecamatan": s["kecamatan"],
        "window": hms(s["window_s"]), "up": hms(s["up_s"]), "down": hms(s["down_s"]),
        "down_min": minutes(s["down_s"]), "vendor_down": hms(s["vendor_down_s"]),
        "excluded": hms(s["excluded_s"]), "unknown": hms(s["unknown_s"]),
        "outages": str(s["outage_count"]), "availability": pct(s["availability_pct"]),
        "sla_met": yes_no(s["sla_met"]), "fee_due": rupiah(s["fee_due_idr"]),
        "restitution": rupiah(s["restitution_idr"]), "payable": rupiah(s["payable_idr"]),
        "signoff": "*" if s["manual_signoff"] else "",
    }

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.filter
def get_item(mapping: dict[str, Any], key: str) -> Any:
    return mapping.get(key, 0)


@register.filter
def rupiah(value: int | None) -> str:
    """Rupiah the Indonesian way: Rp 1.250.000."""
    if value is None:
        return "—"
    sign = "-" if value < 0 else ""
    return f"{sign}Rp {abs(int(value)):,}".replace(",", ".")


@register.filter
def wib(value: object) -> str:
    """An ISO 8601 string or aware datetime shown in WIB: 28/11/2026 11:49 WIB."""
    import datetime as dt
    from zoneinfo import ZoneInfo

    if not value:
        return "—"
    moment = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
    if not isinstance(moment, dt.datetime):
        return str(value)
    return moment.astimezone(ZoneInfo("Asia/Jakarta")).strftime("%d/%m/%Y %H:%M WIB")


@register.filter
def pct(value: object, places: int = 2) -> str:
    """An exact fraction (or None) as a percentage with a decimal comma: 99,93%."""
    from fractions import Fraction

    if value is None:
        return "—"
    if not isinstance(value, Fraction | int | float):
        return str(value)
    return f"{float(value) * 100:.{places}f}%".replace(".", ",")


@register.filter
def duration(seconds: int | None) -> str:
    """Seconds as '2 j 05 m' (hours and minutes) or '45 d' (seconds)."""
    if seconds is None:
        return "—"
    hours, rest = divmod(int(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} j {minutes:02d} m"
    return f"{minutes} m {secs:02d} d" if minutes else f"{secs} d"


@register.filter
def day_bars(bars: list[Any]) -> str:
    """A row of day bars (`web.selectors.DayBar`) as spans, built in Python: the public page
    draws 90 of them per village, which the template loop renders ten times slower."""
    from django.utils.html import escape
    from django.utils.safestring import mark_safe

    return mark_safe("".join(  # fixed markup; the title is escaped
        f'<span class="day {bar.level}" title="{escape(f"{bar.day:%d/%m} {bar.pct}")}">'
        "</span>"
        for bar in bars
    ))

"""Daily status totals per site (SiteDay), kept from the stored intervals.

A WIB day is closed for a site once the monitor has stored its intervals past the day's end
(SiteState.materialized_until); a closed day never changes, so its totals are stored once,
by `fill_site_days` (run by `manage.py fill_site_days --every 60` beside the monitor, and by
the dashboard itself when it finds a closed day missing, so the first request after a
restart may pay for it). An open day is summed from the stored intervals when asked
(`open_day_seconds`), in SQL, reading only that day's rows.

Seconds are computed by the database (`Seconds`), never by a Python callback per row.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from datetime import date, datetime, time, timedelta
from typing import Any

from django.core.cache import cache
from django.db import connection
from django.db.models import (
    Count,
    Exists,
    FloatField,
    Func,
    IntegerField,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Greatest, Least

from linda.domain.status import State
from linda.web.models import SiteDay

FIELDS = {State.UP: "up_s", State.DOWN: "down_s", State.UNKNOWN: "unknown_s",
          State.EXCLUDED: "excluded_s"}
STATE_OF_FIELD = {field: state for state, field in FIELDS.items()}


class Seconds(Func):
    """Seconds from the first to the second datetime expression, computed in SQL."""

    arity = 2
    output_field = FloatField()

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        start, end = self.get_source_expressions()
        start_sql, start_params = compiler.compile(start)
        end_sql, end_params = compiler.compile(end)
        return (f"EXTRACT(EPOCH FROM ({end_sql} - {start_sql}))::float8",
                [*end_params, *start_params])

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        start, end = self.get_source_expressions()
        start_sql, start_params = compiler.compile(start)
        end_sql, end_params = compiler.compile(end)
        return (f"((julianday({end_sql}) - julianday({start_sql})) * 86400.0)",
                [*end_params, *start_params])


class EpochHour(Func):
    """Whole hours since 1970-01-01 UTC of a datetime expression, computed in SQL (WIB hours
    start on UTC hours: UTC+7)."""

    arity = 1
    output_field = IntegerField()

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        sql, params = compiler.compile(self.get_source_expressions()[0])
        return f"CAST(FLOOR(EXTRACT(EPOCH FROM {sql}) / 3600) AS INTEGER)", params

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        sql, params = compiler.compile(self.get_source_expressions()[0])
        return f"(CAST(strftime('%%s', {sql}) AS INTEGER) / 3600)", params


def whole_seconds(total: float | None) -> int:
    """A summed float of seconds as whole seconds (the SQL sum of fractional days carries
    a rounding error far below a millisecond)."""
    return 0 if total is None else math.floor(total + 1e-3)


def day_bounds(day: date, tz: object) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(0), tzinfo=tz)  # type: ignore[arg-type]
    return start, start + timedelta(days=1)


def _pivot(start: datetime, end: datetime) -> dict[str, Sum]:
    clipped = Seconds(Greatest("start", Value(start)), Least("end", Value(end)))
    return {field: Sum(clipped, filter=Q(state=state.value)) for state, field in FIELDS.items()}


def _day_intervals(site_ids: QuerySet[Any] | Sequence[int], start: datetime,
                   end: datetime) -> tuple[QuerySet[Any], QuerySet[Any]]:
    """The stored intervals of `site_ids` that overlap [start, end), as two reads of the
    (site, start) index: those that start inside, and each site's one that began before."""
    from linda.monitoring.models import SiteState, StatusInterval

    inside = StatusInterval.objects.filter(site_id__in=site_ids, start__gte=start,
                                           start__lt=end)
    last_before = StatusInterval.objects.filter(
        site_id=OuterRef("site_id"), start__lt=start).order_by("-start").values("pk")[:1]
    straddling = StatusInterval.objects.filter(
        pk__in=SiteState.objects.filter(site_id__in=site_ids)
        .annotate(last=Subquery(last_before)).values("last"),
        end__gt=start)
    return inside, straddling


def open_day_seconds(
    site_ids: QuerySet[Any] | Sequence[int], start: datetime, end: datetime
) -> dict[int, dict[str, int]]:
    """Stored interval seconds per site and state inside [start, end) (at most a day),
    summed in SQL."""
    out: dict[int, dict[str, int]] = {}
    for qs in _day_intervals(site_ids, start, end):
        for row in qs.values("site_id").annotate(**_pivot(start, end)).order_by():
            totals = out.setdefault(row["site_id"], dict.fromkeys(FIELDS.values(), 0))
            for field in FIELDS.values():
                totals[field] += whole_seconds(row[field])
    return out


def open_days_cached(
    site_ids: QuerySet[Any], days: Sequence[date], now: datetime, tz: object, *, scope: str,
    refresh_s: float | None = None,
) -> dict[date, dict[int, dict[str, int]]]:
    """`open_day_seconds` of each open day for the sites that have no SiteDay row for it.

    Cached under the scope and the days, valid while no interval has been stored since (the
    newest StatusInterval id; intervals are only ever appended); while the monitor is storing
    a pass a value up to OPEN_REFRESH_S old is reused, so these figures lag the stored record
    by at most that much (the stored record itself lags real time by the monitor's
    materialize period, LINDA_MONITOR_MATERIALIZE_EVERY_S). `refresh_s=0` asks for exactly
    the stored record (for a caller that caches the result under the interval id itself).
    """
    from linda.monitoring.models import StatusInterval

    key = f"linda:siteday:open:{scope}:{':'.join(str(d) for d in days)}"
    latest = int(StatusInterval.objects.aggregate(m=Max("id"))["m"] or 0)
    at_version = version()
    cached: tuple[int, int, float, dict[date, dict[int, dict[str, int]]]] | None = cache.get(key)
    if cached is not None:
        interval_id, siteday_version, computed_at, value = cached
        if siteday_version == at_version and (
            interval_id == latest
            or now.timestamp() - computed_at < (OPEN_REFRESH_S if refresh_s is None else refresh_s)
        ):
            return value
    value = {}
    for day in days:
        start, end = day_bounds(day, tz)
        value[day] = open_day_seconds(without_row(site_ids, day), start, min(end, now))
    cache.set(key, (latest, at_version, now.timestamp(), value), 3600)
    return value


OPEN_REFRESH_S = 10
FILL_CHECK_S = 60


def fill_site_days_now_and_then(days: Iterable[date], tz: object) -> None:
    """`fill_site_days` at most once a minute per process (the pages' own check; the
    background step `manage.py fill_site_days` does it for the fleet). The last two days
    need no row to be counted (the dashboard sums them from the intervals), so a row that
    is late by a minute changes nothing."""
    days = sorted(days)
    if days and cache.add(f"linda:siteday:fill-checked:{days[0]}:{len(days)}", True,
                          FILL_CHECK_S):
        fill_site_days(days, tz)


# --- closed days ------------------------------------------------------------------------------


def version() -> int:
    """Changes whenever SiteDay rows are added (rows are only ever inserted)."""
    return int(SiteDay.objects.aggregate(m=Max("id"))["m"] or 0)


def _stored_counts(days: Sequence[date], at_version: int) -> dict[date, int]:
    key = f"linda:siteday:counts:{at_version}:{days[0]}:{days[-1]}:{len(days)}"
    counts: dict[date, int] | None = cache.get(key)
    if counts is None:
        counts = dict(SiteDay.objects.filter(day__in=days).values("day")
                      .annotate(n=Count("id")).order_by().values_list("day", "n"))
        cache.set(key, counts, 24 * 3600)
    return counts


def missing_days(days: Sequence[date], tz: object) -> list[date]:
    """Days with a closed site that has no SiteDay row yet: one aggregate over SiteState
    (how many sites each day is closed for) against the stored row counts (cached per
    SiteDay version)."""
    from linda.monitoring.models import SiteState

    if not days:
        return []
    stored = _stored_counts(sorted(days), version())
    missing = []
    for chunk in (days[i:i + 31] for i in range(0, len(days), 31)):
        ends = [day_bounds(day, tz)[1] for day in chunk]
        due = SiteState.objects.aggregate(**{
            f"d{i}": Count("pk", filter=Q(activated_at__lt=end, materialized_until__gte=end))
            for i, end in enumerate(ends)
        })
        missing += [day for i, day in enumerate(chunk) if due[f"d{i}"] != stored.get(day, 0)]
    return missing


def fill_site_days(days: Iterable[date], tz: object) -> int:
    """Store SiteDay rows for every (site, day) the monitor has closed and no row holds yet;
    return how many rows were added. One INSERT ... SELECT per missing day, computed by the
    database (a fleet's month is a few seconds, not minutes of Python). Idempotent and safe
    to run from several processes (a row already there is skipped)."""
    from linda.monitoring.models import SiteState

    added = 0
    for day in missing_days(sorted(set(days)), tz):
        start, end = day_bounds(day, tz)
        due = SiteState.objects.filter(activated_at__lt=end, materialized_until__gte=end).exclude(
            Exists(SiteDay.objects.filter(site_id=OuterRef("site_id"), day=day))
        ).order_by().values("site_id")
        parts = [_compiled(qs.values("site_id").annotate(**_pivot(start, end)).order_by())
                 for qs in _day_intervals(due, start, end)]
        zero = _compiled(due.annotate(**{f: Value(0.0, output_field=FloatField())
                                         for f in FIELDS.values()}))
        union = " UNION ALL ".join(sql for sql, _ in [*parts, zero])
        params = [p for _, ps in [*parts, zero] for p in ps]
        cols = ", ".join(FIELDS.values())
        sums = ", ".join(_floor(f"SUM(COALESCE(p.{f}, 0))") for f in FIELDS.values())
        with connection.cursor() as cursor:
            cursor.execute(
                f"{_insert_ignore()} INTO {SiteDay._meta.db_table} (site_id, day, {cols}) "
                f"SELECT p.site_id, %s, {sums} FROM ({union}) p GROUP BY p.site_id"
                f"{_on_conflict()}",
                [day, *params],
            )
            added += max(cursor.rowcount, 0)
    return added


def _compiled(qs: QuerySet[Any]) -> tuple[str, tuple[Any, ...]]:
    sql, params = qs.query.get_compiler(connection=connection).as_sql()
    return sql, tuple(params)


def _floor(sql: str) -> str:
    if connection.vendor == "sqlite":  # CAST truncates; the sums are never negative
        return f"CAST({sql} + 0.001 AS INTEGER)"
    return f"CAST(FLOOR({sql} + 0.001) AS INTEGER)"


def _insert_ignore() -> str:
    return "INSERT OR IGNORE" if connection.vendor == "sqlite" else "INSERT"


def _on_conflict() -> str:
    return "" if connection.vendor == "sqlite" else " ON CONFLICT DO NOTHING"


def closed_day_totals(
    site_ids: QuerySet[Any], days: Sequence[date], month_from: date, *, scope: str
) -> tuple[dict[date, dict[str, int]], dict[int, tuple[int, int]]]:
    """Stored fleet totals per day, and per site (UP, DOWN) seconds from `month_from` on.

    Summing a month of a large fleet reads every row, so the result is cached under the
    scope, the days and the SiteDay version: any new row makes a new key, nothing is stale.
    """
    key = (f"linda:siteday:totals:{scope}:{version()}:{days[0]}:{days[-1]}:{len(days)}:"
           f"{month_from}")
    cached: tuple[dict[date, dict[str, int]], dict[int, tuple[int, int]]] | None = cache.get(key)
    if cached is not None:
        return cached
    stored = SiteDay.objects.filter(site__in=site_ids, day__in=days)
    per_day = {
        day: {"up": int(u), "down": int(d), "unknown": int(n)}
        for day, u, d, n in stored.values("day").annotate(
            u=Sum("up_s"), d=Sum("down_s"), n=Sum("unknown_s")
        ).order_by().values_list("day", "u", "d", "n")
    }
    per_site = {
        site_id: (int(u), int(d))
        for site_id, u, d in stored.filter(day__gte=month_from).values("site_id").annotate(
            u=Sum("up_s"), d=Sum("down_s")
        ).order_by().values_list("site_id", "u", "d")
    }
    cache.set(key, (per_day, per_site), 24 * 3600)
    return per_day, per_site


def closed_village_days(
    site_ids: QuerySet[Any], days: Sequence[date]
) -> dict[tuple[int, date], list[int]]:
    """Stored [UP, DOWN, UNKNOWN] seconds per (village, day) over `site_ids`, cached under
    the days and the SiteDay version (new rows make a new key)."""
    key = f"linda:siteday:villages:{version()}:{days[0]}:{days[-1]}:{len(days)}"
    cached: dict[tuple[int, date], list[int]] | None = cache.get(key)
    if cached is None:
        cached = {
            (village_id, day): [int(u), int(d), int(n)]
            for village_id, day, u, d, n in SiteDay.objects.filter(
                site__in=site_ids, day__in=days
            ).values("site__village_id", "day").annotate(
                u=Sum("up_s"), d=Sum("down_s"), n=Sum("unknown_s")
            ).order_by().values_list("site__village_id", "day", "u", "d", "n")
        }
        cache.set(key, cached, 24 * 3600)
    return {k: list(v) for k, v in cached.items()}


def without_row(site_ids: QuerySet[Any], day: date) -> QuerySet[Any]:
    """Monitored sites of `site_ids` that have no SiteDay row for `day` (its open sites)."""
    from linda.monitoring.models import SiteState

    return SiteState.objects.filter(site_id__in=site_ids).exclude(
        Exists(SiteDay.objects.filter(site_id=OuterRef("site_id"), day=day))
    ).values("site_id")

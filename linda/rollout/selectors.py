"""Reads of rollout progress: counts per stage, kecamatan and budget line, and the forecast."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass

from django.db.models import Count, QuerySet

from linda.accounts.selectors import User
from linda.domain.forecast import RolloutForecast, burndown, forecast_completion
from linda.domain.lifecycle import Stage
from linda.registry.selectors import visible_villages
from linda.rollout.models import PriorityVillage, Program, StageTransition


def get_main_program() -> Program | None:
    return Program.objects.order_by("id").first()


def list_priority_villages(user: User, program: Program) -> QuerySet[PriorityVillage]:
    return (
        PriorityVillage.objects.filter(program=program, village__in=visible_villages(user))
        .select_related("village", "village__parent", "budget_line")
        .order_by("village__code")
    )


@dataclass(frozen=True)
class Progress:
    total: int
    by_stage: dict[str, int]
    by_kecamatan: list[tuple[str, str, dict[str, int]]]  # (code, name, counts per stage)
    by_budget_line: list[tuple[str, dict[str, int]]]
    connected: int
    forecast: RolloutForecast


def first_activation_dates(program: Program) -> list[dt.date]:
    """The date each priority village first became active (a village counts once)."""
    rows = (
        StageTransition.objects.filter(
            priority_village__program=program, to_stage=Stage.ACTIVE
        )
        .values_list("priority_village_id", "effective_on")
        .order_by("effective_on")
    )
    first: dict[int, dt.date] = {}
    for pv_id, day in rows:
        first.setdefault(pv_id, day)
    return sorted(first.values())


def get_progress(program: Program, *, today: dt.date, weeks: int = 4) -> Progress:
    villages = PriorityVillage.objects.filter(program=program)
    by_stage = Counter({stage.value: 0 for stage in Stage})
    by_stage.update(dict(villages.values_list("stage").annotate(n=Count("id"))))
    per_kec: dict[tuple[str, str], Counter[str]] = {}
    for code, name, stage in villages.values_list(
        "village__parent__code", "village__parent__name", "stage"
    ):
        per_kec.setdefault((code, name), Counter())[stage] += 1
    per_budget: dict[str, Counter[str]] = {}
    for code, stage in villages.values_list("budget_line__code", "stage"):
        per_budget.setdefault(code or "-", Counter())[stage] += 1
    connected = by_stage[Stage.ACTIVE] + by_stage[Stage.SUSPENDED]
    done_dates = [
        day for day in first_activation_dates(program)
    ]
    forecast = forecast_completion(
        done_dates=done_dates,
        total=villages.count() - by_stage[Stage.DECOMMISSIONED],
        target_date=program.target_date,
        today=today,
        weeks=weeks,
    )
    return Progress(
        total=villages.count(),
        by_stage=dict(by_stage),
        by_kecamatan=[(c, n, dict(cnt)) for (c, n), cnt in sorted(per_kec.items())],
        by_budget_line=[(c, dict(cnt)) for c, cnt in sorted(per_budget.items())],
        connected=connected,
        forecast=forecast,
    )


def get_burndown(program: Program, *, today: dt.date) -> dict[str, list[object]]:
    """Weekly villages-to-connect from the first listing to the later of target and today,
    with the straight line to zero at the target date, for the rollout chart."""
    villages = PriorityVillage.objects.filter(program=program).exclude(
        stage=Stage.DECOMMISSIONED
    )
    total = villages.count()
    first = StageTransition.objects.filter(priority_village__program=program).order_by(
        "effective_on"
    ).values_list("effective_on", flat=True).first() or today
    end = max(program.target_date, min(today, program.target_date + dt.timedelta(days=365)))
    points = burndown(
        done_dates=first_activation_dates(program), total=total, start=first, end=end
    )
    span = max(1, (program.target_date - first).days)
    return {
        "dates": [day.isoformat() for day, _ in points],
        "remaining": [left for _, left in points],
        "ideal": [
            max(0, round(total * (1 - (day - first).days / span))) for day, _ in points
        ],
    }

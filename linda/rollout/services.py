"""Writes to the program and the lifecycle. Every one is atomic and audited."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from linda.accounts.selectors import User, allowed_transition_targets
from linda.audit.models import AuditAction
from linda.audit.services import record_audit, snapshot
from linda.domain.lifecycle import (
    IllegalTransition,
    MissingFact,
    Stage,
    TransitionFacts,
    check_transition,
)
from linda.registry.models import VILLAGE_LEVELS, Region
from linda.rollout.models import BudgetLine, PriorityVillage, Program, StageTransition


def add_priority_village(
    *, actor: User | None, program: Program, village: Region, listed_on: dt.date
) -> PriorityVillage:
    """List a village as a program priority; it starts as a blank spot."""
    if village.level not in VILLAGE_LEVELS:
        raise ValidationError({"village": f"{village.code} is a {village.level}, not a village."})
    with transaction.atomic():
        priority = PriorityVillage(
            program=program, village=village, stage=Stage.BLANKSPOT, stage_since=listed_on
        )
        priority.full_clean()
        priority.save()
        record_audit(
            actor=actor, action=AuditAction.CREATE, obj=priority, before=None,
            after=snapshot(priority),
        )
    return priority


def transition_village(
    *,
    actor: User | None,
    priority: PriorityVillage,
    to_stage: Stage,
    effective_on: dt.date,
    budget_line: BudgetLine | None = None,
    bast_number: str = "",
    bast_date: dt.date | None = None,
    note: str = "",
    check_permission: bool = True,
) -> StageTransition:
    """Move a priority village to `to_stage`, appending one dated, attributed transition.

    Refuses illegal moves with a message naming the allowed ones. The row is locked and the
    stage re-checked inside the transaction, so two concurrent moves cannot both land.
    """
    if check_permission and to_stage not in allowed_transition_targets(actor or _anonymous()):
        raise PermissionDenied(f"Your role may not move villages to '{to_stage.value}'.")
    if budget_line is not None and budget_line.program_id != priority.program_id:
        raise ValidationError({"budget_line": "belongs to another program."})
    with transaction.atomic():
        locked = PriorityVillage.objects.select_for_update().get(pk=priority.pk)
        current = Stage(locked.stage)
        facts = TransitionFacts(
            budget_line=budget_line.code if budget_line else None,
            bast_number=bast_number or None,
            bast_date_iso=bast_date.isoformat() if bast_date else None,
        )
        try:
            check_transition(current, to_stage, facts)
        except MissingFact as exc:
            raise ValidationError({exc.field: str(exc)}) from exc
        except IllegalTransition as exc:
            raise ValidationError({"to_stage": str(exc)}) from exc
        if effective_on < locked.stage_since:
            raise ValidationError(
                {"effective_on": f"must not be before the current stage began "
                 f"({locked.stage_since.isoformat()})."}
            )
        before = snapshot(locked)
        row = StageTransition.objects.create(
            priority_village=locked,
            from_stage=current,
            to_stage=to_stage,
            effective_on=effective_on,
            recorded_at=timezone.now(),
            actor=actor if actor is not None and actor.is_authenticated else None,
            actor_username=actor.get_username() if actor and actor.is_authenticated else "system",
            budget_line=budget_line,
            bast_number=bast_number,
            bast_date=bast_date,
            note=note,
        )
        locked.stage = to_stage
        locked.stage_since = effective_on
        if budget_line is not None:
            locked.budget_line = budget_line
        if to_stage is Stage.ACTIVE and bast_number:
            locked.bast_number = bast_number
            locked.bast_date = bast_date
        locked.save()
        record_audit(
            actor=actor, action=AuditAction.TRANSITION, obj=locked, before=before,
            after=snapshot(locked), note=f"{current.value} → {to_stage.value}",
        )
    priority.refresh_from_db()
    return row


def _anonymous() -> User:
    from django.contrib.auth.models import AnonymousUser

    return AnonymousUser()

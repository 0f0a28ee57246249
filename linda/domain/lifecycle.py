"""The rollout lifecycle of a priority village: stages and the transitions between them."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Stage(enum.StrEnum):
    BLANKSPOT = "blankspot"
    PLANNED = "planned"
    SURVEYED = "surveyed"
    INSTALLED = "installed"
    ACTIVE = "active"
    SUSPENDED = "suspended"
    DECOMMISSIONED = "decommissioned"


ALLOWED_TRANSITIONS: dict[Stage, tuple[Stage, ...]] = {
    Stage.BLANKSPOT: (Stage.PLANNED,),
    Stage.PLANNED: (Stage.SURVEYED,),
    Stage.SURVEYED: (Stage.INSTALLED,),
    Stage.INSTALLED: (Stage.ACTIVE,),
    Stage.ACTIVE: (Stage.SUSPENDED, Stage.DECOMMISSIONED),
    Stage.SUSPENDED: (Stage.ACTIVE, Stage.DECOMMISSIONED),
    Stage.DECOMMISSIONED: (),
}

# Stages a village has passed once it is connected (used by progress counts).
CONNECTED_STAGES = frozenset({Stage.ACTIVE, Stage.SUSPENDED})


class IllegalTransition(ValueError):
    """A transition the lifecycle does not allow; the message names the allowed ones."""

    def __init__(self, current: Stage, requested: Stage) -> None:
        allowed = ALLOWED_TRANSITIONS[current]
        names = ", ".join(stage.value for stage in allowed) or "none (final stage)"
        super().__init__(
            f"Cannot move from '{current.value}' to '{requested.value}'; "
            f"allowed from '{current.value}': {names}."
        )
        self.current = current
        self.requested = requested
        self.allowed = allowed


@dataclass(frozen=True, slots=True)
class TransitionFacts:
    """What a transition brings along; some targets require some facts."""

    budget_line: str | None = None
    bast_number: str | None = None
    bast_date_iso: str | None = None


class MissingFact(ValueError):
    def __init__(self, field: str, target: Stage) -> None:
        super().__init__(f"{field}: required to move to '{target.value}'.")
        self.field = field


def check_transition(current: Stage, requested: Stage, facts: TransitionFacts) -> None:
    """Raise IllegalTransition or MissingFact; return None when the move is allowed."""
    if requested not in ALLOWED_TRANSITIONS[current]:
        raise IllegalTransition(current, requested)
    if requested is Stage.PLANNED and not facts.budget_line:
        raise MissingFact("budget_line", requested)
    if requested is Stage.ACTIVE and current is Stage.INSTALLED:
        if not facts.bast_number:
            raise MissingFact("bast_number", requested)
        if not facts.bast_date_iso:
            raise MissingFact("bast_date", requested)

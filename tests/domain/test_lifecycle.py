from __future__ import annotations

import itertools

import pytest

from linda.domain.lifecycle import (
    ALLOWED_TRANSITIONS,
    IllegalTransition,
    MissingFact,
    Stage,
    TransitionFacts,
    check_transition,
)

FULL = TransitionFacts(budget_line="APBD-P 2024", bast_number="BAST/1", bast_date_iso="2024-10-01")
EXPECTED_ALLOWED = {
    (Stage.BLANKSPOT, Stage.PLANNED),
    (Stage.PLANNED, Stage.SURVEYED),
    (Stage.SURVEYED, Stage.INSTALLED),
    (Stage.INSTALLED, Stage.ACTIVE),
    (Stage.ACTIVE, Stage.SUSPENDED),
    (Stage.ACTIVE, Stage.DECOMMISSIONED),
    (Stage.SUSPENDED, Stage.ACTIVE),
    (Stage.SUSPENDED, Stage.DECOMMISSIONED),
}


@pytest.mark.parametrize("pair", sorted(EXPECTED_ALLOWED))
def test_allowed_transition_passes(pair: tuple[Stage, Stage]) -> None:
    check_transition(pair[0], pair[1], FULL)


REFUSED = sorted(set(itertools.product(Stage, Stage)) - EXPECTED_ALLOWED)


@pytest.mark.parametrize("pair", REFUSED)
def test_refused_transition_names_the_allowed_ones(pair: tuple[Stage, Stage]) -> None:
    current, requested = pair
    with pytest.raises(IllegalTransition) as info:
        check_transition(current, requested, FULL)
    message = str(info.value)
    assert f"'{requested.value}'" in message
    for allowed in ALLOWED_TRANSITIONS[current]:
        assert allowed.value in message
    if not ALLOWED_TRANSITIONS[current]:
        assert "none (final stage)" in message


def test_table_is_exactly_the_documented_lifecycle() -> None:
    table = {(a, b) for a, targets in ALLOWED_TRANSITIONS.items() for b in targets}
    assert table == EXPECTED_ALLOWED


def test_planning_needs_a_budget_line() -> None:
    with pytest.raises(MissingFact) as info:
        check_transition(Stage.BLANKSPOT, Stage.PLANNED, TransitionFacts())
    assert info.value.field == "budget_line"


@pytest.mark.parametrize(
    ("facts", "field"),
    [
        (TransitionFacts(bast_date_iso="2024-10-01"), "bast_number"),
        (TransitionFacts(bast_number="BAST/1"), "bast_date"),
    ],
)
def test_activation_needs_bast_number_and_date(facts: TransitionFacts, field: str) -> None:
    with pytest.raises(MissingFact) as info:
        check_transition(Stage.INSTALLED, Stage.ACTIVE, facts)
    assert info.value.field == field


def test_resuming_a_suspended_site_needs_no_new_bast() -> None:
    check_transition(Stage.SUSPENDED, Stage.ACTIVE, TransitionFacts())

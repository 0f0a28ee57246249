from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from linda.accounts.models import Role
from linda.audit.models import AuditAction, AuditEntry
from linda.domain.lifecycle import Stage
from linda.registry.models import Region
from linda.rollout.models import PriorityVillage, StageTransition
from linda.rollout.selectors import get_progress
from linda.rollout.services import add_priority_village, transition_village
from tests.factories import make_budget_line, make_program, make_user

pytestmark = pytest.mark.usefixtures("barito_utara")

LEMO_II = "62.05.05.2011"


@pytest.fixture
def setup() -> tuple[PriorityVillage, object, object]:
    program = make_program()
    line = make_budget_line(program)
    admin = make_user("kabid", Role.ADMIN)
    pv = add_priority_village(
        actor=admin, program=program, village=Region.objects.get(code=LEMO_II),
        listed_on=dt.date(2024, 9, 6),
    )
    return pv, line, admin


def _walk_to_active(pv: PriorityVillage, line: object, actor: object) -> None:
    day = dt.date(2024, 9, 10)
    for stage in (Stage.PLANNED, Stage.SURVEYED, Stage.INSTALLED, Stage.ACTIVE):
        transition_village(
            actor=actor, priority=pv, to_stage=stage, effective_on=day,  # type: ignore[arg-type]
            budget_line=line if stage is Stage.PLANNED else None,  # type: ignore[arg-type]
            bast_number="BAST/07/2024" if stage is Stage.ACTIVE else "",
            bast_date=day if stage is Stage.ACTIVE else None,
        )
        day += dt.timedelta(days=7)


def test_full_path_is_recorded_dated_and_attributed(setup) -> None:  # type: ignore[no-untyped-def]
    pv, line, admin = setup
    _walk_to_active(pv, line, admin)
    pv.refresh_from_db()
    assert pv.stage == Stage.ACTIVE
    assert pv.bast_number == "BAST/07/2024"
    assert pv.bast_date == dt.date(2024, 10, 1)
    assert pv.budget_line == line
    rows = list(StageTransition.objects.filter(priority_village=pv).order_by("id"))
    assert [(r.from_stage, r.to_stage) for r in rows] == [
        ("blankspot", "planned"), ("planned", "surveyed"),
        ("surveyed", "installed"), ("installed", "active"),
    ]
    assert {r.actor_username for r in rows} == {"kabid"}
    assert [r.effective_on for r in rows] == [
        dt.date(2024, 9, 10), dt.date(2024, 9, 17), dt.date(2024, 9, 24), dt.date(2024, 10, 1)
    ]


def test_illegal_transition_refused_and_nothing_written(setup) -> None:  # type: ignore[no-untyped-def]
    pv, _, admin = setup
    with pytest.raises(ValidationError) as info:
        transition_village(actor=admin, priority=pv, to_stage=Stage.ACTIVE,
                           effective_on=dt.date(2024, 9, 10), bast_number="B", bast_date=dt.date(2024, 9, 10))
    assert "allowed from 'blankspot': planned" in str(info.value.message_dict["to_stage"])
    assert StageTransition.objects.count() == 0
    pv.refresh_from_db()
    assert pv.stage == Stage.BLANKSPOT


def test_activation_without_bast_refused(setup) -> None:  # type: ignore[no-untyped-def]
    pv, line, admin = setup
    for stage in (Stage.PLANNED, Stage.SURVEYED, Stage.INSTALLED):
        transition_village(actor=admin, priority=pv, to_stage=stage, effective_on=dt.date(2024, 9, 10),
                           budget_line=line if stage is Stage.PLANNED else None)
    with pytest.raises(ValidationError) as info:
        transition_village(actor=admin, priority=pv, to_stage=Stage.ACTIVE, effective_on=dt.date(2024, 9, 11))
    assert "bast_number" in info.value.message_dict


def test_backdating_before_current_stage_refused(setup) -> None:  # type: ignore[no-untyped-def]
    pv, line, admin = setup
    with pytest.raises(ValidationError) as info:
        transition_village(actor=admin, priority=pv, to_stage=Stage.PLANNED,
                           effective_on=dt.date(2024, 1, 1), budget_line=line)
    assert "effective_on" in info.value.message_dict


@pytest.mark.parametrize(
    ("role", "target", "allowed"),
    [
        (Role.ADMIN, Stage.PLANNED, True),
        (Role.OPERATOR, Stage.PLANNED, True),
        (Role.VENDOR, Stage.PLANNED, False),
        (Role.VILLAGE_HEAD, Stage.PLANNED, False),
        (Role.VIEWER, Stage.PLANNED, False),
    ],
)
def test_who_may_move_a_village(setup, role: Role, target: Stage, allowed: bool) -> None:  # type: ignore[no-untyped-def]
    pv, line, _ = setup
    from linda.registry.models import Vendor

    scope: dict[str, object] = {}
    if role == Role.VENDOR:
        scope["vendor"] = Vendor.objects.create(name="PT V")
    if role == Role.VILLAGE_HEAD:
        scope["village"] = pv.village
    user = make_user(f"u-{role}", role, **scope)
    call = lambda: transition_village(
        actor=user, priority=pv, to_stage=target, effective_on=dt.date(2024, 9, 10), budget_line=line
    )
    if allowed:
        call()
        assert StageTransition.objects.count() == 1
    else:
        with pytest.raises(PermissionDenied):
            call()
        assert StageTransition.objects.count() == 0


def test_vendor_may_record_survey_and_install(setup) -> None:  # type: ignore[no-untyped-def]
    pv, line, admin = setup
    from linda.registry.models import Vendor

    vendor_user = make_user("teknisi", Role.VENDOR, vendor=Vendor.objects.create(name="PT V"))
    transition_village(actor=admin, priority=pv, to_stage=Stage.PLANNED,
                       effective_on=dt.date(2024, 9, 10), budget_line=line)
    transition_village(actor=vendor_user, priority=pv, to_stage=Stage.SURVEYED,
                       effective_on=dt.date(2024, 9, 12))
    assert StageTransition.objects.last().actor_username == "teknisi"  # type: ignore[union-attr]


def test_transitions_write_audit_entries(setup) -> None:  # type: ignore[no-untyped-def]
    pv, line, admin = setup
    transition_village(actor=admin, priority=pv, to_stage=Stage.PLANNED,
                       effective_on=dt.date(2024, 9, 10), budget_line=line)
    entry = AuditEntry.objects.filter(action=AuditAction.TRANSITION).get()
    assert entry.actor_username == "kabid"
    assert entry.object_type == "rollout.PriorityVillage"
    assert entry.before["stage"] == "blankspot"  # type: ignore[index]
    assert entry.after["stage"] == "planned"  # type: ignore[index]
    assert entry.after["budget_line"] == line.pk  # type: ignore[index]
    create = AuditEntry.objects.filter(action=AuditAction.CREATE).get()
    assert create.before is None and create.after["stage"] == "blankspot"  # type: ignore[index]


def test_only_villages_can_be_priorities() -> None:
    program = make_program()
    with pytest.raises(ValidationError) as info:
        add_priority_village(actor=None, program=program,
                             village=Region.objects.get(code="62.05.05"), listed_on=dt.date(2024, 1, 1))
    assert "village" in info.value.message_dict


def test_progress_counts_per_stage_kecamatan_and_budget_line(setup) -> None:  # type: ignore[no-untyped-def]
    pv, line, admin = setup
    other = add_priority_village(actor=admin, program=pv.program,
                                 village=Region.objects.get(code="62.05.01.2005"),
                                 listed_on=dt.date(2024, 9, 6))
    _walk_to_active(pv, line, admin)
    progress = get_progress(pv.program, today=dt.date(2024, 10, 15), weeks=4)
    assert progress.total == 2
    assert progress.connected == 1
    assert progress.by_stage["active"] == 1 and progress.by_stage["blankspot"] == 1
    assert ("62.05.05", "Teweh Tengah", {"active": 1}) in progress.by_kecamatan
    assert ("62.05.01", "Montallat", {"blankspot": 1}) in progress.by_kecamatan
    assert dict(progress.by_budget_line) == {"APBD-P 2024": {"active": 1}, "-": {"blankspot": 1}}
    assert progress.forecast.done_in_window == 1
    assert progress.forecast.remaining == 1
    assert other.stage == Stage.BLANKSPOT

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from linda.accounts.models import Role
from linda.registry.models import Region
from linda.rollout.models import PriorityVillage, StageTransition
from linda.rollout.services import add_priority_village
from linda.web.templatetags.linda_tags import rupiah
from tests.factories import make_budget_line, make_program, make_user

pytestmark = pytest.mark.usefixtures("barito_utara")


@pytest.fixture
def priority() -> PriorityVillage:
    program = make_program()
    make_budget_line(program)
    return add_priority_village(actor=None, program=program,
                                village=Region.objects.get(code="62.05.05.2011"),
                                listed_on=dt.date(2024, 9, 1))


def _post(client: Client, pv: PriorityVillage, **data: str) -> str:
    payload = {f"pv{pv.pk}-{k}": v for k, v in data.items()}
    response = client.post(f"/rollout/{pv.pk}/transition/", payload, follow=True)
    return response.content.decode()


def test_operator_moves_a_village_from_the_board(priority: PriorityVillage) -> None:
    client = Client()
    client.force_login(make_user("noc", Role.OPERATOR))
    line = priority.program.budget_lines.get()
    page = _post(client, priority, to_stage="planned", effective_on="2024-09-10",
                 budget_line=str(line.pk))
    priority.refresh_from_db()
    assert priority.stage == "planned"
    assert StageTransition.objects.get().actor_username == "noc"
    assert "Lemo II" in page


def test_board_refusal_names_the_field(priority: PriorityVillage) -> None:
    client = Client()
    client.force_login(make_user("noc", Role.OPERATOR))
    page = _post(client, priority, to_stage="planned", effective_on="2024-09-10")
    assert "budget_line" in page
    assert StageTransition.objects.count() == 0


def test_viewer_gets_no_form_and_cannot_post(priority: PriorityVillage) -> None:
    client = Client()
    client.force_login(make_user("lihat", Role.VIEWER))
    assert 'action="/rollout/' not in client.get("/rollout/").content.decode()
    _post(client, priority, to_stage="planned", effective_on="2024-09-10")
    assert StageTransition.objects.count() == 0


def test_village_head_cannot_reach_another_village(priority: PriorityVillage) -> None:
    client = Client()
    client.force_login(make_user("kades", Role.VILLAGE_HEAD,
                                 village=Region.objects.get(code="62.05.01.2005")))
    response = client.post(f"/rollout/{priority.pk}/transition/", {})
    assert response.status_code == 404


@pytest.mark.parametrize(("value", "shown"), [(1_500_000, "Rp 1.500.000"), (0, "Rp 0"),
                                              (-25_000, "-Rp 25.000"), (None, "—")])
def test_rupiah_is_formatted_the_indonesian_way(value: int | None, shown: str) -> None:
    assert rupiah(value) == shown


def test_row_ids_are_plain_numbers_past_a_thousand(priority: PriorityVillage) -> None:
    """Ids and form values are never localized: Indonesian formats write 1265 as "1.265",
    which broke the board's row anchors once the database had a thousand rows."""
    StageTransition.objects.all().delete()
    PriorityVillage.objects.filter(pk=priority.pk).update(id=1265)
    client = Client()
    client.force_login(make_user("noc", Role.OPERATOR))
    page = client.get("/rollout/", HTTP_ACCEPT_LANGUAGE="id").content.decode()
    assert 'id="pv-1265"' in page

"""Role scoping, enforced in queries: what each role may and may not see."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import Client

from linda.accounts.models import Role
from linda.accounts.selectors import can_edit_contracts, can_edit_registry
from linda.registry.models import Region, Vendor
from linda.registry.selectors import visible_contracts, visible_sites, visible_villages
from tests.factories import make_contract, make_site, make_user

pytestmark = pytest.mark.usefixtures("barito_utara")

LEMO_II, SIKAN, RUBEI = "62.05.05.2011", "62.05.01.2005", "62.05.01.2006"


@pytest.fixture
def world() -> dict[str, object]:
    ours, theirs = Vendor.objects.create(name="PT Ours"), Vendor.objects.create(name="PT Theirs")
    lemo, sikan, rubei = make_site(LEMO_II), make_site(SIKAN), make_site(RUBEI)
    make_contract(ours, [lemo, sikan], number="K/OURS")
    make_contract(theirs, [rubei], number="K/THEIRS")
    return {"ours": ours, "theirs": theirs, "lemo": lemo, "sikan": sikan, "rubei": rubei}


def _codes(qs: object) -> set[str]:
    return {row.code for row in qs}  # type: ignore[attr-defined]


@pytest.mark.parametrize("role", [Role.ADMIN, Role.OPERATOR, Role.VIEWER])
def test_office_roles_see_every_site(world, role: Role) -> None:  # type: ignore[no-untyped-def]
    user = make_user("u", role)
    assert len(_codes(visible_sites(user))) == 3
    assert visible_villages(user).count() == 103
    assert visible_contracts(user).count() == 2


def test_vendor_sees_only_its_contracts_sites(world) -> None:  # type: ignore[no-untyped-def]
    user = make_user("tek", Role.VENDOR, vendor=world["ours"])
    assert _codes(visible_sites(user)) == {world["lemo"].code, world["sikan"].code}  # type: ignore[attr-defined]
    assert world["rubei"].code not in _codes(visible_sites(user))  # type: ignore[attr-defined]
    assert _codes(visible_villages(user)) == {LEMO_II, SIKAN}
    assert [c.number for c in visible_contracts(user)] == ["K/OURS"]


def test_village_head_sees_only_their_village(world) -> None:  # type: ignore[no-untyped-def]
    user = make_user("kades", Role.VILLAGE_HEAD, village=Region.objects.get(code=SIKAN))
    assert _codes(visible_sites(user)) == {world["sikan"].code}  # type: ignore[attr-defined]
    assert _codes(visible_villages(user)) == {SIKAN}
    assert visible_contracts(user).count() == 0


def test_anonymous_and_profileless_users_see_nothing(world) -> None:  # type: ignore[no-untyped-def]
    assert visible_sites(AnonymousUser()).count() == 0
    assert visible_villages(make_user("nobody", None)).count() == 0


@pytest.mark.parametrize(
    ("role", "registry", "contracts"),
    [
        (Role.ADMIN, True, True),
        (Role.OPERATOR, True, False),
        (Role.VENDOR, False, False),
        (Role.VILLAGE_HEAD, False, False),
        (Role.VIEWER, False, False),
    ],
)
def test_who_may_change_registry_and_contracts(world, role: Role, registry: bool, contracts: bool) -> None:  # type: ignore[no-untyped-def]
    scope: dict[str, object] = {}
    if role == Role.VENDOR:
        scope["vendor"] = world["ours"]
    if role == Role.VILLAGE_HEAD:
        scope["village"] = Region.objects.get(code=SIKAN)
    user = make_user("u", role, **scope)
    assert can_edit_registry(user) is registry
    assert can_edit_contracts(user) is contracts


def test_rollout_page_is_scoped_on_the_server(world) -> None:  # type: ignore[no-untyped-def]
    import datetime as dt

    from linda.rollout.services import add_priority_village
    from tests.factories import make_program

    program = make_program()
    for code in (LEMO_II, SIKAN, RUBEI):
        add_priority_village(actor=None, program=program, village=Region.objects.get(code=code),
                             listed_on=dt.date(2024, 1, 1))
    client = Client()
    client.force_login(make_user("kades", Role.VILLAGE_HEAD, village=Region.objects.get(code=SIKAN)))
    page = client.get("/rollout/").content.decode()
    assert "Sikan" in page and "Rubei" not in page and "Lemo II" not in page
    client.force_login(make_user("tek", Role.VENDOR, vendor=world["theirs"]))
    page = client.get("/rollout/").content.decode()
    assert "Rubei" in page and "Sikan" not in page


def test_login_required_for_dashboard(db: None) -> None:
    response = Client().get("/")
    assert response.status_code == 302 and "/login/" in response["Location"]

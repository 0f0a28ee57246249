"""Who a user is in the program and what they may do. Enforced in queries on the server."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

from linda.accounts.models import Profile, Role
from linda.domain.lifecycle import Stage

User = AbstractBaseUser | AnonymousUser

# Which lifecycle targets each role may record.
TRANSITION_TARGETS: dict[Role, frozenset[Stage]] = {
    Role.ADMIN: frozenset(Stage),
    Role.OPERATOR: frozenset(Stage) - {Stage.DECOMMISSIONED},
    Role.VENDOR: frozenset({Stage.SURVEYED, Stage.INSTALLED}),
    Role.VILLAGE_HEAD: frozenset(),
    Role.VIEWER: frozenset(),
}


def get_profile(user: User) -> Profile | None:
    if not user.is_authenticated:
        return None
    try:
        return Profile.objects.select_related("vendor", "village").get(user_id=user.pk)
    except Profile.DoesNotExist:
        return None


def get_role(user: User) -> Role | None:
    """The user's role; a superuser is an admin; an account without a profile has none."""
    if not user.is_authenticated:
        return None
    if getattr(user, "is_superuser", False):
        return Role.ADMIN
    profile = get_profile(user)
    return Role(profile.role) if profile is not None else None


def can_edit_registry(user: User) -> bool:
    return get_role(user) in {Role.ADMIN, Role.OPERATOR}


def can_edit_contracts(user: User) -> bool:
    return get_role(user) == Role.ADMIN


def allowed_transition_targets(user: User) -> frozenset[Stage]:
    role = get_role(user)
    return TRANSITION_TARGETS[role] if role is not None else frozenset()

"""The one door for audit entries: every registry, lifecycle and contract write calls it."""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import models
from django.forms.models import model_to_dict
from django.utils import timezone

from linda.audit.models import AuditAction, AuditEntry

Actor = AbstractBaseUser | AnonymousUser | None


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return value


def snapshot(obj: models.Model) -> dict[str, Any]:
    """A JSON-safe picture of a model instance's concrete fields."""
    data = model_to_dict(obj, fields=[f.name for f in obj._meta.concrete_fields])
    return {key: _jsonable(value) for key, value in data.items()}


def record_audit(
    *,
    actor: Actor,
    action: AuditAction,
    obj: models.Model,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    note: str = "",
) -> AuditEntry:
    real_actor = actor if actor is not None and actor.is_authenticated else None
    return AuditEntry.objects.create(
        at=timezone.now(),
        actor=real_actor,
        actor_username=real_actor.get_username() if real_actor is not None else "system",
        action=action,
        object_type=obj._meta.label,
        object_id=str(obj.pk),
        object_repr=str(obj)[:200],
        before=before,
        after=after,
        note=note[:500],
    )


def changed_fields(before: dict[str, Any] | None, after: dict[str, Any] | None) -> list[str]:
    before = before or {}
    after = after or {}
    return sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))

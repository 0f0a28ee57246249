from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from linda.audit.models import AuditAction, AuditEntry
from linda.audit.services import record_audit, snapshot


class ReadOnlyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Records that are written by the system only: shown, never added, changed or deleted."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = ["at", "actor_username", "action", "object_type", "object_repr"]
    list_filter = ["action", "object_type"]
    search_fields = ["object_repr", "object_id", "actor_username", "note"]
    date_hierarchy = "at"


class AuditedAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Admin whose saves and deletes write an audit entry with before and after."""

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        before = snapshot(type(obj).objects.get(pk=obj.pk)) if change else None
        super().save_model(request, obj, form, change)
        record_audit(
            actor=request.user,
            action=AuditAction.UPDATE if change else AuditAction.CREATE,
            obj=obj,
            before=before,
            after=snapshot(obj),
            note="admin",
        )

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        """Many-to-many fields (a contract's sites) are saved after the row: audit them too."""
        obj = form.instance
        m2m = [f.name for f in obj._meta.many_to_many]
        before = {name: sorted(getattr(obj, name).values_list("pk", flat=True)) for name in m2m}
        super().save_related(request, form, formsets, change)
        after = {name: sorted(getattr(obj, name).values_list("pk", flat=True)) for name in m2m}
        if before != after:
            record_audit(actor=request.user, action=AuditAction.UPDATE, obj=obj,
                         before=before, after=after, note="admin: relations")

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        before = snapshot(obj)
        record_audit(
            actor=request.user, action=AuditAction.DELETE, obj=obj, before=before, after=None,
            note="admin",
        )
        super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        for obj in queryset:
            self.delete_model(request, obj)

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from linda.audit.admin import AuditedAdmin, ReadOnlyAdmin
from linda.registry.admin import KecamatanFilter
from linda.rollout.models import BudgetLine, PriorityVillage, Program, StageTransition


class BudgetLineInline(admin.TabularInline):  # type: ignore[type-arg]
    model = BudgetLine
    extra = 0


@admin.register(Program)
class ProgramAdmin(AuditedAdmin):
    list_display = ["name", "owner_office", "target_date", "is_demo"]
    search_fields = ["name", "owner_office"]
    inlines = [BudgetLineInline]


class TransitionInline(admin.TabularInline):  # type: ignore[type-arg]
    model = StageTransition
    extra = 0
    can_delete = False
    readonly_fields = ["from_stage", "to_stage", "effective_on", "recorded_at", "actor_username",
                       "budget_line", "bast_number", "bast_date", "note"]
    exclude = ["actor"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(PriorityVillage)
class PriorityVillageAdmin(AuditedAdmin):
    """The stage is changed only through transitions (the rollout board or `linda transition`)."""

    list_display = ["village", "program", "stage", "stage_since", "budget_line", "bast_number"]
    list_filter = ["stage", KecamatanFilter, "budget_line", "program"]
    search_fields = ["village__name", "village__code", "bast_number"]
    readonly_fields = ["stage", "stage_since", "budget_line", "bast_number", "bast_date"]
    autocomplete_fields = ["village"]
    inlines = [TransitionInline]


@admin.register(StageTransition)
class StageTransitionAdmin(ReadOnlyAdmin):
    list_display = ["priority_village", "from_stage", "to_stage", "effective_on",
                    "actor_username", "bast_number"]
    list_filter = ["to_stage", "from_stage"]
    search_fields = ["priority_village__village__name", "bast_number", "actor_username"]

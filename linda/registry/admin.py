from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from linda.audit.admin import AuditedAdmin
from linda.registry.models import (
    Contract,
    ContractTerms,
    Equipment,
    Region,
    RegionLevel,
    Site,
    Vendor,
)


class KecamatanFilter(admin.SimpleListFilter):
    title = _("kecamatan")
    parameter_name = "kecamatan"
    lookup: str = "village__parent__code"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [
            (code, name)
            for code, name in Region.objects.filter(level=RegionLevel.DISTRICT).values_list(
                "code", "name"
            )
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value():
            return queryset.filter(**{self.lookup: self.value()})
        return queryset


class RegionKecamatanFilter(KecamatanFilter):
    lookup = "parent__code"


class EquipmentKecamatanFilter(KecamatanFilter):
    lookup = "site__village__parent__code"


@admin.register(Region)
class RegionAdmin(AuditedAdmin):
    list_display = ["code", "name", "level", "parent", "latitude", "longitude"]
    list_filter = ["level", RegionKecamatanFilter]
    search_fields = ["code", "name"]
    autocomplete_fields = ["parent"]


class EquipmentInline(admin.TabularInline):  # type: ignore[type-arg]
    model = Equipment
    extra = 0


@admin.register(Site)
class SiteAdmin(AuditedAdmin):
    list_display = ["code", "name", "village", "technology", "power_profile", "is_demo"]
    list_filter = [KecamatanFilter, "technology", "power_profile", "contracts__vendor",
                   "village__priorities__stage", "is_demo"]
    search_fields = ["code", "name", "village__name", "village__code"]
    autocomplete_fields = ["village"]
    inlines = [EquipmentInline]


@admin.register(Equipment)
class EquipmentAdmin(AuditedAdmin):
    list_display = ["site", "type", "model", "serial", "installed_on"]
    list_filter = ["type", EquipmentKecamatanFilter, "site__contracts__vendor"]
    search_fields = ["serial", "model", "site__code", "site__village__name"]
    autocomplete_fields = ["site"]


@admin.register(Vendor)
class VendorAdmin(AuditedAdmin):
    list_display = ["name", "contact_email", "contact_phone", "is_demo"]
    search_fields = ["name"]


class ContractTermsInline(admin.StackedInline):  # type: ignore[type-arg]
    model = ContractTerms
    extra = 0
    readonly_fields = ["created_at"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # versions are appended, never edited

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Contract)
class ContractAdmin(AuditedAdmin):
    list_display = ["number", "vendor", "starts_on", "ends_on", "is_demo"]
    list_filter = ["vendor", "is_demo"]
    search_fields = ["number", "title", "vendor__name", "sites__code"]
    filter_horizontal = ["sites"]
    inlines = [ContractTermsInline]


@admin.register(ContractTerms)
class ContractTermsAdmin(AuditedAdmin):
    list_display = ["contract", "version", "effective_from", "monthly_fee_idr", "sla_target_pct",
                    "restitution_kind", "power_outage_responsibility"]
    list_filter = ["contract__vendor", "restitution_kind"]
    search_fields = ["contract__number"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None and super().has_change_permission(request, obj)

"""Monitoring in the admin: keys (issued and shown once, revoked), maintenance windows, and
read-only views of heartbeats, live states, coverage marks and stored intervals."""

from __future__ import annotations

import time
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

from linda.audit.admin import AuditedAdmin, ReadOnlyAdmin
from linda.audit.models import AuditAction
from linda.audit.services import record_audit
from linda.monitoring.models import (
    CheckTarget,
    CoverageMark,
    Heartbeat,
    MaintenanceWindow,
    SiteKey,
    SiteState,
    StatusInterval,
)
from linda.monitoring.routeros import linux_oneliner, routeros_script
from linda.monitoring.services import issue_site_key, revoke_site_key
from linda.registry.models import Site


class IssueKeyForm(forms.Form):
    site = forms.ModelChoiceField(queryset=Site.objects.all(), label=_("situs"))


@admin.register(SiteKey)
class SiteKeyAdmin(ReadOnlyAdmin):
    list_display = ["site", "prefix", "created_at", "revoked_at"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["site__code", "prefix"]
    list_select_related = ["site__village"]
    exclude = ["key_hash"]
    actions = ["revoke"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("monitoring.add_sitekey")

    @admin.action(description=_("Cabut kunci terpilih"), permissions=["add"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[SiteKey]) -> None:
        count = 0
        for site_key in queryset:
            if revoke_site_key(site_key):
                count += 1
                record_audit(actor=request.user, action=AuditAction.UPDATE, obj=site_key,
                             before=None, after={"revoked": True}, note="kunci dicabut")
        self.message_user(request, _("%(n)d kunci dicabut.") % {"n": count}, messages.SUCCESS)

    def add_view(self, request: HttpRequest, form_url: str = "",
                 extra_context: dict[str, Any] | None = None) -> HttpResponse:
        """Pick a site, get a new key and the router scripts, shown this once."""
        if not self.has_add_permission(request):
            return super().add_view(request, form_url, extra_context)
        form = IssueKeyForm(request.POST or None, initial={"site": request.GET.get("site")})
        context: dict[str, Any] = {**self.admin_site.each_context(request), "form": form,
                                   "opts": self.model._meta, "title": _("Kunci situs baru")}
        if request.method == "POST" and form.is_valid():
            site = form.cleaned_data["site"]
            key = issue_site_key(site)
            record_audit(actor=request.user, action=AuditAction.CREATE,
                         obj=SiteKey.objects.filter(site=site).latest("created_at"),
                         before=None, after={"site": site.code, "prefix": key[:6]},
                         note="kunci diterbitkan")
            url = settings.LINDA_PUBLIC_URL
            common = {"url": url, "key": key, "site_code": site.code,
                      "boot_base": int(time.time())}
            context.update(
                site=site, key=key, v7=routeros_script(**common),
                v6=routeros_script(**common, v6=True), linux=linux_oneliner(url=url, key=key),
            )
        return TemplateResponse(request, "monitoring/admin/issue_key.html", context)


@admin.register(Heartbeat)
class HeartbeatAdmin(ReadOnlyAdmin):
    list_display = ["site", "received_at", "channel", "late", "seq", "uptime_s",
                    "battery_voltage_v", "rtt_ms", "loss_pct"]
    list_filter = ["channel", "late"]
    search_fields = ["site__code"]
    list_select_related = ["site__village"]
    show_full_result_count = False


@admin.register(CheckTarget)
class CheckTargetAdmin(AuditedAdmin):
    """Active checks (docs/checks.md): what `linda checks` probes, and why it last failed."""

    list_display = ["site", "kind", "address", "enabled", "interval_s", "last_checked_at",
                    "last_ok_at", "last_rtt_ms", "last_error"]
    list_filter = ["kind", "enabled"]
    search_fields = ["site__code", "host", "url"]
    list_select_related = ["site__village"]
    autocomplete_fields = ["site"]
    readonly_fields = ["next_due_at", "last_checked_at", "last_ok_at", "last_rtt_ms",
                       "last_error"]

    @admin.display(description=_("alamat"))
    def address(self, obj: CheckTarget) -> str:
        return obj.address


@admin.register(SiteState)
class SiteStateAdmin(ReadOnlyAdmin):
    list_display = ["site", "state", "state_since", "last_live_at", "activated_at",
                    "materialized_until"]
    list_filter = ["state"]
    search_fields = ["site__code"]
    list_select_related = ["site__village"]


@admin.register(StatusInterval)
class StatusIntervalAdmin(ReadOnlyAdmin):
    list_display = ["site", "start", "end", "state", "degraded", "source"]
    list_filter = ["state", "degraded", "source"]
    search_fields = ["site__code"]
    list_select_related = ["site__village"]
    show_full_result_count = False


@admin.register(CoverageMark)
class CoverageMarkAdmin(ReadOnlyAdmin):
    list_display = ["at", "monitor_id"]
    show_full_result_count = False


@admin.register(MaintenanceWindow)
class MaintenanceWindowAdmin(AuditedAdmin):
    list_display = ["__str__", "start", "end", "author"]
    list_filter = ["kecamatan"]
    search_fields = ["reason", "site__code"]
    autocomplete_fields = ["site"]
    exclude = ["author"]

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if not change:
            obj.author = request.user
        super().save_model(request, obj, form, change)

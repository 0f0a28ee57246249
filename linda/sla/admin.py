"""Admin for SLA records. Overrides are added through the service (audited) and never edited;
stored reports are read-only."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from linda.audit.admin import ReadOnlyAdmin
from linda.domain.attribution import Cause, Responsibility
from linda.sla.models import OutageOverride, SlaReport
from linda.sla.services import outage_begins_at, record_outage_override


class OutageOverrideForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = OutageOverride
        fields = ["site", "outage_start", "cause", "responsibility", "reason"]
        help_texts = {
            "outage_start": _("Awal gangguan persis seperti di laporan (WIB)."),
        }

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("cause") and not data.get("responsibility"):
            raise ValidationError(_("Isi penyebab, penanggung jawab, atau keduanya."))
        site, start = data.get("site"), data.get("outage_start")
        if site is not None and start is not None and not outage_begins_at(
            site, start, now=timezone.now()
        ):
            raise ValidationError(_("Tidak ada gangguan situs ini yang mulai pada waktu itu."))
        return data


@admin.register(OutageOverride)
class OutageOverrideAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    form = OutageOverrideForm
    list_display = ["site", "outage_start", "cause", "responsibility", "reason",
                    "author_username", "created_at"]
    list_filter = ["cause", "responsibility"]
    search_fields = ["site__code", "reason", "author_username"]
    autocomplete_fields = ["site"]
    date_hierarchy = "outage_start"

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        data = form.cleaned_data
        saved = record_outage_override(
            site=data["site"], outage_start=data["outage_start"], reason=data["reason"],
            author=request.user,
            cause=Cause(data["cause"]) if data["cause"] else None,
            responsibility=Responsibility(data["responsibility"])
            if data["responsibility"] else None,
            check_outage=False,  # checked by the form
        )
        obj.pk = saved.pk


@admin.register(SlaReport)
class SlaReportAdmin(ReadOnlyAdmin):
    list_display = ["contract", "kecamatan", "month", "generated_at", "is_final",
                    "manual_signoff_required", "fee_due_idr", "restitution_idr", "payable_idr",
                    "content_sha256"]
    list_filter = ["is_final", "manual_signoff_required", "month"]
    search_fields = ["contract__number", "content_sha256"]
    exclude = ["content_json"]

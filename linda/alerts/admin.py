"""Alerts in the admin: channels (URL shown masked, never in full; "send test"), routing rules,
incidents (acknowledge), notifications with their delivery log (requeue an in-doubt one)."""

from __future__ import annotations

from typing import Any

import apprise
from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from linda.alerts import delivery
from linda.alerts.models import (
    AlertEvent,
    Channel,
    DeliveryAttempt,
    Incident,
    IncidentSite,
    Notification,
    NotificationStatus,
    Rule,
)
from linda.alerts.services import acknowledge_incident, send_test
from linda.audit.admin import AuditedAdmin, ReadOnlyAdmin
from linda.audit.models import AuditAction
from linda.audit.services import record_audit, snapshot


class ChannelForm(forms.ModelForm):  # type: ignore[type-arg]
    """The URL field is write-only: an existing channel shows its masked URL, and submitting
    that masked text unchanged keeps the stored URL."""

    class Meta:
        model = Channel
        fields = ["name", "url", "language", "resend_in_doubt", "is_active"]
        widgets = {"url": forms.TextInput(attrs={"size": 90, "autocomplete": "off"})}
        help_texts = {
            "url": _("Contoh: tgram://{env:LINDA_TG_TOKEN}/-1001234567890 atau "
                     "whatsapp://TOKEN@PHONE_ID/628123456789. Rahasia boleh ditulis "
                     "{env:NAMA_VARIABEL}. URL tersimpan hanya ditampilkan tersamar."),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["url"] = self.instance.masked_url

    def clean_url(self) -> str:
        url = str(self.cleaned_data["url"]).strip()
        if self.instance.pk and url == self.instance.masked_url:
            return str(Channel.objects.get(pk=self.instance.pk).url)
        if "…" in url:
            raise forms.ValidationError(_("Tulis URL lengkap, bukan versi tersamar."))
        # A URL with {env:…} secrets is checked when sent (the admin may not see the variable).
        delivery.load_plugins()
        if "{env:" not in url and apprise.Apprise.instantiate(url) is None:
            raise forms.ValidationError(_("Apprise tidak mengenali URL ini."))
        return url


def _masked_snapshot(channel: Channel) -> dict[str, Any]:
    data = snapshot(channel)
    data["url"] = channel.masked_url
    return data


@admin.register(Channel)
class ChannelAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    form = ChannelForm
    list_display = ["name", "masked_url", "language", "resend_in_doubt", "is_active"]
    list_filter = ["is_active", "language"]
    search_fields = ["name"]
    actions = ["send_test_message"]

    @admin.display(description=_("URL (tersamar)"))
    def masked_url(self, obj: Channel) -> str:
        return obj.masked_url

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        # Audited by hand: the audit log must hold the masked URL, never the secret.
        before = _masked_snapshot(Channel.objects.get(pk=obj.pk)) if change else None
        super().save_model(request, obj, form, change)
        record_audit(actor=request.user, action=AuditAction.UPDATE if change
                     else AuditAction.CREATE, obj=obj, before=before,
                     after=_masked_snapshot(obj), note="admin")

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        record_audit(actor=request.user, action=AuditAction.DELETE, obj=obj,
                     before=_masked_snapshot(obj), after=None, note="admin")
        super().delete_model(request, obj)

    @admin.action(description=_("Kirim pesan uji"))
    def send_test_message(self, request: HttpRequest, queryset: QuerySet[Channel]) -> None:
        for channel in queryset:
            status = send_test(channel=channel, worker=f"admin:{request.user}")
            level = messages.SUCCESS if status == NotificationStatus.SENT else messages.ERROR
            self.message_user(request, _("%(name)s: %(status)s") % {
                "name": channel.name, "status": NotificationStatus(status).label}, level)


@admin.register(Rule)
class RuleAdmin(AuditedAdmin):
    list_display = ["name", "audience", "channel", "level", "escalate_after_s",
                    "min_severity", "kecamatan", "village", "vendor", "is_active"]
    list_filter = ["audience", "level", "is_active"]
    search_fields = ["name"]
    list_select_related = ["channel", "kecamatan", "village", "vendor"]


class IncidentSiteInline(admin.TabularInline):  # type: ignore[type-arg]
    model = IncidentSite
    fields = ["site", "down_at", "recovered_at"]
    readonly_fields = ["site", "down_at", "recovered_at"]
    extra = 0
    can_delete = False


@admin.register(Incident)
class IncidentAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "kind", "severity", "vendor", "opened_at", "closed_at",
                    "acknowledged_at", "acknowledged_name"]
    list_filter = ["kind", "severity", ("closed_at", admin.EmptyFieldListFilter),
                   ("acknowledged_at", admin.EmptyFieldListFilter)]
    exclude = ["ack_token"]
    inlines = [IncidentSiteInline]
    actions = ["acknowledge"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description=_("Akui insiden terpilih"), permissions=["view"])
    def acknowledge(self, request: HttpRequest, queryset: QuerySet[Incident]) -> None:
        done = sum(acknowledge_incident(incident=i, user=request.user) for i in queryset)
        self.message_user(request, _("%(n)d insiden diakui.") % {"n": done}, messages.SUCCESS)


class DeliveryAttemptInline(admin.TabularInline):  # type: ignore[type-arg]
    model = DeliveryAttempt
    fields = ["number", "worker", "started_at", "finished_at", "outcome", "error"]
    readonly_fields = ["number", "worker", "started_at", "finished_at", "outcome", "error"]
    extra = 0
    can_delete = False


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "title", "channel", "kind", "level", "status", "attempts",
                    "sent_at"]
    list_filter = ["status", "kind", "channel"]
    search_fields = ["title", "body"]
    list_select_related = ["channel"]
    exclude = ["claim_token"]
    inlines = [DeliveryAttemptInline]
    actions = ["resend"]
    show_full_result_count = False

    @admin.action(description=_("Kirim ulang (tidak pasti/gagal)"), permissions=["view"])
    def resend(self, request: HttpRequest, queryset: QuerySet[Notification]) -> None:
        now = timezone.now()
        done = sum(delivery.requeue(n, now=now) for n in queryset)
        self.message_user(request, _("%(n)d notifikasi diantrekan ulang.") % {"n": done})


@admin.register(AlertEvent)
class AlertEventAdmin(ReadOnlyAdmin):
    list_display = ["site", "old_state", "new_state", "at", "recorded_at", "outcome", "incident"]
    list_filter = ["new_state", "outcome"]
    search_fields = ["site__code"]
    list_select_related = ["site__village"]
    show_full_result_count = False


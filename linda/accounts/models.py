from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    ADMIN = "admin", _("admin Diskominfosandi")
    OPERATOR = "operator", _("operator NOC")
    VENDOR = "vendor", _("vendor")
    VILLAGE_HEAD = "village_head", _("kepala desa")
    VIEWER = "viewer", _("pemantau")


class Profile(models.Model):
    """A user's role and the scope it is bound to (a vendor, or a village)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile"
    )
    role = models.CharField(_("peran"), max_length=16, choices=Role.choices, default=Role.VIEWER)
    vendor = models.ForeignKey(
        "registry.Vendor", verbose_name=_("vendor"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="users",
    )
    village = models.ForeignKey(
        "registry.Region", verbose_name=_("desa/kelurahan"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="heads",
    )
    phone = models.CharField(_("telepon"), max_length=32, blank=True)

    class Meta:
        verbose_name = _("profil")
        verbose_name_plural = _("profil")
        constraints = [
            models.CheckConstraint(
                condition=~Q(role="vendor") | Q(vendor__isnull=False),
                name="profile_vendor_role_has_vendor",
            ),
            models.CheckConstraint(
                condition=~Q(role="village_head") | Q(village__isnull=False),
                name="profile_village_head_has_village",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()})"

from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from linda.accounts.models import Profile, Role


class Command(BaseCommand):
    help = "Create (or reset) the local 'admin' superuser; its password is kept in var/."

    def handle(self, *args: Any, **options: Any) -> None:
        path = settings.VAR_DIR / "admin-password"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(12))
            path.chmod(0o600)
        password = path.read_text().strip()
        user_model = get_user_model()
        user = user_model.objects.filter(username="admin").first()
        if user is None:
            user = user_model.objects.create_superuser("admin", "", password)
        else:
            user.set_password(password)
            user.is_superuser = user.is_staff = user.is_active = True
            user.save()
        Profile.objects.update_or_create(user=user, defaults={"role": Role.ADMIN})
        self.stdout.write(f"admin login: admin / {password}")

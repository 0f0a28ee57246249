from __future__ import annotations

from django.http import HttpRequest

from linda.registry.selectors import demo_data_present


def demo_banner(request: HttpRequest) -> dict[str, bool]:
    """Every page says so when the database holds demo data."""
    return {"demo_data_present": demo_data_present()}

"""For tests that start `python -m linda …` in a process of its own."""

from __future__ import annotations

from pathlib import Path

from django.db import connection

REPO = Path(__file__).resolve().parent.parent


def database_url() -> str:
    """DATABASE_URL for the test database the running test uses (its test name)."""
    s = connection.settings_dict
    if s["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{s['NAME']}"
    password = f":{s['PASSWORD']}" if s.get("PASSWORD") else ""
    return f"postgres://{s['USER']}{password}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"

"""The scratch database the benchmarks build and drop.

A temporary SQLite file unless DATABASE_URL is set (then a database named `name` on that
server, created and dropped like a test database).
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@contextmanager
def scratch_database(name: str) -> Iterator[None]:
    """Set Django up on a fresh database named `name`; drop it on the way out."""
    sys.path.insert(0, str(ROOT))
    scratch = tempfile.mkdtemp(prefix="linda-bench-")
    os.environ.setdefault("LINDA_VAR_DIR", scratch)
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{scratch}/bench.sqlite3")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ["LINDA_TEST_DB_NAME"] = name
    import django

    django.setup()
    from django.test.utils import setup_databases, teardown_databases

    old = setup_databases(verbosity=0, interactive=False)
    try:
        yield
    finally:
        teardown_databases(old, verbosity=0)

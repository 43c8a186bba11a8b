"""Shared start of the benchmarks: Django set up on a throwaway test database."""

import os
import sys
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kasm.settings")

import django  # noqa: E402

django.setup()

from django.test.utils import setup_databases, teardown_databases  # noqa: E402


@contextmanager
def test_database():
    """A fresh test database (test_<name>), dropped afterwards; yields its DATABASE_URL."""
    from django.db import connection

    old_config = setup_databases(verbosity=0, interactive=False)
    try:
        db = connection.settings_dict
        if db["ENGINE"].endswith("sqlite3"):
            yield f"sqlite:///{db['NAME']}"
        else:
            yield f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    finally:
        teardown_databases(old_config, verbosity=0)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]

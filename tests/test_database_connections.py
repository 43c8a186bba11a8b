"""Long-lived processes reuse their Postgres connections: daphne through psycopg's pool, Celery
workers by keeping one between tasks. Checked in fresh processes against the real server."""

import json
import subprocess
import sys

from tests.conftest import ROOT

BACKEND_PIDS = """
import json
from django.db import connection
pids = []
for _ in range(5):
    {between}
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pids.append(cursor.fetchone()[0])
    connection.close() if {close} else None
print(json.dumps(pids))
"""


def backend_pids(postgres_url: str, setup: str, between: str = "pass", close: bool = True) -> list[int]:
    """Postgres backend pids of five queries in a fresh process that ran `setup` first."""
    script = setup + BACKEND_PIDS.format(between=between, close=close)
    env = {"DATABASE_URL": postgres_url, "DJANGO_SETTINGS_MODULE": "kasm.settings", "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=True
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_daphne_serves_requests_from_pooled_connections(postgres_url):
    pids = backend_pids(postgres_url, "import kasm.asgi\n")  # what daphne loads
    # The pool may open a second connection while it fills itself up in the background.
    assert len(set(pids)) <= 2, "each request opened its own Postgres connection"


def test_other_processes_open_a_connection_each_time(postgres_url):
    pids = backend_pids(postgres_url, "import django\ndjango.setup()\n")
    assert len(set(pids)) == 5


WORKER = """
import django
django.setup()
from django.db import connection
from kasm.celery import close_old_database_connections, keep_database_connection
keep_database_connection()  # as Celery does in each new worker process
"""


def test_a_worker_keeps_its_connection_between_tasks(postgres_url):
    pids = backend_pids(postgres_url, WORKER, between="close_old_database_connections()", close=False)
    assert len(set(pids)) == 1


def test_a_worker_replaces_a_connection_older_than_its_age(postgres_url):
    expire = "connection.close_at = 0\n    close_old_database_connections()"
    pids = backend_pids(postgres_url, WORKER, between=expire, close=False)
    assert len(set(pids)) == 5

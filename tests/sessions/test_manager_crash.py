"""The manager worker killed while it holds an agent's report: the report is lost with it (the
broker gives an unacknowledged message back only after its visibility timeout), and the session
still reaches running, because the next check-ins send the launch again and the agent, finding its
container, reports again. Postgres only: a row lock held by the test keeps the report in the
manager's hands until it is killed."""

import docker
import psycopg
import pytest
from django.db import connection

from apps.agents.labels import SESSION_LABEL
from apps.sessions.choices import SessionStatus
from apps.sessions.models import Session
from apps.sessions.services import session_request
from tests.workers import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def on_postgres():
    if connection.vendor != "postgresql":
        pytest.fail("This test holds a Postgres row lock; run it on Postgres, as scripts/test.sh does.")


def test_a_manager_killed_holding_the_agents_report_still_gets_the_session_running(
    on_postgres, workers, live_database_url, alice, busybox_image, docker_url
):
    engine = docker.DockerClient(base_url=docker_url)
    with psycopg.connect(live_database_url) as locker:
        session = session_request(user=alice, image=busybox_image).session
        lock = f"SELECT 1 FROM {Session._meta.db_table} WHERE id = %s FOR UPDATE"  # noqa: S608 (a model's table)
        locker.execute(lock, [session.pk])

        def manager_waiting_on_the_row() -> bool:
            waiting = "SELECT count(*) FROM pg_locks WHERE NOT granted AND locktype = 'transactionid'"
            with psycopg.connect(live_database_url) as probe:
                return probe.execute(waiting).fetchone()[0] > 0

        wait_for(manager_waiting_on_the_row, timeout=30, what="the manager to take the report and wait on the row")
        workers.kill("manager")  # holding the report, unacknowledged
        locker.rollback()
    assert Session.objects.get().status in SessionStatus.STARTING_UP

    workers.start_manager(node="mgr-crash-2")
    wait_for(lambda: Session.objects.get().status == SessionStatus.RUNNING, timeout=60, what="the session running")
    session.refresh_from_db()
    (container,) = engine.containers.list(all=True, filters={"label": f"{SESSION_LABEL}={session.hex_id}"})
    assert container.id == session.container_id and container.status == "running"

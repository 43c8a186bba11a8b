"""Two requests claim a one-session pool at the same moment: one gets the staged session, the other
a launch of its own. Postgres only (threads writing at once; SQLite would serialise them)."""

import threading

import pytest
from django.db import connection

from apps.common.units import GIB
from apps.images.models import Image
from apps.sessions.choices import SessionStatus
from apps.sessions.models import Session, StagingPool
from apps.sessions.services import session_mark_running, session_request
from apps.sessions.staging import staging_fill
from tests.agents.factories import agent

pytestmark = pytest.mark.django_db(transaction=True)


def race(users, image) -> dict:
    """Each user's session_request, all started at the same moment in their own threads."""
    start, results = threading.Barrier(len(users)), {}

    def request(user):
        try:
            start.wait()
            results[user.username] = session_request(user=user, image=image).session
        finally:
            connection.close()

    threads = [threading.Thread(target=request, args=(user,)) for user in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


def test_two_concurrent_claims_of_a_one_session_pool_give_one_staged_session_and_one_launch(alice, carol, sent):
    if connection.vendor != "postgresql":
        pytest.fail("This test runs requests in parallel threads; run it on Postgres, as scripts/test.sh does.")
    agent(cores=8, memory=8 * GIB)
    image = Image.objects.create(docker_image="kasm-local/desktop:latest", friendly_name="Desktop", cores=1, memory=GIB)
    pool = StagingPool.objects.create(image=image, ready_target=1, max_total=1)
    for _round in range(3):  # the race, three times over
        staging_fill()
        (staged,) = pool.sessions.all()
        session_mark_running(session=staged, container_id="c" * 64, host_port=40000)
        results = race([alice, carol], image)
        claimed = [s for s in results.values() if s.pk == staged.pk]
        launched = [s for s in results.values() if s.pk != staged.pk]
        assert len(claimed) == 1 and len(launched) == 1, results
        assert claimed[0].status == SessionStatus.RUNNING and launched[0].status == SessionStatus.PROVISIONING
        staged.refresh_from_db()
        assert staged.owner.username in results and staged.staged_pool is None
        Session.objects.filter(pk__in=[s.pk for s in results.values()]).delete()  # both users free again

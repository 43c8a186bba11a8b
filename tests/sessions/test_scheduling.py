"""Placement, lifecycle and reconciliation of sessions in the database (no containers needed)."""

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import close_old_connections
from django.utils import timezone

from apps.agents.models import Agent, Zone
from apps.agents.signals import CheckedIn
from apps.common.errors import ApplicationError
from apps.common.units import GIB
from apps.images.models import Image
from apps.sessions.choices import SessionStatus
from apps.sessions.models import Session
from apps.sessions.scheduler import NoCapacity
from apps.sessions.services import (
    session_destroy,
    session_keepalive,
    session_mark_deleted,
    session_mark_failed,
    session_mark_running,
    session_request,
    sessions_expire,
    sessions_reconcile,
)
from tests.agents.factories import agent, session_container


@pytest.fixture
def image(db):
    return Image.objects.create(
        docker_image="kasm-local/busybox-test:latest", friendly_name="Busybox", cores=1, memory=GIB
    )


def reserved(host) -> tuple:
    host.refresh_from_db()
    return host.reserved_cores, host.reserved_sessions


@pytest.mark.django_db
def test_request_claims_capacity_and_hands_out_a_token_stored_hashed(alice, image):
    host = agent()
    requested = session_request(user=alice, image=image, environment={"FOO": "bar"}, kasm_url="https://example.com")
    session = requested.session
    assert session.agent == host and session.status == SessionStatus.PROVISIONING
    assert requested.session_token not in session.session_token_hash and len(session.vnc_password) >= 24
    assert session.environment["FOO"] == "bar" and session.environment["TZ"] == "UTC"
    assert reserved(host) == (1, 1)


@pytest.mark.django_db
def test_no_capacity_says_precisely_why(alice, image):
    eu = Zone.objects.create(name="eu")
    agent("gpu-less", zone=eu)
    image.gpus, image.restrict_to_zone = 2, eu
    image.save()
    with pytest.raises(NoCapacity, match="No online agent in zone 'eu' can take 'Busybox' now: 'gpu-less' has 0 phys"):
        session_request(user=alice, image=image)


@pytest.mark.django_db
def test_drained_and_offline_agents_get_no_new_sessions(alice, image):
    agent("drained", enabled=False)
    agent("down", status="offline")
    with pytest.raises(NoCapacity, match="No online, enabled agent is available"):
        session_request(user=alice, image=image)


@pytest.mark.django_db
def test_disabled_image_cannot_be_launched(alice, image):
    agent()
    image.enabled = False
    image.save()
    with pytest.raises(ApplicationError, match="is disabled"):
        session_request(user=alice, image=image)


@pytest.mark.django_db
@pytest.mark.parametrize(("policy", "expected"), [("spread", "empty"), ("pack", "busy")])
def test_placement_policy(alice, image, settings, policy, expected):
    settings.SCHEDULER_POLICY = policy
    agent("empty", cores=8, images_present=[image.docker_image])
    agent("busy", cores=8, reserved_cores=6, images_present=[image.docker_image])
    assert session_request(user=alice, image=image).session.agent.hostname == expected


@pytest.mark.django_db
def test_agents_that_have_the_image_come_first(alice, image):
    agent("without", cores=64)
    agent("with", cores=4, images_present=[image.docker_image])
    assert session_request(user=alice, image=image).session.agent.hostname == "with"


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_launches_on_an_agent_that_fits_ten_never_over_allocate(django_user_model, image):
    host = agent(cores=10, memory=64 * GIB)
    users = [django_user_model.objects.create_user(username=f"user{n}") for n in range(20)]

    def launch(user):
        try:
            session_request(user=user, image=image)
            return "ok"
        except NoCapacity:
            return "full"
        finally:
            close_old_connections()

    with ThreadPoolExecutor(max_workers=20) as pool:
        outcomes = list(pool.map(launch, users))
    assert outcomes.count("ok") == 10
    assert reserved(host) == (10, 10) and Session.objects.count() == 10


@pytest.mark.django_db
def test_failure_and_deletion_release_the_reservation_exactly_once(alice, image):
    host = agent()
    session = session_request(user=alice, image=image).session
    session_mark_failed(session=session, reason="image missing")
    session_mark_failed(session=session, reason="again")
    assert reserved(host) == (0, 0) and session.status_message == "image missing"
    session_destroy(session=session)
    session_mark_deleted(session=session)
    assert reserved(host) == (0, 0) and Session.objects.get().status == SessionStatus.DELETED


@pytest.mark.django_db
def test_keepalive_extends_expiry_and_expired_sessions_are_destroyed(alice, image, settings):
    settings.SESSION_KEEPALIVE_SECONDS, settings.SESSION_LIFETIME_SECONDS = 600, 3600
    agent()
    session = session_request(user=alice, image=image).session
    session_mark_running(session=session, container_id="c" * 64, host_port=40000)
    Session.objects.filter(pk=session.pk).update(expires_at=timezone.now() + timedelta(seconds=5))
    session = session_keepalive(session=Session.objects.get(pk=session.pk))
    assert session.expires_at > timezone.now() + timedelta(seconds=590)
    assert sessions_expire(now=timezone.now() + timedelta(seconds=300)) == []
    assert [s.pk for s in sessions_expire(now=timezone.now() + timedelta(seconds=601))] == [session.pk]
    assert Session.objects.get().status == SessionStatus.DELETING


@pytest.mark.django_db
def test_keepalive_never_passes_the_lifetime(alice, image, settings):
    settings.SESSION_KEEPALIVE_SECONDS, settings.SESSION_LIFETIME_SECONDS = 3600, 600
    agent()
    session = session_request(user=alice, image=image).session
    session_mark_running(session=session, container_id="c" * 64, host_port=40000)
    session = session_keepalive(session=Session.objects.get(pk=session.pk))
    assert session.expires_at <= session.started_at + timedelta(seconds=600)


@pytest.mark.django_db
def test_a_running_session_whose_container_vanished_is_marked(alice, image):
    host = agent()
    session = session_request(user=alice, image=image).session
    session_mark_running(session=session, container_id="c" * 64, host_port=40000)
    host.refresh_from_db()  # as a check-in loads it
    sessions_reconcile(reports=[CheckedIn(host, [session_container(session.hex_id)])])
    assert Session.objects.get().status == SessionStatus.RUNNING
    sessions_reconcile(reports=[CheckedIn(host, [])])
    session.refresh_from_db()
    assert session.status == SessionStatus.ERROR and "vanished" in session.status_message
    assert reserved(host) == (0, 0)


@pytest.mark.django_db
def test_unknown_containers_are_removed_after_the_grace_period(image, settings, django_capture_on_commit_callbacks):
    settings.SESSION_ORPHAN_GRACE_SECONDS = 300
    host = agent()
    orphan = session_container("e" * 32)
    cache.delete(f"sessions:orphan-seen:{orphan.container_id}")
    now = timezone.now()
    with django_capture_on_commit_callbacks() as callbacks:
        sessions_reconcile(reports=[CheckedIn(host, [orphan])], now=now)
        sessions_reconcile(reports=[CheckedIn(host, [orphan])], now=now + timedelta(seconds=299))
    assert callbacks == []
    with django_capture_on_commit_callbacks() as callbacks:
        sessions_reconcile(reports=[CheckedIn(host, [orphan])], now=now + timedelta(seconds=301))
    assert len(callbacks) == 1  # the removal, sent to the agent's queue after commit


@pytest.mark.django_db
def test_a_workspace_with_a_network_goes_only_where_the_engine_has_it(alice, image):
    agent(hostname="plain", networks=["bridge", "kasm-sessions"])
    lab = agent(hostname="lab", networks=["bridge", "kasm-sessions", "lab-net"])
    image.network = "lab-net"
    image.save()
    assert session_request(user=alice, image=image).session.agent == lab
    image.network = "missing-net"
    image.save()
    with pytest.raises(NoCapacity, match="has the Docker network 'missing-net' that 'Busybox' joins"):
        session_request(user=alice, image=image)


def test_a_recent_snapshot_never_places_on_a_drained_agent_nor_refuses_freed_capacity(alice, image, django_user_model):
    """Placement reads agents from a per-process snapshot; the claim and any refusal go by the database."""
    first = agent("first", cores=4, memory=8 * GIB, images_present=[image.docker_image])  # always tried first
    second = agent("second", cores=4, memory=8 * GIB)
    assert session_request(user=alice, image=image).session.agent_id == first.pk
    Agent.objects.filter(pk=first.pk).update(enabled=False)  # drained within the snapshot's half second
    bob = django_user_model.objects.create_user(username="bob@example.com")
    assert session_request(user=bob, image=image).session.agent_id == second.pk
    Agent.objects.filter(pk=second.pk).update(reserved_cores=4)  # full, by another process's claims
    carol = django_user_model.objects.create_user(username="carol@example.com")
    with pytest.raises(NoCapacity, match="'second' has 0 free cores"):
        session_request(user=carol, image=image)
    Agent.objects.filter(pk=second.pk).update(reserved_cores=0)  # freed by another process
    assert session_request(user=carol, image=image).session.agent_id == second.pk

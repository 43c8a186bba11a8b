"""Session staging: pools kept at their target through the scheduler, never above their maximum nor
into the capacity kept for users, claimed at once by a request that a running container can serve."""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from apps.accounts.services import STAGING_USERNAME
from apps.agents.models import Zone
from apps.agents.zones import zone_delete
from apps.common.errors import ApplicationError
from apps.common.hashing import secret_matches
from apps.common.runtime_settings import runtime_settings_save
from apps.common.units import GIB
from apps.images.models import Image
from apps.sessions.choices import SessionStatus
from apps.sessions.models import Session, StagingPool
from apps.sessions.services import session_mark_running, session_request, sessions_expire
from apps.sessions.staging import FILL_LOCK, staged_session_assigned, staging_fill
from tests.agents.factories import agent
from tests.policies import all_users_policy

pytestmark = pytest.mark.django_db(transaction=True)  # launches go out after commit, as in production


@pytest.fixture
def pool():
    image = Image.objects.create(docker_image="kasm-local/desktop:latest", friendly_name="Desktop", cores=1, memory=GIB)
    return StagingPool.objects.create(image=image, ready_target=2, max_total=3)


def staged(pool) -> list[Session]:
    return list(Session.objects.filter(staged_pool=pool).order_by("created_at"))


def launches(sent) -> list[str]:
    return [args[0]["session_id"] for name, args, _queue in sent if name == "sessions.launch"]


def ready(pool) -> list[Session]:
    """The pool's sessions, reported running by their agent."""
    for number, session in enumerate(staged(pool)):
        session_mark_running(session=session, container_id=f"{number:064d}", host_port=40000 + number)
    return staged(pool)


def test_a_pool_is_filled_to_its_target_by_the_staging_user_and_no_further(pool, sent):
    agent(cores=8, memory=8 * GIB)
    assert staging_fill() == {"Desktop": 2}
    sessions = staged(pool)
    assert [s.owner.username for s in sessions] == [STAGING_USERNAME] * 2
    assert {s.status for s in sessions} == {SessionStatus.PROVISIONING}
    assert launches(sent) == [s.hex_id for s in sessions]
    assert staging_fill() == {"Desktop": 0}  # starting ones count: nothing more
    cache.delete(FILL_LOCK)  # as after a manager restart that lost its lock: the counts still hold
    assert staging_fill() == {"Desktop": 0} and len(staged(pool)) == 2


def test_the_pool_never_takes_the_capacity_kept_for_users(pool, sent):
    pool.ready_target = pool.max_total = 10
    pool.save()
    host = agent(cores=4, memory=64 * GIB)
    runtime_settings_save({"STAGING_RESERVED_PERCENT": 25})
    assert staging_fill() == {"Desktop": 3}  # a fourth would leave no core free, and 1 of 4 is kept
    host.refresh_from_db()
    assert host.reserved_cores == 3


def test_a_request_claims_a_ready_session_at_once_and_the_pool_refills(pool, alice, sent):
    agent(cores=8, memory=8 * GIB)
    staging_fill()
    first, _second = ready(pool)
    sent.clear()

    requested = session_request(user=alice, image=pool.image)
    session = requested.session
    assert session.pk == first.pk and session.status == SessionStatus.RUNNING
    assert session.owner == alice and session.staged_pool is None
    assert secret_matches(requested.session_token, session.session_token_hash)
    assert launches(sent) == []  # nothing to start: it runs already
    assert len(staged(pool)) == 1
    assert staging_fill() == {"Desktop": 1}


def test_a_claim_rotates_the_vnc_secret_and_the_agent_installs_it_and_runs_the_assign_hook(pool, alice, sent):
    agent(cores=8, memory=8 * GIB)
    pool.image.exec_config = {"assign": {"cmd": "echo assigned"}, "go": {"cmd": "echo go"}}
    pool.image.save()
    staging_fill()
    assert {args[0]["staged"] for name, args, _queue in sent if name == "sessions.launch"} == {True}
    first, _second = ready(pool)
    sent.clear()

    session = session_request(user=alice, image=pool.image).session
    stored = Session.objects.get(pk=session.pk)
    assert stored.vnc_password == first.vnc_password  # the container has only that one yet
    assert stored.vnc_password_next and stored.vnc_password_next != first.vnc_password
    [(_name, [spec], queue)] = [task for task in sent if task[0] == "sessions.assign"]
    assert queue == "agent.agent-1" and spec["session_id"] == session.hex_id
    assert spec["vnc_password"] == stored.vnc_password_next and spec["exec_config"]["assign"]["cmd"] == "echo assigned"

    staged_session_assigned(session=stored, rotated=True)  # the agent's report
    assert Session.objects.filter(pk=session.pk).values_list("vnc_password", "vnc_password_next").get() == (
        spec["vnc_password"],
        "",
    )


def test_an_image_that_cannot_change_its_vnc_secret_keeps_the_staged_one(pool, alice, sent, caplog):
    agent(cores=8, memory=8 * GIB)
    staging_fill()
    first, _second = ready(pool)
    session = session_request(user=alice, image=pool.image).session
    staged_session_assigned(session=Session.objects.get(pk=session.pk), rotated=False)
    assert Session.objects.filter(pk=session.pk).values_list("vnc_password", "vnc_password_next").get() == (
        first.vnc_password,
        "",
    )
    assert "keeps the VNC secret it was staged with" in caplog.text


@pytest.mark.parametrize(
    "request_asks",
    [
        {"language": "de_DE.UTF-8"},
        {"timezone_name": "Europe/Berlin"},
        {"environment": {"PROJECT": "x"}},
        {"kasm_url": "https://example.com/"},
        {"shared": True},
    ],
)
def test_a_request_a_running_container_cannot_serve_gets_its_own_launch(pool, alice, sent, request_asks):
    agent(cores=8, memory=8 * GIB)
    all_users_policy(allow_sharing=True)
    staging_fill()
    ready(pool)
    sent.clear()
    session = session_request(user=alice, image=pool.image, **request_asks).session
    assert session.staged_pool is None and session.status == SessionStatus.PROVISIONING
    assert launches(sent) == [session.hex_id] and len(staged(pool)) == 2


def test_a_workspace_with_persistent_homes_is_never_served_staged(pool, alice, sent):
    agent(cores=8, memory=8 * GIB)
    staging_fill()
    ready(pool)
    pool.image.persistent_profile_path = "kasm-profile-{user_id}-{image_id}"
    pool.image.save()
    session = session_request(user=alice, image=pool.image).session
    assert session.staged_pool is None and session.persistent_profile is not None


def test_an_unclaimed_session_expires_and_is_replaced(pool, sent):
    pool.expiry_seconds = 60
    pool.save()
    agent(cores=8, memory=8 * GIB)
    staging_fill()
    old = ready(pool)
    expired = sessions_expire(now=timezone.now() + timedelta(seconds=61))
    assert {s.pk for s in expired} == {s.pk for s in old}
    assert {s.status for s in staged(pool)} == {SessionStatus.DELETING}
    assert staging_fill() == {"Desktop": 2}  # deleting ones count no more


def test_a_disabled_pool_or_workspace_stages_nothing(pool, sent):
    agent(cores=8, memory=8 * GIB)
    pool.enabled = False
    pool.save()
    assert staging_fill() == {"Desktop": 0}
    pool.enabled, pool.image.enabled = True, False
    pool.save()
    pool.image.save()
    assert staging_fill() == {"Desktop": 0} and staged(pool) == []


def test_a_pool_of_one_zone_starts_its_sessions_on_that_zones_agents_only(pool, sent):
    east, west = Zone.objects.create(name="east"), Zone.objects.create(name="west")
    agent("east-1", cores=8, memory=8 * GIB, zone=east)
    agent("west-1", cores=8, memory=8 * GIB, zone=west)
    pool.zone = west
    pool.save()
    StagingPool.objects.create(image=pool.image, zone=east, ready_target=1, max_total=1)
    assert staging_fill() == {"Desktop in east": 1, "Desktop in west": 2}
    placed = Session.objects.filter(staged_pool__isnull=False).values_list("staged_pool__zone__name", "agent__hostname")
    assert sorted(placed) == [("east", "east-1"), ("west", "west-1"), ("west", "west-1")]


def test_a_zone_pool_without_room_in_its_zone_says_so_and_stages_nothing(pool, sent, caplog):
    pool.zone = Zone.objects.create(name="empty")
    pool.save()
    agent(cores=8, memory=8 * GIB)  # in no zone
    with caplog.at_level("INFO"):
        assert staging_fill() == {"Desktop in empty": 0}
    assert "in the pool's zone" in caplog.text


def test_one_pool_per_workspace_and_zone_and_a_used_zone_is_not_deleted(console, pool):
    zone = Zone.objects.create(name="east")
    fields = {"image": pool.image.pk, "ready_target": 1, "max_total": 2, "expiry_seconds": 600, "enabled": "on"}
    assert "pool for any zone already" in console.post("/console/staging/", fields).content.decode()
    console.post("/console/staging/", {**fields, "zone": zone.pk})
    again = console.post("/console/staging/", {**fields, "zone": zone.pk}).content.decode()
    assert "pool in that zone already" in again
    assert StagingPool.objects.filter(image=pool.image).count() == 2
    west, north = Zone.objects.create(name="west"), Zone.objects.create(name="north")
    restricted = Image.objects.create(docker_image="kasm-local/web:latest", friendly_name="Web", restrict_to_zone=west)
    refused = console.post("/console/staging/", {**fields, "image": restricted.pk, "zone": north.pk}).content.decode()
    assert "runs only in zone" in refused
    with pytest.raises(ApplicationError, match="staging pool of Desktop in east"):
        zone_delete(zone=zone)


def test_admins_manage_pools_in_the_console_and_see_staged_sessions_as_such(console, pool, alice, sent):
    from django.test import Client

    agent(cores=8, memory=8 * GIB)
    staging_fill()
    ready(pool)
    page = console.get("/console/staging/").content.decode()
    assert "Desktop" in page and '<td class="ready">2</td>' in page and '<td class="starting">0</td>' in page
    assert page.count('class="badge staged"') == 0
    assert console.get("/console/sessions/").content.decode().count('class="badge staged"') == 2

    other = Image.objects.create(docker_image="kasmweb/firefox:1.16.0", friendly_name="Firefox")
    fields = {"image": other.pk, "ready_target": 3, "max_total": 2, "expiry_seconds": 600, "enabled": "on"}
    assert "cannot exceed" in console.post("/console/staging/", fields).content.decode()
    console.post("/console/staging/", {**fields, "max_total": 4})
    assert StagingPool.objects.get(image=other).ready_target == 3

    deleted = console.post(f"/console/staging/{pool.hex_id}/delete/", follow=True).content.decode()
    assert "2 staged sessions destroyed" in deleted
    assert not StagingPool.objects.filter(pk=pool.pk).exists()
    assert set(Session.objects.values_list("status", flat=True)) == {SessionStatus.DELETING}

    user = Client()
    user.force_login(alice)
    assert user.get("/console/staging/").status_code == 403
    assert user.post(f"/console/staging/{pool.hex_id}/delete/").status_code in (403, 404)
    assert "staged" not in user.get("/sessions/").content.decode()

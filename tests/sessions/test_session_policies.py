"""The user's group policy on every path: web launch, the Developer API, sharing and the proxy.
Refusals are 4xx with a message that says what to do."""

import re
from datetime import timedelta

import pytest

from apps.accounts.services import api_key_create, group_all_users, group_create, group_members_add, group_update
from apps.common.units import GIB
from apps.images.models import Image
from apps.images.services import group_workspaces_set
from apps.sessions.api.public.formats import user_public_id
from apps.sessions.choices import SessionStatus
from apps.sessions.models import Session
from apps.sessions.selectors import session_for_proxy
from apps.sessions.services import session_keepalive, session_mark_running
from apps.sessions.sharing import share_join
from tests.agents.factories import agent
from tests.policies import all_users_policy

pytestmark = pytest.mark.django_db


@pytest.fixture
def images():
    """Two workspaces on an agent with room for many sessions."""
    firefox = Image.objects.create(docker_image="kasm-local/ff:1", friendly_name="Firefox", cores=1, memory=GIB)
    desktop = Image.objects.create(docker_image="kasm-local/desk:1", friendly_name="Desktop", cores=2, memory=2 * GIB)
    agent(cores=64, memory=256 * GIB, images_present=[firefox.docker_image, desktop.docker_image])
    return firefox, desktop


@pytest.fixture
def api(client):
    issued = api_key_create(name="integration")
    credentials = {"api_key": issued.api_key.key, "api_key_secret": issued.secret}

    def post(name: str, body: dict):
        return client.post(f"/api/public/{name}", {**credentials, **body}, content_type="application/json")

    return post


def request_kasm(api, user, image=None, **extra):
    body = {"user_id": user_public_id(user), **({"image_id": image.hex_id} if image else {}), **extra}
    return api("request_kasm", body)


def only_designers_get_desktop(alice, images):
    firefox, desktop = images
    group_update(group=group_all_users(), all_workspaces=False)
    group_workspaces_set(group=group_all_users(), images=[firefox])
    designers = group_create(name="Designers")
    group_workspaces_set(group=designers, images=[desktop])
    return designers


def test_the_api_refuses_a_workspace_none_of_the_users_groups_grants(api, alice, images):
    designers = only_designers_get_desktop(alice, images)
    response = request_kasm(api, alice, images[1])
    assert response.status_code == 403
    assert "may not launch 'Desktop'" in response.json()["error_message"]
    assert request_kasm(api, alice, images[0]).status_code == 200
    group_members_add(group=designers, users=[alice])
    assert request_kasm(api, alice, images[1]).status_code == 200


def test_the_start_page_shows_only_granted_tiles_and_a_direct_launch_is_refused(client, alice, images):
    only_designers_get_desktop(alice, images)
    client.force_login(alice)
    page = client.get("/").content.decode()
    assert "Launch Firefox" in page and "Launch Desktop" not in page
    response = client.post(f"/workspaces/{images[1].hex_id}/launch/", follow=True)
    assert "may not launch" in response.content.decode()
    assert not Session.objects.exists()


def test_beyond_max_sessions_the_api_says_which_sessions_to_close(api, alice, images):
    all_users_policy(max_sessions_per_user=1)
    first = request_kasm(api, alice, images[0]).json()["kasm_id"]
    response = request_kasm(api, alice, images[0])
    assert response.status_code == 403
    assert "You have 1 sessions, the most your groups allow (1)" in response.json()["error_message"]
    assert Session.objects.count() == 1 and Session.objects.get().hex_id == first


def test_beyond_max_sessions_the_web_launch_lists_the_sessions_with_links(client, alice, images):
    client.force_login(alice)
    for image in images:  # the default cap: 2
        client.post(f"/workspaces/{image.hex_id}/launch/")
    response = client.post(f"/workspaces/{images[0].hex_id}/launch/", {"another": "on"})
    assert response.status_code == 409
    page = response.content.decode()
    assert "the most your groups allow (2)" in page
    for session in Session.objects.all():
        assert f'href="/session/{session.hex_id}/"' in page
    assert Session.objects.count() == 2


@pytest.mark.parametrize(
    "cap, message",
    [
        ({"max_cores_per_user": 2.5}, "more than the 2.5 your groups allow"),
        ({"max_memory_per_user": 2 * GIB}, "2048 MB"),
    ],
)
def test_cores_and_memory_are_capped_across_a_users_sessions(api, alice, images, cap, message):
    all_users_policy(max_sessions_per_user=0, **cap)
    assert request_kasm(api, alice, images[0]).status_code == 200  # 1 core, 1 GiB
    response = request_kasm(api, alice, images[1])  # 2 more cores, 2 more GiB
    assert response.status_code == 403 and message in response.json()["error_message"]
    assert Session.objects.count() == 1


def test_request_kasm_without_image_id_starts_the_default_workspace(api, alice, images):
    firefox, desktop = images
    response = request_kasm(api, alice)
    assert response.status_code == 409 and "no default workspace" in response.json()["error_message"]
    all_users_policy(default_workspace=desktop.hex_id)
    assert request_kasm(api, alice).status_code == 200
    alice.profile.default_image = firefox.pk  # the user's own choice comes first
    alice.profile.save()
    assert request_kasm(api, alice).status_code == 200
    assert sorted(s.image.friendly_name for s in Session.objects.all()) == ["Desktop", "Firefox"]


def test_launch_my_default_from_the_start_page(client, alice, images):
    all_users_policy(default_workspace=images[1].hex_id)
    client.force_login(alice)
    response = client.post("/workspaces/default/launch/")
    assert response.status_code == 302 and Session.objects.get().image == images[1]


def test_keepalive_and_lifetime_come_from_the_policy(api, alice, images):
    all_users_policy(keepalive_expiration=600, session_lifetime=900)
    request_kasm(api, alice, images[0])
    session = Session.objects.get()
    assert session.expires_at - session.created_at < timedelta(seconds=601)
    session_mark_running(session=session, container_id="c" * 64, host_port=40001)
    session.refresh_from_db()
    session_keepalive(session=session)
    assert session.expires_at <= session.started_at + timedelta(seconds=900)
    assert session.expires_at - session.keepalive_at == timedelta(seconds=600)


def test_sharing_off_refuses_enabling_joining_and_the_viewers_proxy(api, alice, carol, images):
    request_kasm(api, alice, images[0], enable_sharing=True)
    session = Session.objects.get()
    session_mark_running(session=session, container_id="c" * 64, host_port=40001)
    share_join(share_id=session.share_id, user=carol)
    assert session_for_proxy(kasm_id=session.pk, user=carol, cookies={}).view_only

    all_users_policy(allow_sharing=False)
    assert session_for_proxy(kasm_id=session.pk, user=carol, cookies={}) is None
    response = api("join_kasm", {"user_id": user_public_id(carol), "shared_id": session.share_id})
    assert response.status_code == 403 and "no longer allow sharing" in response.json()["error_message"]
    response = request_kasm(api, alice, images[0], enable_sharing=True)
    assert response.status_code == 403 and "do not allow sharing" in response.json()["error_message"]
    assert Session.objects.count() == 1


def test_sharing_off_refuses_the_share_button(client, alice, images):
    all_users_policy(allow_sharing=False)
    client.force_login(alice)
    client.post(f"/workspaces/{images[0].hex_id}/launch/")
    session = Session.objects.get()
    assert 'id="share-start"' not in client.get(f"/session/{session.hex_id}/").content.decode()
    response = client.post(f"/session/{session.hex_id}/share/", {"enabled": "on"}, follow=True)
    assert "do not allow sharing" in response.content.decode()
    session.refresh_from_db()
    assert session.share_id is None


def test_a_tile_of_a_workspace_with_a_live_session_opens_that_session(client, alice, images):
    client.force_login(alice)
    first = client.post(f"/workspaces/{images[0].hex_id}/launch/")
    session = Session.objects.get()
    assert first.url == f"/session/{session.hex_id}/"
    assert client.post(f"/workspaces/{images[0].hex_id}/launch/").url == first.url
    assert Session.objects.count() == 1
    assert 'aria-label="New session of Firefox"' in client.get("/").content.decode()
    client.post(f"/workspaces/{images[0].hex_id}/launch/", {"another": "on"})
    assert Session.objects.count() == 2  # asked for explicitly


def test_a_paused_sessions_page_offers_resume(client, alice, images):
    client.force_login(alice)
    client.post(f"/workspaces/{images[0].hex_id}/launch/")
    session = Session.objects.get()
    page = client.get(f"/session/{session.hex_id}/").content.decode()
    assert re.search(r'id="session-resume" hidden', page)
    Session.objects.filter(pk=session.pk).update(status=SessionStatus.PAUSED)
    page = client.get(f"/session/{session.hex_id}/").content.decode()
    assert 'id="session-resume">' in page and "The session is paused" in page


@pytest.mark.parametrize("change", ["locked", "disabled"])
def test_a_locked_or_disabled_user_gets_no_session_by_any_way_in(api, alice, images, change):
    from apps.accounts.services import user_update
    from apps.sessions.services import PolicyRefusal, session_request

    user_update(user=alice, fields={change: True})
    with pytest.raises(PolicyRefusal, match="is locked or disabled"):
        session_request(user=alice, image=images[0])
    response = request_kasm(api, alice, images[0])
    assert response.status_code == 403 and "is locked or disabled" in response.json()["error_message"]
    assert not Session.objects.exists()

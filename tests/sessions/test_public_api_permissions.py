"""A Developer API key never does more than it was given: no escalation to administrators, a key
created for a user reaches only that user's sessions, and exec never runs as root without
global_admin."""

import pytest
from django.contrib.auth.models import Group

from apps.accounts.choices import ApiPermission
from apps.accounts.services import ADMINISTRATORS_GROUP, api_key_create
from apps.common.units import GIB
from apps.images.models import Image
from apps.sessions.api.public.dispatch import CALLS
from apps.sessions.api.public.formats import group_public_id, user_public_id
from apps.sessions.models import Session
from apps.sessions.services import session_request
from tests.agents.factories import agent

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(client):
    def post(name: str, body: dict, *, permissions: list[str], owner=None):
        issued = api_key_create(name="integration", permissions=permissions, owner=owner)
        credentials = {"api_key": issued.api_key.key, "api_key_secret": issued.secret}
        return client.post(f"/api/public/{name}", {**credentials, **body}, content_type="application/json")

    return post


@pytest.fixture
def image():
    agent()
    return Image.objects.create(
        docker_image="kasm-local/busybox-test:latest", friendly_name="Busybox", memory=GIB, run_config={"user": "1000"}
    )


@pytest.fixture
def root(django_user_model):
    return django_user_model.objects.create_superuser(username="root@example.com", password="root-password-1")


def test_users_modify_cannot_change_a_superuser_or_a_console_admin(api, client, root, admin_user_with_console):
    for admin in (root, admin_user_with_console):
        target = {"user_id": user_public_id(admin), "password": "taken-over-1", "disabled": True}
        response = api("update_user", {"target_user": target}, permissions=["users_modify"])
        assert response.status_code == 403 and "users_modify_admin" in response.json()["error_message"]
        admin.refresh_from_db()
        assert admin.check_password("taken-over-1") is False and admin.is_active
        for call in ("logout_user", "delete_user"):
            refused = api(call, {"target_user": {"user_id": user_public_id(admin)}}, permissions=["users_modify"])
            assert refused.status_code == 403
    assert client.login(username="root@example.com", password="root-password-1")


def test_users_modify_admin_may_change_an_administrator(api, root):
    target = {"user_id": user_public_id(root), "first_name": "Root"}
    assert (
        api("update_user", {"target_user": target}, permissions=["users_modify", "users_modify_admin"]).status_code
        == 200
    )


def test_users_modify_changes_plain_users(api, alice):
    target = {"user_id": user_public_id(alice), "first_name": "Alice"}
    assert api("update_user", {"target_user": target}, permissions=["users_modify"]).status_code == 200


def test_groups_modify_cannot_put_anyone_into_a_group_that_carries_permissions(api, alice, admin_user_with_console):
    administrators = Group.objects.get(name=ADMINISTRATORS_GROUP)
    body = {
        "target_user": {"user_id": user_public_id(alice)},
        "target_group": {"group_id": group_public_id(administrators)},
    }
    response = api("add_user_group", body, permissions=["groups_modify"])
    assert response.status_code == 403 and "groups_modify_system" in response.json()["error_message"]
    assert not alice.groups.filter(name=ADMINISTRATORS_GROUP).exists()
    plain = Group.objects.create(name="Engineering")
    body["target_group"] = {"group_id": group_public_id(plain)}
    assert api("add_user_group", body, permissions=["groups_modify"]).status_code == 200
    body["target_user"] = {"user_id": user_public_id(admin_user_with_console)}
    assert api("remove_user_group", body, permissions=["groups_modify"]).status_code == 403  # an admin
    allowed = ["groups_modify", "groups_modify_system"]
    body = {
        "target_user": {"user_id": user_public_id(alice)},
        "target_group": {"group_id": group_public_id(administrators)},
    }
    assert api("add_user_group", body, permissions=allowed).status_code == 200


SESSION_PERMISSIONS = ["sessions_view", "sessions_modify"]


def test_a_key_created_for_a_user_reaches_only_their_sessions(api, alice, carol, image):
    theirs = session_request(user=carol, image=image).session
    mine = session_request(user=alice, image=image).session
    as_alice = {"permissions": SESSION_PERMISSIONS, "owner": alice}
    carol_id = user_public_id(carol)
    for name, body in [
        ("request_kasm", {"user_id": carol_id, "image_id": image.hex_id}),
        ("get_kasm_status", {"user_id": carol_id, "kasm_id": theirs.hex_id}),
        ("destroy_kasm", {"user_id": carol_id, "kasm_id": theirs.hex_id}),
        ("exec_command_kasm", {"user_id": carol_id, "kasm_id": theirs.hex_id, "exec_config": {"cmd": "id"}}),
        ("join_kasm", {"user_id": carol_id, "shared_id": "0" * 32}),
    ]:
        response = api(name, body, **as_alice)
        assert response.status_code == 403 and "acts as" in response.json()["error_message"], name
    assert api("keepalive", {"kasm_id": theirs.hex_id}, **as_alice).status_code == 404
    assert [k["kasm_id"] for k in api("get_kasms", {}, **as_alice).json()["kasms"]] == [mine.hex_id]
    assert (
        Session.objects.filter(owner=carol).count() == 1 and theirs.status == Session.objects.get(pk=theirs.pk).status
    )


@pytest.mark.parametrize("name", ["get_users", "create_user", "update_user", "add_user_group"])
def test_a_key_created_for_a_user_manages_no_users_or_groups(api, alice, name):
    body = {"target_user": {"username": "new@example.com", "user_id": user_public_id(alice)}}
    response = api(name, body, permissions=["users_view", "users_modify", "groups_modify"], owner=alice)
    assert response.status_code == 403 and "manages no users or groups" in response.json()["error_message"]


@pytest.mark.parametrize("user", ["root", "0", "0:0", "root:root", "0:1000", "1000:0", "00", "ROOT", "1000:root"])
def test_exec_as_root_by_name_or_number_needs_global_admin(api, alice, image, user):
    session = session_request(user=alice, image=image).session
    body = {"user_id": user_public_id(alice), "kasm_id": session.hex_id, "exec_config": {"cmd": "id", "user": user}}
    response = api("exec_command_kasm", body, permissions=SESSION_PERMISSIONS)
    assert response.status_code == 403 and "global_admin" in response.json()["error_message"]
    assert api("exec_command_kasm", body, permissions=["global_admin"]).status_code == 409  # allowed; not running


@pytest.mark.parametrize(("user", "status"), [("", 409), ("1000", 409), ("1001", 403), ("www-data", 403)])
def test_exec_without_global_admin_runs_only_as_the_workspaces_own_user(api, alice, image, user, status):
    session = session_request(user=alice, image=image).session
    body = {"user_id": user_public_id(alice), "kasm_id": session.hex_id, "exec_config": {"cmd": "id", "user": user}}
    assert api("exec_command_kasm", body, permissions=SESSION_PERMISSIONS).status_code == status


@pytest.mark.parametrize("name", sorted(CALLS))
def test_every_call_refuses_a_key_without_its_permission(api, name):
    permission, _handler = CALLS[name]
    others = [p.value for p in ApiPermission if p not in (permission, ApiPermission.GLOBAL_ADMIN)]
    refused = api(name, {}, permissions=others)
    assert refused.status_code == 403 and f"'{permission.value}'" in refused.json()["error_message"]


@pytest.mark.parametrize(
    "name", ["get_kasm_frame_stats", "get_kasm_bottleneck_stats", "get_kasm_screenshot", "get_user_kasms"]
)
def test_a_key_made_for_one_user_reads_nothing_of_anothers_sessions(api, image, alice, carol, name):
    session = session_request(user=carol, image=image).session
    body = {"user_id": user_public_id(carol), "kasm_id": session.hex_id}
    refused = api(name, body, permissions=["sessions_view"], owner=alice)
    assert refused.status_code == 403 and "reaches only their sessions" in refused.json()["error_message"]

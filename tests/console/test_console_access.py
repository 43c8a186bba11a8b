"""The console's access management pages: users, groups, API keys, audit trail; the profile page.
Every page is for console admins only (the profile page for any logged-in user)."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.test import Client

from apps.accounts.models import ApiKey, AuditEvent
from apps.accounts.selectors import user_policy
from apps.accounts.services import api_key_authenticate, api_key_create, group_all_users
from apps.common.errors import ApplicationError
from apps.images.models import Image
from apps.sessions.api.public.formats import user_public_id
from apps.sessions.choices import SessionStatus
from apps.sessions.models import Session
from apps.sessions.services import session_mark_deleted
from tests.agents.factories import agent
from tests.personas import ALICE, PASSWORDS
from tests.sessions.stub_sessions import stub_session

pytestmark = pytest.mark.django_db

CONSOLE_PAGES = ["/console/users/", "/console/users/new/", "/console/groups/", "/console/api-keys/", "/console/audit/"]


@pytest.mark.parametrize("path", CONSOLE_PAGES)
def test_console_pages_refuse_everyone_but_console_admins(client, alice, path):
    assert client.get(path).status_code == 302  # to the login page
    client.force_login(alice)
    assert client.get(path).status_code == 403
    assert client.post(path, {"name": "x", "username": "x"}).status_code == 403


@pytest.mark.parametrize("path", ["users/{user}/", "users/{user}/delete/", "groups/{group}/"])
def test_detail_pages_refuse_plain_users(client, alice, carol, path):
    client.force_login(alice)
    group = group_all_users()
    url = "/console/" + path.format(user=carol.pk, group=group.pk)
    assert client.get(url).status_code == 403
    for action in (
        "users/{user}/password/",
        "users/{user}/logout/",
        "groups/{group}/members/",
        "groups/{group}/delete/",
    ):
        assert client.post("/console/" + action.format(user=carol.pk, group=group.pk)).status_code == 403
    assert get_user_model().objects.filter(pk=carol.pk).exists() and Group.objects.filter(pk=group.pk).exists()


def test_an_admin_creates_a_user_with_a_generated_password_shown_once(console, client):
    engineering = Group.objects.create(name="Engineering")
    response = console.post(
        "/console/users/new/",
        {
            "username": "Zoë.Müller@example.de",
            "first_name": "Zoë",
            "email": "zoe@example.de",
            "groups": [engineering.pk],
        },
    )
    page = response.content.decode()
    password = re.search(r'<pre class="token" id="generated-password">([^<]+)</pre>', page).group(1)
    user = get_user_model().objects.get(username="Zoë.Müller@example.de")
    assert user.check_password(password) and user.first_name == "Zoë"
    assert set(user.groups.values_list("name", flat=True)) == {"All Users", "Engineering"}
    assert password not in console.get(f"/console/users/{user.pk}/").content.decode()
    event = AuditEvent.objects.get(action="console.user.create")
    assert event.actor_name == "bob" and event.target == user.username


def test_a_bad_username_or_duplicate_is_refused_with_a_message(console, alice):
    for username, message in ((alice.username, "exists"), ("a b/c", "not a valid username")):
        page = console.post("/console/users/new/", {"username": username}).content.decode()
        assert message in page
    assert get_user_model().objects.count() == 2  # alice and bob


def test_the_user_list_searches_and_paginates(console, django_user_model):
    for number in range(60):
        django_user_model.objects.create_user(username=f"user{number:02}@example.com", first_name="Sam")
    page = console.get("/console/users/").content.decode()
    assert "Page 1 of 2" in page and "user00@example.com" in page and "user59@example.com" not in page
    assert "user59@example.com" in console.get("/console/users/?page=2").content.decode()
    found = console.get("/console/users/?q=user07").content.decode()
    assert "user07@example.com" in found and "user08@example.com" not in found


def test_an_admin_edits_locks_and_logs_out_a_user(console, alice):
    client = Client()
    client.force_login(alice)
    response = console.post(
        f"/console/users/{alice.pk}/",
        {"first_name": "Alice", "organization": "ACME", "phone": "555", "locked": "on"},
    )
    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.first_name == "Alice" and alice.profile.organization == "ACME" and alice.profile.locked
    console.post(f"/console/users/{alice.pk}/logout/")
    assert client.get("/").status_code == 302  # alice's login ended
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"console.user.update", "console.user.logout_everywhere"} <= actions


def test_an_admin_resets_a_password(console, alice):
    page = console.post(f"/console/users/{alice.pk}/password/", {"password": ""}).content.decode()
    password = re.search(r'id="generated-password">([^<]+)<', page).group(1)
    alice.refresh_from_db()
    assert alice.check_password(password)
    response = console.post(f"/console/users/{alice.pk}/password/", {"password": "short"}, follow=True)
    assert "8 to 1024 characters" in response.content.decode()


def test_deleting_a_user_names_and_destroys_their_sessions_first(console, alice):
    session, _ = stub_session(alice, port=40001)
    confirmation = console.get(f"/console/users/{alice.pk}/delete/").content.decode()
    assert 'id="sessions-to-destroy"' in confirmation and session.image.friendly_name in confirmation
    console.post(f"/console/users/{alice.pk}/delete/")
    session.refresh_from_db()
    alice.refresh_from_db()
    assert session.status == SessionStatus.DELETING
    assert not alice.is_active and alice.profile.deletion_requested_at is not None
    session_mark_deleted(session=session)  # the agent removed the container: the user goes with it
    assert not get_user_model().objects.filter(pk=alice.pk).exists()


def test_a_user_without_sessions_is_deleted_at_once(console, carol):
    console.post(f"/console/users/{carol.pk}/delete/")
    assert not get_user_model().objects.filter(pk=carol.pk).exists()
    assert AuditEvent.objects.filter(action="console.user.delete", target=carol.username).exists()


def test_an_admin_makes_a_group_with_settings_workspaces_and_members(console, alice):
    desktop = Image.objects.create(docker_image="d", friendly_name="Desktop")
    response = console.post("/console/groups/", {"name": "Contractors", "priority": 20})
    group = Group.objects.get(name="Contractors")
    assert response.url == f"/console/groups/{group.pk}/"
    form = {
        "name": "Contractors",
        "priority": 20,
        "workspaces": [desktop.pk],
        "set_max_sessions_per_user": "on",
        "max_sessions_per_user": 1,
        "set_max_memory_per_user": "on",
        "max_memory_per_user": 4096,
        "set_allow_clipboard_down": "on",  # ticked and left unchecked: set to off
        "max_cores_per_user": 8,  # not ticked: stays unset
    }
    assert console.post(f"/console/groups/{group.pk}/", form).status_code == 302
    console.post(f"/console/groups/{group.pk}/members/", {"username": alice.username})
    group.policy.refresh_from_db()
    assert group.policy.settings == {
        "max_sessions_per_user": 1,
        "max_memory_per_user": 4096 * 1024**2,
        "allow_clipboard_down": False,
    }
    assert list(group.workspaces.all()) == [desktop]
    policy = user_policy(alice)
    assert policy.max_sessions_per_user == 1 and not policy.allow_clipboard_down and policy.max_cores_per_user == 0
    page = console.get(f"/console/groups/{group.pk}/").content.decode()
    assert "lowest number wins" in page and alice.username in page and "Clipboard from the session" in page

    console.post(f"/console/groups/{group.pk}/members/", {"remove": alice.username})
    assert not alice.groups.filter(pk=group.pk).exists()
    console.post(f"/console/groups/{group.pk}/delete/")
    assert not Group.objects.filter(name="Contractors").exists()
    actions = list(AuditEvent.objects.order_by("created_at").values_list("action", flat=True))
    assert actions == [
        "console.group.create",
        "console.group.update",
        "console.group.member_add",
        "console.group.member_remove",
        "console.group.delete",
    ]


def test_a_ticked_setting_needs_a_value_and_built_in_groups_cannot_be_deleted(console):
    group = group_all_users()
    form = {"name": group.name, "priority": 1000, "set_default_workspace": "on", "default_workspace": ""}
    assert "ticked but has no value" in console.post(f"/console/groups/{group.pk}/", form).content.decode()
    response = console.post(f"/console/groups/{group.pk}/delete/", follow=True)
    assert "built-in group" in response.content.decode()
    assert Group.objects.filter(pk=group.pk).exists()


def test_api_keys_are_created_with_the_secret_shown_once_then_disabled_and_deleted(console, alice):
    response = console.post(
        "/console/api-keys/",
        {"name": "lms", "permissions": ["sessions_view", "sessions_modify"], "owner": alice.username},
    )
    page = response.content.decode()
    secret = re.search(r'<pre class="token">([^<]+)</pre>', page).group(1)
    api_key = ApiKey.objects.get(name="lms")
    assert api_key.owner == alice and api_key.permissions == ["sessions_view", "sessions_modify"]
    assert api_key_authenticate(key=api_key.key, secret=secret) == api_key
    assert secret not in console.get("/console/api-keys/").content.decode()
    console.post(f"/console/api-keys/{api_key.hex_id}/", {"action": "disable"})
    with pytest.raises(ApplicationError, match="disabled"):
        api_key_authenticate(key=api_key.key, secret=secret)
    console.post(f"/console/api-keys/{api_key.hex_id}/", {"action": "delete"})
    assert not ApiKey.objects.exists()
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"console.api_key.create", "console.api_key.disable", "console.api_key.delete"} <= actions


def test_api_key_actions_refuse_plain_users(client, alice):
    api_key = ApiKey.objects.create(name="k", key="k1", secret_hash="x")
    client.force_login(alice)
    assert client.post(f"/console/api-keys/{api_key.hex_id}/", {"action": "delete"}).status_code == 403
    assert ApiKey.objects.filter(pk=api_key.pk).exists()


def test_the_django_admin_adds_an_api_key_with_a_secret(admin_client):
    response = admin_client.post(
        "/django-admin/accounts/apikey/add/", {"name": "from-admin", "permissions": ["images_view"]}, follow=True
    )
    assert response.status_code == 200
    api_key = ApiKey.objects.get(name="from-admin")
    secret = re.search(r"secret (\S+): copy the secret now", response.content.decode()).group(1)
    assert api_key_authenticate(key=api_key.key, secret=secret) == api_key


def test_the_audit_trail_records_api_writes_and_filters(console, client):
    issued = api_key_create(name="provisioner")
    body = {"api_key": issued.api_key.key, "api_key_secret": issued.secret, "target_user": {"username": "eve"}}
    client.post("/api/public/create_user", body, content_type="application/json", REMOTE_ADDR="127.0.0.9")
    client.post("/api/public/get_users", body, content_type="application/json")  # a read: not recorded
    event = AuditEvent.objects.get()
    assert (event.action, event.api_key_name, event.target, event.address) == (
        "api.create_user",
        "provisioner",
        "username=eve",
        "127.0.0.9",
    )
    page = console.get("/console/audit/?actor=provisioner").content.decode()
    assert "api.create_user" in page and "username=eve" in page
    assert "api.create_user" not in console.get("/console/audit/?actor=nobody").content.decode()


def test_my_profile_saves_settings_for_new_sessions(client, alice):
    desktop = Image.objects.create(docker_image="d", friendly_name="Desktop")
    client.force_login(alice)
    form = {
        "language": "de_DE.UTF-8",
        "timezone": "Europe/Berlin",
        "theme": "Dark",
        "environment_text": "EDITOR=vim\nPROJECT=x=y",
        "default_image": desktop.hex_id,
    }
    assert client.post("/profile/", form).status_code == 302
    alice.profile.refresh_from_db()
    assert alice.profile.environment == {"EDITOR": "vim", "PROJECT": "x=y"}
    assert (alice.profile.language, alice.profile.timezone, alice.profile.theme) == (
        "de_DE.UTF-8",
        "Europe/Berlin",
        "Dark",
    )
    assert alice.profile.default_image == desktop.pk


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"environment_text": "VNC_PW=mine"}, "set by the platform"),
        ({"environment_text": "1BAD=x"}, "not an environment variable name"),
        ({"environment_text": "NOEQUALS"}, "has no"),
        ({"timezone": "../../etc/passwd"}, "not a time-zone name"),
        ({"language": "en_US; rm -rf"}, "not a locale name"),
    ],
)
def test_my_profile_refuses_bad_values_and_keeps_the_old_ones(client, alice, changes, message):
    client.force_login(alice)
    form = {"language": "en_US.UTF-8", "timezone": "UTC", "theme": "Light", "environment_text": "", **changes}
    response = client.post("/profile/", form)
    assert response.status_code == 200 and message in response.content.decode()
    alice.profile.refresh_from_db()
    assert alice.profile.environment == {} and alice.profile.timezone == "UTC"


def test_my_profile_changes_the_password(client, alice):
    client.force_login(alice)
    form = {
        "change_password": "1",
        "old_password": PASSWORDS[ALICE],
        "new_password1": "a-new-long-passphrase",
        "new_password2": "a-new-long-passphrase",
    }
    assert client.post("/profile/", form).status_code == 302
    alice.refresh_from_db()
    assert alice.check_password("a-new-long-passphrase")
    assert client.get("/").status_code == 200  # still logged in here


def test_the_profile_page_needs_a_login(client):
    assert client.get("/profile/").status_code == 302


def test_live_sessions_are_counted_in_the_user_list(console, alice):
    stub_session(alice, port=40001)
    stub_session(alice, port=40002, status=SessionStatus.DELETED)
    page = console.get("/console/users/?q=alice").content.decode()
    row = page[page.index(alice.username) :]
    assert re.search(r"<td>1</td>", row)
    assert Session.objects.count() == 2


def test_a_console_admin_cannot_take_over_django_staff(console, django_user_model):
    root = django_user_model.objects.create_superuser(username="root", password="root-password-1")
    for method, path in (
        ("get", f"/console/users/{root.pk}/"),
        ("post", f"/console/users/{root.pk}/password/"),
        ("post", f"/console/users/{root.pk}/logout/"),
        ("post", f"/console/users/{root.pk}/delete/"),
    ):
        response = getattr(console, method)(path)
        assert response.status_code == 403, path
    root.refresh_from_db()
    assert root.check_password("root-password-1") and root.is_active


def test_a_console_admin_cannot_hand_out_django_permissions_through_a_group(console, alice):
    auditors = Group.objects.create(name="Django auditors")
    auditors.permissions.add(Permission.objects.get(codename="change_user"))
    assert console.post(f"/console/groups/{auditors.pk}/members/", {"username": alice.username}).status_code == 403
    response = console.post(f"/console/users/{alice.pk}/", {"groups": [auditors.pk]})
    assert response.status_code == 403
    response = console.post("/console/users/new/", {"username": "mallory", "groups": [auditors.pk]})
    assert response.status_code == 403
    assert not auditors.user_set.exists() and not get_user_model().objects.filter(username="mallory").exists()


def test_a_superuser_may_change_staff_in_the_console(client, django_user_model, alice):
    root = django_user_model.objects.create_superuser(username="root", password="root-password-1")
    staff = django_user_model.objects.create_user(username="ops", is_staff=True)
    client.force_login(root)
    assert client.post(f"/console/users/{staff.pk}/", {"first_name": "Ops"}).status_code == 302
    staff.refresh_from_db()
    assert staff.first_name == "Ops"


def test_the_api_names_the_sessions_to_close_at_the_cap(client, alice):
    image = Image.objects.create(docker_image="kasm-local/ff:1", friendly_name="Firefox")
    agent(cores=64, images_present=[image.docker_image])
    issued = api_key_create(name="lms")
    body = {"api_key": issued.api_key.key, "api_key_secret": issued.secret}
    body |= {"user_id": user_public_id(alice), "image_id": image.hex_id}
    for _ in range(2):
        client.post("/api/public/request_kasm", body, content_type="application/json")
    response = client.post("/api/public/request_kasm", body, content_type="application/json")
    message = response.json()["error_message"]
    assert response.status_code == 403
    assert all(session.hex_id in message for session in Session.objects.all())

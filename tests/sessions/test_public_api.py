"""The Kasm-compatible Developer API: shapes, permissions and every error a client can cause."""

import base64

import pytest
from celery import current_app
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.accounts.services import api_key_create
from apps.agents.models import Zone
from apps.common.hashing import hash_secret
from apps.common.units import GIB
from apps.images.models import Image
from apps.sessions.api.public import formats as fmt
from apps.sessions.api.public.formats import group_public_id, user_public_id
from apps.sessions.choices import SessionStatus
from apps.sessions.models import Session, SessionCommand
from apps.sessions.services import session_mark_deleted, session_mark_running
from apps.sessions.tasks import session_exec_finished_task
from tests.agents.factories import CREDENTIAL, agent
from tests.personas import ALICE, CAROL, DAVE
from tests.policies import all_users_policy
from tests.sessions.stub_sessions import stub_session

pytestmark = pytest.mark.django_db


@pytest.fixture
def key():
    issued = api_key_create(name="integration")
    return {"api_key": issued.api_key.key, "api_key_secret": issued.secret}


@pytest.fixture
def image():
    return Image.objects.create(docker_image="kasm-local/busybox-test:latest", friendly_name="Busybox", memory=GIB)


@pytest.fixture
def api(client, key):
    def post(name: str, body: dict | None = None, *, credentials: dict | None = None):
        payload = {**(key if credentials is None else credentials), **(body or {})}
        return client.post(f"/api/public/{name}", payload, content_type="application/json")

    return post


def test_request_kasm_then_status_then_destroy(api, alice, image):
    agent(images_present=[image.docker_image])
    user_id = user_public_id(alice)
    response = api("request_kasm", {"user_id": user_id, "image_id": image.hex_id, "environment": {"A": "1"}})
    assert response.status_code == 200
    body = response.json()
    assert set(body) >= {"kasm_id", "status", "share_id", "user_id", "username", "session_token", "kasm_url"}
    assert body["username"] == ALICE and body["user_id"] == user_id and len(body["kasm_id"]) == 32
    status = api("get_kasm_status", {"user_id": user_id, "kasm_id": body["kasm_id"]}).json()
    assert status["operational_status"] == "provisioning" and "kasm" not in status
    session = Session.objects.get()
    session_mark_running(session=session, container_id="c" * 64, host_port=40001)
    status = api("get_kasm_status", {"user_id": user_id, "kasm_id": body["kasm_id"]}).json()
    assert status["kasm"]["operational_status"] == "running" and status["operational_progress"] == 100
    assert status["kasm"]["port_map"]["vnc"]["path"] == f"desktop/{body['kasm_id']}/vnc"
    kasms = api("get_kasms").json()["kasms"]
    assert [k["kasm_id"] for k in kasms] == [body["kasm_id"]]
    assert api("keepalive", {"kasm_id": body["kasm_id"]}).json() == {"usage_reached": False}
    assert api("destroy_kasm", {"user_id": user_id, "kasm_id": body["kasm_id"]}).json() == {}
    assert Session.objects.get().status == SessionStatus.DELETING


def test_get_kasms_reads_ten_users_sessions_in_the_queries_of_one(api, image, django_user_model):
    agent()

    def listed_with_queries(users: int) -> tuple[int, int]:
        for index in range(users):
            owner = django_user_model.objects.create_user(username=f"user-{users}-{index}@example.com")
            Session.objects.create(owner=owner, image=image, status=SessionStatus.RUNNING)
            user_public_id(owner)  # the profile exists, as after any earlier call
        with CaptureQueriesContext(connection) as captured:
            kasms = api("get_kasms").json()["kasms"]
        return len(kasms), len(captured)

    api("get_kasms")  # the key's first use is written; the next ones, within the minute, are not
    one, ten = listed_with_queries(1), listed_with_queries(10)
    assert (one[0], ten[0]) == (1, 11)
    assert one[1] == ten[1]  # not a profile query per session


@pytest.mark.parametrize("microsecond", [123456, 0])
def test_get_kasms_writes_dates_as_kasm_does_on_either_database(api, alice, image, microsecond):
    started = timezone.now().replace(microsecond=microsecond)
    session = Session.objects.create(owner=alice, image=image, status=SessionStatus.RUNNING, started_at=started)
    [kasm] = api("get_kasms").json()["kasms"]
    assert kasm["start_date"] == started.strftime("%Y-%m-%d %H:%M:%S.%f")  # Postgres writes it, SQLite via Python
    assert kasm["created_date"] == fmt.api_date(session.created_at) and kasm["expiration_date"] is None


def test_request_kasm_with_sharing_gets_a_share_id(api, alice, image):
    agent()
    body = api("request_kasm", {"user_id": user_public_id(alice), "image_id": image.hex_id, "enable_sharing": True})
    assert len(body.json()["share_id"]) == 32


def test_ids_are_accepted_with_dashes(api, alice, image):
    agent()
    profile_id = alice.profile.id
    response = api("request_kasm", {"user_id": str(profile_id), "image_id": str(image.id)})
    assert response.status_code == 200


def test_no_capacity_is_a_clear_409(api, alice, image):
    response = api("request_kasm", {"user_id": user_public_id(alice), "image_id": image.hex_id})
    assert response.status_code == 409 and "No online, enabled agent" in response.json()["error_message"]


@pytest.mark.parametrize(
    ("credentials", "status"),
    [({}, 401), ({"api_key": "nope", "api_key_secret": "nope"}, 401), ({"api_key": 1, "api_key_secret": 2}, 401)],
)
def test_bad_credentials_are_refused(api, credentials, status):
    response = api("get_images", credentials=credentials)
    assert response.status_code == status and response.json()["error_message"]


def test_a_key_without_the_permission_is_refused(api, alice, image):
    issued = api_key_create(name="viewer", permissions=["images_view"])
    viewer = {"api_key": issued.api_key.key, "api_key_secret": issued.secret}
    assert api("get_images", credentials=viewer).status_code == 200
    response = api("request_kasm", {"user_id": user_public_id(alice), "image_id": image.hex_id}, credentials=viewer)
    assert response.status_code == 403 and "sessions_modify" in response.json()["error_message"]


def test_malformed_json_non_objects_and_get_are_4xx_with_a_message(client, key):
    for body in ["{not json", "[1, 2]", '"text"']:
        response = client.post("/api/public/get_images", body, content_type="application/json")
        assert response.status_code == 400 and response.json()["error_message"]
    assert client.get("/api/public/get_images").status_code == 405
    assert client.post("/api/public/no_such_call", key, content_type="application/json").status_code == 404


@pytest.mark.parametrize(
    ("name", "body", "status", "message"),
    [
        ("request_kasm", {"image_name": 5}, 400, "'image_name' must be a string"),
        ("request_kasm", {"user_id": "xyz", "image_id": "0" * 32}, 400, "32 hex characters"),
        ("request_kasm", {"user_id": "0" * 32, "image_id": "0" * 32}, 404, "No user"),
        ("get_kasm_status", {"user_id": "USER", "kasm_id": "0" * 32}, 404, "No session"),
        ("destroy_kasm", {"user_id": "USER", "kasm_id": "0" * 32}, 404, "No session"),
        ("keepalive", {"kasm_id": 5}, 400, "'kasm_id' must be 32 hex characters"),
        ("get_kasms", {"api_key_secret": 5}, 401, "'api_key_secret' must be a string"),
        ("request_kasm", {"user_id": "USER", "image_id": "0" * 32}, 404, "No image"),
        ("request_kasm", {"user_id": "USER", "image_id": "IMAGE", "environment": {"A": 1}}, 400, "environment"),
        ("request_kasm", {"user_id": "USER", "image_id": "IMAGE", "enable_sharing": "yes"}, 400, "true or false"),
        ("get_user", {"target_user": {"user_id": "0" * 32}}, 404, "No user"),
        ("get_user", {"target_user": ALICE}, 400, "must be a JSON object"),
        ("create_user", {"target_user": {"username": ALICE}}, 409, "exists"),
        (
            "create_user",
            {"target_user": {"username": "x", "locked": "no"}},
            400,
            "'target_user.locked' must be true or",
        ),
        ("create_user", {"target_user": {"locked": True}}, 400, "'target_user.username' is required"),
        ("add_user_group", {"target_user": {"user_id": "USER"}, "target_group": {"group_id": "0" * 32}}, 404, "group"),
        (
            "exec_command_kasm",
            {"user_id": "USER", "kasm_id": "0" * 32, "exec_config": {"cmd": "id"}},
            404,
            "No session",
        ),
        ("exec_command_kasm", {"user_id": "USER", "kasm_id": "0" * 32, "exec_config": {}}, 400, "exec_config.cmd"),
        ("get_images", {"enabled": "yes"}, 400, "'enabled' must be true or false"),
        ("join_kasm", {"user_id": "USER", "shared_id": "0" * 32}, 404, "not valid any more"),
        ("join_kasm", {"user_id": "USER"}, 400, "shared_id"),
    ],
)
def test_bad_input_gets_a_4xx_naming_the_problem(api, alice, image, name, body, status, message):
    ids = {"USER": user_public_id(alice), "IMAGE": image.hex_id}
    resolved = {k: ids.get(v, v) if isinstance(v, str) else v for k, v in body.items()}
    if isinstance(resolved.get("target_user"), dict):
        resolved["target_user"] = {k: ids.get(v, v) for k, v in resolved["target_user"].items()}
    response = api(name, resolved)
    assert response.status_code == status, response.json()
    assert message in response.json()["error_message"]


def test_another_users_session_is_not_found(api, alice, django_user_model, image):
    agent()
    bob = django_user_model.objects.create_user(username="bobby")
    kasm_id = api("request_kasm", {"user_id": user_public_id(alice), "image_id": image.hex_id}).json()["kasm_id"]
    response = api("get_kasm_status", {"user_id": user_public_id(bob), "kasm_id": kasm_id})
    assert response.status_code == 404


def test_get_images_lists_kasm_fields(api, image):
    agent(images_present=[image.docker_image])
    [item] = api("get_images").json()["images"]
    assert item["image_id"] == image.hex_id and item["name"] == image.docker_image
    assert item["cpu_allocation_method"] == "Inherit" and item["available"] is True and item["memory"] == GIB


def test_get_images_filters_must_all_hold(api, image):
    zone = Zone.objects.create(name="eu")
    agent(images_present=[image.docker_image])
    image.categories = ["Tools"]
    image.save()
    firefox = Image.objects.create(
        docker_image="kasmweb/firefox:1.16.0", friendly_name="Firefox", categories=["Browser"], restrict_to_zone=zone
    )
    Image.objects.create(docker_image="kasmweb/chrome:1.16.0", friendly_name="Chrome", enabled=False)

    def names(**filters) -> list[str]:
        return [item["friendly_name"] for item in api("get_images", filters).json()["images"]]

    assert names() == ["Busybox", "Chrome", "Firefox"]
    assert names(enabled=False) == ["Chrome"]
    assert names(available=True) == ["Busybox"]
    assert names(name="kasmweb/firefox:1.16.0") == names(friendly_name="fire") == ["Firefox"]
    assert names(category="Browser") == names(zone_id=zone.hex_id) == ["Firefox"]
    assert names(enabled=True, category="Tools") == ["Busybox"]
    assert names(enabled=True, category="Browser", available=True) == []
    assert firefox.hex_id in [
        item["image_id"] for item in api("get_images", {"name": firefox.docker_image}).json()["images"]
    ]


def test_user_crud_groups_attributes_and_logout(api, client, django_user_model):
    created = api("create_user", {"target_user": {"username": "carol", "password": "carol-pw-123", "phone": "555"}})
    user = created.json()["user"]
    assert user["username"] == "carol" and user["phone"] == "555" and user["realm"] == "local"
    target = {"user_id": user["user_id"]}
    assert client.login(username="carol", password="carol-pw-123")
    assert api("update_user", {"target_user": {**target, "locked": True, "first_name": "Carol"}}).json()["user"][
        "locked"
    ]
    assert api("get_user", {"target_user": {"username": "carol"}}).json()["user"]["first_name"] == "Carol"
    assert [u["username"] for u in api("get_users").json()["users"]] == ["carol"]
    group = Group.objects.create(name="Engineering")
    assert (
        api("add_user_group", {"target_user": target, "target_group": {"group_id": group_public_id(group)}}).status_code
        == 200
    )
    assert "Engineering" in [g["name"] for g in api("get_user", {"target_user": target}).json()["user"]["groups"]]
    api("remove_user_group", {"target_user": target, "target_group": {"group_id": group_public_id(group)}})
    attributes = api("update_user_attributes", {"target_user_attributes": {**target, "theme": "Dark"}}).json()
    assert attributes["user_attributes"]["theme"] == "Dark"
    attribute_names = set(api("get_attributes", {"target_user": target}).json()["user_attributes"])
    assert attribute_names >= {"user_attributes_id", *ATTRIBUTE_OPTIONALS}
    api("logout_user", {"target_user": target})
    assert client.get("/").status_code == 302
    assert api("delete_user", {"target_user": target}).json() == {}
    assert not django_user_model.objects.filter(username="carol").exists()


def test_delete_user_with_live_sessions_needs_force(api, alice, image):
    agent()
    api("request_kasm", {"user_id": user_public_id(alice), "image_id": image.hex_id})
    target = {"user_id": user_public_id(alice)}
    assert api("delete_user", {"target_user": target}).status_code == 409
    assert api("delete_user", {"target_user": target, "force": True}).status_code == 200
    assert Session.objects.get().status == SessionStatus.DELETING


USER_OPTIONALS = ["password", "first_name", "last_name", "phone", "organization", "locked", "disabled"]
ATTRIBUTE_OPTIONALS = [
    "ssh_public_key",
    "show_tips",
    "theme",
    "preferred_language",
    "preferred_timezone",
    "toggle_control_panel",
    "default_image",
    "auto_login_kasm",
]
# Per call: the body with its required fields, and where its optional fields sit (None: the top level).
NULLABLE_CALLS = {
    "request_kasm": (
        {"user_id": "USER", "image_id": "IMAGE"},
        None,
        ["enable_sharing", "kasm_url", "environment", "client_language", "client_timezone"],
    ),
    "get_kasm_status": ({"user_id": "USER", "kasm_id": "KASM"}, None, ["skip_agent_check"]),
    "exec_command_kasm": (
        {"user_id": "USER", "kasm_id": "KASM", "exec_config": {"cmd": "true"}},
        "exec_config",
        ["workdir", "environment", "user", "privileged"],
    ),
    "delete_user": ({"target_user": {"user_id": "OTHER"}}, None, ["force"]),
    "create_user": ({"target_user": {"username": "NEW"}}, "target_user", USER_OPTIONALS),
    "update_user": ({"target_user": {"user_id": "USER"}}, "target_user", USER_OPTIONALS),
    "update_user_attributes": (
        {"target_user_attributes": {"user_id": "USER"}},
        "target_user_attributes",
        ATTRIBUTE_OPTIONALS,
    ),
}
VOLATILE = ("_id", "token", "_date", "_time", "created", "username", "kasm_url")


def comparable(value):
    """An answer without what differs between two calls by nature (new ids, tokens, dates)."""
    if isinstance(value, dict):
        return {k: comparable(v) for k, v in value.items() if not k.endswith(VOLATILE)}
    if isinstance(value, list):
        return [comparable(item) for item in value]
    return value


@pytest.mark.parametrize("name", sorted(NULLABLE_CALLS))
def test_optional_fields_sent_as_null_mean_not_given(api, alice, image, django_user_model, name):
    agent(images_present=[image.docker_image])
    all_users_policy(max_sessions_per_user=0)  # the call is made twice besides the session it needs
    alice.first_name = "Alice"
    alice.save()
    api("update_user_attributes", {"target_user_attributes": {"user_id": user_public_id(alice), "theme": "Dark"}})
    kasm_id = api("request_kasm", {"user_id": user_public_id(alice), "image_id": image.hex_id}).json()["kasm_id"]
    required, where, optionals = NULLABLE_CALLS[name]
    answers = []
    for case in ("null", "absent"):
        other = django_user_model.objects.create_user(username=f"{case}-other@example.com")
        ids = {"USER": user_public_id(alice), "IMAGE": image.hex_id, "KASM": kasm_id, "OTHER": user_public_id(other)}
        ids["NEW"] = f"{case}-new@example.com"
        body = {
            k: {kk: ids.get(vv, vv) for kk, vv in v.items()} if isinstance(v, dict) else ids.get(v, v)
            for k, v in required.items()
        }
        if case == "null":
            (body[where] if where else body).update(dict.fromkeys(optionals))
        response = api(name, body)
        answers.append((response.status_code, comparable(response.json())))
    assert answers[0] == answers[1]
    assert answers[0][0] == 200 or name == "exec_command_kasm"  # the session has no container to run in here
    alice.refresh_from_db()
    assert alice.first_name == "Alice" and alice.profile.theme == "Dark"  # null cleared nothing


@pytest.mark.parametrize("username", [ALICE, CAROL, DAVE])
def test_users_named_by_e_mail_address_are_created(api, username):
    user = api("create_user", {"target_user": {"username": f" {username} ", "password": "long-enough-1"}}).json()
    assert user["user"]["username"] == username


@pytest.mark.parametrize("username", ["", "a/b c", "line\nbreak", "x" * 151, "semi;colon"])
def test_usernames_neither_django_nor_e_mail_are_refused(api, username):
    response = api("create_user", {"target_user": {"username": username}})
    assert response.status_code == 400 and "username" in response.json()["error_message"]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("environment", {"A=B": "1"}, "not an environment variable name"),
        ("environment", {"1A": "1"}, "not an environment variable name"),
        ("environment", {"A": "nul\x00"}, "without NUL"),
        ("environment", {"A": 1}, "must be text"),
        ("client_language", "en_US; rm -rf /", "not a locale name"),
        ("client_timezone", "../../etc/passwd", "not a time-zone name"),
        ("kasm_url", "javascript:alert(1)", "http(s) URL"),
        ("kasm_url", "https://example.com/a b", "http(s) URL"),
    ],
)
def test_request_kasm_refuses_what_could_not_safely_reach_the_container(api, alice, image, field, value, message):
    agent()
    body = {"user_id": user_public_id(alice), "image_id": image.hex_id, field: value}
    response = api("request_kasm", body)
    assert response.status_code == 400 and message in response.json()["error_message"]
    assert not Session.objects.exists()


def test_request_kasm_accepts_kasm_style_language_and_time_zone(api, alice, image):
    agent()
    body = {"user_id": user_public_id(alice), "image_id": image.hex_id}
    body |= {"client_language": "de-DE", "client_timezone": "America/Argentina/Buenos_Aires"}
    assert api("request_kasm", body).status_code == 200
    assert Session.objects.get().environment == {"LANG": "de-DE", "TZ": "America/Argentina/Buenos_Aires"}


def test_the_key_may_come_as_http_basic_auth_and_a_wrong_one_is_401(client, key, alice):
    def get_users(authorization: str):
        return client.post(
            "/api/public/get_users", {}, content_type="application/json", HTTP_AUTHORIZATION=authorization
        )

    credentials = base64.b64encode(f"{key['api_key']}:{key['api_key_secret']}".encode()).decode()
    answer = get_users(f"Basic {credentials}")
    assert answer.status_code == 200 and ALICE in [user["username"] for user in answer.json()["users"]]
    wrong = base64.b64encode(f"{key['api_key']}:not-the-secret".encode()).decode()
    for authorization in (
        f"Basic {wrong}",
        "Basic !!!",
        f"Bearer {credentials}",
        "Basic " + base64.b64encode(b"x").decode(),
    ):
        refused = get_users(authorization)
        assert refused.status_code == 401 and refused.json()["error_message"]


def test_exec_answers_at_once_and_the_agents_report_is_read_later(
    api, alice, monkeypatch, django_capture_on_commit_callbacks
):
    sent = []
    monkeypatch.setattr(current_app, "send_task", lambda name, args, queue: sent.append((name, args, queue)))
    session, _token = stub_session(alice)
    session.agent.credential_hash, session.agent.approved = hash_secret(CREDENTIAL), True
    session.agent.save()
    agent("other-host", credential_hash=hash_secret(CREDENTIAL))  # an agent, but not this session's
    fields = {"user_id": user_public_id(alice), "kasm_id": session.hex_id}
    with django_capture_on_commit_callbacks(execute=True):
        started = api("exec_command_kasm", {**fields, "exec_config": {"cmd": "make world", "workdir": "/tmp"}}).json()
    assert started["status"] == "running" and started["exit_code"] is None
    command = SessionCommand.objects.get()
    config = {"cmd": "make world", "workdir": "/tmp", "environment": {}, "user": "", "privileged": False}
    assert sent == [("sessions.exec", [session.hex_id, command.hex_id, config], "agent.stub-host")]
    assert api("get_exec_command_kasm", {**fields, "exec_id": started["exec_id"]}).json()["status"] == "running"
    impostor = {"agent": "other-host", "credential": CREDENTIAL}
    session_exec_finished_task(impostor, session.hex_id, command.hex_id, {"exit_code": 0, "output": "forged"})
    assert SessionCommand.objects.get().finished_at is None  # only the session's own agent reports on it
    own = {"agent": "stub-host", "credential": CREDENTIAL}
    session_exec_finished_task(own, session.hex_id, command.hex_id, {"exit_code": 2, "output": "x" * 70_000})
    session_exec_finished_task(own, session.hex_id, command.hex_id, {"exit_code": 0, "output": "again"})
    done = api("get_exec_command_kasm", {**fields, "exec_id": started["exec_id"]}).json()
    assert (done["status"], done["exit_code"], len(done["output"])) == ("done", 2, SessionCommand.OUTPUT_KEPT)
    other, _ = stub_session(alice)
    missing = api("get_exec_command_kasm", {**fields, "kasm_id": other.hex_id, "exec_id": started["exec_id"]})
    assert missing.status_code == 404


def test_request_kasm_without_a_user_makes_a_temporary_one_that_goes_with_its_session(api, image, django_user_model):
    agent()
    answer = api("request_kasm", {"image_name": image.docker_image}).json()
    assert answer["username"].startswith("anonymous-") and answer["kasm_url"].startswith("/#/connect/kasm/")
    temporary = django_user_model.objects.get(username=answer["username"])
    assert not temporary.has_usable_password()
    assert api("destroy_kasm", {"user_id": answer["user_id"], "kasm_id": answer["kasm_id"]}).json() == {}
    session_mark_deleted(session=Session.objects.get(pk=answer["kasm_id"]))
    assert not django_user_model.objects.filter(username=answer["username"]).exists()


def test_an_anonymous_request_that_makes_no_session_leaves_no_user(api, image, django_user_model):
    users = django_user_model.objects.count()
    refused = api("request_kasm", {"image_id": image.hex_id})  # no agent: nothing fits
    assert refused.status_code == 409 and django_user_model.objects.count() == users
    assert api("request_kasm", {"image_name": "no/such:image"}).status_code == 404


def test_a_key_acting_as_a_user_makes_no_anonymous_users(client, alice, image, django_user_model):
    agent()
    issued = api_key_create(name="alice's", owner=alice)
    body = {"api_key": issued.api_key.key, "api_key_secret": issued.secret, "image_id": image.hex_id}
    refused = client.post("/api/public/request_kasm", body, content_type="application/json")
    assert refused.status_code == 403 and "name their user_id" in refused.json()["error_message"]
    assert not django_user_model.objects.filter(username__startswith="anonymous-").exists()


def test_stop_pause_and_resume_a_session_and_list_a_users_sessions(
    api, alice, carol, monkeypatch, django_capture_on_commit_callbacks
):
    sent = []
    monkeypatch.setattr(current_app, "send_task", lambda name, args, queue: sent.append(name))
    session, _token = stub_session(alice)
    stub_session(carol)
    fields = {"user_id": user_public_id(alice), "kasm_id": session.hex_id}
    kasms = api("get_user_kasms", {"user_id": user_public_id(alice)}).json()["kasms"]
    assert [k["kasm_id"] for k in kasms] == [session.hex_id]
    with django_capture_on_commit_callbacks(execute=True):
        assert api("pause_kasm", fields).json() == {}
    assert Session.objects.get(pk=session.pk).status == SessionStatus.PAUSING and sent == ["sessions.pause"]
    assert api("pause_kasm", fields).status_code == 409  # pausing already
    Session.objects.filter(pk=session.pk).update(status=SessionStatus.PAUSED)
    with django_capture_on_commit_callbacks(execute=True):
        assert api("stop_kasm", fields).json() == {}  # a paused session may be stopped
    assert Session.objects.get(pk=session.pk).status == SessionStatus.STOPPING and sent[-1] == "sessions.stop"
    Session.objects.filter(pk=session.pk).update(status=SessionStatus.STOPPED)
    with django_capture_on_commit_callbacks(execute=True):
        assert api("resume_kasm", fields).json() == {}
    assert Session.objects.get(pk=session.pk).status == SessionStatus.STARTING and sent[-1] == "sessions.launch"
    assert api("get_session_recordings", {"kasm_id": session.hex_id}).json() == {"session_recordings": []}


def test_get_zones_lists_the_zones(api):
    Zone.objects.create(name="eu", placement_policy="pack")
    assert api("get_zones").json()["zones"] == [
        {"zone_id": Zone.objects.get().hex_id, "zone_name": "eu", "description": "", "placement_policy": "pack"}
    ]


def test_groups_are_created_renamed_and_deleted_and_system_groups_need_the_system_permission(api, client):
    created = api("create_group", {"target_group": {"name": "Lab", "priority": 20, "description": "lab users"}})
    group = created.json()["group"]
    assert (group["name"], group["priority"], group["description"]) == ("Lab", 20, "lab users")
    target = {"group_id": group["group_id"]}
    renamed = api("update_group", {"target_group": {**target, "name": "Lab 2", "priority": 30}}).json()["group"]
    assert (renamed["name"], renamed["priority"]) == ("Lab 2", 30) and Group.objects.filter(name="Lab 2").exists()
    assert api("create_group", {"target_group": {"name": "Lab 2"}}).status_code == 409
    assert api("update_group", {"target_group": {**target, "priority": "high"}}).status_code == 400
    policy = Group.objects.get(name="Lab 2").policy
    assert policy.public_id.hex == group["group_id"]  # found by an indexed column, not by reading every group
    assert api("delete_group", {"target_group": target}).json() == {}
    assert not Group.objects.filter(name="Lab 2").exists()

    issued = api_key_create(name="groups only", permissions=["groups_modify"])
    limited = {"api_key": issued.api_key.key, "api_key_secret": issued.secret}
    admins = fmt_group_id("Administrators")
    for name, extra in (("update_group", {"name": "Admins"}), ("delete_group", {})):
        body = {**limited, "target_group": {"group_id": admins, **extra}}
        refused = client.post(f"/api/public/{name}", body, content_type="application/json")
        assert refused.status_code == 403 and "groups_modify_system" in refused.json()["error_message"]
    assert api("delete_group", {"target_group": {"group_id": fmt_group_id("All Users")}}).status_code == 409
    assert Group.objects.filter(name__in=["Administrators", "All Users"]).count() == 2


def fmt_group_id(name: str) -> str:
    return group_public_id(Group.objects.get(name=name))


def test_images_are_created_and_updated_and_their_configs_stay_in_the_console(api):
    zone = Zone.objects.create(name="eu")
    target = {"name": "kasmweb/firefox:1.16.0", "friendly_name": "Firefox", "cores": 1.5, "memory": 2 * GIB}
    created = api("create_image", {"target_image": {**target, "categories": ["Browser"], "zone_id": zone.hex_id}})
    image = created.json()["image"]
    assert (image["name"], image["cores"], image["memory"], image["zone_id"]) == (
        target["name"],
        1.5,
        2 * GIB,
        zone.hex_id,
    )
    stored = Image.objects.get(pk=image["image_id"])
    assert stored.categories == ["Browser"] and not stored.groups.exists()  # granted by an admin, later
    updated = api("update_image", {"target_image": {"image_id": image["image_id"], "gpu_count": 1, "enabled": False}})
    assert (updated.json()["image"]["gpu_count"], updated.json()["image"]["enabled"]) == (1, False)
    refused = api("update_image", {"target_image": {"image_id": image["image_id"], "run_config": {"privileged": True}}})
    assert refused.status_code == 403 and "console" in refused.json()["error_message"]
    bad = api("update_image", {"target_image": {"image_id": image["image_id"], "cores": 0}})
    assert bad.status_code == 400 and "cores" in bad.json()["error_message"]
    assert api("create_image", {"target_image": {"name": "x/y:1"}}).status_code == 400  # no friendly_name
    stored.refresh_from_db()
    assert (stored.cores, stored.run_config, stored.gpus) == (1.5, {}, 1)

"""Bad input never becomes a 500: too-deep JSON, strings longer than their column, numbers no
machine has. Runs on both databases (Postgres refuses an over-long value that SQLite would keep)."""

import pytest
from django.urls import reverse

from apps.accounts.services import api_key_create
from apps.agents.models import Agent
from apps.sessions.api.public.formats import user_public_id
from tests.agents.factories import agent

pytestmark = pytest.mark.django_db
DEEP = "[" * 100_000 + "]" * 100_000


@pytest.fixture
def api(client):
    issued = api_key_create(name="integration")
    key = {"api_key": issued.api_key.key, "api_key_secret": issued.secret}

    def post(name: str, body: dict):
        return client.post(f"/api/public/{name}", {**key, **body}, content_type="application/json")

    return post


@pytest.mark.parametrize("name", ["get_images", "request_kasm", "create_user"])
def test_json_nested_too_deep_is_a_400_on_the_developer_api(client, name):
    response = client.post(f"/api/public/{name}", DEEP, content_type="application/json")
    assert response.status_code == 400 and "nests deeper" in response.json()["error_message"]
    deep_field = '{"target_user": ' + DEEP + "}"
    assert client.post(f"/api/public/{name}", deep_field, content_type="application/json").status_code == 400


def test_json_nested_too_deep_is_a_400_on_the_console_api(console):
    host = agent()
    response = console.patch(f"/api/console/agents/{host.hex_id}/", DEEP, content_type="application/json")
    assert response.status_code == 400 and "nests deeper" in response.json()["detail"]


LONG = "x" * 5000


@pytest.mark.parametrize(
    ("name", "body", "field"),
    [
        ("create_user", {"target_user": {"username": "u" * 151}}, "username"),
        ("create_user", {"target_user": {"username": "p@example.com", "phone": LONG}}, "phone"),
        ("create_user", {"target_user": {"username": "o@example.com", "organization": LONG}}, "organization"),
        ("create_user", {"target_user": {"username": "f@example.com", "first_name": LONG}}, "first_name"),
        ("create_user", {"target_user": {"username": "w@example.com", "password": "p" * 5000}}, "password"),
        ("update_user", {"target_user": {"user_id": "USER", "last_name": LONG}}, "last_name"),
        ("update_user_attributes", {"target_user_attributes": {"user_id": "USER", "theme": LONG}}, "theme"),
        (
            "update_user_attributes",
            {"target_user_attributes": {"user_id": "USER", "preferred_language": LONG}},
            "preferred_language",
        ),
        (
            "update_user_attributes",
            {"target_user_attributes": {"user_id": "USER", "ssh_public_key": "k" * 20_000}},
            "ssh_public_key",
        ),
        ("request_kasm", {"user_id": "USER", "image_id": "IMAGE", "kasm_url": "https://x/" + LONG}, "kasm_url"),
        ("keepalive", {"kasm_id": "k" * 70_000}, "kasm_id"),
    ],
)
def test_strings_longer_than_their_field_are_a_400_naming_it(api, alice, busybox_image, name, body, field):
    agent()
    ids = {"USER": user_public_id(alice), "IMAGE": busybox_image.hex_id}

    def resolved(value):
        if isinstance(value, dict):
            return {k: resolved(v) for k, v in value.items()}
        return ids.get(value, value)

    response = api(name, resolved(body))
    assert response.status_code == 400, response.content
    assert field in response.json()["error_message"]


@pytest.mark.parametrize(
    ("field", "value"), [("cores_override", "1e308"), ("memory_override", str(10**19)), ("gpus_override", "100000")]
)
def test_numbers_no_machine_has_are_refused_under_their_field_in_the_console(console, field, value):
    host = agent()
    form = {"enabled": "on", "cores_override": 0, "memory_override": 0, "gpus_override": 0, "prune_mode": "off"}
    response = console.post(reverse("agents:detail", kwargs={"agent_id": host.pk}), {**form, field: value})
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert list(errors) == [field] and "less than or equal" in errors[field][0]
    assert getattr(Agent.objects.get(pk=host.pk), field) == 0
    api = console.patch(
        f"/api/console/agents/{host.hex_id}/",
        {**form, "enabled": True, field: float(value)},
        content_type="application/json",
    )
    assert api.status_code == 400 and field in api.json()

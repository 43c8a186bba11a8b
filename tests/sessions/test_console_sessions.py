"""Admins see and destroy every session in the console and its REST API; the API has a valid schema."""

import pytest
import yaml
from django.urls import reverse

from apps.common.units import GIB
from apps.images.models import Image
from apps.sessions.choices import SessionStatus
from apps.sessions.models import Session
from apps.sessions.services import session_request
from tests.agents.factories import agent
from tests.personas import ALICE, CAROL

pytestmark = pytest.mark.django_db


@pytest.fixture
def sessions(alice, django_user_model):
    agent("host-1", cores=16, memory=64 * GIB)
    image = Image.objects.create(docker_image="kasm-local/busybox-test:latest", friendly_name="Busybox", memory=GIB)
    carol = django_user_model.objects.create_user(username=CAROL)
    return [session_request(user=user, image=image).session for user in (alice, carol)]


def test_console_lists_every_session_and_filters(console, sessions):
    page = console.get(reverse("console-sessions")).content.decode()
    assert all(f'data-kasm-id="{s.hex_id}"' in page for s in sessions)
    page = console.get(reverse("console-sessions"), {"owner": CAROL}).content.decode()
    assert f'data-kasm-id="{sessions[1].hex_id}"' in page and sessions[0].hex_id not in page


def test_the_sessions_list_comes_a_page_of_100_at_a_time(console, sessions, alice):
    image = sessions[0].image
    Session.objects.bulk_create(Session(owner=alice, image=image, status=SessionStatus.DELETED) for _ in range(148))
    first = console.get(reverse("console-sessions")).content.decode()
    second = console.get(reverse("console-sessions"), {"page": 2}).content.decode()
    assert first.count("data-kasm-id=") == 100 and second.count("data-kasm-id=") == 50
    assert "Page 1 of 2 (150)" in first and "?page=2" in first
    filtered = console.get(reverse("console-sessions"), {"status": "deleted"}).content.decode()
    assert "Page 1 of 2 (148)" in filtered and "?page=2&amp;status=deleted" in filtered
    assert len(console.get("/api/console/sessions/", {"page": 2}).json()) == 50
    assert console.get("/api/console/sessions/", {"page": 0}).status_code == 400


def test_console_destroys_any_users_session(console, sessions):
    console.post(reverse("console-session-destroy", kwargs={"kasm_id": sessions[0].pk}))
    assert Session.objects.get(pk=sessions[0].pk).status == SessionStatus.DELETING


def test_plain_users_cannot_use_the_sessions_console(client, alice, sessions):
    client.force_login(alice)
    assert client.get(reverse("console-sessions")).status_code == 403
    assert client.get("/api/console/sessions/").status_code == 403
    assert client.post(reverse("console-session-destroy", kwargs={"kasm_id": sessions[1].pk})).status_code == 403


def test_console_api_lists_filters_and_destroys(console, sessions):
    rows = console.get("/api/console/sessions/", {"owner": ALICE}).json()
    assert [row["kasm_id"] for row in rows] == [sessions[0].hex_id] and rows[0]["agent"] == "host-1"
    assert console.get("/api/console/sessions/", {"status": "nonsense"}).status_code == 400
    assert console.delete(f"/api/console/sessions/{sessions[1].hex_id}/").status_code == 202
    assert Session.objects.get(pk=sessions[1].pk).status == SessionStatus.DELETING


def test_users_see_only_their_own_sessions(client, alice, sessions):
    client.force_login(alice)
    page = client.get(reverse("my-sessions")).content.decode()
    assert sessions[0].hex_id in page and sessions[1].hex_id not in page
    assert client.get(reverse("session-view", kwargs={"kasm_id": sessions[1].pk})).status_code == 404


def test_openapi_schema_describes_the_console_api(console):
    schema = yaml.safe_load(console.get("/api/schema/").content)
    assert schema["openapi"].startswith("3.") and "/api/console/sessions/" in schema["paths"]
    assert "/api/console/agents/{agent_id}/" in schema["paths"]

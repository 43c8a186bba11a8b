"""Persistent profiles in the console and on My profile: paths and mappings set on workspaces and
groups (checked), profiles listed and reset by admins, users resetting only their own."""

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from apps.accounts.models import AuditEvent
from apps.agents.models import Agent
from apps.images.models import Image
from apps.sessions.models import PersistentProfile
from tests.agents.factories import agent
from tests.console.test_console_workspaces import FORM
from tests.sessions.stub_sessions import stub_session

pytestmark = pytest.mark.django_db(transaction=True)  # resets queue their tasks on commit


@pytest.fixture
def image():
    return Image.objects.create(docker_image="d", friendly_name="Desktop", persistent_profile_path="p-{user_id}")


def profile_of(user, image, source: str) -> PersistentProfile:
    profile = PersistentProfile.objects.create(
        owner=user, image=image, kind="volume", source=source, last_used_at=timezone.now()
    )
    profile.agents.add(Agent.objects.filter(hostname="agent-1").first() or agent("agent-1"))
    return profile


def test_a_workspace_keeps_a_checked_profile_path_and_mappings_and_flags_host_paths(console, settings):
    settings.VOLUME_HOST_ROOTS = ["/srv/kasm"]
    form = {
        **FORM,
        "persistent_profile_path": "/srv/kasm/homes/{user_id}",
        "volume_mappings": '[{"source": "/srv/kasm/shared", "target": "/shared", "read_only": true}]',
    }
    response = console.post("/console/workspaces/new/", form)
    image = Image.objects.get()
    assert response.status_code == 302 and image.persistent_profile_path == "/srv/kasm/homes/{user_id}"
    assert image.volume_mappings == [{"source": "/srv/kasm/shared", "target": "/shared", "read_only": True}]
    page = console.get(f"/console/workspaces/{image.hex_id}/").content.decode()
    assert 'id="workspace-flags"' in page and "volume_mappings: <code>/shared</code>" in page


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"persistent_profile_path": "/etc/{user_id}"}, "not under an allowed root"),
        ({"persistent_profile_path": "home-{username}"}, "must name {user_id}"),
        ({"volume_mappings": '[{"source": "/", "target": "/host"}]'}, "Mapping 1: The host path"),
        ({"volume_mappings": '{"source": "data"}'}, "Volume mappings are a JSON list"),
    ],
)
def test_bad_profile_paths_and_mappings_are_refused_and_nothing_is_saved(console, changes, message):
    page = console.post("/console/workspaces/new/", {**FORM, **changes}).content.decode()
    assert message in page and not Image.objects.exists()


def test_a_group_keeps_checked_mappings(console):
    group = Group.objects.create(name="Engineers")
    mappings = '[{"source": "scratch-{user_id}", "target": "/scratch"}]'
    assert (
        console.post(
            f"/console/groups/{group.pk}/", {"name": "Engineers", "priority": 10, "volume_mappings": mappings}
        ).status_code
        == 302
    )
    group.policy.refresh_from_db()
    assert group.policy.volume_mappings == [{"source": "scratch-{user_id}", "target": "/scratch", "read_only": False}]
    page = console.post(
        f"/console/groups/{group.pk}/",
        {"name": "Engineers", "priority": 10, "volume_mappings": '[{"source": "/etc", "target": "/e"}]'},
    ).content.decode()
    assert "not under an allowed root" in page
    group.policy.refresh_from_db()
    assert group.policy.volume_mappings[0]["source"] == "scratch-{user_id}"


def test_the_profiles_page_refuses_plain_users(client, alice, image, sent):
    profile = profile_of(alice, image, "p-1")
    client.force_login(alice)
    assert client.get("/console/profiles/").status_code == 403
    assert client.post(f"/console/profiles/{profile.hex_id}/reset/").status_code == 403
    assert PersistentProfile.objects.exists() and sent == []


def test_an_admin_finds_and_resets_a_profile_on_its_agents(console, alice, carol, image, sent):
    profile_of(alice, image, "p-alice")
    carols = profile_of(carol, image, "p-carol")
    page = console.get("/console/profiles/?q=müller").content.decode()
    assert "p-carol" in page and "p-alice" not in page
    console.post(f"/console/profiles/{carols.hex_id}/reset/")
    assert sent == [("sessions.profile_remove", ["volume", "p-carol"], "agent.agent-1")]
    assert list(PersistentProfile.objects.values_list("source", flat=True)) == ["p-alice"]
    assert AuditEvent.objects.get().action == "console.profile.reset"


def test_a_profile_in_use_is_not_reset_and_the_admin_is_told_why(console, alice, image, sent):
    profile = profile_of(alice, image, "p-alice")
    stub_session(alice, port=1, image=image)
    page = console.post(f"/console/profiles/{profile.hex_id}/reset/", follow=True).content.decode()
    assert "still use this profile" in page and PersistentProfile.objects.exists() and sent == []


def test_users_see_and_reset_their_own_profiles_only(client, alice, carol, image, sent):
    mine, carols = profile_of(alice, image, "p-alice"), profile_of(carol, image, "p-carol")
    client.force_login(alice)
    page = client.get("/profile/").content.decode()
    assert 'id="saved-homes"' in page and f"/profile/homes/{mine.hex_id}/reset/" in page
    assert f"/profile/homes/{carols.hex_id}/" not in page
    assert client.post(f"/profile/homes/{carols.hex_id}/reset/").status_code == 404
    assert client.get(f"/profile/homes/{mine.hex_id}/reset/").status_code == 405
    client.post(f"/profile/homes/{mine.hex_id}/reset/")
    assert list(PersistentProfile.objects.values_list("source", flat=True)) == ["p-carol"]
    assert [name for name, _args, _queue in sent] == ["sessions.profile_remove"]
    client.logout()
    assert client.post(f"/profile/homes/{carols.hex_id}/reset/").status_code == 302
    assert PersistentProfile.objects.filter(source="p-carol").exists()

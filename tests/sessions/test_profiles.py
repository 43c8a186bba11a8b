"""Persistent profiles and volume mappings on the manager: templates, whose profile a launch gets,
Kasm's persistent_profile_mode, resets, and group mappings added to the workspace's."""

import pytest
from django.contrib.auth.models import Group

from apps.accounts.models import GroupPolicy
from apps.accounts.services import profile_for_user
from apps.common.errors import ApplicationError
from apps.common.units import GIB
from apps.common.volumes import mapping_problems, template_expand, template_problems
from apps.images.models import Image
from apps.sessions.choices import SessionStatus
from apps.sessions.models import PersistentProfile, Session
from apps.sessions.profiles import ProfileMode, persistent_profile_reset, profile_mode_parsed
from apps.sessions.services import session_request
from tests.agents.factories import agent

pytestmark = pytest.mark.django_db(transaction=True)
ROOTS = ["/srv/kasm"]


@pytest.fixture
def image():
    return Image.objects.create(
        docker_image="kasm-local/busybox-test:latest",
        friendly_name="Busybox",
        memory=GIB,
        persistent_profile_path="kasm-profile-{user_id}-{image_id}",
    )


def launch_spec(sent) -> dict:
    return next(args[0] for name, args, _queue in reversed(sent) if name == "sessions.launch")


@pytest.mark.parametrize(
    ("template", "problem"),
    [
        ("kasm-profile-{user_id}", None),
        ("/srv/kasm/profiles/{username}/{user_id}", None),
        ("kasm-profile-{username}", "must name {user_id}"),
        ("kasm-{user_id}-{secret}", "Only these placeholders"),
        ("kasm-{user_id.__class__}", "Only these placeholders"),
        ("/etc/{user_id}", "not under an allowed root"),
        ("/srv/kasm/../../etc/{user_id}", "not a plain absolute path"),
        ("/srv/kasm/{user_id}/", "not a plain absolute path"),
        ("kasm profile {user_id}", "neither an absolute host path nor a Docker volume name"),
    ],
)
def test_profile_templates_are_checked(template, problem):
    problems = template_problems(template, per_user=True, host_roots=ROOTS)
    assert (problem is None and problems == []) or (problem is not None and problem in " ".join(problems))


@pytest.mark.parametrize(
    ("username", "expanded"),
    [
        ("alice@example.com", "/srv/kasm/alice_example.com/u1"),
        ("..", "/srv/kasm/__/u1"),
        ("a/../b", "/srv/kasm/a_.._b/u1"),
    ],
)
def test_usernames_never_escape_the_path(username, expanded):
    assert template_expand("/srv/kasm/{username}/{user_id}", username=username, user_id="u1", image_id="i") == expanded


def test_a_mapping_needs_a_target_and_a_source_under_an_allowed_root():
    assert mapping_problems({"source": "shared-data", "target": "/data", "read_only": True}, host_roots=ROOTS) == []
    assert "allowed root" in " ".join(mapping_problems({"source": "/", "target": "/host"}, host_roots=ROOTS))
    assert "not '/'" in " ".join(mapping_problems({"source": "data", "target": "/"}, host_roots=ROOTS))
    assert "Unknown keys" in " ".join(mapping_problems({"source": "d", "target": "/d", "mode": "rw"}, host_roots=ROOTS))
    assert "true or false" in " ".join(mapping_problems({"source": "d", "target": "/d", "read_only": 1}, host_roots=[]))


def test_kasms_profile_modes_are_understood_in_any_case():
    assert [profile_mode_parsed(value) for value in ("Enabled", "DISABLED", "reset")] == list(ProfileMode)
    with pytest.raises(ApplicationError, match="Enabled, Disabled, Reset"):
        profile_mode_parsed("Sometimes")


def test_each_user_gets_their_own_profile_and_keeps_it(alice, carol, image, sent):
    host = agent()
    session_request(user=alice, image=image)
    first = launch_spec(sent)
    session_request(user=alice, image=image)
    again = launch_spec(sent)
    session_request(user=carol, image=image)
    carols = launch_spec(sent)
    alice_id = profile_for_user(user=alice).hex_id
    assert first["profile"] == {"kind": "volume", "source": f"kasm-profile-{alice_id}-{image.hex_id}", "reset": False}
    assert again["profile"] == first["profile"]
    assert carols["profile"]["source"] != first["profile"]["source"]
    profile = PersistentProfile.objects.get(owner=alice)
    assert list(profile.agents.all()) == [host]
    assert set(Session.objects.filter(owner=alice).values_list("persistent_profile", flat=True)) == {profile.pk}


def test_a_workspace_without_a_profile_path_or_a_request_that_disables_it_mounts_none(alice, image, sent):
    agent()
    session_request(user=alice, image=image, profile_mode=ProfileMode.DISABLED)
    assert launch_spec(sent)["profile"] is None
    image.persistent_profile_path = ""
    image.save()
    session_request(user=alice, image=image)
    assert launch_spec(sent)["profile"] is None and not PersistentProfile.objects.exists()


def test_a_reset_request_deletes_the_profile_on_the_other_agents_and_first_on_its_own(alice, image, sent):
    first_host = agent("agent-1")
    session = session_request(user=alice, image=image).session
    Session.objects.filter(pk=session.pk).update(status=SessionStatus.DELETED)
    first_host.status = "offline"
    first_host.save()
    second_host = agent("agent-2")
    session_request(user=alice, image=image, profile_mode=ProfileMode.RESET)
    spec = launch_spec(sent)
    assert spec["agent"] == second_host.hostname and spec["profile"]["reset"] is True
    assert ("sessions.profile_remove", ["volume", spec["profile"]["source"]], "agent.agent-1") in sent
    assert list(PersistentProfile.objects.get().agents.all()) == [second_host]


def test_a_profile_in_use_cannot_be_reset(alice, image, sent):
    agent()
    session_request(user=alice, image=image)
    with pytest.raises(ApplicationError, match="still use this profile"):
        session_request(user=alice, image=image, profile_mode=ProfileMode.RESET)
    with pytest.raises(ApplicationError, match="still use this profile"):
        persistent_profile_reset(profile=PersistentProfile.objects.get())
    assert PersistentProfile.objects.count() == 1


def test_resetting_a_profile_removes_it_from_every_agent_and_forgets_it(alice, image, sent):
    agent("agent-1")
    session = session_request(user=alice, image=image).session
    Session.objects.filter(pk=session.pk).update(status=SessionStatus.DELETED)
    profile = PersistentProfile.objects.get()
    profile.agents.add(agent("agent-2"))
    persistent_profile_reset(profile=profile)
    removals = sorted(queue for name, _args, queue in sent if name == "sessions.profile_remove")
    assert removals == ["agent.agent-1", "agent.agent-2"] and not PersistentProfile.objects.exists()


def test_a_template_that_gives_another_users_profile_is_refused(alice, carol, image, sent):
    agent()
    image.persistent_profile_path = "kasm-profile-{user_id}"
    image.save()
    session_request(user=alice, image=image)
    PersistentProfile.objects.update(owner=carol)  # as if the template had once named carol's
    with pytest.raises(ApplicationError, match="another user's profile"):
        session_request(user=alice, image=image)


def test_group_mappings_add_to_the_workspaces(alice, image, sent):
    agent()
    image.volume_mappings = [{"source": "shared-{image_id}", "target": "/shared", "read_only": True}]
    image.save()
    group = Group.objects.create(name="Engineers")
    GroupPolicy.objects.filter(group=group).update(
        volume_mappings=[{"source": "scratch-{username}", "target": "/scratch", "read_only": False}]
    )
    alice.groups.add(group)
    session_request(user=alice, image=image)
    assert launch_spec(sent)["mounts"] == [
        {"kind": "volume", "source": f"shared-{image.hex_id}", "target": "/shared", "read_only": True},
        {"kind": "volume", "source": "scratch-alice_example.com", "target": "/scratch", "read_only": False},
    ]

"""Group settings resolved for a user from all of their groups, by priority."""

import pytest
from django.contrib.auth.models import Group

from apps.accounts.group_settings import SETTINGS_BY_NAME, group_setting_defaults
from apps.accounts.selectors import ALL_USERS_GROUP, user_policy
from apps.accounts.services import (
    ADMINISTRATORS_GROUP,
    group_all_users,
    group_create,
    group_delete,
    group_members_add,
    group_members_remove,
    group_update,
)
from apps.common.errors import ApplicationError, InvalidInput
from apps.images.models import Image
from apps.images.selectors import images_launchable_by
from apps.images.services import group_workspaces_set

pytestmark = pytest.mark.django_db


def test_a_new_user_is_in_all_users_and_gets_the_defaults(alice, settings):
    assert alice.groups.filter(name=ALL_USERS_GROUP).exists()
    policy = user_policy(alice)
    assert policy.max_sessions_per_user == 2
    assert policy.keepalive_expiration == settings.SESSION_KEEPALIVE_SECONDS
    assert policy.session_lifetime == settings.SESSION_LIFETIME_SECONDS
    assert policy.allow_sharing and policy.allow_clipboard_down and policy.allow_clipboard_up
    assert policy.idle_disconnect == 0 and policy.default_workspace is None
    assert set(policy.sources.values()) == {""}


def test_each_setting_comes_from_the_lowest_priority_number_that_sets_it(alice):
    staff = group_create(name="Staff", priority=10)
    contractors = group_create(name="Contractors", priority=50)
    group_update(group=staff, settings={"max_sessions_per_user": 5})
    group_update(group=contractors, settings={"max_sessions_per_user": 1, "allow_clipboard_down": False})
    group_update(group=group_all_users(), settings={"allow_clipboard_down": True, "idle_disconnect": 30})
    group_members_add(group=staff, users=[alice])
    group_members_add(group=contractors, users=[alice])

    policy = user_policy(alice)
    assert (policy.max_sessions_per_user, policy.sources["max_sessions_per_user"]) == (5, "Staff")
    assert (policy.allow_clipboard_down, policy.sources["allow_clipboard_down"]) == (False, "Contractors")
    assert (policy.idle_disconnect, policy.sources["idle_disconnect"]) == (30, ALL_USERS_GROUP)
    assert policy.sources["allow_sharing"] == ""

    group_update(group=contractors, priority=5)
    assert user_policy(alice).max_sessions_per_user == 1
    group_members_remove(group=contractors, users=[alice])
    assert user_policy(alice).max_sessions_per_user == 5 and user_policy(alice).allow_clipboard_down


def test_equal_priorities_are_decided_by_group_name(alice):
    for name, sessions in (("b-team", 3), ("a-team", 4)):
        group = group_create(name=name, priority=7)
        group_update(group=group, settings={"max_sessions_per_user": sessions})
        group_members_add(group=group, users=[alice])
    assert user_policy(alice).sources["max_sessions_per_user"] == "a-team"


@pytest.mark.parametrize(
    "settings, message",
    [
        ({"max_sessions_per_user": -1}, "at least 0"),
        ({"max_sessions_per_user": 1.5}, "whole number"),
        ({"max_sessions_per_user": "3"}, "is a number"),
        ({"allow_sharing": "yes"}, "true or false"),
        ({"keepalive_expiration": 10}, "at least 60"),
        ({"default_workspace": "not-an-id"}, "workspace id"),
        ({"root": True}, "Unknown group setting"),
    ],
)
def test_settings_are_typed_and_bounded(settings, message):
    group = group_create(name="Typed")
    with pytest.raises(InvalidInput, match=message):
        group_update(group=group, settings=settings)
    assert Group.objects.get(name="Typed").policy.settings == {}


def test_built_in_groups_stay(alice):
    for name in (ADMINISTRATORS_GROUP, ALL_USERS_GROUP):
        group = Group.objects.get(name=name)
        with pytest.raises(ApplicationError, match="built-in"):
            group_delete(group=group)
        with pytest.raises(ApplicationError, match="keeps its name"):
            group_update(group=group, name="Renamed")
    with pytest.raises(ApplicationError, match="Every user is in All Users"):
        group_members_remove(group=group_all_users(), users=[alice])
    with pytest.raises(ApplicationError, match="exists"):
        group_create(name="all users")


def test_a_user_may_launch_what_any_of_their_groups_grants(alice):
    firefox = Image.objects.create(docker_image="ff", friendly_name="Firefox")
    desktop = Image.objects.create(docker_image="desk", friendly_name="Desktop")
    Image.objects.create(docker_image="off", friendly_name="Disabled", enabled=False)
    assert set(images_launchable_by(alice)) == {firefox, desktop}  # All Users grants every workspace

    group_update(group=group_all_users(), all_workspaces=False)
    assert not images_launchable_by(alice).exists()
    designers = group_create(name="Designers")
    group_workspaces_set(group=designers, images=[desktop])
    group_members_add(group=designers, users=[alice])
    assert list(images_launchable_by(alice)) == [desktop]
    group_workspaces_set(group=group_all_users(), images=[firefox, desktop])
    assert list(images_launchable_by(alice)) == [desktop, firefox]


def test_every_setting_has_a_label_help_and_a_default_of_its_type():
    defaults = group_setting_defaults()
    for setting in SETTINGS_BY_NAME.values():
        assert setting.label and setting.help
        default = defaults[setting.name]
        assert default is None or setting.checked(default) == default

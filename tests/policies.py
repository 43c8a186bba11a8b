"""Group policies for tests that need other settings than the defaults."""

from apps.accounts.services import group_all_users, group_policy_of, group_update


def all_users_policy(**settings) -> None:
    """Set `settings` on All Users, keeping what it sets already."""
    group = group_all_users()
    group_update(group=group, settings={**group_policy_of(group).settings, **settings})

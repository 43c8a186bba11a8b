"""Who a command run in a session's container (`exec_command_kasm`) may run as."""

from __future__ import annotations

from apps.common.errors import ApplicationError, InvalidInput


class ExecRefused(ApplicationError):
    """The key may not run a command as that user (an API answers 403)."""


def exec_user_checked(user: str, *, image_user: str, global_admin: bool) -> str:
    """`user[:group]` for `docker exec`. Keys with global_admin may name anyone, root included;
    others only the workspace's own user (empty: the image's default), never uid or gid 0 by name
    or number."""
    name, _, group = user.partition(":")
    if any(part != part.strip() or not part.isprintable() for part in (name, group)) or user.count(":") > 1:
        raise InvalidInput(f"exec_config.user must be 'user' or 'user:group', not '{user[:50]}'.")
    if global_admin:
        return user
    if _is_root(name) or _is_root(group):
        raise ExecRefused("Running a command as root (uid or gid 0) needs an API key with global_admin.")
    if user and user != image_user:
        own = f"'{image_user}'" if image_user else "its default user (leave exec_config.user empty)"
        raise ExecRefused(f"Without global_admin, commands run as the workspace's own user: {own}.")
    return user


def _is_root(part: str) -> bool:
    return part.lower() == "root" or (part.isdigit() and int(part) == 0)

def user_is_console_admin(user) -> bool:
    """Admins use the console; a user gets there by the `access_console` permission (or superuser)."""
    return bool(user.is_authenticated and user.has_perm("accounts.access_console"))

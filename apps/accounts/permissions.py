from rest_framework.permissions import BasePermission

from apps.accounts.selectors import user_is_console_admin


class IsConsoleAdmin(BasePermission):
    """REST endpoints of the admin console: console admins only."""

    message = "The console API is for administrators."

    def has_permission(self, request, view) -> bool:
        return user_is_console_admin(request.user)

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied

from apps.accounts.selectors import user_is_console_admin


def console_admin_required(view):
    """Console pages: log in first, then only console admins pass (others get 403)."""

    @wraps(view)
    @login_required
    def wrapper(request, *args, **kwargs):
        if not user_is_console_admin(request.user):
            raise PermissionDenied("The console is for administrators.")
        return view(request, *args, **kwargs)

    return wrapper

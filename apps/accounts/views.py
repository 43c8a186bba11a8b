from django.contrib.auth import views as auth_views
from django.shortcuts import resolve_url

from apps.accounts.selectors import user_is_console_admin


class LoginView(auth_views.LoginView):
    """Admins land on the console's home, everyone else on their workspaces (a `next` wins)."""

    def get_default_redirect_url(self):
        if user_is_console_admin(self.request.user):
            return resolve_url("console:home")
        return super().get_default_redirect_url()

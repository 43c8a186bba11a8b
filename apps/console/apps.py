from django.apps import AppConfig


class ConsoleConfig(AppConfig):
    """The console's pages that span apps: users, groups, API keys, the audit trail, and each
    user's own profile page. The rules live in the services of the apps below."""

    name = "apps.console"
    label = "console"
    verbose_name = "Admin console"

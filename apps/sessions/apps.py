from django.apps import AppConfig


class SessionsConfig(AppConfig):
    name = "apps.sessions"
    # "sessions" is taken by django.contrib.sessions.
    label = "workspace_sessions"
    verbose_name = "Workspace sessions"

    def ready(self) -> None:
        from apps.sessions import signals  # noqa: F401  (connects the receivers)

"""Django's database session engine, storing each session's logged-in user beside it (Django's
documented way to extend a database-backed session engine)."""

from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore


class SessionStore(DatabaseSessionStore):
    @classmethod
    def get_model_class(cls):
        from apps.accounts.models import WebLogin

        return WebLogin

    def create_model_instance(self, data):
        login = super().create_model_instance(data)
        try:
            login.user_id = int(data.get(SESSION_KEY))
        except (TypeError, ValueError):
            login.user_id = None
        return login

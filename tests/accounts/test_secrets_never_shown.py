"""Secrets and their hashes never appear in the Django admin; the API schema needs a console login."""

from datetime import timedelta

import pytest
from django.urls import reverse

from apps.accounts.models import ApiKey
from apps.accounts.services import api_key_create
from apps.agents.models import ManagerToken
from apps.agents.services import manager_token_rotate
from apps.sessions.sharing import session_sharing_enable, share_join
from tests.sessions.stub_sessions import stub_session

pytestmark = pytest.mark.django_db


def test_the_django_admin_shows_no_vnc_password_and_no_hash(admin_client, alice, carol):
    session, _ = stub_session(alice)
    session_sharing_enable(session=session)
    viewer = share_join(share_id=session.share_id, user=carol).viewer
    api_key_create(name="k")
    manager_token_rotate(grace=timedelta(minutes=1))
    pages = {
        reverse("admin:workspace_sessions_session_change", args=[session.pk]): [
            session.vnc_password,
            session.session_token_hash,
        ],
        reverse("admin:workspace_sessions_shareviewer_change", args=[viewer.pk]): [viewer.token_hash],
        reverse("admin:accounts_apikey_change", args=[ApiKey.objects.get().pk]): [ApiKey.objects.get().secret_hash],
        reverse("admin:agents_managertoken_change", args=[ManagerToken.objects.get().pk]): [
            ManagerToken.objects.get().token_hash
        ],
    }
    for url, secrets in pages.items():
        page = admin_client.get(url).content.decode()
        assert all(secret and secret not in page for secret in secrets), url


def test_the_api_schema_needs_a_console_login(client, alice, admin_user_with_console):
    assert client.get("/api/schema/").status_code == 403
    client.force_login(alice)
    assert client.get("/api/schema/").status_code == 403
    client.force_login(admin_user_with_console)
    assert client.get("/api/schema/").status_code == 200

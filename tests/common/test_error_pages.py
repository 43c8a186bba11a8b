"""Errors answer in the console's look, saying what happened and where to go."""

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_a_missing_page_is_a_styled_404(client, alice):
    client.force_login(alice)
    response = client.get("/no/such/page/")
    page = response.content.decode()
    assert response.status_code == 404 and "css/app.css" in page and "Not found" in page
    assert "the link may be old" in page and "Resolver404" not in page


def test_a_refused_page_is_a_styled_403_with_the_reason(client, alice):
    client.force_login(alice)
    response = client.get("/console/users/")
    page = response.content.decode()
    assert response.status_code == 403 and "css/app.css" in page and "The console is for administrators." in page


def test_a_server_error_is_a_styled_500(settings, monkeypatch):
    settings.DEBUG = False
    monkeypatch.setattr("apps.common.views.connection.cursor", lambda: (_ for _ in ()).throw(RuntimeError("boom")))
    response = Client(raise_request_exception=False).get("/health")
    page = response.content.decode()
    assert response.status_code == 500 and "css/app.css" in page and "Something went wrong" in page

import pytest
from django.apps import apps
from django.contrib import admin
from django.urls import reverse

from tests.personas import ALICE, PASSWORDS

pytestmark = pytest.mark.django_db

OUR_APPS = ["accounts", "agents", "images", "workspace_sessions", "registry", "chat"]


def test_login_page_renders(client):
    response = client.get(reverse("accounts:login"))
    assert response.status_code == 200
    assert b'name="username"' in response.content and b'name="password"' in response.content


def test_pages_ask_anonymous_users_to_log_in(client):
    response = client.get(reverse("home"))
    assert response.status_code == 302 and response.url.startswith(reverse("accounts:login"))


def test_user_logs_in_and_sees_workspaces(client, alice):
    response = client.post(reverse("accounts:login"), {"username": ALICE, "password": PASSWORDS[ALICE]})
    assert response.status_code == 302 and response.url == reverse("home")
    assert b"Workspaces" in client.get(reverse("home")).content


def test_wrong_password_shows_an_error(client, alice):
    response = client.post(reverse("accounts:login"), {"username": ALICE, "password": "nope"})
    assert response.status_code == 200 and b"didn't match" in response.content


def test_logout_ends_the_session(client, alice):
    client.force_login(alice)
    client.post(reverse("accounts:logout"))
    assert client.get(reverse("home")).status_code == 302


def test_console_is_for_admins_only(client, alice, admin_user_with_console):
    client.force_login(alice)
    assert client.get(reverse("agents:list")).status_code == 403
    client.force_login(admin_user_with_console)
    assert client.get(reverse("agents:list")).status_code == 200


def test_django_admin_is_for_staff_only(client, admin_user_with_console, admin_user):
    client.force_login(admin_user_with_console)
    assert client.get(reverse("admin:index")).status_code == 302
    client.force_login(admin_user)
    assert client.get(reverse("admin:index")).status_code == 200


def test_new_users_get_a_profile(alice):
    assert alice.profile.timezone == "UTC"


@pytest.mark.parametrize(
    "model", [model for label in OUR_APPS for model in apps.get_app_config(label).get_models()], ids=str
)
def test_django_admin_lists_every_model(admin_client, model):
    assert model in admin.site._registry, f"{model.__name__} is not registered in the Django admin"
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    assert admin_client.get(url).status_code == 200
    assert admin_client.get(url, {"q": "x"}).status_code == 200


def test_a_locked_user_cannot_log_in_and_is_logged_out(client, alice):
    client.force_login(alice)
    alice.profile.locked = True
    alice.profile.save()
    assert client.get(reverse("home")).status_code == 302  # the existing login ends at the next request
    response = client.post(reverse("accounts:login"), {"username": ALICE, "password": PASSWORDS[ALICE]})
    assert response.status_code == 200 and b"didn't match" in response.content

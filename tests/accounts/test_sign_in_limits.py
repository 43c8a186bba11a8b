"""Failed sign-ins are limited per account and per address, on the login page, the Django admin
and the Developer API; the message says when to try again."""

import pytest
from django.urls import reverse

from apps.accounts.services import api_key_create
from tests.personas import ALICE, PASSWORDS

pytestmark = pytest.mark.django_db
ADDRESS = "192.0.2.10"  # documentation range: only a REMOTE_ADDR value, no traffic goes anywhere


def log_in(client, username: str, password: str, address: str = ADDRESS):
    return client.post(reverse("accounts:login"), {"username": username, "password": password}, REMOTE_ADDR=address)


def test_ten_failures_lock_the_account_for_a_while_even_with_the_right_password(client, alice, settings):
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        assert "didn't match" in log_in(client, ALICE, "wrong").content.decode()
    refused = log_in(client, ALICE, PASSWORDS[ALICE], address="198.51.100.1")  # another address, same account
    assert refused.status_code == 200 and "try again in 15 minutes" in refused.content.decode()
    assert "_auth_user_id" not in client.session
    admin = client.post(
        reverse("admin:login"), {"username": ALICE, "password": PASSWORDS[ALICE]}, REMOTE_ADDR="198.51.100.1"
    )
    assert "_auth_user_id" not in client.session and admin.status_code == 200  # the admin's login too


def test_one_address_guessing_many_accounts_is_refused(client, alice, settings):
    for number in range(settings.LOGIN_FAILURE_LIMIT_PER_ADDRESS):
        log_in(client, f"guess-{number}", "wrong", address="192.0.2.11")
    refused = log_in(client, ALICE, PASSWORDS[ALICE], address="192.0.2.11")
    assert "try again in" in refused.content.decode() and "from this address" in refused.content.decode()


def test_a_success_clears_the_accounts_count(client, alice, settings):
    for _ in range(settings.LOGIN_FAILURE_LIMIT - 1):
        log_in(client, ALICE, "wrong")
    assert log_in(client, ALICE, PASSWORDS[ALICE]).status_code == 302
    client.logout()
    log_in(client, ALICE, "wrong", address="198.51.100.2")
    assert log_in(client, ALICE, PASSWORDS[ALICE], address="198.51.100.2").status_code == 302


def test_api_key_failures_are_limited_too(client, settings):
    issued = api_key_create(name="integration")
    body = {"api_key": issued.api_key.key, "api_key_secret": "wrong"}
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        response = client.post("/api/public/get_images", body, content_type="application/json", REMOTE_ADDR=ADDRESS)
        assert response.status_code == 401
    body["api_key_secret"] = issued.secret
    response = client.post("/api/public/get_images", body, content_type="application/json", REMOTE_ADDR=ADDRESS)
    assert response.status_code == 429 and "try again in 15 minutes" in response.json()["error_message"]

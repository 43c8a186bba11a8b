"""Browsers' sessions carry the user they are logged in as, so ending a user's logins reads theirs
only, and expired ones are pruned."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from apps.accounts.models import WebLogin
from apps.accounts.services import user_logout_everywhere
from apps.accounts.tasks import web_logins_prune_task
from tests.personas import PASSWORDS

pytestmark = pytest.mark.django_db


def logged_in(user) -> Client:
    browser = Client()
    assert browser.login(username=user.username, password=PASSWORDS[user.username])
    assert browser.get("/profile/").status_code == 200
    return browser


def test_logging_out_everywhere_ends_that_users_logins_only(alice, carol):
    alices = [logged_in(alice) for _ in range(3)]
    carols = logged_in(carol)
    Client().get("/accounts/login/")  # a browser nobody logged in with
    assert WebLogin.objects.filter(user_id=alice.pk).count() == 3

    assert user_logout_everywhere(user=alice) == 3
    assert all(browser.get("/profile/").status_code == 302 for browser in alices)
    assert carols.get("/profile/").status_code == 200
    assert not WebLogin.objects.filter(user_id=alice.pk).exists()


def test_expired_logins_are_pruned(alice, carol):
    logged_in(alice)
    logged_in(carol)
    WebLogin.objects.filter(user_id=alice.pk).update(expire_date=timezone.now() - timedelta(seconds=1))
    assert web_logins_prune_task() == 1
    assert list(WebLogin.objects.values_list("user_id", flat=True)) == [carol.pk]

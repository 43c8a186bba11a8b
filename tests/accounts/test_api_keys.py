import json
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from apps.accounts.choices import ApiPermission
from apps.accounts.models import ApiKey
from apps.accounts.services import api_key_authenticate, api_key_create
from apps.common.errors import ApplicationError
from apps.common.hashing import hash_secret
from tests.personas import ALICE

pytestmark = pytest.mark.django_db


def create_key_with_command(*args: str) -> dict:
    out = StringIO()
    call_command("create_api_key", *args, "--json", stdout=out)
    return json.loads(out.getvalue())


def test_command_prints_key_and_secret_as_json_with_full_rights_by_default():
    printed = create_key_with_command("--name", "ci")
    api_key = ApiKey.objects.get(key=printed["api_key"])
    assert api_key.name == "ci"
    assert api_key.permissions == [ApiPermission.GLOBAL_ADMIN]
    assert api_key.has_permission(ApiPermission.SESSIONS_MODIFY)


def test_secret_is_stored_only_as_its_hash():
    printed = create_key_with_command("--name", "ci")
    api_key = ApiKey.objects.get(key=printed["api_key"])
    stored_values = [str(value) for value in ApiKey.objects.filter(pk=api_key.pk).values().get().values()]
    assert all(printed["api_key_secret"] not in value for value in stored_values)
    assert api_key.secret_hash == hash_secret(printed["api_key_secret"])


def test_permissions_and_owner_are_recorded(alice):
    printed = create_key_with_command(
        "--name", "viewer", "--user", ALICE, "--permission", "sessions_view", "--permission", "images_view"
    )
    api_key = ApiKey.objects.get(key=printed["api_key"])
    assert api_key.owner == alice
    assert api_key.permissions == ["sessions_view", "images_view"]
    assert api_key.has_permission(ApiPermission.IMAGES_VIEW)
    assert not api_key.has_permission(ApiPermission.SESSIONS_MODIFY)


def test_unknown_owner_is_a_clear_error():
    with pytest.raises(CommandError, match="No user named 'nobody'"):
        create_key_with_command("--name", "x", "--user", "nobody")
    assert not ApiKey.objects.exists()


def test_unknown_permission_is_refused_by_the_service():
    with pytest.raises(ApplicationError, match="Unknown permission"):
        api_key_create(name="x", permissions=["root"])


def test_right_secret_authenticates_and_records_use():
    issued = api_key_create(name="ci")
    assert api_key_authenticate(key=issued.api_key.key, secret=issued.secret) == issued.api_key
    issued.api_key.refresh_from_db()
    assert issued.api_key.last_used_at is not None


def test_the_last_use_is_written_at_most_once_a_minute(django_assert_num_queries):
    issued = api_key_create(name="ci")
    api_key_authenticate(key=issued.api_key.key, secret=issued.secret)
    first_use = ApiKey.objects.get(pk=issued.api_key.pk).last_used_at
    with django_assert_num_queries(1):  # the key's read, no write
        api_key_authenticate(key=issued.api_key.key, secret=issued.secret)
    assert ApiKey.objects.get(pk=issued.api_key.pk).last_used_at == first_use
    ApiKey.objects.filter(pk=issued.api_key.pk).update(last_used_at=first_use - timedelta(minutes=1))
    api_key_authenticate(key=issued.api_key.key, secret=issued.secret)
    assert ApiKey.objects.get(pk=issued.api_key.pk).last_used_at > first_use


def test_wrong_secret_disabled_and_expired_keys_are_refused():
    issued = api_key_create(name="ci")
    with pytest.raises(ApplicationError, match="Invalid API key or secret"):
        api_key_authenticate(key=issued.api_key.key, secret="wrong")
    ApiKey.objects.filter(pk=issued.api_key.pk).update(enabled=False)
    with pytest.raises(ApplicationError, match="is disabled"):
        api_key_authenticate(key=issued.api_key.key, secret=issued.secret)
    ApiKey.objects.filter(pk=issued.api_key.pk).update(enabled=True, expires_at=timezone.now() - timedelta(1))
    with pytest.raises(ApplicationError, match="expired"):
        api_key_authenticate(key=issued.api_key.key, secret=issued.secret)

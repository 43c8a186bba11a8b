from io import StringIO

import pytest
from django.core.management import call_command

from apps.agents.models import ManagerToken
from apps.agents.services import manager_token_is_valid

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command("manager_token", *args, stdout=out)
    return out.getvalue().strip()


def test_rotate_prints_a_token_that_is_stored_only_hashed():
    token = run("--rotate")
    assert manager_token_is_valid(token)
    assert not ManagerToken.objects.filter(token_hash=token).exists() and len(token) >= 40


def test_rotate_keeps_the_old_token_working_for_the_grace_window():
    old = run("--rotate")
    new = run("--rotate", "--grace-minutes", "30")
    assert manager_token_is_valid(old) and manager_token_is_valid(new)
    assert "valid until" in run("--list") and "current" in run("--list")


def test_rotate_without_grace_refuses_the_old_token_at_once():
    old = run("--rotate")
    run("--rotate", "--grace-minutes", "0")
    assert not manager_token_is_valid(old)


def test_ensure_file_writes_a_private_token_once(tmp_path):
    token_file = tmp_path / "manager_token"
    run("--ensure-file", str(token_file))
    token = token_file.read_text()
    assert manager_token_is_valid(token) and token_file.stat().st_mode & 0o777 == 0o600
    run("--ensure-file", str(token_file))
    assert token_file.read_text() == token and ManagerToken.objects.count() == 1


def test_ensure_file_replaces_a_token_the_manager_no_longer_accepts(tmp_path):
    token_file = tmp_path / "manager_token"
    token_file.write_text("stale")
    run("--ensure-file", str(token_file))
    assert manager_token_is_valid(token_file.read_text())

"""The published Python client of Kasm's Developer API (`kasm` on PyPI), unpatched, against a
running server: images, users, and a session requested, checked, kept alive and destroyed."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from apps.accounts.services import api_key_create
from apps.common.units import GIB
from apps.images.models import Image
from apps.sessions.choices import SessionStatus
from apps.sessions.models import Session
from tests.agents.factories import agent
from tests.servers import running_daphne

pytestmark = pytest.mark.django_db(transaction=True)
CALLS = Path(__file__).with_name("kasm_client_calls.py")


def test_the_published_kasm_client_drives_images_users_and_sessions(live_database_url, redis_url, tmp_path):
    # An agent no worker serves: the session is placed and stays starting, which the calls allow.
    agent("pykasm-host", cores=4, memory=8 * GIB)
    image = Image.objects.create(docker_image="kasm-local/busybox-test:latest", friendly_name="Busybox", memory=GIB)
    issued = api_key_create(name="pykasm")
    with running_daphne({"DATABASE_URL": live_database_url, "REDIS_URL": redis_url}) as base_url:
        run = subprocess.run(
            [sys.executable, str(CALLS), f"{base_url}/", issued.api_key.key, issued.secret, image.hex_id],
            cwd=tmp_path,
            env={"PATH": "/usr/bin:/bin"},
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert run.returncode == 0, run.stderr
    answers = json.loads(run.stdout)
    assert [i["friendly_name"] for i in answers["images"]["images"]] == ["Busybox"]
    user = answers["created"]["user"]
    assert (user["username"], user["first_name"]) == ("erin@example.com", "Erin")
    assert answers["user"]["user"]["user_id"] == user["user_id"]
    assert answers["updated"]["user"]["last_name"] == "Example"
    assert "erin@example.com" in [u["username"] for u in answers["users"]["users"]]
    kasm_id = answers["requested"]["kasm_id"]
    assert answers["requested"]["kasm_url"].startswith(f"/#/connect/kasm/{kasm_id}/{user['user_id']}/")
    assert answers["status"]["operational_status"] == SessionStatus.PROVISIONING
    assert answers["keepalive"] == {"usage_reached": False} and answers["destroyed"] == {}
    assert Session.objects.get(pk=kasm_id).status == SessionStatus.DELETING

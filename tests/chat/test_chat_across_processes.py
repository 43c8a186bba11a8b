"""Two daphne processes on one Redis layer serve the same share chat."""

import json

import pytest
from django.test import Client
from websockets.sync.client import connect

from tests.personas import ALICE, CAROL
from tests.servers import running_daphne

pytestmark = pytest.mark.django_db(transaction=True)


def session_cookie(user) -> str:
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}"


def chat_socket(base_url: str, share_id: str, user):
    url = base_url.replace("http", "ws") + f"/ws/share/{share_id}/chat/"
    return connect(url, origin=base_url, additional_headers={"Cookie": session_cookie(user)}, open_timeout=10)


def next_of(websocket, kind: str) -> dict:
    while True:
        message = json.loads(websocket.recv(timeout=10))
        if message["type"] == kind:
            return message


def test_two_daphne_processes_share_one_chat(shared_session, alice, carol, live_database_url, redis_url):
    env = {"DATABASE_URL": live_database_url, "REDIS_URL": redis_url}
    with (
        running_daphne(env) as first,
        running_daphne(env) as second,
        chat_socket(first, shared_session.share_id, alice) as owner,
    ):
        next_of(owner, "history")
        with chat_socket(second, shared_session.share_id, carol) as viewer:
            next_of(viewer, "history")
            while next_of(owner, "presence")["users"] != sorted([ALICE, CAROL]):
                pass  # alice's own presence first, then carol's arrival from the other process
            viewer.send(json.dumps({"type": "message", "body": "from the second process"}))
            received = next_of(owner, "message")
            assert (received["sender"], received["body"]) == (CAROL, "from the second process")
            assert next_of(viewer, "message")["body"] == "from the second process"  # its own, delivered too
            owner.send(json.dumps({"type": "message", "body": "back from the first"}))
            assert next_of(viewer, "message")["body"] == "back from the first"

"""Run by tests/sessions/test_kasm_client.py in its own process: the published `kasm` client (PyPI)
is imported as `kasm`, which inside the suite names this project's Django package.

usage: python kasm_client_calls.py URL KEY SECRET IMAGE_ID   (prints one JSON object of answers)
"""

import json
import sys

from kasm.clients.sync.clients import SyncClient


def main() -> None:
    url, key, secret, image_id = sys.argv[1:5]
    client = SyncClient(key, secret, url=url)
    answers = {"images": client.images.get().json()}
    created = client.users.create("erin@example.com", "erin-password-1", first_name="Erin").json()
    user_id = created["user"]["user_id"]
    answers["created"] = created
    answers["user"] = client.users.get(user_id=user_id).json()
    answers["updated"] = client.users.update(user_id=user_id, last_name="Example").json()
    answers["users"] = client.users.get().json()
    requested = client.sessions.request(user_id=user_id, image_id=image_id, client_timezone="Europe/Paris").json()
    answers["requested"] = requested
    answers["status"] = client.sessions.status(user_id=user_id, session_id=requested["kasm_id"]).json()
    answers["keepalive"] = client.sessions.keepalive(session_id=requested["kasm_id"]).json()
    answers["destroyed"] = client.sessions.destroy(user_id=user_id, session_id=requested["kasm_id"]).json()
    print(json.dumps(answers))


if __name__ == "__main__":
    main()

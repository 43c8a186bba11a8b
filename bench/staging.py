"""Request to RFB greeting through the proxy: staged vs unstaged launches of the same image.

Each run is `request_kasm` over HTTP, then a desktop WebSocket through the proxy (with the API's
cookies, as an integration's page connects) until the proxy's RFB greeting arrives; the clock runs
from the request to the greeting. Unstaged, the request starts a container; staged, a staging pool
keeps one started (the bench fills it and waits before each staged run, as a pool's sessions are
ready long before a request) and the request takes it. Target: staged p50 under 50 ms. The proxy
greets while it connects to the container, so the bench also times the rest of the handshake, to
the container's ServerInit (its first bytes).

Runs a manager worker, the local agent worker and daphne on a throwaway database.

usage: DATABASE_URL=... REDIS_URL=redis://... python bench/staging.py [--runs 20] [--image busybox|desktop]
"""

import argparse
import os
import time

import requests
from _django import ROOT, percentile, running_workers, test_database
from django.conf import settings
from websockets.sync.client import connect

from apps.accounts.services import api_key_create
from apps.agents.local_images import RECIPES, local_image_build
from apps.images.models import Image
from apps.sessions.api.public.formats import user_public_id
from apps.sessions.choices import SessionStatus
from apps.sessions.models import Session, StagingPool
from apps.sessions.services import session_destroy
from apps.sessions.staging import staging_fill
from tests.conftest import remove_containers_of_agent
from tests.servers import running_daphne
from tests.workers import wait_for

GREETING = b"RFB 003.008\n"
ANSWERED: list[float] = []  # seconds until request_kasm answered, per run
SERVER_INIT: list[float] = []  # seconds until the container's ServerInit reached the client, per run


def greeting_seconds(base_url: str, body: dict) -> float:
    """From request_kasm to the proxy's RFB greeting. The browser's handshake then goes on to the
    container's ServerInit, its first bytes (timed in SERVER_INIT)."""
    started = time.perf_counter()
    answer = requests.post(f"{base_url}/api/public/request_kasm", json=body, timeout=60).json()
    ANSWERED.append(time.perf_counter() - started)
    cookie = {"Cookie": f"username={answer['username']}; session_token={answer['session_token']}"}
    url = base_url.replace("http", "ws") + f"/desktop/{answer['kasm_id']}/vnc/websockify"
    while time.perf_counter() - started < 90:
        try:
            with connect(url, origin=base_url, additional_headers=cookie, open_timeout=10) as websocket:
                if websocket.recv(timeout=10)[:12] == GREETING:
                    greeted = time.perf_counter() - started
                    server_init_received(websocket)
                    SERVER_INIT.append(time.perf_counter() - started)
                    return greeted
        except Exception:  # not running yet: the proxy refuses; try again
            time.sleep(0.02)
    raise TimeoutError("no RFB greeting in 90 s")


def server_init_received(websocket) -> None:
    """The rest of a browser's handshake (security None, shared ClientInit) up to ServerInit."""
    websocket.send(GREETING)
    received = b""
    while len(received) < 2:  # security types: [None]
        received += websocket.recv(timeout=10)
    websocket.send(b"\x01")
    while len(received) < 6:  # SecurityResult OK
        received += websocket.recv(timeout=10)
    websocket.send(b"\x01")  # ClientInit, shared
    received = received[6:]
    while len(received) < 24:  # width, height, pixel format, name length
        received += websocket.recv(timeout=10)


def destroy_the_users_sessions(username: str) -> None:
    for session in Session.objects.filter(owner__username=username).exclude(status__in=SessionStatus.GONE):
        session_destroy(session=session)
    wait_for(
        lambda: not Session.objects.filter(owner__username=username).exclude(status=SessionStatus.DELETED).exists(),
        timeout=60,
        what="the user's sessions deleted",
    )


def staged_ready() -> None:
    staging_fill()
    wait_for(
        lambda: Session.objects.filter(staged_pool__isnull=False, status=SessionStatus.RUNNING).exists(),
        timeout=90,
        what="a staged session",
    )


def main() -> None:
    from django.contrib.auth import get_user_model

    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--image", choices=["busybox", "desktop"], default="desktop")
    args = parser.parse_args()
    recipe = RECIPES[0] if args.image == "busybox" else RECIPES[1]
    local_image_build(recipe, docker_url=settings.DOCKER_URL)
    with test_database() as database_url, running_workers(database_url, node="staging") as env:
        user = get_user_model().objects.create_user(username="bench")
        image = Image.objects.create(docker_image=recipe.tag, friendly_name="Bench", cores=0.5, memory=recipe.memory)
        issued = api_key_create(name="bench")
        body = {"api_key": issued.api_key.key, "api_key_secret": issued.secret}
        body |= {"user_id": user_public_id(user), "image_id": image.hex_id}
        figures = {"unstaged": [], "staged": [], "staged, request_kasm alone": [], "staged, to ServerInit": []}
        try:
            with running_daphne(env) as base_url:
                greeting_seconds(base_url, body)  # warm-up: imports, connections, the image's first start
                destroy_the_users_sessions("bench")
                for run in range(args.runs):
                    unstaged = greeting_seconds(base_url, body)
                    destroy_the_users_sessions("bench")
                    if run == 0:
                        StagingPool.objects.create(image=image, ready_target=1, max_total=1)
                    staged_ready()
                    staged = greeting_seconds(base_url, body)
                    destroy_the_users_sessions("bench")
                    figures["unstaged"].append(unstaged)
                    figures["staged"].append(staged)
                    figures["staged, request_kasm alone"].append(ANSWERED[-1])
                    figures["staged, to ServerInit"].append(SERVER_INIT[-1])
                    line = f"run {run + 1:2d}: unstaged {unstaged * 1000:7.1f} ms, staged {staged * 1000:6.1f} ms"
                    line += f" (its request_kasm answered in {ANSWERED[-1] * 1000:5.1f} ms,"
                    print(f"{line} ServerInit in {SERVER_INIT[-1] * 1000:5.1f} ms)", flush=True)
        finally:
            remove_containers_of_agent(settings.DOCKER_URL, "bench")
    print(f"{args.runs} runs of {recipe.tag}: request_kasm -> RFB greeting through the proxy")
    for name, values in figures.items():
        print(
            f"{name:>26}: p50 {percentile(values, 0.5) * 1000:7.1f} ms   p95 {percentile(values, 0.95) * 1000:7.1f} ms"
            f"   max {max(values) * 1000:7.1f} ms"
        )
    ratio = percentile(figures["staged"], 0.5) / percentile(figures["unstaged"], 0.5)
    print(f"ratio staged / unstaged at p50: {ratio:.3f}")


if __name__ == "__main__":
    os.chdir(ROOT)
    main()

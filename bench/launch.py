"""Launch latency: request -> the workspace's RFB greeting arrives through our proxy, for N launches
of the busybox workspace, against plain `docker run` + waiting for the same handshake on the port.

Runs the real pieces: a manager worker, the local agent worker (Celery over Redis) and daphne, on a
throwaway database. Prints p50/p95 of both and our overhead. The first launches of each kind (two
by default: the manager and the agent run two worker processes each) warm up and are not counted.

usage: DATABASE_URL=... REDIS_URL=redis://... python bench/launch.py [--launches 20] [--warmup 2] [--image desktop]
"""

import argparse
import os
import time

from _django import ROOT, percentile, running_workers, test_database
from django.conf import settings
from websockets.sync.client import connect

from apps.agents.local_images import RECIPES, local_image_build
from apps.images.models import Image
from apps.sessions.choices import SessionStatus
from apps.sessions.models import Session
from apps.sessions.services import session_destroy, session_request
from tests.servers import running_daphne
from tests.workers import wait_for

RECIPE_BY_NAME = {recipe.name: recipe for recipe in RECIPES}


def wait_for_handshake(url: str, **connect_options) -> None:
    """Connect until the RFB greeting arrives. Direct, the port refuses until the workspace listens
    (retried every 10 ms); through the proxy, the socket opened right after the request is held
    until the session runs, and the proxy greets only once it has authenticated to the workspace."""
    deadline = time.monotonic() + 60
    while True:
        try:
            with connect(url, open_timeout=2, compression=None, **connect_options) as websocket:
                assert websocket.recv(timeout=60).startswith(b"RFB 003.")
                return
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def baseline_launch(docker_client, tag: str) -> float:
    started = time.perf_counter()
    container = docker_client.containers.run(
        tag, detach=True, environment={"VNC_PW": "baseline"}, ports={"6901/tcp": ("127.0.0.1", None)}
    )
    container.reload()
    port = container.ports["6901/tcp"][0]["HostPort"]
    wait_for_handshake(f"ws://127.0.0.1:{port}/websockify")
    elapsed = time.perf_counter() - started
    container.remove(force=True)
    return elapsed


def platform_launch(base_url: str, user, image) -> tuple[float, float]:
    """(request -> greeting through the proxy, request -> running as the manager recorded it)."""
    started = time.perf_counter()
    requested = session_request(user=user, image=image)
    session = requested.session
    url = base_url.replace("http", "ws") + f"/desktop/{session.hex_id}/vnc/websockify"
    headers = {"Cookie": f"username={user.username}; session_token={requested.session_token}"}
    wait_for_handshake(url, origin=base_url, additional_headers=headers)
    elapsed = time.perf_counter() - started
    session = Session.objects.get(pk=session.pk)
    to_running = (session.started_at - session.created_at).total_seconds()
    session_destroy(session=session)
    wait_for(lambda: Session.objects.get(pk=session.pk).status == SessionStatus.DELETED, what="deleted")
    return elapsed, to_running


def main() -> None:
    import docker

    parser = argparse.ArgumentParser()
    parser.add_argument("--launches", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=2, help="launches of each kind run first and not counted")
    parser.add_argument("--image", choices=sorted(RECIPE_BY_NAME), default="busybox-test")
    args = parser.parse_args()
    recipe = RECIPE_BY_NAME[args.image]
    local_image_build(recipe, docker_url=settings.DOCKER_URL)
    client = docker.DockerClient(base_url=settings.DOCKER_URL)
    with test_database() as database_url:
        from django.contrib.auth import get_user_model

        with running_workers(database_url, node="bm") as env:
            user = get_user_model().objects.create_user(username="bench")
            # the resources the workspace is registered with (build_workspace_images)
            image = Image.objects.create(
                docker_image=recipe.tag, friendly_name=recipe.name, cores=recipe.cores, memory=recipe.memory
            )
            with running_daphne(env) as base_url:
                for _ in range(args.warmup):  # each worker process's first task pays its start-up
                    baseline_launch(client, recipe.tag)
                    platform_launch(base_url, user, image)
                ours, plain, to_running = [], [], []
                for _ in range(args.launches):
                    plain.append(baseline_launch(client, recipe.tag))
                    elapsed, running = platform_launch(base_url, user, image)
                    ours.append(elapsed)
                    to_running.append(running)
    print(f"{args.launches} launches of {recipe.tag} after {args.warmup} not counted, ready = RFB greeting received")
    for name, values in (
        ("docker run + wait", plain),
        ("platform + proxy", ours),
        ("of which to running", to_running),  # the manager's record: request -> the agent's report
    ):
        print(
            f"{name:>19}: p50 {1000 * percentile(values, 0.5):7.1f} ms   p95 {1000 * percentile(values, 0.95):7.1f} ms"
        )
    p50_overhead = percentile(ours, 0.5) / percentile(plain, 0.5) - 1
    p95_overhead = percentile(ours, 0.95) / percentile(plain, 0.95) - 1
    print(f"overhead: p50 {100 * p50_overhead:+.0f} %, p95 {100 * p95_overhead:+.0f} %")


if __name__ == "__main__":
    os.chdir(ROOT)
    main()

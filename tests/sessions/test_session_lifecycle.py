"""A session end to end on the real engine, broker and database: launch, reach it through the
proxy with the API's cookies, destroy it; and the proxy refusing everyone else."""

from datetime import timedelta

import docker
import pytest
import requests
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from apps.accounts.services import api_key_create
from apps.agents.models import Agent
from apps.sessions.api.public.formats import user_public_id
from apps.sessions.choices import SessionStatus
from apps.sessions.models import Session
from apps.sessions.services import session_destroy, session_request
from tests.sessions.rfb_client import handshake_as_browser
from tests.workers import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def status_of(session: Session) -> str:
    return Session.objects.get(pk=session.pk).status


def wait_for_status(session: Session, status: str, timeout: float = 60) -> Session:
    wait_for(lambda: status_of(session) in (status, SessionStatus.ERROR), timeout=timeout, what=status)
    session.refresh_from_db()
    assert session.status == status, session.status_message
    return session


def cookies_for(session: Session, token: str) -> dict:
    return {"username": session.owner.username, "session_token": token}


def ws_url(base_url: str, session: Session) -> str:
    return base_url.replace("http", "ws") + f"/desktop/{session.hex_id}/vnc/websockify"


def cookie_header(cookies: dict) -> str:
    return "; ".join(f"{name}={value}" for name, value in cookies.items())


def assert_desktop_echoes(base_url: str, session: Session, token: str) -> None:
    """The busybox workspace is reachable through the proxy: its RFB stream echoes what we send."""
    header = {"Cookie": cookie_header(cookies_for(session, token))}
    with connect(ws_url(base_url, session), origin=base_url, additional_headers=header, open_timeout=10) as websocket:
        stream = handshake_as_browser(websocket)
        websocket.send(b"\x01\x00ping")
        assert stream.read(6) == b"\x01\x00ping"


def request_kasm_over_http(base_url: str, user, image) -> tuple[Session, str]:
    """A launch as an integration makes it: `request_kasm` to the running server."""
    issued = api_key_create(name="integration")
    body = {"api_key": issued.api_key.key, "api_key_secret": issued.secret}
    body |= {"user_id": user_public_id(user), "image_id": image.hex_id}
    answer = requests.post(f"{base_url}/api/public/request_kasm", json=body, timeout=30)
    assert answer.status_code == 200, answer.text
    assert answer.json()["username"] == user.username
    return Session.objects.get(pk=answer.json()["kasm_id"]), answer.json()["session_token"]


def test_busybox_session_launches_is_reachable_through_the_proxy_and_is_destroyed(
    platform, alice, busybox_image, docker_url
):
    session, session_token = request_kasm_over_http(platform, alice, busybox_image)
    session = wait_for_status(session, SessionStatus.RUNNING)
    container = docker.DockerClient(base_url=docker_url).containers.get(session.container_id)
    config = container.attrs["HostConfig"]
    assert config["NanoCpus"] == 500_000_000 and config["Memory"] == busybox_image.memory
    assert config["PortBindings"]["6901/tcp"][0]["HostIp"] == "127.0.0.1"
    assert "no-new-privileges" in config["SecurityOpt"] and config["CapDrop"] == ["ALL"] and not config["Privileged"]
    environment = dict(item.split("=", 1) for item in container.attrs["Config"]["Env"])
    assert environment["VNC_PW"] == session.vnc_password and environment["KASM_USER"] == alice.username
    assert container.labels["org.kasm-local.session"] == session.hex_id
    assert container.labels["org.kasm-local.user"] == alice.username
    assert container.name == f"kasm-alice-example.com-{session.hex_id}"
    assert config["NetworkMode"] == "kasm-sessions"  # isolated and firewalled; the proxy reaches it below

    cookies = cookies_for(session, session_token)
    page = requests.get(f"{platform}/desktop/{session.hex_id}/vnc/vnc.html", cookies=cookies, timeout=10)
    assert page.status_code == 404  # the container's own pages never reach our origin: only its WebSocket
    with connect(
        ws_url(platform, session),
        origin=platform,
        additional_headers={"Cookie": cookie_header(cookies)},
        subprotocols=["binary"],
        open_timeout=10,
    ) as websocket:
        stream = handshake_as_browser(websocket)
        payload = b"\x01\x00echo through the proxy\x00"
        websocket.send(payload)
        assert stream.read(len(payload)) == payload

    session_destroy(session=session, reason="test")
    wait_for_status(session, SessionStatus.DELETED)
    with pytest.raises(docker.errors.NotFound):
        docker.DockerClient(base_url=docker_url).containers.get(session.container_id)
    agent = Agent.objects.get(hostname="local")
    assert (agent.reserved_cores, agent.reserved_sessions) == (0, 0)


def test_the_proxy_refuses_wrong_missing_or_foreign_credentials_and_bad_origins(
    platform, alice, django_user_model, busybox_image
):
    mallory = django_user_model.objects.create_user(username="mallory", password="mallory-pw-1")
    mine = session_request(user=alice, image=busybox_image)
    theirs = session_request(user=mallory, image=busybox_image)
    session = wait_for_status(mine.session, SessionStatus.RUNNING)
    wait_for_status(theirs.session, SessionStatus.RUNNING)
    http_url = f"{platform}/desktop/{session.hex_id}/vnc/"
    refused = [
        {},
        {"username": alice.username, "session_token": "wrong"},
        {"username": "mallory", "session_token": theirs.session_token},  # another user's token
        {"username": alice.username, "session_token": theirs.session_token},
    ]
    for cookies in refused:
        assert requests.get(http_url, cookies=cookies, timeout=10).status_code == 403, cookies
        with pytest.raises(Exception, match="403"):
            connect(ws_url(platform, session), origin=platform, additional_headers={"Cookie": cookie_header(cookies)})
    good = cookie_header(cookies_for(session, mine.session_token))
    with pytest.raises(Exception, match="403"):
        connect(ws_url(platform, session), origin="http://evil.example", additional_headers={"Cookie": good})
    with connect(ws_url(platform, session), origin=platform, additional_headers={"Cookie": good}) as websocket:
        handshake_as_browser(websocket)


def test_desktop_session_authenticates_to_vnc_with_its_secret_behind_the_proxy(platform, alice, desktop_image):
    requested = session_request(user=alice, image=desktop_image)
    session = wait_for_status(requested.session, SessionStatus.RUNNING, timeout=120)
    cookies = cookie_header(cookies_for(session, requested.session_token))
    with connect(
        ws_url(platform, session), origin=platform, additional_headers={"Cookie": cookies}, open_timeout=10
    ) as websocket:
        stream = handshake_as_browser(websocket)
        websocket.send(b"\x01")  # ClientInit, shared
        width, height = int.from_bytes(stream.read(2), "big"), int.from_bytes(stream.read(2), "big")
        assert (width, height) == (1280, 800)
    session_destroy(session=session)
    wait_for_status(session, SessionStatus.DELETED)


def test_launch_of_a_missing_image_ends_in_error_and_releases_the_reservation(platform, alice, busybox_image):
    busybox_image.docker_image = "kasm-local/not-built-anywhere:1"
    busybox_image.save()
    requested = session_request(user=alice, image=busybox_image)
    wait_for(lambda: status_of(requested.session) == SessionStatus.ERROR, timeout=60, what="error")
    requested.session.refresh_from_db()
    assert "not-built-anywhere" in requested.session.status_message
    assert Agent.objects.get(hostname="local").reserved_sessions == 0


def test_exec_command_runs_in_the_container_through_the_developer_api(platform, alice, busybox_image):
    from django.test import Client

    from apps.accounts.services import api_key_create
    from apps.sessions.api.public.formats import user_public_id

    issued = api_key_create(name="exec", permissions=["sessions_modify", "sessions_view"])
    session = wait_for_status(session_request(user=alice, image=busybox_image).session, SessionStatus.RUNNING)
    body = {
        "api_key": issued.api_key.key,
        "api_key_secret": issued.secret,
        "user_id": user_public_id(alice),
        "kasm_id": session.hex_id,
        "exec_config": {"cmd": "sh -c 'echo hello from $KASM_USER'", "workdir": "/tmp"},
    }

    def api(name: str, fields: dict) -> dict:
        response = Client().post(f"/api/public/{name}", fields, content_type="application/json")
        assert response.status_code == 200, response.json()
        return response.json()

    def finished(exec_id: str) -> dict:
        fields = {**body, "exec_id": exec_id}
        return wait_for(lambda: (answer := api("get_exec_command_kasm", fields))["status"] != "running" and answer)

    started = api("exec_command_kasm", body)
    outcome = finished(started["exec_id"])
    assert (outcome["status"], outcome["exit_code"]) == ("done", 0)
    assert outcome["output"].strip() == f"hello from {alice.username}"
    # The call answers while the command still runs: a client never waits on it.
    body["exec_config"]["cmd"] = "sh -c 'sleep 4; echo slept'"
    started = api("exec_command_kasm", body)
    assert started["status"] == "running"
    assert api("get_exec_command_kasm", {**body, "exec_id": started["exec_id"]})["status"] == "running"
    assert finished(started["exec_id"])["output"].strip() == "slept"
    body["exec_config"]["user"] = "root"
    response = Client().post("/api/public/exec_command_kasm", body, content_type="application/json")
    assert response.status_code == 403


def test_pause_freezes_stop_exits_and_resume_makes_it_reachable_again(platform, alice, busybox_image, docker_url):
    from apps.sessions.services import session_pause, session_resume, session_stop

    requested = session_request(user=alice, image=busybox_image)
    session = wait_for_status(requested.session, SessionStatus.RUNNING)
    engine = docker.DockerClient(base_url=docker_url)
    for stop, held, state in (
        (session_pause, SessionStatus.PAUSED, "paused"),
        (session_stop, SessionStatus.STOPPED, "exited"),
    ):
        stop(session=session)
        session = wait_for_status(session, held)
        assert engine.containers.get(session.container_id).status == state
        assert Agent.objects.get(hostname="local").reserved_sessions == 1  # a resume always fits
        session_resume(session=session)
        session = wait_for_status(session, SessionStatus.RUNNING)
        assert_desktop_echoes(platform, session, requested.session_token)
    session_destroy(session=session)
    wait_for_status(session, SessionStatus.DELETED)


def test_restarting_the_manager_loses_nothing(
    live_database_url, redis_url, docker_url, built_images, alice, busybox_image
):
    from apps.agents.services import manager_token_rotate
    from tests.conftest import remove_containers_of_agent
    from tests.servers import running_daphne
    from tests.workers import Workers, worker_env

    token = manager_token_rotate(grace=timedelta(minutes=5))
    env = worker_env(live_database_url, redis_url)
    workers = Workers(env)
    workers.start_manager(node="mgr-r", concurrency=1)
    workers.start_agent("local", docker_url, token, concurrency=2)
    try:
        wait_for(lambda: Agent.objects.filter(hostname="local").exists(), what="agent registered")
        requested = session_request(user=alice, image=busybox_image)
        session = wait_for_status(requested.session, SessionStatus.RUNNING)
        workers.stop("manager")  # daphne is not running either: the whole manager side is down
        workers.start_manager(node="mgr-r", concurrency=1)
        with running_daphne(env) as base_url:
            assert_desktop_echoes(base_url, session, requested.session_token)
        session_destroy(session=Session.objects.get(pk=session.pk))
        wait_for_status(session, SessionStatus.DELETED)
    finally:
        workers.stop_all()
        remove_containers_of_agent(docker_url, "local")


def test_a_persistent_profile_keeps_the_users_files_across_sessions_and_a_reset_starts_fresh(
    platform, alice, busybox_image, docker_url
):
    from apps.agents.runtime.docker import container_exec
    from apps.sessions.models import PersistentProfile
    from apps.sessions.profiles import ProfileMode, persistent_profile_reset

    busybox_image.persistent_profile_path = "kasm-profile-{user_id}-{image_id}"
    busybox_image.save()

    def session_home(mode=ProfileMode.ENABLED) -> tuple[Session, str]:
        session = wait_for_status(
            session_request(user=alice, image=busybox_image, profile_mode=mode).session, "running"
        )
        return session, container_exec(docker_url, session.container_id, cmd=["sh", "-c", "cat $HOME/notes 2>&1"])[1]

    first, _ = session_home()
    container_exec(docker_url, first.container_id, cmd=["sh", "-c", "echo 'day one' > $HOME/notes"])
    session_destroy(session=first)
    wait_for_status(first, SessionStatus.DELETED)
    second, home = session_home()
    assert home == "day one\n"
    session_destroy(session=second)
    wait_for_status(second, SessionStatus.DELETED)
    volume = PersistentProfile.objects.get().source
    persistent_profile_reset(profile=PersistentProfile.objects.get())
    engine = docker.DockerClient(base_url=docker_url)
    wait_for(lambda: volume not in [v.name for v in engine.volumes.list()], what="the profile's volume removed")
    third, home = session_home()
    assert "No such file" in home
    session_destroy(session=third)
    wait_for_status(third, SessionStatus.DELETED)
    persistent_profile_reset(profile=PersistentProfile.objects.get())


def test_daphne_killed_and_restarted_leaves_running_sessions_alone(
    platform, live_database_url, redis_url, alice, busybox_image
):
    """A second daphne beside the platform's, killed under a live desktop socket and started again."""
    from tests.servers import daphne_process, free_port
    from tests.workers import worker_env

    env, port = worker_env(live_database_url, redis_url), free_port()
    requested = session_request(user=alice, image=busybox_image)
    session = wait_for_status(requested.session, SessionStatus.RUNNING)
    header = {"Cookie": cookie_header(cookies_for(session, requested.session_token))}
    with (
        daphne_process(env, port) as (base_url, daphne),
        connect(ws_url(base_url, session), origin=base_url, additional_headers=header) as websocket,
    ):
        stream = handshake_as_browser(websocket)
        daphne.kill()  # SIGKILL: no clean close for anyone
        daphne.wait(timeout=10)
        with pytest.raises(ConnectionClosed):
            websocket.send(b"\x01\x00ping")
            stream.read(6)
    # The platform's processes go on without it: the session stays running, its container up.
    agent = Agent.objects.get(hostname="local")
    wait_for(lambda: Agent.objects.get(pk=agent.pk).last_checkin_at > agent.last_checkin_at, what="a check-in")
    assert status_of(session) == SessionStatus.RUNNING
    with daphne_process(env, port) as (base_url, _daphne):  # restarted where the browser looks for it
        assert_desktop_echoes(base_url, session, requested.session_token)
    session_destroy(session=Session.objects.get(pk=session.pk))
    wait_for_status(session, SessionStatus.DELETED)


def test_a_staged_session_is_claimed_running_and_reached_through_the_proxy_at_once(platform, alice, busybox_image):
    from apps.sessions.models import StagingPool
    from apps.sessions.staging import staging_fill

    pool = StagingPool.objects.create(image=busybox_image, ready_target=1, max_total=1)
    staging_fill()
    (staged,) = pool.sessions.all()
    wait_for_status(staged, SessionStatus.RUNNING)
    requested = session_request(user=alice, image=busybox_image)
    assert requested.session.pk == staged.pk and requested.session.status == SessionStatus.RUNNING
    assert_desktop_echoes(platform, requested.session, requested.session_token)  # no start to wait for
    staging_fill()  # the pool starts its next one
    wait_for(lambda: pool.sessions.filter(status=SessionStatus.RUNNING).exists(), what="the pool refilled")
    for session in Session.objects.all():
        session_destroy(session=session)
    wait_for(lambda: set(Session.objects.values_list("status", flat=True)) == {SessionStatus.DELETED}, what="gone")

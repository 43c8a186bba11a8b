"""Session calls: request, status, list, screenshot, stop/pause/resume, destroy, keepalive, join,
and commands run in a session."""

from __future__ import annotations

from datetime import timedelta

import websockets
from django.db.models import Avg, Count, F, Max
from django.http import HttpResponse
from django.utils import timezone

from apps.accounts.choices import ApiPermission as P
from apps.accounts.models import ApiKey
from apps.accounts.services import anonymous_user_create
from apps.agents.models import AgentStat
from apps.common.errors import ApplicationError
from apps.images.models import Image
from apps.sessions.api.public import formats as fmt
from apps.sessions.api.public.dispatch import call
from apps.sessions.api.public.inputs import ApiError, Flag, Input, JsonObject, PublicId, Text, WholeNumber, validated
from apps.sessions.api.public.lookups import acting_user, session_of
from apps.sessions.choices import SessionStatus
from apps.sessions.exec_commands import exec_user_checked, session_command_start
from apps.sessions.links import session_link_create
from apps.sessions.models import Session, SessionCommand
from apps.sessions.profiles import profile_mode_parsed
from apps.sessions.rfb import RfbError
from apps.sessions.screenshot import MAX_WIDTH as MAX_SCREENSHOT_WIDTH
from apps.sessions.screenshot import session_frame, session_screenshot
from apps.sessions.services import (
    session_destroy,
    session_keepalive,
    session_pause,
    session_request,
    session_resume,
    session_stop,
)
from apps.sessions.sharing import share_join, shared_session_get


class UserOfCall(Input):
    user_id = PublicId()


class KasmOfUser(Input):
    kasm_id = PublicId()
    user_id = PublicId()


class Kasm(Input):
    """A session named without its user: the key's own user's, or any for a key of no user."""

    kasm_id = PublicId()


class RequestKasm(Input):
    """group_id, connection_info, server_id and egress_gateway_id are accepted and not used."""

    user_id = PublicId(required=False)
    image_id = PublicId(required=False)
    image_name = Text(required=False)
    environment = JsonObject(default=dict)
    enable_sharing = Flag(default=False)
    kasm_url = Text(default="")
    client_language = Text(default="")
    client_timezone = Text(default="")
    persistent_profile_mode = Text(default="enabled")


class Screenshot(KasmOfUser):
    width = WholeNumber(required=False)


class JoinKasm(Input):
    user_id = PublicId(required=False)
    shared_id = Text()


class ExecConfig(Input):
    cmd = Text()
    workdir = Text(default="")
    environment = JsonObject(default=dict)
    user = Text(default="")
    privileged = Flag(default=False)


class ExecCommand(KasmOfUser):
    exec_config = ExecConfig()


class ExecCommandOutcome(KasmOfUser):
    exec_id = PublicId()


def _own_session(api_key: ApiKey, body: dict) -> Session:
    return _named_session(api_key, validated(KasmOfUser, body))


def _named_session(api_key: ApiKey, given: dict) -> Session:
    """The session a checked body names by kasm_id, which must be its user_id's."""
    return session_of(given["kasm_id"], acting_user(api_key, given["user_id"]))


@call("request_kasm", P.SESSIONS_MODIFY)
def request_kasm(api_key: ApiKey, body: dict) -> dict:
    """Without image_id (or image_name), the user's default workspace (theirs, else their groups').
    Without user_id, a temporary user, deleted with its session, as Kasm's anonymous sessions."""
    given = validated(RequestKasm, body)
    named_user = acting_user(api_key, given["user_id"]) if "user_id" in given else None
    if named_user is None and api_key.owner_id:
        raise ApiError(403, f"This API key acts as '{api_key.owner}': name their user_id.")
    image = _requested_image(given)
    profile_mode = profile_mode_parsed(given["persistent_profile_mode"])
    user = named_user or anonymous_user_create()
    try:
        requested = session_request(
            user=user,
            image=image,
            kasm_url=given["kasm_url"],
            environment=given["environment"],
            language=given["client_language"],
            timezone_name=given["client_timezone"],
            profile_mode=profile_mode,
            shared=given["enable_sharing"],
        )
    except ApplicationError:
        if named_user is None:
            user.delete()  # the temporary user of a request that made no session
        raise
    session = requested.session
    return {
        "kasm_id": session.hex_id,
        "status": "starting",
        "share_id": session.share_id,
        "user_id": fmt.user_public_id(user),
        "username": user.username,
        "session_token": requested.session_token,
        "kasm_url": session_link_create(session=session, user_public_id=fmt.user_public_id(user)),
    }


def _requested_image(given: dict) -> Image | None:
    """The image by image_id, or by image_name (its Docker image, as some clients send); None: the default."""
    if "image_id" in given:
        image = Image.objects.filter(pk=given["image_id"]).first()
        if image is None:
            raise ApiError(404, f"No image with image_id '{given['image_id'].hex}'.")
        return image
    if "image_name" in given:
        name = given["image_name"]
        image = Image.objects.filter(docker_image=name, enabled=True, archived=False).order_by("created_at").first()
        if image is None:
            raise ApiError(404, f"No enabled image named '{name}'.")
        return image
    return None


@call("get_kasm_status", P.SESSIONS_VIEW)
def get_kasm_status(api_key: ApiKey, body: dict) -> dict:
    """Each answer carries a new self-opening kasm_url, as Kasm's does (the earlier ones stop working)."""
    session = _own_session(api_key, body)
    answer = {
        "operational_status": session.status,
        "operational_message": session.status_message,
        "operational_progress": fmt.progress(session.status),
        "kasm_url": session_link_create(session=session, user_public_id=fmt.user_public_id(session.owner)),
        "current_time": fmt.api_date(timezone.now()),
    }
    if session.status == SessionStatus.RUNNING:
        answer["kasm"] = fmt.kasm_dict(session)
    return answer


@call("get_kasms", P.SESSIONS_VIEW)
def get_kasms(api_key: ApiKey, body: dict) -> dict:
    return _live_sessions(owner_id=api_key.owner_id)


@call("get_user_kasms", P.SESSIONS_VIEW)
def get_user_kasms(api_key: ApiKey, body: dict) -> dict:
    return _live_sessions(owner_id=acting_user(api_key, validated(UserOfCall, body)["user_id"]).pk)


def _live_sessions(*, owner_id) -> dict:
    sessions = Session.objects.filter(status__in=SessionStatus.LIVE)
    if owner_id:
        sessions = sessions.filter(owner_id=owner_id)
    return {"kasms": fmt.kasm_dicts(sessions), "current_time": fmt.api_date(timezone.now())}


@call("get_kasm_screenshot", P.SESSIONS_VIEW)
def get_kasm_screenshot(api_key: ApiKey, body: dict) -> HttpResponse:
    """The desktop as image/jpeg, `width` pixels wide (default: the desktop's own width)."""
    given = validated(Screenshot, body)
    session = _named_session(api_key, given)
    width = given.get("width")
    if width is not None and not 1 <= width <= MAX_SCREENSHOT_WIDTH:
        raise ApiError(400, f"Field 'width' is from 1 to {MAX_SCREENSHOT_WIDTH} pixels.")
    return HttpResponse(_from_the_desktop(session_screenshot, session, width=width), content_type="image/jpeg")


@call("get_kasm_frame_stats", P.SESSIONS_VIEW)
def get_kasm_frame_stats(api_key: ApiKey, body: dict) -> dict:
    """One full frame of the desktop, timed as the proxy's own connection gets it: its size, the
    connection and authentication, and the update; `client_side` is empty (browsers report nothing)."""
    frame = _from_the_desktop(session_frame, _own_session(api_key, body))
    return {
        "frame": {"resx": frame.size[0], "resy": frame.size[1], "changed": 100, "server_time": round(frame.update_ms)},
        "server_side": [
            {"process": "connect_and_authenticate", "time": round(frame.connect_ms)},
            {"process": "full_frame_update", "time": round(frame.update_ms)},
        ],
        "client_side": [],
    }


STATS_WINDOW = timedelta(minutes=5)


@call("get_kasm_bottleneck_stats", P.SESSIONS_VIEW)
def get_kasm_bottleneck_stats(api_key: ApiKey, body: dict) -> dict:
    """What limits the session: its agent's CPU and memory over the last five minutes of check-ins."""
    session = _own_session(api_key, body)
    since = timezone.now() - STATS_WINDOW
    stats = AgentStat.objects.filter(agent_id=session.agent_id, recorded_at__gte=since).aggregate(
        cpu_average=Avg("cpu_percent"),
        cpu_max=Max("cpu_percent"),
        memory_average=Avg(F("memory_used") * 100.0 / F("memory_total")),
        memory_max=Max(F("memory_used") * 100.0 / F("memory_total")),
        samples=Count("pk"),
    )
    return {
        "kasm_id": session.hex_id,
        "bottleneck_stats": {
            "agent": session.agent.hostname if session.agent else None,
            "window_seconds": int(STATS_WINDOW.total_seconds()),
            "samples": stats["samples"],
            "cpu_percent": {"average": _rounded(stats["cpu_average"]), "max": _rounded(stats["cpu_max"])},
            "memory_percent": {"average": _rounded(stats["memory_average"]), "max": _rounded(stats["memory_max"])},
        },
    }


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _from_the_desktop(read, session: Session, **options):
    """`read(session, ...)` of a running session's desktop; 409 when not running, 502 when it does not answer."""
    if session.status != SessionStatus.RUNNING or not session.host_port:
        raise ApiError(409, f"The session is {session.status}; only a running session's desktop can be read.")
    try:
        return read(session, **options)
    except (OSError, TimeoutError, RfbError, websockets.WebSocketException) as error:
        raise ApiError(502, f"The session's desktop could not be read: {error or type(error).__name__}.") from None


@call("stop_kasm", P.SESSIONS_MODIFY)
def stop_kasm(api_key: ApiKey, body: dict) -> dict:
    """Stop the container (memory freed, files kept), keeping its reservation; resume_kasm starts it again."""
    session_stop(session=_own_session(api_key, body))
    return {}


@call("pause_kasm", P.SESSIONS_MODIFY)
def pause_kasm(api_key: ApiKey, body: dict) -> dict:
    """Freeze the container (docker pause), its memory kept; resume_kasm thaws it."""
    session_pause(session=_own_session(api_key, body))
    return {}


@call("resume_kasm", P.SESSIONS_MODIFY)
def resume_kasm(api_key: ApiKey, body: dict) -> dict:
    session_resume(session=_own_session(api_key, body))
    return {}


@call("destroy_kasm", P.SESSIONS_MODIFY)
def destroy_kasm(api_key: ApiKey, body: dict) -> dict:
    session_destroy(session=_own_session(api_key, body), reason="destroyed through the API")
    return {}


@call("keepalive", P.SESSIONS_MODIFY)
def keepalive(api_key: ApiKey, body: dict) -> dict:
    session_keepalive(session=session_of(validated(Kasm, body)["kasm_id"], api_key.owner))
    return {"usage_reached": False}


@call("get_session_recordings", P.SESSIONS_VIEW)
def get_session_recordings(api_key: ApiKey, body: dict) -> dict:
    """Sessions are not recorded: always an empty list, for clients that ask."""
    session_of(validated(Kasm, body)["kasm_id"], api_key.owner)
    return {"session_recordings": []}


@call("join_kasm", P.SESSIONS_MODIFY)
def join_kasm(api_key: ApiKey, body: dict) -> dict:
    """Join a shared session view-only. `kasm_url` opens the share page as that viewer in any browser,
    once (as request_kasm's link opens the session); the token is the viewer's `session_token`
    cookie for the proxy. Without user_id, a temporary viewer, deleted when the session ends."""
    given = validated(JoinKasm, body)
    named_user = acting_user(api_key, given["user_id"]) if "user_id" in given else None
    if named_user is None and api_key.owner_id:
        raise ApiError(403, f"This API key acts as '{api_key.owner}': name their user_id.")
    if shared_session_get(given["shared_id"]) is None:
        raise ApiError(404, "This share link is not valid any more: ask the owner for a new one.")
    user = named_user or anonymous_user_create()  # deleted when the shared session ends
    try:
        joined = share_join(share_id=given["shared_id"], user=user)
    except ApplicationError as error:
        if named_user is None:
            user.delete()
        raise ApiError(403, error.message) from None
    link = session_link_create(session=joined.session, user_public_id=fmt.user_public_id(user), viewer=joined.viewer)
    return {
        "kasm": fmt.kasm_dict(joined.session),
        "kasm_url": link,
        "session_token": joined.token,
        "username": user.username,
    }


@call("exec_command_kasm", P.SESSIONS_MODIFY)
def exec_command_kasm(api_key: ApiKey, body: dict) -> dict:
    """Starts the command and answers at once; its outcome is stored on its row, which
    get_exec_command_kasm reads (a client polls that, holding no server thread while it waits)."""
    given = validated(ExecCommand, body)
    session = _named_session(api_key, given)
    command = dict(given["exec_config"])
    global_admin = api_key.has_permission(P.GLOBAL_ADMIN)
    if command["privileged"] and not global_admin:
        raise ApiError(403, "Running privileged needs an API key with global_admin.")
    image_user = str((session.image.run_config or {}).get("user", ""))
    command["user"] = exec_user_checked(command["user"], image_user=image_user, global_admin=global_admin)
    if session.status != SessionStatus.RUNNING:
        raise ApiError(409, f"The session is {session.status}; commands run in running sessions only.")
    started = session_command_start(session=session, exec_config=command)
    return {"kasm": fmt.kasm_dict(session), **fmt.command_dict(started)}


@call("get_exec_command_kasm", P.SESSIONS_VIEW)
def get_exec_command_kasm(api_key: ApiKey, body: dict) -> dict:
    """Ours, beside Kasm's calls: how a command exec_command_kasm started is doing, or how it ended."""
    given = validated(ExecCommandOutcome, body)
    session = _named_session(api_key, given)
    command = SessionCommand.objects.filter(pk=given["exec_id"], session=session).first()
    if command is None:
        raise ApiError(404, f"No command with exec_id '{given['exec_id'].hex}' in this session.")
    return fmt.command_dict(command)

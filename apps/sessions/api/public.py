"""Kasm-compatible Developer API: `POST /api/public/<call>` with the API key in the JSON body.

Every failure is a non-2xx status with `{"error_message": ...}`; bad input is a 4xx, never a 500.
"""

from __future__ import annotations

import base64
import json
import logging
import uuid
from collections.abc import Callable

import websockets
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import DatabaseError
from django.http import HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from apps.accounts.choices import ApiPermission as P
from apps.accounts.models import ApiKey, Profile
from apps.accounts.selectors import user_policy
from apps.accounts.services import (
    anonymous_user_create,
    api_key_authenticate,
    audit_record,
    fitting,
    group_create,
    group_delete,
    group_is_privileged,
    group_members_add,
    group_members_remove,
    group_policy_of,
    group_update,
    profile_for_user,
    user_create,
    user_delete,
    user_is_privileged,
    user_logout_everywhere,
    user_update,
)
from apps.accounts.throttle import TooManyFailures, client_address, failure_record, failures_check, failures_clear
from apps.agents.models import Zone
from apps.common.errors import ApplicationError, InvalidInput, validation_problems
from apps.images.models import Image
from apps.images.services import image_save
from apps.sessions.api import public_format as fmt
from apps.sessions.choices import SessionStatus
from apps.sessions.exec_commands import ExecRefused, exec_user_checked, session_command_start
from apps.sessions.links import session_link_create
from apps.sessions.models import Session, SessionCommand
from apps.sessions.profiles import profile_mode_parsed
from apps.sessions.rfb import RfbError
from apps.sessions.screenshot import MAX_WIDTH as MAX_SCREENSHOT_WIDTH
from apps.sessions.screenshot import session_screenshot
from apps.sessions.selectors import session_get
from apps.sessions.services import (
    PolicyRefusal,
    SessionLimitReached,
    session_destroy,
    session_keepalive,
    session_pause,
    session_request,
    session_resume,
    session_stop,
)
from apps.sessions.sharing import session_sharing_enable, share_join, shared_session_get

logger = logging.getLogger(__name__)
MAX_FIELD_LENGTH = 64 * 1024  # any one text field (a command, a URL); model fields have their own maximum


class ApiError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


Handler = Callable[[ApiKey, dict], dict]
# Calls that manage users and groups: a key created for one user (`--user`) makes none of them.
MANAGEMENT = (P.USERS_VIEW, P.USERS_MODIFY, P.GROUPS_VIEW, P.GROUPS_MODIFY)
CALLS: dict[str, tuple[P, Handler]] = {}


def call(name: str, permission: P):
    def register(handler: Handler) -> Handler:
        CALLS[name] = (permission, handler)
        return handler

    return register


@csrf_exempt
def public_api(request, name: str):
    """One Developer API call; a database that cannot be reached is a JSON 503, never an HTML page."""
    try:
        return _public_api_call(request, name)
    except DatabaseError:
        logger.exception("Developer API call %s failed on the database", name)
        return _error(503, "The platform's database is unreachable right now; try again in a few seconds.")


def _public_api_call(request, name: str):
    if request.method != "POST":
        return _error(405, "Developer API calls are POST requests with a JSON body.")
    if name not in CALLS:
        return _error(404, f"Unknown API call '{name}'.")
    try:
        body = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError, RecursionError):
        return _error(400, "The body is not valid JSON (or nests deeper than this server reads).")
    if not isinstance(body, dict):
        return _error(400, "The body must be a JSON object.")
    body = _nulls_dropped(body)
    try:
        api_key = _api_key(
            body, address=client_address(request.META), authorization=request.headers.get("Authorization")
        )
    except TooManyFailures as error:
        return _error(429, error.message)
    except ApplicationError as error:
        return _error(401, error.message)
    except ApiError:
        return _error(401, "api_key and api_key_secret are required.")
    permission, handler = CALLS[name]
    if not api_key.has_permission(permission):
        return _error(403, f"This API key lacks the permission '{permission.value}' that {name} needs.")
    if permission in MANAGEMENT and api_key.owner_id and not api_key.has_permission(P.GLOBAL_ADMIN):
        return _error(403, f"This API key acts as '{api_key.owner}' and manages no users or groups.")
    try:
        answer = handler(api_key, body)
    except ApiError as error:
        return _error(error.status, error.message)
    except InvalidInput as error:
        return _error(400, error.message)
    except SessionLimitReached as error:
        return _error(403, f"{error.message} Live sessions: {', '.join(s.hex_id for s in error.sessions)}.")
    except (ExecRefused, PolicyRefusal) as error:
        return _error(403, error.message)
    except ApplicationError as error:
        return _error(409, error.message)
    if permission.value.endswith(("_modify", "_modify_admin", "_modify_system")):
        audit_record(
            action=f"api.{name}",
            target=_audit_target(body, answer),
            api_key=api_key,
            actor=api_key.owner,
            address=client_address(request.META),
        )
    return answer if isinstance(answer, HttpResponse) else JsonResponse(answer)


def _audit_target(body: dict, answer: dict) -> str:
    """What a write acted on, for the audit trail: a session, a user, a group or an image."""
    for source in (body, body.get("target_user") or {}, body.get("target_group") or {}, answer.get("user") or {}):
        for field in ("kasm_id", "username", "user_id", "group_id", "shared_id", "image_id"):
            if isinstance(source, dict) and isinstance(source.get(field), str):
                return f"{field}={source[field][:200]}"
    return ""


def _nulls_dropped(body: dict, depth: int = 3) -> dict:
    """`null` means "not given" for every optional field, as Kasm's clients send it: a field whose
    value is null is dropped from the body and from the objects in it."""
    return {
        name: _nulls_dropped(value, depth - 1) if isinstance(value, dict) and depth > 1 else value
        for name, value in body.items()
        if value is not None
    }


def _api_key(body: dict, *, address: str, authorization: str | None) -> ApiKey:
    """The key the request authenticates with: HTTP Basic `api_key:api_key_secret` (as Kasm's newer
    clients send it), else the body's fields. Failures count against the key and the address."""
    key, secret = _basic_credentials(authorization) if authorization else (_text(body, "api_key"), None)
    identities = {"key": key, "address": address}
    failures_check("api_key", identities)
    try:
        api_key = api_key_authenticate(key=key, secret=_text(body, "api_key_secret") if secret is None else secret)
    except ApplicationError:
        failure_record("api_key", identities)
        raise
    failures_clear("api_key", {"key": identities["key"]})
    return api_key


def _basic_credentials(authorization: str) -> tuple[str, str]:
    scheme, _, encoded = authorization.partition(" ")
    if scheme.lower() != "basic":
        raise ApplicationError("The Authorization header must be Basic base64(api_key:api_key_secret).")
    try:
        key, separator, secret = base64.b64decode(encoded.strip(), validate=True).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        raise ApplicationError(
            "The Authorization header's credentials are not valid base64 of api_key:api_key_secret."
        ) from None
    if not separator:
        raise ApplicationError("The Authorization header must carry api_key:api_key_secret.")
    return key, secret


def _error(status: int, message: str) -> JsonResponse:
    return JsonResponse({"error_message": message}, status=status)


def _text(body: dict, field: str, *, required: bool = True, default: str = "") -> str:
    value = body.get(field)
    if value is None:
        if required:
            raise ApiError(400, f"Field '{field}' is required.")
        return default
    if not isinstance(value, str):
        raise ApiError(400, f"Field '{field}' must be a string.")
    if len(value) > MAX_FIELD_LENGTH:
        raise ApiError(400, f"Field '{field}' is longer than {MAX_FIELD_LENGTH} characters.")
    return value


def _object(body: dict, field: str, *, required: bool = True) -> dict:
    value = body.get(field, None if required else {})
    if not isinstance(value, dict):
        raise ApiError(400, f"Field '{field}' must be a JSON object.")
    return value


def _uuid(body: dict, field: str) -> uuid.UUID:
    try:
        return uuid.UUID(_text(body, field))
    except ValueError:
        raise ApiError(400, f"Field '{field}' must be 32 hex characters (a UUID).") from None


def _user(body: dict, field: str = "user_id"):
    profile = Profile.objects.select_related("user").filter(pk=_uuid(body, field)).first()
    if profile is None:
        raise ApiError(404, f"No user with {field} '{body[field]}'.")
    return profile.user


def _acting_user(api_key: ApiKey, body: dict):
    """The user a session call is about: `user_id`, which a key created for a user must name."""
    user = _user(body)
    if api_key.owner_id and user.pk != api_key.owner_id:
        raise ApiError(403, f"This API key acts as '{api_key.owner}' and reaches only their sessions.")
    return user


def _managed_user(api_key: ApiKey, target: dict):
    """The user a management call changes; administrators need users_modify_admin."""
    user = _user(target)
    if user_is_privileged(user) and not api_key.has_permission(P.USERS_MODIFY_ADMIN):
        raise ApiError(
            403, f"'{user.username}' is an administrator; changing them needs users_modify_admin or global_admin."
        )
    return user


def _session(body: dict, user=None) -> Session:
    session = session_get(_uuid(body, "kasm_id"))
    if session is None or session.status == SessionStatus.DELETED or (user and session.owner_id != user.pk):
        raise ApiError(404, f"No session with kasm_id '{body['kasm_id']}'" + (" for this user." if user else "."))
    return session


def _bool(body: dict, field: str, default: bool = False) -> bool:
    value = body.get(field, default)
    if not isinstance(value, bool):
        raise ApiError(400, f"Field '{field}' must be true or false.")
    return value


# Sessions


@call("request_kasm", P.SESSIONS_MODIFY)
def request_kasm(api_key: ApiKey, body: dict) -> dict:
    """Without image_id (or image_name), the user's default workspace (theirs, else their groups').
    Without user_id, a temporary user, deleted with its session, as Kasm's anonymous sessions."""
    named_user = _acting_user(api_key, body) if "user_id" in body else None
    if named_user is None and api_key.owner_id:
        raise ApiError(403, f"This API key acts as '{api_key.owner}': name their user_id.")
    image = _requested_image(body)
    environment = _object(body, "environment", required=False)
    enable_sharing = _bool(body, "enable_sharing")
    user = named_user or anonymous_user_create()
    try:
        requested = _session_requested(user, image, body, environment=environment, enable_sharing=enable_sharing)
    except (ApiError, ApplicationError):
        if named_user is None:
            user.delete()  # the temporary user of a request that made no session
        raise
    session = requested.session
    if enable_sharing:
        session_sharing_enable(session=session)
    return {
        "kasm_id": session.hex_id,
        "status": "starting",
        "share_id": session.share_id,
        "user_id": fmt.user_public_id(user),
        "username": user.username,
        "session_token": requested.session_token,
        "kasm_url": session_link_create(session=session, user_public_id=fmt.user_public_id(user)),
    }


def _session_requested(user, image: Image | None, body: dict, *, environment: dict, enable_sharing: bool):
    if profile_for_user(user=user).locked or not user.is_active:
        raise ApiError(403, f"User '{user.username}' is locked or disabled.")
    if enable_sharing and not user_policy(user).allow_sharing:
        raise ApiError(403, f"The groups of '{user.username}' do not allow sharing; leave enable_sharing out.")
    return session_request(
        user=user,
        image=image,
        kasm_url=_text(body, "kasm_url", required=False),
        environment=environment,
        language=_text(body, "client_language", required=False),
        timezone_name=_text(body, "client_timezone", required=False),
        profile_mode=profile_mode_parsed(_text(body, "persistent_profile_mode", required=False) or "enabled"),
    )


def _requested_image(body: dict) -> Image | None:
    """The image by image_id, or by image_name (its Docker image, as some clients send); None: the default."""
    if "image_id" in body:
        image = Image.objects.filter(pk=_uuid(body, "image_id")).first()
        if image is None:
            raise ApiError(404, f"No image with image_id '{body['image_id']}'.")
        return image
    if "image_name" in body:
        name = _text(body, "image_name")
        image = Image.objects.filter(docker_image=name, enabled=True, archived=False).order_by("created_at").first()
        if image is None:
            raise ApiError(404, f"No enabled image named '{name}'.")
        return image
    return None


@call("get_kasm_status", P.SESSIONS_VIEW)
def get_kasm_status(api_key: ApiKey, body: dict) -> dict:
    """Each answer carries a new self-opening kasm_url, as Kasm's does."""
    user = _acting_user(api_key, body)
    session = _session(body, user)
    answer = {
        "operational_status": session.status,
        "operational_message": session.status_message,
        "operational_progress": fmt.progress(session.status),
        "kasm_url": session_link_create(session=session, user_public_id=fmt.user_public_id(user)),
        "current_time": fmt.api_date(timezone.now()),
    }
    if session.status == SessionStatus.RUNNING:
        answer["kasm"] = fmt.kasm_dict(session)
    return answer


@call("get_kasms", P.SESSIONS_VIEW)
def get_kasms(api_key: ApiKey, body: dict) -> dict:
    return _live_sessions(owner_id=api_key.owner_id)


@call("get_kasm_screenshot", P.SESSIONS_VIEW)
def get_kasm_screenshot(api_key: ApiKey, body: dict) -> HttpResponse:
    """The desktop as image/jpeg, `width` pixels wide (default: the desktop's own width)."""
    session = _session(body, _acting_user(api_key, body))
    width = _integer(body, "width") if "width" in body else None
    if width is not None and not 1 <= width <= MAX_SCREENSHOT_WIDTH:
        raise ApiError(400, f"Field 'width' is from 1 to {MAX_SCREENSHOT_WIDTH} pixels.")
    if session.status != SessionStatus.RUNNING or not session.host_port:
        raise ApiError(409, f"The session is {session.status}; only a running session's desktop can be shown.")
    try:
        jpeg = session_screenshot(session, width=width)
    except (OSError, TimeoutError, RfbError, websockets.WebSocketException) as error:
        raise ApiError(502, f"The session's desktop could not be read: {error or type(error).__name__}.") from None
    return HttpResponse(jpeg, content_type="image/jpeg")


@call("get_user_kasms", P.SESSIONS_VIEW)
def get_user_kasms(api_key: ApiKey, body: dict) -> dict:
    return _live_sessions(owner_id=_acting_user(api_key, body).pk)


def _live_sessions(*, owner_id) -> dict:
    sessions = Session.objects.filter(status__in=SessionStatus.LIVE).select_related("owner", "image", "agent")
    if owner_id:
        sessions = sessions.filter(owner_id=owner_id)
    return {"kasms": [fmt.kasm_dict(s) for s in sessions], "current_time": fmt.api_date(timezone.now())}


@call("stop_kasm", P.SESSIONS_MODIFY)
def stop_kasm(api_key: ApiKey, body: dict) -> dict:
    """Stop the container (memory freed, files kept), keeping its reservation; resume_kasm starts it again."""
    session_stop(session=_session(body, _acting_user(api_key, body)))
    return {}


@call("pause_kasm", P.SESSIONS_MODIFY)
def pause_kasm(api_key: ApiKey, body: dict) -> dict:
    """Freeze the container (docker pause), its memory kept; resume_kasm thaws it."""
    session_pause(session=_session(body, _acting_user(api_key, body)))
    return {}


@call("resume_kasm", P.SESSIONS_MODIFY)
def resume_kasm(api_key: ApiKey, body: dict) -> dict:
    session_resume(session=_session(body, _acting_user(api_key, body)))
    return {}


@call("get_session_recordings", P.SESSIONS_VIEW)
def get_session_recordings(api_key: ApiKey, body: dict) -> dict:
    """Sessions are not recorded: always an empty list, for clients that ask."""
    _session(body, api_key.owner)
    return {"session_recordings": []}


@call("destroy_kasm", P.SESSIONS_MODIFY)
def destroy_kasm(api_key: ApiKey, body: dict) -> dict:
    session_destroy(session=_session(body, _acting_user(api_key, body)), reason="destroyed through the API")
    return {}


@call("keepalive", P.SESSIONS_MODIFY)
def keepalive(api_key: ApiKey, body: dict) -> dict:
    session_keepalive(session=_session(body, api_key.owner))
    return {"usage_reached": False}


@call("join_kasm", P.SESSIONS_MODIFY)
def join_kasm(api_key: ApiKey, body: dict) -> dict:
    """Join a shared session view-only; the token is the viewer's `session_token` cookie for the proxy."""
    user = _acting_user(api_key, body)
    share_id = _text(body, "shared_id")
    try:
        joined = share_join(share_id=share_id, user=user)
    except ApplicationError as error:
        raise ApiError(404 if shared_session_get(share_id) is None else 403, error.message) from None
    return {
        "kasm": fmt.kasm_dict(joined.session),
        "kasm_url": f"/share/{joined.session.share_id}/",
        "session_token": joined.token,
        "username": user.username,
    }


@call("exec_command_kasm", P.SESSIONS_MODIFY)
def exec_command_kasm(api_key: ApiKey, body: dict) -> dict:
    session = _session(body, _acting_user(api_key, body))
    config = _object(body, "exec_config")
    command = {
        "cmd": _text(config, "cmd"),
        "workdir": _text(config, "workdir", required=False),
        "environment": _object(config, "environment", required=False),
        "user": _text(config, "user", required=False),
        "privileged": _bool(config, "privileged"),
    }
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
    session = _session(body, _acting_user(api_key, body))
    command = SessionCommand.objects.filter(pk=_uuid(body, "exec_id"), session=session).first()
    if command is None:
        raise ApiError(404, f"No command with exec_id '{body['exec_id']}' in this session.")
    return fmt.command_dict(command)


# Zones


@call("get_zones", P.AGENTS_VIEW)
def get_zones(api_key: ApiKey, body: dict) -> dict:
    return {"zones": [fmt.zone_dict(zone) for zone in Zone.objects.order_by("name")]}


# Images


@call("get_images", P.IMAGES_VIEW)
def get_images(api_key: ApiKey, body: dict) -> dict:
    present = fmt.images_present_anywhere()
    images = Image.objects.filter(archived=False).select_related("restrict_to_zone")
    return {"images": [fmt.image_dict(image, present_on=present) for image in images]}


# Users and groups

USER_FIELDS = ("first_name", "last_name", "email", "phone", "organization", "locked", "disabled", "password")


def _user_fields(target: dict) -> dict:
    """The user fields a body gives, for the services (which check each one)."""
    return {name: target[name] for name in USER_FIELDS if name in target}


def _target_user(body: dict):
    target = _object(body, "target_user")
    if "user_id" in target:
        return _user(target)
    username = _text(target, "username")
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise ApiError(404, f"No user named '{username}'.")
    return user


def _target_group(body: dict) -> Group:
    group_id = _text(_object(body, "target_group"), "group_id").replace("-", "").lower()
    group = next((g for g in Group.objects.all() if fmt.group_public_id(g) == group_id), None)
    if group is None:
        raise ApiError(404, f"No group with group_id '{group_id}'.")
    return group


@call("create_user", P.USERS_MODIFY)
def create_user(api_key: ApiKey, body: dict) -> dict:
    target = _object(body, "target_user")
    created = user_create(username=_text(target, "username"), fields=_user_fields(target))
    return {"user": fmt.user_dict(created.user)}


@call("get_user", P.USERS_VIEW)
def get_user(api_key: ApiKey, body: dict) -> dict:
    return {"user": fmt.user_dict(_target_user(body))}


@call("get_users", P.USERS_VIEW)
def get_users(api_key: ApiKey, body: dict) -> dict:
    return {"users": [fmt.user_dict(user) for user in get_user_model().objects.order_by("username")]}


@call("update_user", P.USERS_MODIFY)
def update_user(api_key: ApiKey, body: dict) -> dict:
    target = _object(body, "target_user")
    user = user_update(user=_managed_user(api_key, target), fields=_user_fields(target))
    return {"user": fmt.user_dict(user)}


@call("delete_user", P.USERS_MODIFY)
def delete_user(api_key: ApiKey, body: dict) -> dict:
    """Refused while the user has live sessions, unless `force` (which destroys them first)."""
    user = _managed_user(api_key, _object(body, "target_user"))
    live = user.workspace_sessions.filter(status__in=SessionStatus.LIVE).count()
    if live and not _bool(body, "force"):
        raise ApiError(409, f"User '{user.username}' has {live} live sessions; pass \"force\": true to destroy them.")
    user_delete(user=user)
    return {}


@call("logout_user", P.USERS_MODIFY)
def logout_user(api_key: ApiKey, body: dict) -> dict:
    user_logout_everywhere(user=_managed_user(api_key, _object(body, "target_user")))
    return {}


@call("get_attributes", P.USERS_VIEW)
def get_attributes(api_key: ApiKey, body: dict) -> dict:
    return {"user_attributes": fmt.attributes_dict(_user(_object(body, "target_user")))}


ATTRIBUTE_FIELDS = {
    "ssh_public_key": ("ssh_public_key", str),
    "show_tips": ("show_tips", bool),
    "theme": ("theme", str),
    "preferred_language": ("language", str),
    "preferred_timezone": ("timezone", str),
    "toggle_control_panel": ("toggle_control_panel", bool),
    "auto_login_kasm": ("auto_login_kasm", bool),
}


@call("update_user_attributes", P.USERS_MODIFY)
def update_user_attributes(api_key: ApiKey, body: dict) -> dict:
    attributes = _object(body, "target_user_attributes")
    user = _managed_user(api_key, attributes)
    profile = profile_for_user(user=user)
    for name, (field, kind) in ATTRIBUTE_FIELDS.items():
        if name in attributes:
            if not isinstance(attributes[name], kind):
                raise ApiError(400, f"Field '{name}' must be a {kind.__name__}.")
            setattr(profile, field, fitting(Profile, field, attributes[name], name))
    if "default_image" in attributes:
        profile.default_image = _uuid(attributes, "default_image") if attributes["default_image"] else None
    profile.save()
    return {"user_attributes": fmt.attributes_dict(user)}


@call("add_user_group", P.GROUPS_MODIFY)
def add_user_group(api_key: ApiKey, body: dict) -> dict:
    user, group = _managed_user(api_key, _object(body, "target_user")), _managed_group(api_key, body)
    group_members_add(group=group, users=[user])
    return {}


@call("remove_user_group", P.GROUPS_MODIFY)
def remove_user_group(api_key: ApiKey, body: dict) -> dict:
    user, group = _managed_user(api_key, _object(body, "target_user")), _managed_group(api_key, body)
    group_members_remove(group=group, users=[user])
    return {}


def _managed_group(api_key: ApiKey, body: dict) -> Group:
    """A group a call changes (or its members); groups that carry permissions need groups_modify_system."""
    group = _target_group(body)
    if group_is_privileged(group) and not api_key.has_permission(P.GROUPS_MODIFY_SYSTEM):
        raise ApiError(
            403, f"The group '{group.name}' carries permissions; its members change only with groups_modify_system."
        )
    return group


@call("create_group", P.GROUPS_MODIFY)
def create_group(api_key: ApiKey, body: dict) -> dict:
    target = _object(body, "target_group")
    group = group_create(
        name=_text(target, "name"),
        priority=_integer(target, "priority", default=100),
        description=_text(target, "description", required=False),
    )
    return {"group": fmt.group_detail_dict(group, group_policy_of(group))}


@call("update_group", P.GROUPS_MODIFY)
def update_group(api_key: ApiKey, body: dict) -> dict:
    """Name, priority and description; groups that carry permissions need groups_modify_system."""
    group, target = _managed_group(api_key, body), _object(body, "target_group")
    group_update(
        group=group,
        name=_text(target, "name", required=False) or None,
        priority=_integer(target, "priority") if "priority" in target else None,
        description=_text(target, "description") if "description" in target else None,
    )
    return {"group": fmt.group_detail_dict(group, group_policy_of(group))}


@call("delete_group", P.GROUPS_MODIFY)
def delete_group(api_key: ApiKey, body: dict) -> dict:
    group_delete(group=_managed_group(api_key, body))
    return {}


def _integer(body: dict, field: str, *, default: int | None = None) -> int:
    value = body.get(field, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ApiError(400, f"Field '{field}' must be a whole number.")
    return value


# Images, written

IMAGE_FIELDS = {  # Kasm's name -> ours
    "name": "docker_image",
    "friendly_name": "friendly_name",
    "description": "description",
    "cores": "cores",
    "memory": "memory",
    "gpu_count": "gpus",
    "enabled": "enabled",
    "image_src": "icon_url",
    "categories": "categories",
}


@call("create_image", P.IMAGES_MODIFY)
def create_image(api_key: ApiKey, body: dict) -> dict:
    """A workspace by hand (not granted to any group until an admin does); run and exec configs are
    set in the console, where their security flags are shown."""
    target = _object(body, "target_image")
    for required in ("name", "friendly_name"):
        _text(target, required)
    return {"image": fmt.image_dict(_image_saved(Image(), target))}


@call("update_image", P.IMAGES_MODIFY)
def update_image(api_key: ApiKey, body: dict) -> dict:
    target = _object(body, "target_image")
    image = Image.objects.filter(pk=_uuid(target, "image_id"), archived=False).first()
    if image is None:
        raise ApiError(404, f"No image with image_id '{target['image_id']}'.")
    return {"image": fmt.image_dict(_image_saved(image, target))}


def _image_saved(image: Image, target: dict) -> Image:
    refused = sorted({"run_config", "exec_config", "volume_mappings"} & set(target))
    if refused:
        raise ApiError(403, f"Set {', '.join(refused)} in the console, where their security flags are shown.")
    for kasm_name, field in IMAGE_FIELDS.items():
        if kasm_name in target:
            setattr(image, field, target[kasm_name])
    if "zone_id" in target:
        image.restrict_to_zone = Zone.objects.filter(pk=_uuid(target, "zone_id")).first()
        if image.restrict_to_zone is None:
            raise ApiError(404, f"No zone with zone_id '{target['zone_id']}'.")
    if not isinstance(image.categories, list) or not all(isinstance(c, str) for c in image.categories):
        raise ApiError(400, "Field 'categories' must be a list of strings.")
    try:
        return image_save(image=image)
    except ValidationError as error:
        raise ApiError(400, f"The image is invalid: {validation_problems(error)}") from None

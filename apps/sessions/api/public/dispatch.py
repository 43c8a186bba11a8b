"""The Developer API's one view: `POST /api/public/<call>`, JSON in and out.

It reads the body, authenticates the key (HTTP Basic or the body's `api_key`/`api_key_secret`),
checks the call's permission, runs the call's handler (registered with `@call`) and maps every
refusal to a status with `{"error_message": ...}`: bad input is a 4xx, never a 500, and a database
that cannot be reached is a JSON 503.
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Callable

import orjson
from django.core.serializers.json import DjangoJSONEncoder
from django.db import DatabaseError
from django.http import HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from apps.accounts.choices import ApiPermission as P
from apps.accounts.models import ApiKey
from apps.accounts.services import api_key_authenticate, audit_record
from apps.accounts.throttle import TooManyFailures, client_address, failure_record, failures_check, failures_clear
from apps.common.errors import ApplicationError, InvalidInput
from apps.sessions.api.public.inputs import ApiError, Credentials, validated
from apps.sessions.exec_commands import ExecRefused
from apps.sessions.services import PolicyRefusal, SessionLimitReached

logger = logging.getLogger(__name__)

Handler = Callable[[ApiKey, dict], dict | HttpResponse]
# Calls that manage users and groups: a key created for one user (`--user`) makes none of them.
MANAGEMENT = (P.USERS_VIEW, P.USERS_MODIFY, P.GROUPS_VIEW, P.GROUPS_MODIFY)
CALLS: dict[str, tuple[P, Handler]] = {}


def call(name: str, permission: P):
    """Register `handler(api_key, body)` as the call `name`, allowed to keys with `permission`."""

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
    except (ApplicationError, ApiError) as error:
        return _error(401, error.message)
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
    return answer if isinstance(answer, HttpResponse) else _json(answer)


def _json(answer: dict) -> HttpResponse:
    """The answer as JSON, written by orjson (a 10,000-session get_kasms is 9 MB: 60 ms with the
    standard library, 5 with orjson); dates and other types as Django's encoder writes them."""
    options = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_NON_STR_KEYS
    return HttpResponse(
        orjson.dumps(answer, default=_DJANGO_JSON.default, option=options), content_type="application/json"
    )


_DJANGO_JSON = DjangoJSONEncoder()


def _audit_target(body: dict, answer: dict | HttpResponse) -> str:
    """What a write acted on, for the audit trail: a session, a user, a group or an image."""
    answered_user = answer.get("user") if isinstance(answer, dict) else None
    for source in (body, body.get("target_user"), body.get("target_group"), answered_user):
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
    if authorization:
        key, secret = _basic_credentials(authorization)
    else:
        given = validated(Credentials, body)
        key, secret = given["api_key"], given["api_key_secret"]
    identities = {"key": key, "address": address}
    failures_check("api_key", identities)
    try:
        api_key = api_key_authenticate(key=key, secret=secret)
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

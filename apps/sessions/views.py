from dataclasses import asdict
from functools import partial, wraps
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET, require_POST

from apps.accounts.decorators import console_admin_required
from apps.accounts.selectors import user_policy
from apps.common.errors import ApplicationError
from apps.common.views import action_then_redirect
from apps.images.models import Image
from apps.images.selectors import images_launchable_by
from apps.sessions.choices import SessionStatus
from apps.sessions.links import (
    LinkRefused,
    session_link_consume,
    session_link_grant,
    session_link_granted,
    session_link_held,
    share_link_viewer,
)
from apps.sessions.proxy import SANDBOX_HEADERS, viewer_may_fetch, workspace_fetch, workspace_serves_http
from apps.sessions.selectors import (
    session_for_proxy,
    session_get,
    session_is_reachable,
    sessions_of,
    sessions_page_for_console,
)
from apps.sessions.services import (
    SessionLimitReached,
    session_destroy,
    session_keepalive,
    session_pause,
    session_request,
    session_resume,
    session_stop,
)
from apps.sessions.sharing import (
    session_sharing_disable,
    session_sharing_enable,
    share_join,
    share_link_check,
    share_viewer_active,
    share_viewer_kick,
)
from apps.sessions.transfers import (
    TransferForbidden,
    TransferRefused,
    home_path_checked,
    session_download,
    session_files_list,
    session_upload,
    transfer_limit_bytes,
)


@login_required
def workspaces(request, *, session_limit: SessionLimitReached | None = None):
    """The user's start page: a tile per workspace their groups let them launch."""
    images = images_launchable_by(request.user)
    categories = sorted({category for image in images for category in image.categories})
    live = set(sessions_of(request.user).filter(status__in=SessionStatus.LIVE).values_list("image_id", flat=True))
    context = {"images": images, "categories": categories, "session_limit": session_limit, "live_image_ids": live}
    return render(request, "sessions/workspaces.html", context, status=409 if session_limit else 200)


@login_required
@require_POST
def session_launch(request, image_id=None):
    """Launch a workspace, or without `image_id` the user's default one; a workspace the user has a
    live session of opens that session (unless `another` is asked). Beyond the user's limits the
    start page comes back listing the sessions they could close."""
    image = get_object_or_404(Image, pk=image_id, enabled=True) if image_id else None
    running = sessions_of(request.user).filter(image=image, status__in=SessionStatus.LIVE).first() if image else None
    if running is not None and request.POST.get("another") != "on":
        return redirect("session-view", kasm_id=running.pk)  # a tile goes back to its live session
    try:
        requested = session_request(user=request.user, image=image)
    except SessionLimitReached as error:
        return workspaces(request, session_limit=error)
    except ApplicationError as error:
        messages.error(request, error.message)
        return redirect("home")
    return redirect("session-view", kasm_id=requested.session.pk)


def _own_session(request, kasm_id):
    """The session, for its owner or for a browser that opened one of its links."""
    session = session_get(kasm_id)
    if session is None or not (session.owner_id == request.user.pk or session_link_granted(request.session, session)):
        raise Http404("No such session of yours.")
    return session


def owner_or_link_required(view):
    """Like login_required, but a browser that opened one of the session's links passes too."""

    @wraps(view)
    def guarded(request, kasm_id, *args, **kwargs):
        if not request.user.is_authenticated and not session_link_held(request.session, kasm_id):
            return redirect_to_login(request.get_full_path())
        return view(request, kasm_id, *args, **kwargs)

    return guarded


@owner_or_link_required
def session_view(request, kasm_id):
    """Progress while the session starts, then the desktop full-window. A browser that came by a
    link (no login) gets the session only: no sharing, no other pages."""
    session = _own_session(request, kasm_id)
    by_link = not request.user.is_authenticated
    context = {
        "session": session,
        "sharing_allowed": not by_link and user_policy(session.owner).allow_sharing,
        "by_link": by_link,
    }
    return render(request, "sessions/session.html", context)


def session_connect(request, kasm_id, user_id: str, token: str):
    """A kasm_url opened in a browser. The GET only shows the page, which posts at once (a link
    scanner that fetches it uses nothing up); the POST uses the link and opens the session."""
    if request.method != "POST":
        return render(request, "sessions/connect.html")
    try:
        link = session_link_consume(kasm_id=kasm_id, token=token)
    except LinkRefused as error:
        return render(request, "sessions/link_refused.html", {"message": error.message}, status=410)
    session_link_grant(request.session, link)
    if link.viewer is not None:
        return redirect("share-view", share_id=link.session.share_id)
    return redirect("session-view", kasm_id=link.session.pk)


@login_required
@require_POST
def session_share_view(request, kasm_id):
    """The owner turns sharing on (a new link) or off (viewers are disconnected, the link revoked)."""
    session = _own_session(request, kasm_id)
    enable = request.POST.get("enabled") == "on"
    action = session_sharing_enable if enable else session_sharing_disable
    done = "Sharing is on: send the link to your viewers." if enable else "Sharing is off."
    return action_then_redirect(
        request, lambda: action(session=session), done=done, to="session-view", kasm_id=session.pk
    )


@login_required
@require_POST
def session_share_kick(request, kasm_id):
    session = _own_session(request, kasm_id)
    viewer = session.viewers.filter(user__username=request.POST.get("username", "")).first()
    if viewer is None:
        return JsonResponse({"error_message": "That user is not watching this session."}, status=404)
    share_viewer_kick(session=session, viewer=viewer)
    return JsonResponse({"kicked": viewer.user.username})


def share_view(request, share_id):
    """A viewer's page: the shared desktop, view-only, with the share's chat. Opening the link
    (a GET, which a mail scanner or an embedded image may make) only shows a Join button; joining
    is the POST it sends. A browser that opened a viewer's join link (no login) is that viewer here."""
    viewer = request.user if request.user.is_authenticated else share_link_viewer(request.session, share_id)
    if viewer is None:
        return redirect_to_login(request.get_full_path())
    try:
        if request.method == "POST":
            share_join(share_id=share_id, user=viewer)
            return redirect("share-view", share_id=share_id)
        session = share_link_check(share_id=share_id, user=viewer)
    except ApplicationError as error:
        return render(request, "sessions/share_unavailable.html", {"reason": error.message}, status=403)
    joined = share_viewer_active(session, viewer) is not None
    return render(request, "sessions/share.html", {"session": session, "joined": joined, "viewer": viewer})


@owner_or_link_required
def session_status(request, kasm_id):
    session = _own_session(request, kasm_id)
    return JsonResponse({"status": session.status, "message": session.status_message})


# Files in and out (transfers.py): the owner, or a browser that opened the session's link.


@owner_or_link_required
@require_POST
def session_files_upload(request, kasm_id):
    """Every file of the form's `files` into ~/Uploads; answers the names they got."""
    session = _own_session(request, kasm_id)
    uploads = request.FILES.getlist("files")
    try:
        if not uploads:
            raise TransferRefused("Choose one or more files to upload.")
        limit = transfer_limit_bytes()
        if sum(upload.size for upload in uploads) > limit:
            raise TransferRefused(f"These files add up to more than the {limit // 2**20} MB an upload may be.")
        names = [
            session_upload(session=session, name=upload.name, chunks=upload.chunks(), size=upload.size)
            for upload in uploads
        ]
    except TransferRefused as error:
        return _transfer_refusal(error)
    return JsonResponse({"uploaded": names})


@owner_or_link_required
@require_GET
def session_files(request, kasm_id):
    """The entries of a folder of the home (`path`, relative to it; the home when empty)."""
    session = _own_session(request, kasm_id)
    try:
        path = home_path_checked(request.GET.get("path", ""))
        entries = session_files_list(session=session, path=path)
    except TransferRefused as error:
        return _transfer_refusal(error)
    return JsonResponse({"path": path, "entries": [asdict(entry) for entry in entries]})


@owner_or_link_required
@require_GET
def session_file_download(request, kasm_id):
    session = _own_session(request, kasm_id)
    path = request.GET.get("path", "")
    try:
        pieces = session_download(session=session, path=path)
    except TransferRefused as error:
        return _transfer_refusal(error)
    response = StreamingHttpResponse(pieces, content_type="application/octet-stream")
    response["Content-Disposition"] = content_disposition_header(True, path.rstrip("/").split("/")[-1])
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _transfer_refusal(error: TransferRefused) -> JsonResponse:
    return JsonResponse({"error": error.message}, status=403 if isinstance(error, TransferForbidden) else 400)


@owner_or_link_required
@require_POST
def session_keepalive_view(request, kasm_id):
    try:
        session = session_keepalive(session=_own_session(request, kasm_id))
    except ApplicationError as error:
        return JsonResponse({"error_message": error.message}, status=409)
    return JsonResponse({"expires_at": session.expires_at.isoformat()})


@owner_or_link_required
@require_POST
def session_delete(request, kasm_id):
    session = _own_session(request, kasm_id)
    session_destroy(session=session, reason="deleted by its owner")
    messages.success(request, "The session is being deleted.")
    return redirect("my-sessions") if request.user.is_authenticated else redirect("session-view", kasm_id=session.pk)


@owner_or_link_required
@require_POST
def session_pause_view(request, kasm_id):
    return _lifecycle_action(request, kasm_id, session_pause, "The session is being paused.")


@owner_or_link_required
@require_POST
def session_stop_view(request, kasm_id):
    return _lifecycle_action(request, kasm_id, session_stop, "The session is being stopped.")


@owner_or_link_required
@require_POST
def session_resume_view(request, kasm_id):
    """Resume, then show the session: its page connects the desktop once it runs again."""
    session = _own_session(request, kasm_id)
    resume = partial(session_resume, session=session)
    return action_then_redirect(request, resume, done="The session is resuming.", to="session-view", kasm_id=session.pk)


def _lifecycle_action(request, kasm_id, action, done: str):
    session = _own_session(request, kasm_id)
    if not request.user.is_authenticated:  # a browser that came by a link has only this session's page
        return action_then_redirect(
            request, lambda: action(session=session), done=done, to="session-view", kasm_id=kasm_id
        )
    return action_then_redirect(request, lambda: action(session=session), done=done, to="my-sessions")


@login_required
def my_sessions(request):
    return render(request, "sessions/my_sessions.html", {"sessions": sessions_of(request.user)})


def workspace_http(request, kasm_id, path=""):
    """The session proxy for HTTP: the web client a KasmVNC-style workspace serves itself, sandboxed
    (see apps/sessions/proxy.py). Owner and viewers as for the WebSocket; viewers reach only the
    client's static files."""
    access = session_for_proxy(
        kasm_id=kasm_id, user=request.user, cookies=request.COOKIES, browser_session=request.session
    )
    if access is None:
        return _plain("Not your session, or it is not running.", status=403)
    if not workspace_serves_http(access.session):
        return _plain("This workspace's desktop is drawn by the platform; only its WebSocket is proxied.", status=404)
    if access.view_only and not viewer_may_fetch(path):
        return _plain("Viewers reach only the workspace client's static files.", status=403)
    if not session_is_reachable(access.session):
        return _plain("The workspace is still starting; try again in a moment.", status=503, retry_after=1)
    status, headers, body = workspace_fetch(access.session, path, request.META.get("QUERY_STRING", ""))
    response = HttpResponse(body, status=status)
    for name, value in {**headers, **SANDBOX_HEADERS}.items():
        response[name] = value
    return response


def _plain(message: str, *, status: int, retry_after: int = 0) -> HttpResponse:
    headers = {"Retry-After": str(retry_after)} if retry_after else None
    return HttpResponse(message, status=status, content_type="text/plain; charset=utf-8", headers=headers)


@console_admin_required
def console_sessions(request):
    """Every session, for admins, with filters and destroy."""
    filters = {name: request.GET.get(name, "").strip() for name in ("status", "agent", "owner")}
    page = sessions_page_for_console(number=request.GET.get("page"), **filters)
    used = {name: value for name, value in filters.items() if value}
    context = {
        "sessions": page,
        "page": page,
        "filters": filters,
        "statuses": SessionStatus.choices,
        "query_suffix": f"&{urlencode(used)}" if used else "",
    }
    return render(request, "sessions/console_sessions.html", context)


@console_admin_required
@require_POST
def console_session_destroy(request, kasm_id):
    session = session_get(kasm_id)
    if session is None:
        raise Http404("No such session.")
    session_destroy(session=session, reason=f"destroyed by admin {request.user.username}")
    messages.success(request, f"Session {session.hex_id} of {session.owner.username} is being destroyed.")
    return redirect("console-sessions")

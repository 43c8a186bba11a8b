from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.db import connection
from django.http import HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_GET
from django.views.static import serve

from apps.common.errors import ApplicationError

# Uploaded and copied files are someone else's bytes: never sniffed into HTML, never active content.
MEDIA_HEADERS = {"X-Content-Type-Options": "nosniff", "Content-Security-Policy": "sandbox"}


@require_GET
def health(request):
    """Liveness for load balancers: answers 200 when the database answers."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


@require_GET
def media_file(request, path: str):
    """A file under MEDIA_ROOT (workspace icons), served so that no file can run script on our origin."""
    response = serve(request, path, document_root=settings.MEDIA_ROOT)
    for name, value in MEDIA_HEADERS.items():
        response[name] = value
    return response


def action_then_redirect(
    request,
    action: Callable[[], object],
    *,
    done: str | Callable[[object], str],
    to: str,
    failed: Callable[[str], str] = str,
    **redirect_kwargs,
) -> HttpResponseRedirect:
    """A console or user POST that calls one service: its success (`done`, or `done(result)`) or its
    ApplicationError (`failed(message)`) becomes a message, and the browser goes to `to`."""
    try:
        result = action()
    except ApplicationError as error:
        messages.error(request, failed(error.message))
    else:
        messages.success(request, done(result) if callable(done) else done)
    return redirect(to, **redirect_kwargs)

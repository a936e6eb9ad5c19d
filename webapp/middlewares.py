"""The one place HTTP maps domain errors to status codes and JSON bodies."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler

from services.accounts.users import pick_language
from services.core.db import as_unavailable
from services.core.errors import AppError, PayloadTooLarge, RateLimited, Unauthorized
from services.core.i18n import error_body, negotiate
from webapp.http import REQUESTER
from webapp.keys import SERVICES, TRANSLATIONS

log = logging.getLogger(__name__)

SOCKETIO_PREFIX = "/socket.io/"
_HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 413: "payload_too_large"}


def error_response(status: int, code: str, message: str, **extra: object) -> web.Response:
    body: dict[str, object] = {"code": code, "message": message}
    if extra:
        body["details"] = extra
    return web.json_response({"error": body}, status=status)


def _is_api(request: web.Request) -> bool:
    return request.path == "/api" or request.path.startswith("/api/")


def _language(request: web.Request) -> str:
    """The signed-in user's language when the view resolved them, else ``?lang=`` or the
    browser's Accept-Language."""
    user = request.get(REQUESTER)
    if user is not None:
        return pick_language(user)
    return negotiate(request.query.get("lang"), request.headers.get("Accept-Language"))


def _app_error_response(request: web.Request, exc: AppError) -> web.Response:
    translations = request.app[TRANSLATIONS][_language(request)]
    response = web.json_response({"error": error_body(exc, translations)}, status=exc.http_status)
    if isinstance(exc, RateLimited):
        response.headers["Retry-After"] = str(exc.retry_after)
    elif isinstance(exc, Unauthorized):
        response.headers["WWW-Authenticate"] = 'Bearer realm="vmeste"'
    return response


def _secure(request: web.Request, response: web.StreamResponse) -> web.StreamResponse:
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    if _is_api(request):
        response.headers.setdefault("Cache-Control", "no-store")
    elif request.path.startswith("/static/"):
        # Unversioned module URLs: revalidate (ETag/Last-Modified) so a deploy is seen at once.
        response.headers.setdefault("Cache-Control", "no-cache")
    return response


def _middleware(fn: Callable[[web.Request, Handler], Awaitable[web.StreamResponse]]) -> Any:
    fn.__middleware_version__ = 1  # type: ignore[attr-defined]
    return fn


@_middleware
def edge_middleware(request: web.Request, handler: Handler) -> Awaitable[web.StreamResponse]:
    """Errors to JSON and security headers, as one middleware.

    A plain function, not a coroutine: a Socket.IO request is handed straight to its handler, so
    a WebSocket that lives for hours does not keep a suspended middleware frame (with its
    exception table and locals) per connection — about 1 KB each at thousands of sockets. Engine.IO
    answers its own errors and its WebSocket upgrade carries no page to protect.
    """
    if request.path.startswith(SOCKETIO_PREFIX):
        return handler(request)
    return _guarded(request, handler)


async def _guarded(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        response = await handler(request)
    except AppError as exc:
        response = _app_error_response(request, exc)
    except web.HTTPRequestEntityTooLarge:
        error = PayloadTooLarge(limit=request.app[SERVICES].settings.max_body_bytes)
        response = _app_error_response(request, error)
    except web.HTTPException as exc:
        if not _is_api(request) or exc.status < 400:
            raise
        message = "No such API endpoint." if exc.status == 404 else exc.reason
        response = error_response(exc.status, _HTTP_CODES.get(exc.status, "http_error"), message)
        if "Allow" in exc.headers:  # a 405 must say which methods the resource takes
            response.headers["Allow"] = exc.headers["Allow"]
    except Exception as exc:
        unavailable = as_unavailable(exc)
        if unavailable is not None and _is_api(request):
            # The database (or Redis) went away: a clear, localized 503; the pool reconnects.
            log.warning("%s %s: %s (%s)", request.method, request.path, unavailable.code, exc)
            response = _app_error_response(request, unavailable)
            response.headers["Retry-After"] = "1"
            return _secure(request, response)
        log.exception("unhandled error on %s %s", request.method, request.path)
        if not _is_api(request):
            raise
        response = error_response(500, "internal_error", "Internal server error.")
    return _secure(request, response)

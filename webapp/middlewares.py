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
from webapp.http import REQUESTER, ClientGone
from webapp.keys import SERVICES, TRANSLATIONS

log = logging.getLogger(__name__)
#: Clients dropped mid-request; the same logger as the connection timeouts (webapp.protocol).
connections_log = logging.getLogger("webapp.connections")
#: Set on a request whose client was dropped: the access log skips it (its line is logged).
DROPPED: web.RequestKey[bool] = web.RequestKey("dropped", bool)

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
    except ClientGone as exc:
        return await _drop(request, exc)
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
        if isinstance(exc, ConnectionResetError) and _client_gone(request):
            # The client left while the view wrote or read (not through read_body).
            return await _drop(request, ClientGone(timed_out=False, after=0.0))
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


def _client_gone(request: web.Request) -> bool:
    transport = request.transport
    return transport is None or transport.is_closing()


async def _drop(request: web.Request, exc: ClientGone) -> web.StreamResponse:
    """One INFO line (method, path, why), no traceback.

    A client too slow with its body gets a 408 and the end of the stream at once (a half
    close: closing outright with its unread bytes pending would reset the connection, and the
    client could lose the 408); aiohttp then reads and discards what it still sends for its
    lingering time (``webapp.protocol.LINGERING_SECONDS``) and closes the connection."""
    request[DROPPED] = True
    if exc.timed_out:
        connections_log.info(
            "%s %s: dropped client: request body not received within %.1f s (HTTP_BODY_TIMEOUT)",
            request.method,
            request.path,
            exc.after,
        )
        response = error_response(408, "request_timeout", "The request body came too slowly.")
        response.force_close()
        _secure(request, response)
        try:
            await response.prepare(request)
            await response.write_eof()
            transport = request.transport
            if transport is not None and transport.can_write_eof():
                transport.write_eof()
        except (ConnectionError, OSError):
            pass
        return response
    connections_log.info("%s %s: client went away", request.method, request.path)
    response = web.Response(status=499)  # nobody reads it: nginx's "client closed request"
    response.force_close()
    return response

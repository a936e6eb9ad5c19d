"""The one place HTTP maps domain errors to status codes and JSON bodies."""

from __future__ import annotations

import logging

from aiohttp import web
from aiohttp.typedefs import Handler

from services.errors import AppError, PayloadTooLarge, RateLimited, Unauthorized
from webapp.keys import SERVICES

log = logging.getLogger(__name__)

_HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 413: "payload_too_large"}


def error_response(status: int, code: str, message: str, **extra: object) -> web.Response:
    body: dict[str, object] = {"code": code, "message": message}
    if extra:
        body["details"] = extra
    return web.json_response({"error": body}, status=status)


def _is_api(request: web.Request) -> bool:
    return request.path == "/api" or request.path.startswith("/api/")


def _app_error_response(exc: AppError) -> web.Response:
    response = web.json_response({"error": exc.to_dict()}, status=exc.http_status)
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


@web.middleware
async def errors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Map errors to JSON. It is the outer middleware, so it also sets the security headers on
    the responses it builds (the inner headers middleware never sees a raised error)."""
    try:
        return await handler(request)
    except AppError as exc:
        return _secure(request, _app_error_response(exc))
    except web.HTTPRequestEntityTooLarge:
        error = PayloadTooLarge(limit=request.app[SERVICES].settings.max_body_bytes)
        return _secure(request, _app_error_response(error))
    except web.HTTPException as exc:
        if not _is_api(request) or exc.status < 400:
            raise
        message = "No such API endpoint." if exc.status == 404 else exc.reason
        response = error_response(exc.status, _HTTP_CODES.get(exc.status, "http_error"), message)
        if "Allow" in exc.headers:  # a 405 must say which methods the resource takes
            response.headers["Allow"] = exc.headers["Allow"]
        return _secure(request, response)
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        if not _is_api(request):
            raise
        return _secure(request, error_response(500, "internal_error", "Internal server error."))


@web.middleware
async def security_headers_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    return _secure(request, await handler(request))

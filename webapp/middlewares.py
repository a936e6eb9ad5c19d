"""The one place HTTP maps domain errors to status codes and JSON bodies."""

from __future__ import annotations

import logging

from aiohttp import web
from aiohttp.typedefs import Handler

from services.errors import AppError, PayloadTooLarge, RateLimited
from webapp.keys import SERVICES

log = logging.getLogger(__name__)


def error_response(status: int, code: str, message: str, **extra: object) -> web.Response:
    body: dict[str, object] = {"code": code, "message": message}
    if extra:
        body["details"] = extra
    return web.json_response({"error": body}, status=status)


def _is_api(request: web.Request) -> bool:
    return request.path == "/api" or request.path.startswith("/api/")


@web.middleware
async def errors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except AppError as exc:
        response = web.json_response({"error": exc.to_dict()}, status=exc.http_status)
        if isinstance(exc, RateLimited):
            response.headers["Retry-After"] = str(exc.retry_after)
        return response
    except web.HTTPRequestEntityTooLarge:
        exc = PayloadTooLarge(limit=request.app[SERVICES].settings.max_body_bytes)
        return web.json_response({"error": exc.to_dict()}, status=413)
    except web.HTTPException as exc:
        if not _is_api(request) or exc.status < 400:
            raise
        codes = {404: "not_found", 405: "method_not_allowed", 413: "payload_too_large"}
        message = "No such API endpoint." if exc.status == 404 else exc.reason
        return error_response(exc.status, codes.get(exc.status, "http_error"), message)
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        if not _is_api(request):
            raise
        return error_response(500, "internal_error", "Internal server error.")


@web.middleware
async def security_headers_middleware(
    request: web.Request, handler: Handler
) -> web.StreamResponse:
    response = await handler(request)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    if _is_api(request):
        response.headers.setdefault("Cache-Control", "no-store")
    return response

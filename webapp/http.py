"""Edge helpers for views: parse and validate request bodies (their models, ``Body``
subclasses, are in ``services/*/contract.py``), resolve the requester."""

from __future__ import annotations

import asyncio
import ipaddress
import json
import re
from typing import TypeVar

from aiohttp import web
from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from models.users import User
from services.accounts.auth import access_user_by_token
from services.core import text
from services.core.contract import MAX_ID
from services.core.errors import PayloadTooLarge, Unauthorized, ValidationError
from webapp.keys import SERVICES

M = TypeVar("M", bound=BaseModel)
REQUESTER: web.RequestKey[User] = web.RequestKey("requester", User)


class ClientGone(Exception):
    """The client stopped sending its request: it disconnected (``timed_out`` False) or did not
    send its body within ``HTTP_BODY_TIMEOUT``. The edge middleware logs one INFO line and
    closes the connection; there is nobody to answer (or no point in waiting)."""

    def __init__(self, *, timed_out: bool, after: float) -> None:
        super().__init__("request body timed out" if timed_out else "client went away")
        self.timed_out = timed_out
        self.after = after


async def read_body(request: web.Request) -> bytes:
    """The whole request body, read within ``HTTP_BODY_TIMEOUT`` (aiohttp has no body read
    timeout: a client dripping a byte now and then held its request open for ever).

    :class:`ClientGone` when the client disconnects or is too slow; ``PayloadTooLarge``
    past ``MAX_BODY_BYTES``. Every view reads its body through here (``parse_body``)."""
    settings = request.app[SERVICES].settings
    loop = asyncio.get_running_loop()
    started = loop.time()
    try:
        async with asyncio.timeout(settings.http_body_timeout):
            return await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise PayloadTooLarge(limit=settings.max_body_bytes) from None
    except TimeoutError:
        raise ClientGone(timed_out=True, after=loop.time() - started) from None
    except ConnectionError:  # aiohttp feeds the body ConnectionResetError when the client leaves
        raise ClientGone(timed_out=False, after=loop.time() - started) from None


async def parse_body(request: web.Request, model: type[M]) -> M:
    """Read a JSON object body into ``model``; errors name the field."""
    raw = await read_body(request)
    if not raw:
        raise ValidationError("The request body must be a JSON object.", field="body")
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):  # bad JSON or UTF-8, or nesting deep enough to recurse
        raise ValidationError("The request body is not valid JSON.", field="body") from None
    if not isinstance(data, dict):
        raise ValidationError("The request body must be a JSON object.", field="body")
    try:
        return model.model_validate(data)
    except PydanticValidationError as exc:
        error = exc.errors()[0]
        field = ".".join(str(part) for part in error["loc"]) or "body"
        if error["type"] == "missing":
            raise ValidationError(
                "Missing required field: {field}.", field=field, reason="required"
            ) from None
        raise ValidationError(field=field, reason=error["msg"].lower()) from None


def client_ip(request: web.Request) -> str:
    """The client's address; behind ``TRUSTED_PROXIES`` the last untrusted X-Forwarded-For hop."""
    remote = request.remote or "unknown"
    proxies = request.app[SERVICES].settings.trusted_proxies
    if not proxies or not _trusted(remote, proxies):
        return remote
    header = request.headers.get("X-Forwarded-For", "")
    # Undecodable header bytes arrive as lone surrogates: not an address, and not a rate-limit key.
    hops = [h.strip() for h in header.split(",") if text.problem(h.strip(), text.TOKEN) is None]
    hops = [h for h in hops if h]
    for hop in reversed(hops):
        if not _trusted(hop, proxies):
            return hop
    return hops[0] if hops else remote


def _trusted(address: str, proxies: list[str]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(net, strict=False) for net in proxies)


def bearer_token(request: web.Request) -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized()
    return token.strip()


async def optional_requester(request: web.Request) -> User | None:
    """The signed-in user, or None without an ``Authorization`` header (a bad token is still
    :class:`Unauthorized`, so the client knows to sign in again)."""
    if "Authorization" not in request.headers:
        return None
    return await requester(request)


async def requester(request: web.Request) -> User:
    """The signed-in user, or :class:`Unauthorized`. Cached on the request."""
    cached = request.get(REQUESTER)
    if cached is not None:
        return cached
    user = await access_user_by_token(request.app[SERVICES], bearer_token(request))
    request[REQUESTER] = user
    return user


_INT_RE = re.compile(r"-?[0-9]{1,12}")


def int_param(request: web.Request, name: str, default: int | None = None) -> int | None:
    """An integer from the path or the query string (``default`` when left out): 32 bits, like
    every integer a client sends (``contract.Int32``)."""
    raw = request.match_info.get(name, request.query.get(name))
    if raw is None or raw == "":
        return default
    if not _INT_RE.fullmatch(raw) or not -MAX_ID - 1 <= int(raw) <= MAX_ID:
        raise ValidationError(field=name, reason="must be a 32-bit integer")
    return int(raw)

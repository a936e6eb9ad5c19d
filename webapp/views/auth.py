"""POST /api/auth/{register,login,telegram,refresh,logout-all}: parse, call
services.accounts.auth, render the session.

A password sign-in also answers this device's token (services.accounts.devices), in
the body (``deviceToken``, for the Mini App's storage: Telegram webviews may drop cookies) and
as an HttpOnly cookie on ``/api/auth``; a sign-in reads it back from the body, the
``X-Device-Token`` header or the cookie."""

from __future__ import annotations

from aiohttp import web

from services.accounts import auth
from services.accounts.contract import LoginBody, RegisterBody, TelegramBody
from webapp.http import bearer_token, client_ip, parse_body, requester
from webapp.keys import SERVICES
from webapp.views.users import me_payload

DEVICE_COOKIE = "vmeste_device"
DEVICE_HEADER = "X-Device-Token"
DEVICE_COOKIE_PATH = "/api/auth"


async def _session(request: web.Request, session: auth.Session, status: int = 200) -> web.Response:
    body: dict[str, object] = {
        "accessToken": session.access_token,
        "user": await me_payload(request, session.user),
    }
    if session.device_token is not None:
        body["deviceToken"] = session.device_token
    response = web.json_response(body, status=status)
    if session.device_token is not None:
        settings = request.app[SERVICES].settings
        response.set_cookie(
            DEVICE_COOKIE,
            session.device_token,
            max_age=settings.auth_device_ttl,
            path=DEVICE_COOKIE_PATH,
            secure=settings.public_url.startswith("https://"),
            httponly=True,
            samesite="Lax",
        )
    return response


async def register(request: web.Request) -> web.Response:
    body = await parse_body(request, RegisterBody)
    session = await auth.do_register(
        request.app[SERVICES],
        email=body.email,
        username=body.username,
        password=body.password,
        client_ip=client_ip(request),
    )
    return await _session(request, session, status=201)


async def login(request: web.Request) -> web.Response:
    body = await parse_body(request, LoginBody)
    session = await auth.do_login(
        request.app[SERVICES],
        email=body.email,
        password=body.password,
        client_ip=client_ip(request),
        device_tokens=(
            body.device_token,
            request.headers.get(DEVICE_HEADER),
            request.cookies.get(DEVICE_COOKIE),
        ),
    )
    return await _session(request, session)


async def telegram(request: web.Request) -> web.Response:
    body = await parse_body(request, TelegramBody)
    session = await auth.do_telegram_sign_in(
        request.app[SERVICES], init_data=body.init_data, client_ip=client_ip(request)
    )
    return await _session(request, session)


async def refresh(request: web.Request) -> web.Response:
    """A fresh token for a valid, unrevoked one (``Authorization: Bearer``)."""
    session = await auth.do_refresh(request.app[SERVICES], bearer_token(request))
    return await _session(request, session)


async def logout_all(request: web.Request) -> web.Response:
    """Sign out on every device: all tokens so far stop working, live sockets are closed."""
    user = await requester(request)
    await auth.do_logout_all(request.app[SERVICES], user)
    return web.json_response({"ok": True})

"""Watch rooms over REST (docs/rooms-protocol.md): create, list, look, join, leave, moderate.

Every rule lives in ``services.rooms``; these views parse, resolve the requester, call one service
function and render its result.
"""

from __future__ import annotations

import math

from aiohttp import web

from models.rooms import ControlMode, Visibility
from services.core import text
from services.core.errors import ValidationError
from services.rooms import (
    access,
    chat,
    membership,
    moderation,
    payloads,
    reactions,
)
from services.rooms.contract import CreateRoomBody, JoinBody, SettingsBody, UserIdBody
from services.rooms.snapshot import get_room_snapshot
from webapp.http import int_param, optional_requester, parse_body, requester
from webapp.keys import SERVICES

OK = {"ok": True}
#: ``to`` when the query leaves it out: past the end of anything.
END_OF_MEDIA = 10.0**9


def _text_param(request: web.Request, name: str, rule: text.Rule = text.LINE) -> str | None:
    """A query-string value as the contract's text (no NUL, no controls), or None."""
    raw = request.query.get(name)
    return None if raw is None else text.check(raw, rule, field=name)


def _float_param(request: web.Request, name: str, default: float) -> float:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ValidationError(field=name, reason="must be a number") from None
    if not math.isfinite(value):
        raise ValidationError(field=name, reason="must be a number")
    return value


async def create(request: web.Request) -> web.Response:
    user = await requester(request)
    body = await parse_body(request, CreateRoomBody)
    room = await membership.do_create_room(
        request.app[SERVICES],
        acting_user=user,
        title=body.title,
        visibility=Visibility(body.visibility),
        control_mode=ControlMode(body.control_mode),
        media_url=body.url,
    )
    return web.json_response({"room": await payloads.room_payload(room, viewer=user)}, status=201)


async def list_public(request: web.Request) -> web.Response:
    """Public rooms for anyone (seed 004: the list is open); the viewer's role with a token."""
    user = await optional_requester(request)
    page = await membership.get_public_rooms(
        query=_text_param(request, "query") or "",
        kind=_text_param(request, "kind") or None,
        limit=int_param(request, "limit", 20),
        offset=int_param(request, "offset", 0),
    )
    shown = await payloads.room_payloads(page.rooms, viewer=user)
    return web.json_response({"rooms": shown, "total": page.total})


async def mine(request: web.Request) -> web.Response:
    user = await requester(request)
    found = await membership.get_user_rooms(user)
    return web.json_response({"rooms": await payloads.room_payloads(found, viewer=user)})


async def detail(request: web.Request) -> web.Response:
    user = await requester(request)
    invite = _text_param(request, "invite", text.TOKEN)
    room = await access.access_room_as_viewer(
        request.match_info["id"], viewer=user, invite_code=invite
    )
    snapshot = await get_room_snapshot(request.app[SERVICES], room, viewer=user)
    return web.json_response(snapshot)


async def update(request: web.Request) -> web.Response:
    user = await requester(request)
    body = await parse_body(request, SettingsBody)
    room = await access.access_room(request.match_info["id"])
    room = await moderation.do_update_settings(
        request.app[SERVICES],
        room=room,
        acting_user=user,
        title=body.title,
        visibility=body.visibility,
        control_mode=body.control_mode,
        slow_mode_seconds=body.slow_mode_seconds,
    )
    return web.json_response({"room": await payloads.room_payload(room, viewer=user)})


async def join(request: web.Request) -> web.Response:
    user = await requester(request)
    body = await parse_body(request, JoinBody) if request.body_exists else JoinBody()
    room = await access.access_room(request.match_info["id"])
    await membership.do_join_room(
        request.app[SERVICES], room=room, acting_user=user, invite_code=body.invite_code
    )
    return web.json_response({"room": await payloads.room_payload(room, viewer=user)})


async def leave(request: web.Request) -> web.Response:
    user = await requester(request)
    room = await access.access_room(request.match_info["id"])
    await membership.do_leave_room(request.app[SERVICES], room=room, acting_user=user)
    return web.json_response(OK)


async def close(request: web.Request) -> web.Response:
    user = await requester(request)
    room = await access.access_room(request.match_info["id"])
    await membership.do_close_room_as(request.app[SERVICES], room=room, acting_user=user)
    return web.json_response(OK)


async def share(request: web.Request) -> web.Response:
    user = await requester(request)
    room = await access.access_room(request.match_info["id"])
    prepared_id = await membership.do_prepare_share(
        request.app[SERVICES], room=room, acting_user=user
    )
    return web.json_response({"id": prepared_id})


async def kick(request: web.Request) -> web.Response:
    user = await requester(request)
    room = await access.access_room(request.match_info["id"])
    target_id = int_param(request, "user_id")
    await moderation.do_kick(
        request.app[SERVICES], room=room, acting_user=user, target_id=target_id
    )
    return web.json_response(OK)


async def invite(request: web.Request) -> web.Response:
    user = await requester(request)
    body = await parse_body(request, UserIdBody)
    room = await access.access_room(request.match_info["id"])
    await membership.do_invite(
        request.app[SERVICES], room=room, acting_user=user, invitee_id=body.user_id
    )
    return web.json_response(OK)


async def _set_moderator(request: web.Request, *, moderator: bool) -> web.Response:
    user = await requester(request)
    room = await access.access_room(request.match_info["id"])
    member = await moderation.do_set_role(
        request.app[SERVICES],
        room=room,
        acting_user=user,
        target_id=int_param(request, "user_id"),
        moderator=moderator,
    )
    await member.fetch_related("user")
    return web.json_response({"member": payloads.member_payload(member, member.user)})


async def add_moderator(request: web.Request) -> web.Response:
    return await _set_moderator(request, moderator=True)


async def remove_moderator(request: web.Request) -> web.Response:
    return await _set_moderator(request, moderator=False)


async def handover(request: web.Request) -> web.Response:
    user = await requester(request)
    body = await parse_body(request, UserIdBody)
    room = await access.access_room(request.match_info["id"])
    room = await moderation.do_handover(
        request.app[SERVICES], room=room, acting_user=user, target_id=body.user_id
    )
    return web.json_response({"room": await payloads.room_payload(room, viewer=user)})


async def messages(request: web.Request) -> web.Response:
    user = await requester(request)
    room = await access.access_room_as_member(request.match_info["id"], user=user)
    found = await chat.get_recent_messages(
        room,
        before=int_param(request, "before"),
        limit=int_param(request, "limit", chat.HISTORY_LIMIT),
    )
    return web.json_response({"messages": found})


async def room_reactions(request: web.Request) -> web.Response:
    user = await requester(request)
    room = await access.access_room_as_member(request.match_info["id"], user=user)
    media_id = int_param(request, "mediaId")
    if media_id is None:
        raise ValidationError(
            "Missing required field: {field}.", field="mediaId", reason="required"
        )
    found = await reactions.get_reactions(
        room,
        media_id,
        _float_param(request, "from", 0.0),
        _float_param(request, "to", END_OF_MEDIA),
    )
    return web.json_response({"reactions": found})

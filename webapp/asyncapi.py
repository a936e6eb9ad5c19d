"""The AsyncAPI 3.0 document of the Socket.IO events, generated from the contract models.

Each feature's ``SOCKET_EVENTS`` (``services/*/contract.py``) lists its events; every event is
a channel whose address is the event name. Operations are written from the client's side:
``send`` is a client -> server event, answered with an ack (its ``reply``: the event's ack
model or :class:`~services.core.contract.AckError`); ``receive`` is a server -> client event.
Served at ``/api/asyncapi.json``.
"""

from __future__ import annotations

import functools
import re
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web
from pydantic import BaseModel

from services.core import contract as core
from services.messenger import contract as messenger
from services.rooms import contract as rooms
from services.wallet import contract as wallet
from webapp.keys import SERVICES
from webapp.openapi import component_schemas

SOCKET_EVENTS: tuple[core.SocketEvent, ...] = (
    *core.SOCKET_EVENTS,
    *rooms.SOCKET_EVENTS,
    *wallet.SOCKET_EVENTS,
    *messenger.SOCKET_EVENTS,
)
REF = "#/components/schemas/{model}"


def channel_id(name: str) -> str:
    """``room:join`` -> ``room_join`` (AsyncAPI keys are ``[\\w.-]+``; the address keeps the
    real name)."""
    return re.sub(r"[^\w.-]", "_", name)


def _message(model: type[BaseModel], name: str, summary: str | None = None) -> dict[str, Any]:
    message: dict[str, Any] = {
        "name": name,
        "contentType": "application/json",
        "payload": {"$ref": REF.format(model=model.__name__)},
    }
    if summary:
        message["summary"] = summary
    return message


def event_models(events: tuple[core.SocketEvent, ...] = SOCKET_EVENTS) -> list[type[BaseModel]]:
    models: list[type[BaseModel]] = [core.AckError]
    for event in events:
        models.append(event.payload)
        if event.ack is not None:
            models.append(event.ack)
    return models


def build_asyncapi(
    events: tuple[core.SocketEvent, ...] = SOCKET_EVENTS, *, public_url: str | None = None
) -> dict[str, Any]:
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    for event in events:
        key = channel_id(event.name)
        channel: dict[str, Any] = {
            "address": event.name,
            "title": event.name,
            "messages": {"payload": _message(event.payload, event.name, event.summary)},
        }
        if event.scope is not None:
            channel["description"] = f"Emitted to the Socket.IO room `{event.scope}`."
        channels[key] = channel
        operation: dict[str, Any] = {
            "action": event.direction,
            "channel": {"$ref": f"#/channels/{key}"},
            "summary": event.summary,
            "messages": [{"$ref": f"#/channels/{key}/messages/payload"}],
        }
        if event.ack is not None:
            ack_key = f"{key}.ack"
            channels[ack_key] = {
                "address": None,
                "title": f"{event.name} ack",
                "description": "The Socket.IO acknowledgement of the event.",
                "messages": {
                    "ok": _message(event.ack, f"{event.name} ack"),
                    "error": _message(core.AckError, f"{event.name} error"),
                },
            }
            operation["reply"] = {
                "channel": {"$ref": f"#/channels/{ack_key}"},
                "messages": [
                    {"$ref": f"#/channels/{ack_key}/messages/ok"},
                    {"$ref": f"#/channels/{ack_key}/messages/error"},
                ],
            }
        operations[f"{event.direction}_{key}"] = operation
    document: dict[str, Any] = {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Vmeste Socket.IO",
            "version": "0.1.0",
            "description": "One Socket.IO connection per client (WebSocket transport), the JWT "
            "in the auth payload {token}. Operations are seen from the client: send = a "
            "client event, acked {ok: true, ...} or {ok: false, error}; receive = a server "
            "event. Generated from the contract models (services/*/contract.py); the rules "
            "are in docs/rooms-protocol.md and docs/messenger.md.",
        },
        "defaultContentType": "application/json",
        "channels": channels,
        "operations": operations,
        "components": {
            "schemas": dict(sorted(component_schemas(event_models(events), REF).items()))
        },
    }
    if public_url:
        url = urlsplit(public_url)
        document["servers"] = {
            "app": {
                "host": url.netloc,
                "protocol": "wss" if url.scheme == "https" else "ws",
                "pathname": "/socket.io/",
                "description": "Socket.IO (Engine.IO 4) over WebSocket",
            }
        }
    return document


@functools.cache
def asyncapi_document(public_url: str | None = None) -> dict[str, Any]:
    return build_asyncapi(public_url=public_url)


async def asyncapi_json(request: web.Request) -> web.Response:
    return web.json_response(asyncapi_document(request.app[SERVICES].settings.public_url))

"""/api/asyncapi.json: valid AsyncAPI 3.0, one channel and operation per Socket.IO event, and
the events it declares are the ones the hub handles."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from jsonschema import Draft7Validator

from composition import Server
from webapp.asyncapi import SOCKET_EVENTS, channel_id
from webapp.keys import SIO

ROOT = Path(__file__).resolve().parents[2]
#: The official JSON Schema of AsyncAPI 3.0.0 (npm @asyncapi/specs, a dev dependency).
ASYNCAPI_SCHEMA = ROOT / "node_modules/@asyncapi/specs/schemas/3.0.0-without-$id.json"


@pytest.fixture
async def doc(http: aiohttp.ClientSession) -> dict[str, Any]:
    async with http.get("/api/asyncapi.json") as response:
        assert response.status == 200
        assert response.content_type == "application/json"
        return await response.json()


async def test_document_is_valid_asyncapi_3(doc: dict[str, Any]) -> None:
    assert doc["asyncapi"] == "3.0.0"
    schema = json.loads(ASYNCAPI_SCHEMA.read_text())
    errors = [f"{list(e.path)}: {e.message}" for e in Draft7Validator(schema).iter_errors(doc)]
    assert errors == []
    # The validator does see mistakes.
    broken = {**doc, "operations": {"x": {"action": "fly", "channel": {}}}}
    assert list(Draft7Validator(schema).iter_errors(broken))


async def test_server_is_the_public_url(doc: dict[str, Any]) -> None:
    assert doc["servers"]["app"] == {
        "host": "vmeste.test",
        "protocol": "wss",
        "pathname": "/socket.io/",
        "description": "Socket.IO (Engine.IO 4) over WebSocket",
    }


def _resolve(doc: dict[str, Any], ref: str) -> Any:
    node: Any = doc
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    return node


async def test_every_event_has_a_channel_and_an_operation(doc: dict[str, Any]) -> None:
    for event in SOCKET_EVENTS:
        key = channel_id(event.name)
        assert doc["channels"][key]["address"] == event.name
        operation = doc["operations"][f"{event.direction}_{key}"]
        assert operation["action"] == event.direction
        [message] = [_resolve(doc, m["$ref"]) for m in operation["messages"]]
        assert (
            _resolve(doc, message["payload"]["$ref"])
            == doc["components"]["schemas"][event.payload.__name__]
        )
        if event.direction == "send":
            ok, error = (_resolve(doc, m["$ref"]) for m in operation["reply"]["messages"])
            assert ok["payload"]["$ref"].endswith(f"/{event.ack.__name__}")
            assert error["payload"]["$ref"].endswith("/AckError")
        else:
            assert "reply" not in operation
    for ref in _refs(doc):
        _resolve(doc, ref)  # no dangling reference


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [ref for value in node.values() for ref in _refs(value)]
    if isinstance(node, list):
        return [ref for value in node for ref in _refs(value)]
    return []


async def test_declared_client_events_are_the_ones_the_hub_handles(server: Server) -> None:
    assert server.app is not None
    handled = set(server.app[SIO].handlers["/"]) - {"connect", "disconnect"}
    declared = {e.name for e in SOCKET_EVENTS if e.direction == "send"}
    assert handled == declared


async def test_snapshot_and_permissions_are_declared(doc: dict[str, Any]) -> None:
    schemas = doc["components"]["schemas"]
    assert set(schemas["Snapshot"]["required"]) >= {
        "room",
        "queue",
        "playback",
        "participants",
        "messages",
        "serverTime",
    }
    permissions = schemas["Room"]["properties"]["permissions"]
    assert "RolePermissions" in json.dumps(permissions)
    assert set(schemas["RolePermissions"]["required"]) == {"actions", "actsOn"}

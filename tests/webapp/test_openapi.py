"""/api/openapi.json describes every /api route, is valid OpenAPI 3.1, and what the API answers
matches its schemas."""

from __future__ import annotations

import re
from typing import Any

import aiohttp
import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

from composition import Server
from tests.conftest import register

HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


@pytest.fixture
async def spec(http: aiohttp.ClientSession) -> dict[str, Any]:
    async with http.get("/api/openapi.json") as response:
        assert response.status == 200
        assert response.content_type == "application/json"
        return await response.json()


def _api_routes(server: Server) -> set[tuple[str, str]]:
    assert server.app is not None
    routes = set()
    for route in server.app.router.routes():
        path = route.resource.canonical if route.resource is not None else ""
        # HEAD is added implicitly next to every GET.
        if path.startswith("/api") and route.method not in ("HEAD", "*"):
            routes.add((path, route.method.lower()))
    return routes


async def test_every_api_route_is_described(server: Server, spec: dict[str, Any]) -> None:
    routes = _api_routes(server)
    assert ("/api/users/search", "get") in routes  # the enumeration itself works
    described = {
        (path, method)
        for path, item in spec["paths"].items()
        for method in item
        if method in HTTP_METHODS
    }
    assert routes - described == set(), "routes missing from /api/openapi.json"
    assert described - routes == set(), "/api/openapi.json describes routes that do not exist"


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [ref for value in node.values() for ref in _refs(value)]
    if isinstance(node, list):
        return [ref for value in node for ref in _refs(value)]
    return []


async def test_spec_is_well_formed_openapi_3_1(spec: dict[str, Any]) -> None:
    assert spec["openapi"].startswith("3.1.")
    assert spec["info"]["title"]
    assert spec["info"]["version"]
    assert spec["paths"]
    schemes = spec.get("components", {}).get("securitySchemes", {})
    for path, item in spec["paths"].items():
        assert path.startswith("/api/"), path
        for method, operation in item.items():
            if method == "parameters":
                continue
            assert method in HTTP_METHODS, (path, method)
            responses = operation["responses"]
            assert responses, (path, method)
            assert all(code.isdigit() or code == "default" for code in responses)
            assert any(code.startswith("2") for code in responses), (path, method)
            for response in responses.values():
                assert response["description"], (path, method)
            for requirement in operation.get("security", []):
                assert set(requirement) <= set(schemes), (path, method)
            parameters = item.get("parameters", []) + operation.get("parameters", [])
            for parameter in parameters:
                assert parameter["in"] in {"query", "path", "header", "cookie"}
            in_path = {p["name"] for p in parameters if p["in"] == "path"}
            assert in_path == set(re.findall(r"{([^}:]+)}", path)), (path, method)
    refs = _refs(spec)
    assert refs, "no $ref at all: the check below would be vacuous"
    for ref in refs:
        assert ref.startswith("#/"), ref
        node: Any = spec
        for part in ref[2:].split("/"):
            assert isinstance(node, dict), f"dangling $ref {ref}"
            assert part in node, f"dangling $ref {ref}"
            node = node[part]


async def test_documented_errors_use_the_error_schema(spec: dict[str, Any]) -> None:
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method not in HTTP_METHODS:
                continue
            for code, response in operation["responses"].items():
                if code.startswith(("4", "5")) and path != "/api/health":  # 503 is a report
                    schema = response["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/Error"}, (path, method, code)


async def test_health_documents_its_report_for_503(spec: dict[str, Any]) -> None:
    responses = spec["paths"]["/api/health"]["get"]["responses"]
    assert responses["503"]["content"] == responses["200"]["content"]


async def test_spec_passes_the_openapi_validator(spec: dict[str, Any]) -> None:
    validate(spec)


def _schema_of(spec: dict[str, Any], path: str, method: str, status: int) -> dict[str, Any]:
    response = spec["paths"][path][method]["responses"][str(status)]
    schema = response["content"]["application/json"]["schema"]
    # "#/components/..." references resolve against this root.
    return {**schema, "components": spec["components"]}


async def _check(
    http: aiohttp.ClientSession,
    spec: dict[str, Any],
    method: str,
    url: str,
    path: str,
    *,
    status: int = 200,
    **kwargs: Any,
) -> dict[str, Any]:
    async with http.request(method, url, **kwargs) as response:
        body = await response.json()
        assert response.status == status, body
    Draft202012Validator(_schema_of(spec, path, method.lower(), status)).validate(body)
    return body


async def test_real_responses_match_the_documented_schemas(
    http: aiohttp.ClientSession, spec: dict[str, Any]
) -> None:
    """A walk through the API: every answer validates against its schema in the document."""
    anna = await register(http, "anna")
    boris = await register(http, "boris")
    h = anna.headers
    await _check(http, spec, "GET", "/api/health", "/api/health")
    await _check(http, spec, "GET", "/api/users/me", "/api/users/me", headers=h)
    await _check(http, spec, "GET", "/api/users/search?query=bor", "/api/users/search", headers=h)
    created = await _check(
        http,
        spec,
        "POST",
        "/api/rooms",
        "/api/rooms",
        status=201,
        headers=h,
        json={"title": "Movie night", "url": "https://www.youtube.com/watch?v=dQw4w9WgXcQ"},
    )
    room = f"/api/rooms/{created['room']['code']}"
    await _check(http, spec, "GET", "/api/rooms", "/api/rooms", headers=h)
    await _check(http, spec, "GET", "/api/rooms/mine", "/api/rooms/mine", headers=h)
    await _check(http, spec, "GET", room, "/api/rooms/{id}", headers=h)
    await _check(http, spec, "POST", f"{room}/join", "/api/rooms/{id}/join", headers=boris.headers)
    await _check(
        http,
        spec,
        "POST",
        f"{room}/moderators/{boris.id}",
        "/api/rooms/{id}/moderators/{user_id}",
        headers=h,
    )
    await _check(
        http, spec, "PATCH", room, "/api/rooms/{id}", headers=h, json={"slowModeSeconds": 5}
    )
    messages = await _check(
        http, spec, "GET", f"{room}/messages", "/api/rooms/{id}/messages", headers=h
    )
    assert messages["messages"], "the join and now-playing system messages"
    detail = await _check(http, spec, "GET", room, "/api/rooms/{id}", headers=h)
    media_id = detail["playback"]["mediaId"]
    await _check(
        http,
        spec,
        "GET",
        f"{room}/reactions?mediaId={media_id}",
        "/api/rooms/{id}/reactions",
        headers=h,
    )
    await _check(
        http,
        spec,
        "POST",
        room + "/kick/999",
        "/api/rooms/{id}/kick/{user_id}",
        status=404,
        headers=h,
    )
    await _check(http, spec, "POST", f"{room}/leave", "/api/rooms/{id}/leave", headers=h)
    await _check(http, spec, "GET", "/api/users/me", "/api/users/me", status=401)
    await _check(http, spec, "POST", "/api/auth/refresh", "/api/auth/refresh", headers=h)
    await _check(
        http, spec, "POST", "/api/auth/logout-all", "/api/auth/logout-all", headers=boris.headers
    )
    await _check(
        http,
        spec,
        "POST",
        "/api/auth/refresh",
        "/api/auth/refresh",
        status=401,
        headers=boris.headers,
    )

"""The HTTP edge: body parsing, bearer tokens, unknown routes and methods, headers, logs."""

from __future__ import annotations

import logging
from typing import Any

import aiohttp
import pytest

from composition import Server
from models.users import User
from tests.conftest import Account, ServerFactory
from tests.webapp.helpers import (
    assert_json_error,
    bearer,
    in_server,
    init_data,
    make_token,
    telegram_user,
)

VALID_REGISTER = {"email": "new@example.com", "username": "new_user", "password": "x" * 12}

# --- bodies ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [b"", b"{", b"{'email': 1}", b"\xff\xfe\x00", b"[" * 100_000, b'{"a": NaN'],
    ids=["empty", "truncated", "single-quotes", "not-utf8", "deeply-nested", "bad-literal"],
)
async def test_malformed_json_is_400(http: aiohttp.ClientSession, raw: bytes) -> None:
    async with http.post(
        "/api/auth/login", data=raw, headers={"Content-Type": "application/json"}
    ) as response:
        await assert_json_error(response, 400, "validation_error", field="body")


@pytest.mark.parametrize("body", [[], [VALID_REGISTER], "text", 42, None, True])
async def test_json_that_is_not_an_object_is_400(http: aiohttp.ClientSession, body: Any) -> None:
    async with http.post("/api/auth/register", json=body) as response:
        await assert_json_error(response, 400, "validation_error", field="body")


@pytest.mark.parametrize("missing", ["email", "username", "password"])
async def test_missing_register_field_is_named(http: aiohttp.ClientSession, missing: str) -> None:
    body = {k: v for k, v in VALID_REGISTER.items() if k != missing}
    async with http.post("/api/auth/register", json=body) as response:
        error = await assert_json_error(response, 400, "validation_error", field=missing)
    assert missing in error["message"]


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/auth/login", {"email": "a@example.com"}, "password"),
        ("/api/auth/login", {"password": "x" * 12}, "email"),
        ("/api/auth/telegram", {"init_data": "x"}, "initData"),
    ],
)
async def test_missing_field_is_named(
    http: aiohttp.ClientSession, path: str, body: dict[str, Any], field: str
) -> None:
    async with http.post(path, json=body) as response:
        await assert_json_error(response, 400, "validation_error", field=field)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("password", 12345678),
        ("password", None),
        ("password", ["x" * 12]),
        ("email", 1),
        ("username", {"name": "x"}),
        ("username", True),
    ],
)
async def test_wrong_types_are_400_naming_the_field(
    http: aiohttp.ClientSession, field: str, value: Any
) -> None:
    async with http.post("/api/auth/register", json={**VALID_REGISTER, field: value}) as response:
        await assert_json_error(response, 400, "validation_error", field=field)


async def test_unknown_fields_are_ignored(http: aiohttp.ClientSession) -> None:
    async with http.post(
        "/api/auth/register", json={**VALID_REGISTER, "isAdmin": True, "id": 1}
    ) as response:
        assert response.status == 201, await response.text()


@pytest.mark.parametrize(
    ("method", "path", "auth"),
    [
        ("POST", "/api/auth/register", False),
        ("POST", "/api/auth/login", False),
        ("POST", "/api/auth/telegram", False),
        ("PATCH", "/api/users/me", True),
    ],
)
async def test_bodies_over_the_limit_are_413(
    make_server: ServerFactory, method: str, path: str, auth: bool
) -> None:
    server = await make_server(max_body_bytes=2048)
    async with aiohttp.ClientSession(base_url=server.url) as http:
        # Just under the limit is parsed as usual.
        async with http.post(
            "/api/auth/register", json={**VALID_REGISTER, "pad": "x" * 1500}
        ) as response:
            assert response.status == 201, await response.text()
            headers = bearer((await response.json())["accessToken"]) if auth else {}
        huge = {**VALID_REGISTER, "password": "x" * 4096, "initData": "x" * 4096}
        async with http.request(method, path, json=huge, headers=headers) as response:
            error = await assert_json_error(response, 413, "payload_too_large")
        assert error["details"] == {"limit": 2048}


# --- tokens ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Bearer",
        "Bearer ",
        "Basic YW5uYTpwYXNzd29yZA==",
        "Token abc",
        "Bearer garbage",
        "Bearer a.b.c",
        "Bearer " + "x" * 5000,
    ],
)
async def test_bad_authorization_is_401(
    http: aiohttp.ClientSession, anna: Account, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    async with http.get("/api/users/me", headers=headers) as response:
        await assert_json_error(response, 401, "unauthorized")
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


async def test_the_scheme_is_case_insensitive(http: aiohttp.ClientSession, anna: Account) -> None:
    async with http.get("/api/users/me", headers={"Authorization": f"bearer {anna.token}"}) as r:
        assert r.status == 200


async def test_token_in_the_query_string_is_not_accepted(
    http: aiohttp.ClientSession, anna: Account
) -> None:
    async with http.get("/api/users/me", params={"token": anna.token}) as response:
        await assert_json_error(response, 401, "unauthorized")


@pytest.mark.parametrize(
    "claims",
    [
        {"exp": 1},
        {"exp": None},
        {"iat": None},
        {"sub": None},
        {"typ": None},
        {"typ": "refresh"},
        {"sub": "abc"},
        {"sub": 1},
    ],
    ids=["expired", "no-exp", "no-iat", "no-sub", "no-typ", "other-typ", "bad-sub", "int-sub"],
)
async def test_forged_or_incomplete_tokens_are_401(
    server: Server, http: aiohttp.ClientSession, anna: Account, claims: dict[str, Any]
) -> None:
    token = make_token(server, **{"sub": str(anna.id), **claims})
    async with http.get("/api/users/me", headers=bearer(token)) as response:
        await assert_json_error(response, 401, "unauthorized")


@pytest.mark.parametrize(
    ("algorithm", "key"),
    [("HS512", None), ("HS384", None), ("HS256", "another-secret-that-is-long-enough-0123456789")],
    ids=["HS512-same-key", "HS384-same-key", "HS256-other-key"],
)
async def test_tokens_not_signed_by_us_with_hs256_are_401(
    server: Server, http: aiohttp.ClientSession, anna: Account, algorithm: str, key: str | None
) -> None:
    token = make_token(server, algorithm=algorithm, key=key, sub=str(anna.id))
    async with http.get("/api/users/me", headers=bearer(token)) as response:
        await assert_json_error(response, 401, "unauthorized")
    # The same claims signed the accepted way work: the refusal is about the signature.
    async with http.get(
        "/api/users/me", headers=bearer(make_token(server, sub=str(anna.id)))
    ) as response:
        assert response.status == 200


async def test_unsigned_alg_none_token_is_401(
    server: Server, http: aiohttp.ClientSession, anna: Account
) -> None:
    token = make_token(server, algorithm="none", sub=str(anna.id))
    assert token.endswith(".")
    async with http.get("/api/users/me", headers=bearer(token)) as response:
        await assert_json_error(response, 401, "unauthorized")


async def test_token_of_a_deleted_or_unknown_user_is_401(
    server: Server, http: aiohttp.ClientSession, anna: Account
) -> None:
    async with http.get("/api/users/me", headers=bearer(make_token(server, sub="999999"))) as r:
        await assert_json_error(r, 401, "unauthorized")
    await in_server(server, lambda: User.filter(id=anna.id).delete())
    async with http.get("/api/users/me", headers=anna.headers) as response:
        await assert_json_error(response, 401, "unauthorized")


# --- routes, methods, headers ---------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api", "/api/", "/api/nope", "/api/users/me/extra"])
async def test_unknown_api_route_is_json_404(http: aiohttp.ClientSession, path: str) -> None:
    async with http.get(path) as response:
        await assert_json_error(response, 404, "not_found")


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("GET", "/api/auth/login", {"POST"}),
        ("DELETE", "/api/users/me", {"GET", "PATCH"}),
        ("POST", "/api/health", {"GET"}),
    ],
)
async def test_wrong_method_is_json_405_with_allow(
    http: aiohttp.ClientSession, method: str, path: str, allowed: set[str]
) -> None:
    async with http.request(method, path) as response:
        await assert_json_error(response, 405, "method_not_allowed")
        assert allowed <= {m.strip() for m in response.headers["Allow"].split(",")}


async def test_api_responses_are_not_cached_and_not_sniffed(
    http: aiohttp.ClientSession, anna: Account
) -> None:
    for path, headers in [("/api/users/me", anna.headers), ("/api/users/me", {}), ("/api/x", {})]:
        async with http.get(path, headers=headers) as response:
            assert response.headers["Cache-Control"] == "no-store", (path, response.status)
            assert response.headers["X-Content-Type-Options"] == "nosniff"


async def test_language_can_be_changed(http: aiohttp.ClientSession, anna: Account) -> None:
    async with http.patch("/api/users/me", json={"language": "ru"}, headers=anna.headers) as r:
        assert r.status == 200
        assert (await r.json())["user"]["language"] == "ru"
    async with http.get("/api/users/me", headers=anna.headers) as response:
        assert (await response.json())["user"]["language"] == "ru"
    for bad in ("de", "RU", 1):
        async with http.patch(
            "/api/users/me", json={"language": bad}, headers=anna.headers
        ) as response:
            await assert_json_error(response, 400, "validation_error", field="language")
    async with http.patch("/api/users/me", json={"language": "en"}) as response:
        await assert_json_error(response, 401, "unauthorized")


# --- logs -----------------------------------------------------------------------------------


async def test_logs_carry_no_passwords_tokens_or_init_data(
    make_telegram_server: ServerFactory, caplog: pytest.LogCaptureFixture
) -> None:
    from tests.conftest import TEST_BOT_TOKEN

    caplog.set_level(logging.INFO)
    server = await make_telegram_server()
    password = "Secret-Pass-1234"
    signed = init_data(telegram_user(first_name="Initdata-Name"))
    async with aiohttp.ClientSession(base_url=server.url) as http:
        body = {"email": "logs@example.com", "username": "logs", "password": password}
        async with http.post("/api/auth/register", json=body) as response:
            assert response.status == 201
        async with http.post(
            "/api/auth/login", json={"email": "logs@example.com", "password": password}
        ) as response:
            token = (await response.json())["accessToken"]
        async with http.post(
            "/api/auth/login", json={"email": "logs@example.com", "password": password + "x"}
        ) as response:
            assert response.status == 401
        async with http.get("/api/users/me", params={"token": token}) as response:
            assert response.status == 401
        async with http.get("/api/users/me", headers=bearer(token)) as response:
            assert response.status == 200
        async with http.post("/api/auth/telegram", json={"initData": signed}) as response:
            assert response.status == 200
        async with http.post("/api/auth/telegram", json={"initData": signed + "x"}) as response:
            assert response.status == 401
    access = [r for r in caplog.records if r.name in ("aiohttp.access", "vmeste.access")]
    assert any("/api/users/me" in r.getMessage() for r in access), "no access log captured"
    secrets = [
        password,
        token,
        token.split(".")[2],
        signed,
        signed.rsplit("hash=", 1)[1],
        "Initdata-Name",
        TEST_BOT_TOKEN,
    ]
    for record in caplog.records:
        text = record.getMessage() + (record.exc_text or "")
        for secret in secrets:
            assert secret not in text, (record.name, text)

"""services.accounts.auth: input checks, argon2id hashing, equal work for unknown emails."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher, extract_parameters

from composition import Server
from services.accounts import auth
from services.core.errors import Conflict, Unauthorized, ValidationError
from services.core.passwords import make_hasher
from tests.webapp.helpers import in_server


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        (" Anna@Example.COM ", "anna@example.com"),
        ("a.b+c@sub.example.org", "a.b+c@sub.example.org"),
    ],
)
def test_check_email_normalizes(raw: str, clean: str) -> None:
    assert auth.check_email(raw) == clean


@pytest.mark.parametrize(
    "email",
    [
        "",
        "anna",
        "anna@",
        "@example.com",
        "anna@example",
        "an na@example.com",
        "a@b@example.com",
        "a\x00@example.com",
        "a@exa\tmple.com",
        "x" * 65 + "@example.com",
        "a@" + "b" * 260 + ".com",
    ],
)
def test_check_email_refuses(email: str) -> None:
    with pytest.raises(ValidationError) as caught:
        auth.check_email(email)
    assert caught.value.data["field"] == "email"


@pytest.mark.parametrize(
    ("raw", "clean"),
    [("Anna", "anna"), ("@anna_k", "anna_k"), ("abc", "abc"), ("a" * 32, "a" * 32)],
)
def test_check_username_normalizes(raw: str, clean: str) -> None:
    assert auth.check_username(raw) == clean


@pytest.mark.parametrize("username", ["ab", "a" * 33, "anna k", "anna-k", "анна", "", "@"])
def test_check_username_refuses(username: str) -> None:
    with pytest.raises(ValidationError) as caught:
        auth.check_username(username)
    assert caught.value.data["field"] == "username"


@pytest.mark.parametrize(
    ("password", "ok"),
    [("1234567", False), ("12345678", True), ("x" * 256, True), ("x" * 257, False)],
)
def test_check_password_length(password: str, ok: bool) -> None:
    if ok:
        assert auth.check_password(password) == password
    else:
        with pytest.raises(ValidationError):
            auth.check_password(password)


@pytest.fixture
def verified_hashes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The hashes argon2 was asked to verify against, in order."""
    calls: list[str] = []
    real = PasswordHasher.verify

    def spy(self: PasswordHasher, stored: str | bytes, password: str | bytes) -> bool:
        calls.append(stored if isinstance(stored, str) else stored.decode())
        return real(self, stored, password)

    monkeypatch.setattr(PasswordHasher, "verify", spy)
    return calls


async def test_unknown_email_does_the_same_argon2_work(
    server: Server, verified_hashes: list[str]
) -> None:
    services = server.services
    assert services is not None
    await in_server(
        server,
        lambda: auth.do_register(
            services,
            email="anna@example.com",
            username="anna",
            password="correct horse",
            client_ip="1.2.3.4",
        ),
    )
    for email in ("anna@example.com", "nobody@example.com", "not an email"):
        with pytest.raises(Unauthorized):
            await in_server(
                server,
                lambda email=email: auth.do_login(
                    services, email=email, password="wrong password", client_ip="1.2.3.4"
                ),
            )
    assert len(verified_hashes) == 3, "every failed login runs argon2 exactly once"
    real_hash, *dummies = verified_hashes
    assert real_hash.startswith("$argon2id$")
    # Misses are checked against a dummy hash with the same parameters (the same cost).
    for dummy in dummies:
        assert dummy != real_hash
        assert extract_parameters(dummy) == extract_parameters(real_hash)


async def test_default_profile_is_argon2id_with_real_cost() -> None:
    hasher = make_hasher("default")
    assert hasher.type.name == "ID"
    assert hasher.memory_cost >= 19 * 1024  # OWASP's floor for argon2id
    fast = make_hasher("fast")
    assert fast.memory_cost < hasher.memory_cost


async def test_register_conflict_names_the_field(server: Server) -> None:
    services = server.services
    assert services is not None

    async def register(email: str, username: str) -> auth.Session:
        return await auth.do_register(
            services, email=email, username=username, password="correct horse", client_ip="ip"
        )

    await in_server(server, lambda: register("anna@example.com", "anna"))
    with pytest.raises(Conflict) as caught:
        await in_server(server, lambda: register("ANNA@example.com", "other"))
    assert caught.value.data == {"field": "email"}
    with pytest.raises(Conflict) as caught:
        await in_server(server, lambda: register("other@example.com", "Anna"))
    assert caught.value.data == {"field": "username"}

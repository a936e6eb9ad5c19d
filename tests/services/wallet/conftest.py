"""The wallet's service tests: a server on SQLite or a fresh PostgreSQL database, people made
through the API, coins bought through :func:`services.wallet.credit.do_credit`."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import aiohttp
import pytest

from composition import Server
from models.rooms import Room
from models.users import User
from models.wallet import Provider
from services.rooms.membership import do_create_room, do_join_room
from services.wallet.credit import do_credit, item_for
from tests.conftest import Account, ServerFactory, register

T = TypeVar("T")

_charges = itertools.count(1)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def database_url(request: pytest.FixtureRequest) -> AsyncIterator[str | None]:
    """``None`` (the server's own SQLite file) or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield None
        return
    from tests.webapp.conftest import fresh_postgres_database

    async with fresh_postgres_database() as url:
        yield url


def pytest_sessionfinish(session: pytest.Session) -> None:
    """The PostgreSQL template is dropped by tests/webapp/conftest.py's hook, which is not
    loaded when only these tests run."""
    from tests.webapp import conftest as webapp_conftest

    if webapp_conftest._template_ready:
        asyncio.run(webapp_conftest._drop_template())


@dataclass
class Bank:
    """A server, people made through the API, and one room they are all in."""

    server: Server
    http: aiohttp.ClientSession
    accounts: list[Account] = field(default_factory=list)
    users: list[User] = field(default_factory=list)
    room: Room | None = None

    async def run(self, coro: Awaitable[T]) -> T:
        return await self.server.run(coro)

    async def query(self, make: Callable[[], Awaitable[T]]) -> T:
        async def go() -> T:
            return await make()

        return await self.server.run(go())

    async def buy(self, user_id: int, pack_id: str = "coins_100") -> None:
        item = item_for(pack_id)
        credit = await self.run(
            do_credit(
                self.server.services,
                provider=Provider.STARS,
                charge_id=f"test-charge-{next(_charges)}",
                user_id=user_id,
                item=item,
                amount=item.stars,
                currency="XTR",
            )
        )
        assert credit.credited

    async def people(self, *names: str) -> list[User]:
        for name in names:
            self.accounts.append(await register(self.http, name))
        ids = [a.id for a in self.accounts]
        by_id = {u.id: u for u in await self.query(lambda: User.filter(id__in=ids))}
        self.users = [by_id[i] for i in ids]
        return self.users

    async def make_room(self, *members: User) -> Room:
        host, *guests = members

        async def go() -> Room:
            room = await do_create_room(self.server.services, acting_user=host)
            for guest in guests:
                await do_join_room(self.server.services, room=room, acting_user=guest)
            return room

        self.room = await self.run(go())
        return self.room

    def user(self, name: str) -> User:
        return next(u for u in self.users if u.username == name)


async def make_bank(
    make_server: ServerFactory, database_url: str | None, **overrides: Any
) -> AsyncIterator[Bank]:
    if database_url is not None:
        overrides["database_url"] = database_url
    server = await make_server(**overrides)
    async with aiohttp.ClientSession(base_url=server.url) as http:
        yield Bank(server, http)


@pytest.fixture
async def bank(make_server: ServerFactory, database_url: str | None) -> AsyncIterator[Bank]:
    """Gifts limited only by money (the per-sender rate raised)."""
    async for found in make_bank(make_server, database_url, gift_rate="100000/second"):
        yield found

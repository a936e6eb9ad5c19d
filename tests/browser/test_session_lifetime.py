"""The Mini App across its token's lifetime: with a token of a few seconds, the session
refreshes it ahead of ``exp``, the server ends the socket at ``exp`` (``session:expired``) and
the app reconnects with the fresh token, still signed in; "End sessions on all devices" signs
out (``session:revoked``) and the old token is refused."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest
from playwright.async_api import expect

from tests.browser.conftest import PageFactory
from tests.conftest import ServerFactory, register

pytestmark = pytest.mark.browser


async def test_app_outlives_its_token_and_signs_out_everywhere(
    make_server: ServerFactory, new_page: PageFactory
) -> None:
    # Long enough for the page to sign in with the first token on a busy machine (tests run
    # in parallel), short enough to expire during the test.
    server = await make_server(jwt_ttl=8)
    async with aiohttp.ClientSession(base_url=server.url) as http:
        account = await register(http, "vera_lifetime")
    page = await new_page(server)
    await page.goto(f"{server.url}/app")
    await page.evaluate("token => localStorage.setItem('vmeste.token', token)", account.token)
    await page.reload()
    status = page.locator("#connection-status")
    await expect(page.locator("#home-greeting")).to_have_text("Hi, vera_lifetime")
    await expect(status).to_have_attribute("data-state", "connected")
    await page.evaluate(
        """() => {
          window.__connects = 0;
          window.__expired = 0;
          const c = window.vmeste.connection;
          c.addEventListener("connect", () => { window.__connects += 1; });
          c.on("session:expired", () => { window.__expired += 1; });
        }"""
    )

    # A token lifetime and a half later: expired (and reconnected) at least once, still in.
    await asyncio.sleep(12)
    assert await page.evaluate("window.__expired") >= 1
    assert await page.evaluate("window.__connects") >= 1
    await expect(status).to_have_attribute("data-state", "connected")
    await expect(page.locator("#home-greeting")).to_be_visible()
    stored = await page.evaluate("localStorage.getItem('vmeste.token')")
    assert stored
    assert stored != account.token
    ack = await page.evaluate("window.vmeste.connection.request('time:sync', {clientTime: 1})")
    assert "serverTime" in ack

    await page.get_by_role("button", name="End sessions on all devices").click()
    await expect(page.locator("#panel-signin")).to_be_visible()
    assert await page.evaluate("localStorage.getItem('vmeste.token')") is None
    async with (
        aiohttp.ClientSession(base_url=server.url) as http,
        http.get("/api/users/me", headers={"Authorization": f"Bearer {stored}"}) as response,
    ):
        assert response.status == 401

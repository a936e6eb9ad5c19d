"""room:invited in headless Chromium: a banner on any screen opens the room or goes away."""

from __future__ import annotations

import aiohttp
import pytest
from playwright.async_api import Page, expect

from composition import Server
from tests.browser.conftest import PageFactory, screenshot
from tests.browser.test_rooms import create_room, signed_in
from tests.conftest import Account, register

pytestmark = pytest.mark.browser


async def invite(http: aiohttp.ClientSession, room: dict, host: Account, guest: Account) -> None:
    async with http.post(
        f"/api/rooms/{room['id']}/invite", json={"userId": guest.id}, headers=host.headers
    ) as response:
        assert response.status == 200, await response.text()


async def connected(page: Page) -> None:
    """The app's socket is up (it joins user:<id> on connect)."""
    await page.wait_for_function("window.vmeste?.connection?.state === 'connected'")


async def test_invite_banner_on_the_rooms_list_opens_the_private_room(
    server: Server, http: aiohttp.ClientSession, new_page: PageFactory
) -> None:
    anna, boris = await register(http, "anna"), await register(http, "boris")
    room = await create_room(http, anna, title="Secret screening", visibility="private")
    page = await signed_in(new_page, server, boris, "/app?lang=en")
    await expect(page.locator('[data-screen="home"]')).to_be_visible()
    await connected(page)
    banner = page.locator("#invite-banner")
    await expect(banner).to_be_hidden()

    await invite(http, room, anna, boris)
    await expect(banner).to_be_visible()
    await expect(banner).to_contain_text("anna invites you to Secret screening")
    await screenshot(page, "invite-banner")
    await banner.get_by_role("button", name="Open").click()

    await expect(page.locator('[data-screen="room"]')).to_be_visible()
    await expect(page.locator("#room-title")).to_have_text("Secret screening")
    await expect(banner).to_be_hidden()
    assert f"/app/room/{room['code']}" in page.url
    assert "invite=" in page.url


async def test_invite_banner_on_a_room_page_in_russian_can_be_dismissed(
    server: Server, http: aiohttp.ClientSession, new_page: PageFactory
) -> None:
    anna, boris = await register(http, "anna"), await register(http, "boris")
    own = await create_room(http, boris, title="Boris's room")
    other = await create_room(http, anna, title="Кино")
    page = await signed_in(new_page, server, boris, f"/app/room/{own['code']}?lang=ru")
    await expect(page.locator("#room-title")).to_have_text("Boris's room")
    await connected(page)

    await invite(http, other, anna, boris)
    banner = page.locator("#invite-banner")
    await expect(banner).to_contain_text("anna приглашает вас в комнату «Кино»")
    await banner.get_by_role("button", name="Закрыть").click()
    await expect(banner).to_be_hidden()
    await expect(page.locator("#room-title")).to_have_text("Boris's room")

"""The home screen's rooms list on a phone, in headless Chromium: the filter chips, rooms
everyone has left, and the page's icon."""

from __future__ import annotations

import aiohttp
import pytest
from playwright.async_api import expect

from composition import Server
from tests.browser.conftest import PageFactory, screenshot
from tests.browser.test_rooms import create_room, signed_in
from tests.conftest import register

pytestmark = pytest.mark.browser


async def test_filter_chips_fit_a_narrow_phone(
    server: Server, http: aiohttp.ClientSession, new_page: PageFactory
) -> None:
    anna = await register(http, "anna")
    page = await signed_in(new_page, server, anna, "/app?lang=en")
    await page.set_viewport_size({"width": 360, "height": 740})
    chips = page.locator("#rooms-kind .chip")
    await expect(chips).to_have_count(5)
    # The chips exist before the rooms screen shows (a busy machine is slower to get there).
    await expect(page.locator(".rooms__filters")).to_be_visible()
    card = await page.locator(".rooms__filters").bounding_box()
    assert card
    for index in range(5):
        chip = chips.nth(index)
        await expect(chip).to_be_visible()
        box = await chip.bounding_box()
        assert box
        # Every chip is on screen, inside the card: none is cut off at the right edge.
        assert box["x"] >= card["x"]
        assert box["x"] + box["width"] <= card["x"] + card["width"], await chip.text_content()
    await page.get_by_role("radio", name="Video files").click()
    await expect(page.get_by_role("radio", name="Video files")).to_be_checked()
    await screenshot(page, "rooms-chips-360")


async def test_a_room_everyone_left_is_not_listed_as_watched(
    server: Server, http: aiohttp.ClientSession, new_page: PageFactory
) -> None:
    anna, boris = await register(http, "anna"), await register(http, "boris")
    await create_room(http, anna, title="Deserted")
    async with http.get("/api/rooms", headers=anna.headers) as response:
        [deserted] = (await response.json())["rooms"]
    async with http.post(f"/api/rooms/{deserted['id']}/leave", headers=anna.headers) as response:
        assert response.status == 200, await response.text()
    await create_room(http, boris, title="Busy")

    clara = await register(http, "clara")
    page = await signed_in(new_page, server, clara, "/app?lang=en")
    public = page.locator("#public-rooms")
    await expect(public).to_contain_text("Busy")
    await expect(public).to_contain_text("1 watching")
    # Still open for the host's grace period, but nobody is in it: not shown as a live room.
    await expect(public).not_to_contain_text("Deserted")
    await expect(public).not_to_contain_text("0 watching")


async def test_the_page_has_an_icon(server: Server, new_page: PageFactory) -> None:
    page = await new_page(server)
    await page.goto(f"{server.url}/app?lang=en")
    href = await page.locator('link[rel="icon"]').get_attribute("href")
    assert href
    response = await page.request.get(f"{server.url}{href}")
    assert response.status == 200
    assert response.headers["content-type"].startswith("image/svg+xml")
    assert "<svg" in await response.text()

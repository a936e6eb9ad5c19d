"""The room page in headless Chromium: opening a room in one socket round trip, what the page
shows when it cannot open one or cannot play a link, the participants list, toasts, and the
controls that follow the server's ``permissions``."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import pytest
from playwright.async_api import Page, Request, expect

from composition import Server
from tests.browser.conftest import PageFactory, screenshot
from tests.browser.test_rooms import (  # noqa: F401 (fixtures)
    browser,
    clip_url,
    create_room,
    open_room,
    signed_in,
    write_clip,
)
from tests.conftest import Account, SioFactory, register

pytestmark = pytest.mark.browser


async def join(http: aiohttp.ClientSession, account: Account, room_id: int) -> None:
    async with http.post(f"/api/rooms/{room_id}/join", json={}, headers=account.headers) as r:
        assert r.status == 200, await r.text()


async def boxes_overlap(page: Page, a: str, b: str) -> bool:
    box_a = await page.locator(a).bounding_box()
    box_b = await page.locator(b).bounding_box()
    assert box_a
    assert box_b
    return not (
        box_a["x"] + box_a["width"] <= box_b["x"]
        or box_b["x"] + box_b["width"] <= box_a["x"]
        or box_a["y"] + box_a["height"] <= box_b["y"]
        or box_b["y"] + box_b["height"] <= box_a["y"]
    )


async def test_a_room_opens_with_room_join_alone(
    server: Server, http: aiohttp.ClientSession, new_page: PageFactory
) -> None:
    anna, boris = await register(http, "anna"), await register(http, "boris")
    room = await create_room(http, anna, title="Invite only", visibility="private")
    host = await open_room(new_page, server, anna, room["code"])
    page = await signed_in(new_page, server, boris, "/app?lang=en")
    await expect(page.locator('[data-screen="home"]')).to_be_visible()
    api_calls: list[str] = []

    def record(request: Request) -> None:
        if "/api/rooms/" in request.url:
            api_calls.append(f"{request.method} {request.url}")

    page.on("request", record)
    await page.goto(f"{server.url}/app/room/{room['code']}?invite={room['inviteCode']}&lang=en")
    await expect(page.locator("#room-title")).to_have_text("Invite only")
    # The invite code went with room:join: Boris is in, and the host sees him.
    await expect(host.locator("#people-count")).to_have_text("2")
    await expect(page.locator("#people-count")).to_have_text("2")
    assert api_calls == []


async def test_a_removed_member_sees_why_and_the_way_back(
    server: Server, http: aiohttp.ClientSession, new_page: PageFactory
) -> None:
    anna, boris = await register(http, "anna"), await register(http, "boris")
    room = await create_room(http, anna, title="Strict")
    await join(http, boris, room["id"])
    async with http.post(f"/api/rooms/{room['id']}/kick/{boris.id}", headers=anna.headers) as r:
        assert r.status == 200, await r.text()

    page = await signed_in(new_page, server, boris, f"/app/room/{room['code']}?lang=en")
    await expect(page.get_by_role("heading", name="Couldn't open the room")).to_be_visible()
    await expect(page.locator("#error-message")).to_have_text("You were removed from this room.")
    # Trying again would fail the same way: the way out is the rooms list.
    await expect(page.get_by_role("button", name="Try again")).to_be_hidden()
    await screenshot(page, "room-error-removed")
    await page.get_by_role("button", name="Back to rooms").click()
    await expect(page.locator('[data-screen="home"]')).to_be_visible()
    assert "/app/room/" not in page.url


async def test_an_unknown_room_code_sees_why_and_the_way_back(
    server: Server, http: aiohttp.ClientSession, new_page: PageFactory
) -> None:
    boris = await register(http, "boris")
    page = await signed_in(new_page, server, boris, "/app/room/ZZZZZZZZ?lang=en")
    await expect(page.locator("#error-message")).to_have_text(
        "This room doesn't exist or has been closed."
    )
    await expect(page.get_by_role("button", name="Try again")).to_be_hidden()
    await page.get_by_role("button", name="Back to rooms").click()
    await expect(page.locator('[data-screen="home"]')).to_be_visible()


async def test_a_link_that_cannot_play_says_so_in_the_player(
    server: Server, http: aiohttp.ClientSession, new_page: PageFactory
) -> None:
    anna, boris = await register(http, "anna"), await register(http, "boris")
    room = await create_room(http, anna, title="Broken", url=f"{server.url}/media/missing.mp4")
    host = await open_room(new_page, server, anna, room["code"])
    viewer = await open_room(new_page, server, boris, room["code"])
    await expect(host.locator("#player-error")).to_be_visible()
    await expect(host.locator("#player-error-text")).to_have_text(
        "This video can't be played here."
    )
    await expect(host.locator("#player-error-hint")).to_have_text(
        "Pick another video in the queue or add another link."
    )
    await expect(viewer.locator("#player-error-hint")).to_have_text(
        "The host can pick another video in the queue or add another link."
    )
    for page in (host, viewer):
        await expect(page.locator("#control-play")).to_be_disabled()
        await expect(page.locator("#control-duration")).not_to_have_text("Live")
    await screenshot(host, "room-cannot-play")

    # The host adds a link that plays: the message goes away.
    await host.get_by_role("tab", name="Queue").click()
    write_clip(Path(server.settings.media_dir) / "clip.mp4", 4)
    await host.get_by_placeholder("Paste a video link").fill(f"{server.url}/media/clip.mp4")
    await host.get_by_role("button", name="Add").click()
    await (
        host.locator("#queue > li", has_text="clip.mp4")
        .get_by_role("button", name="Play now")
        .click()
    )
    for page in (host, viewer):
        await expect(page.locator("#player-error")).to_be_hidden()
    await expect(host.locator("#control-play")).to_be_enabled()


async def test_my_long_name_is_cut_short_but_you_stays_visible(
    server: Server, http: aiohttp.ClientSession, new_page: PageFactory
) -> None:
    long_name = "maximilian_wolfgang_von_hohenz"
    anna = await register(http, long_name)
    room = await create_room(http, anna, title="Names")
    page = await open_room(new_page, server, anna, room["code"])
    await page.get_by_role("tab", name="People").click()
    row = page.locator(f'#participants [data-user-id="{anna.id}"] .list__row')
    you = row.get_by_text("(you)", exact=True)
    await expect(you).to_be_visible()
    await expect(page.locator("#participants")).to_contain_text(f"{long_name} (you)")
    row_box, you_box = await row.bounding_box(), await you.bounding_box()
    assert row_box
    assert you_box
    assert you_box["x"] + you_box["width"] <= row_box["x"] + row_box["width"]
    # The name itself is what gives way (ellipsized, not wrapped).
    name = row.locator(".person__name-text")
    assert await name.evaluate("el => el.scrollWidth > el.clientWidth")
    await screenshot(page, "room-people-long-name")


async def test_the_link_copied_toast_does_not_cover_the_save_button(
    server: Server, http: aiohttp.ClientSession, new_page: PageFactory
) -> None:
    anna = await register(http, "anna")
    room = await create_room(http, anna, title="Toasts")
    page = await open_room(new_page, server, anna, room["code"])
    await page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    await page.get_by_role("tab", name="Settings").click()
    save = page.get_by_role("button", name="Save")
    await save.scroll_into_view_if_needed()
    await page.evaluate("window.vmeste.roomView.share()")
    await expect(page.locator("#toast")).to_have_text("Link copied")
    assert not await boxes_overlap(page, "#toast", "#room-settings button[type=submit]")
    # And the button takes the tap while the toast is up.
    await save.click(timeout=1000)
    await expect(page.locator("#toast")).to_have_text("Saved")
    await screenshot(page, "room-toast")


async def test_controls_follow_the_permissions_the_server_sends(
    server: Server, http: aiohttp.ClientSession, new_page: PageFactory, sio_client: SioFactory
) -> None:
    """Needs the server's ``permissions`` on every Room payload (issue #8, item 4)."""
    anna, boris, clara = [await register(http, name) for name in ("anna", "boris", "clara")]
    room = await create_room(http, anna, title="Ranks")
    await join(http, boris, room["id"])
    async with http.post(
        f"/api/rooms/{room['id']}/moderators/{boris.id}", headers=anna.headers
    ) as response:
        assert response.status == 200, await response.text()
    host = await open_room(new_page, server, anna, room["code"])
    moderator = await open_room(new_page, server, boris, room["code"])
    member = await sio_client(clara.token)
    assert (await member.call("room:join", {"roomId": room["id"]}))["ok"]

    # The host outranks the moderator: may kick him; the moderator only the member.
    await host.get_by_role("tab", name="People").click()
    await moderator.get_by_role("tab", name="People").click()
    boris_row = host.locator(f'#participants [data-user-id="{boris.id}"]')
    await expect(boris_row.get_by_role("button", name="Remove", exact=True)).to_be_visible()
    clara_row = moderator.locator(f'#participants [data-user-id="{clara.id}"]')
    await expect(clara_row.get_by_role("button", name="Remove", exact=True)).to_be_visible()
    await expect(clara_row.get_by_role("button", name="Make moderator")).to_have_count(0)
    # The moderator may set slow mode but not the room's other settings, nor close it.
    await moderator.get_by_role("tab", name="Settings").click()
    settings = moderator.locator("#room-settings")
    await expect(settings.get_by_label("Slow mode")).to_be_enabled()
    await expect(settings.get_by_label("Room name")).to_be_disabled()
    await expect(moderator.get_by_role("button", name="Close the room")).to_be_hidden()
    # System lines ("clara joined") may be deleted by whoever may delete messages.
    await moderator.get_by_role("tab", name="Chat").click()
    joined = moderator.locator(".chat__system", has_text="clara joined")
    await expect(joined.get_by_role("button", name="Delete message")).to_be_visible()

"""Host and moderator controls in headless Chromium: queue order, playback speed, deleting chat
messages, and leaving the room page (room:unwatch)."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from playwright.async_api import Locator, Page, WebSocket, expect

from composition import Server
from services.rooms import presence
from tests.browser.conftest import PageFactory, screenshot, signed_init_data
from tests.browser.test_rooms import (  # noqa: F401 (fixtures)
    browser,
    clip_url,
    create_room,
    open_room,
    signed_in,
    video_ready,
)
from tests.conftest import TEST_BOT_TOKEN, ServerFactory, SioFactory, register

pytestmark = pytest.mark.browser


async def queue_titles(page: Page) -> list[str]:
    return await page.locator("#queue .list__title").all_text_contents()


async def add_to_queue(page: Page, url: str) -> None:
    await page.get_by_placeholder("Paste a video link").fill(url)
    await page.get_by_role("button", name="Add").click()
    await expect(page.get_by_placeholder("Paste a video link")).to_have_value("")


async def test_host_reorders_the_queue_and_changes_the_speed(
    server: Server,
    http: aiohttp.ClientSession,
    new_page: PageFactory,
    clip_url: str,  # noqa: F811
) -> None:
    media = Path(server.settings.media_dir)
    for name in ("second.mp4", "third.mp4"):
        shutil.copy(media / "clip.mp4", media / name)
    anna, boris = await register(http, "anna"), await register(http, "boris")
    room = await create_room(http, anna, title="Playlist", url=clip_url, controlMode="host")
    host = await open_room(new_page, server, anna, room["code"])
    viewer = await open_room(new_page, server, boris, room["code"])
    await host.get_by_role("tab", name="Queue").click()
    await viewer.get_by_role("tab", name="Queue").click()
    await add_to_queue(host, f"{server.url}/media/second.mp4")
    await add_to_queue(host, f"{server.url}/media/third.mp4")
    await expect(host.locator("#queue .list__title")).to_have_count(3)
    assert await queue_titles(host) == ["clip.mp4", "second.mp4", "third.mp4"]

    # The item on screen has no move buttons; the first and last upcoming ones can move one way.
    rows = host.locator("#queue > li")
    await expect(rows.nth(0).get_by_role("button", name="Move up")).to_have_count(0)
    await expect(rows.nth(1).get_by_role("button", name="Move up")).to_be_disabled()
    await expect(rows.nth(2).get_by_role("button", name="Move down")).to_be_disabled()
    await rows.nth(1).get_by_role("button", name="Move down").click()
    await expect(host.locator("#queue .list__title")).to_have_text(
        ["clip.mp4", "third.mp4", "second.mp4"]
    )
    await expect(viewer.locator("#queue .list__title")).to_have_text(
        ["clip.mp4", "third.mp4", "second.mp4"]
    )
    await screenshot(host, "room-queue-reorder")
    await rows.nth(2).get_by_role("button", name="Move up").click()
    await expect(viewer.locator("#queue .list__title")).to_have_text(
        ["clip.mp4", "second.mp4", "third.mp4"]
    )
    # A member in host mode sees no move buttons and no speed control.
    await expect(viewer.get_by_role("button", name="Move up")).to_have_count(0)
    await video_ready(viewer)
    await expect(viewer.get_by_label("Playback speed")).to_be_hidden()

    # The host plays at 1.5×: both videos run at that speed.
    await video_ready(host)
    speed = host.get_by_label("Playback speed")
    await expect(speed).to_be_visible()
    await expect(speed).to_have_value("1")
    await speed.select_option("1.5")
    await host.get_by_role("button", name="Play", exact=True).click()
    for page in (host, viewer):
        await page.wait_for_function(
            "() => { const v = document.querySelector('#player-stage video');"
            " return !v.paused && v.currentTime > 1; }"
        )
    await asyncio.sleep(1)
    rates = [
        await page.evaluate("document.querySelector('#player-stage video').playbackRate")
        for page in (host, viewer)
    ]
    # The sync controller may nudge around the room's rate, never beyond ±25 %.
    assert all(1.5 * 0.75 <= rate <= 1.5 * 1.25 for rate in rates), rates
    assert await host.evaluate("window.vmeste.roomView.playback.rate") == 1.5
    assert await viewer.evaluate("window.vmeste.roomView.playback.rate") == 1.5

    # Control handed to everyone: the member gets the speed control, showing the room's rate.
    async with http.patch(
        f"/api/rooms/{room['id']}", json={"controlMode": "everyone"}, headers=anna.headers
    ) as response:
        assert response.status == 200, await response.text()
    await expect(viewer.get_by_label("Playback speed")).to_be_visible()
    await expect(viewer.get_by_label("Playback speed")).to_have_value("1.5")
    await expect(viewer.get_by_role("button", name="Move down").first).to_be_visible()


def accept_dialogs(page: Page) -> None:
    page.on("dialog", lambda dialog: asyncio.ensure_future(dialog.accept()))


async def send(page: Page, text: str) -> None:
    await page.get_by_placeholder("Message").fill(text)
    await page.get_by_placeholder("Message").press("Enter")
    await expect(page.locator(".chat__message--mine").last).to_contain_text(text)


async def test_deleting_chat_messages_leaves_a_tombstone(
    server: Server, http: aiohttp.ClientSession, new_page: PageFactory, sio_client: SioFactory
) -> None:
    anna, boris = await register(http, "anna"), await register(http, "boris")
    room = await create_room(http, anna, title="Talk")
    host = await open_room(new_page, server, anna, room["code"])
    viewer = await open_room(new_page, server, boris, room["code"])
    for page in (host, viewer):
        accept_dialogs(page)
    await send(host, "Hello from the host")
    await send(viewer, "Oops, wrong chat")
    await send(viewer, "Spoiler: it was the butler")

    def message(page: Page, text: str) -> Locator:
        return page.locator(".chat__message", has_text=text)

    # A member can delete only their own messages.
    delete = "Delete message"
    await expect(
        message(viewer, "Hello from the host").get_by_role("button", name=delete)
    ).to_be_hidden()
    await message(viewer, "Oops, wrong chat").get_by_role("button", name=delete).click()
    for page in (viewer, host):
        await expect(page.locator(".chat__message--deleted")).to_have_count(1)
        await expect(page.locator(".chat__message--deleted .chat__text")).to_have_text(
            "Message deleted"
        )
        await expect(page.locator("#chat-messages")).not_to_contain_text("Oops, wrong chat")

    # The host deletes anyone's.
    spoiler = message(host, "Spoiler: it was the butler")
    await spoiler.get_by_role("button", name=delete).click()
    await expect(viewer.locator("#chat-messages")).not_to_contain_text("the butler")
    await expect(viewer.locator(".chat__message--deleted")).to_have_count(2)
    await expect(host.locator(".chat__message--deleted")).to_have_count(2)
    await screenshot(host, "room-chat-deleted")

    # Clara, a member, posts spam. Made moderator, Boris may delete it (not the host's).
    clara = await register(http, "clara")
    spammer = await sio_client(clara.token)
    assert (await spammer.call("room:join", {"roomId": room["id"]}))["ok"]
    ack = await spammer.call("chat:send", {"roomId": room["id"], "text": "Cheap followers!"})
    assert ack["ok"], ack
    spam = message(viewer, "Cheap followers!").get_by_role("button", name=delete)
    hello = message(viewer, "Hello from the host").get_by_role("button", name=delete)
    await expect(spam).to_be_hidden()
    await host.get_by_role("tab", name="People").click()
    boris_row = host.locator(f'#participants [data-user-id="{boris.id}"]')
    await boris_row.get_by_role("button", name="Make moderator").click()
    await expect(spam).to_be_visible()
    await expect(hello).to_be_hidden()
    await spam.click()
    await expect(host.locator("#chat-messages")).not_to_contain_text("Cheap followers!")
    await expect(host.locator(".chat__message--deleted")).to_have_count(3)

    # Refused by the server (the host's message): the error from the ack is shown.
    ids = await viewer.evaluate(
        "[...document.querySelectorAll('.chat__message')].map((li) => li.dataset.id)"
    )
    await viewer.evaluate(f"window.vmeste.roomView.chat.deleteMessage({int(ids[0])})")
    await expect(viewer.locator("#toast")).to_have_text("You can't do that here.")
    await expect(host.locator("#chat-messages")).to_contain_text("Hello from the host")


def unwatch_frames(page: Page) -> list[dict]:
    """Socket.IO event frames ``room:unwatch`` the page sends, decoded."""
    frames: list[dict] = []

    def on_socket(socket: WebSocket) -> None:
        def on_frame(payload: str | bytes) -> None:
            text = payload if isinstance(payload, str) else payload.decode()
            if not text.startswith("42"):  # Socket.IO EVENT packets only ("42<ack id>[...]")
                return
            name, *args = json.loads(text[text.index("[") :])
            if name == "room:unwatch":
                frames.append(args[0])

        socket.on("framesent", on_frame)

    page.on("websocket", on_socket)
    return frames


async def sent(frames: list[dict], expected: list[dict]) -> None:
    for _ in range(40):
        if frames:
            break
        await asyncio.sleep(0.05)
    assert frames == expected


async def test_back_link_unwatches_without_leaving_the_room(
    make_server: ServerFactory, new_page: PageFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = await make_server(member_grace_seconds=2)
    async with aiohttp.ClientSession(base_url=server.url) as http:
        anna, boris = await register(http, "anna"), await register(http, "boris")
        room = await create_room(http, anna, title="Lobby")
    host = await open_room(new_page, server, anna, room["code"])
    page = await new_page(server)
    frames = unwatch_frames(page)
    await page.goto(f"{server.url}/app?lang=en")
    await page.evaluate("token => localStorage.setItem('vmeste.token', token)", boris.token)
    await page.reload()
    await expect(page.locator('[data-screen="home"]')).to_be_visible()
    await page.locator("#public-rooms").get_by_role("button", name="Lobby").click()
    await expect(page.locator("#room-title")).to_have_text("Lobby")
    await expect(host.locator("#people-count")).to_have_text("2")
    assert frames == []

    # The server holds its handling (and so its ack) of the unwatch until the home screen is
    # up: the page never waits for the ack. (A wall-clock bound of 1 s failed on a busy
    # machine.)
    release = asyncio.Event()
    disconnect = presence.do_disconnect

    async def held_disconnect(*args: Any, **kwargs: Any) -> None:
        await release.wait()
        await disconnect(*args, **kwargs)

    monkeypatch.setattr(presence, "do_disconnect", held_disconnect)
    try:
        await page.get_by_role("button", name="Back to rooms").click()
        await expect(page.locator('[data-screen="home"]')).to_be_visible()
        assert "/app/room/" not in page.url
    finally:
        release.set()
        monkeypatch.setattr(presence, "do_disconnect", disconnect)
    await sent(frames, [{"roomId": room["id"]}])
    # Still in the room: it is among Boris's rooms, and the host still sees him after the
    # grace period (going back to the list is not leaving)...
    await expect(page.locator("#my-rooms")).to_contain_text("Lobby")
    await asyncio.sleep(3)
    await expect(host.locator("#people-count")).to_have_text("2")
    # ...until he closes the app: then he is gone from the host's list after the grace.
    await page.close()
    await expect(host.locator("#people-count")).to_have_text("1", timeout=8000)


@pytest.fixture
async def telegram_server(make_server: ServerFactory) -> Server:
    return await make_server(bot_token=TEST_BOT_TOKEN, telegram_api_url="http://127.0.0.1:9")


async def test_telegram_back_button_unwatches(
    telegram_server: Server, new_page: PageFactory
) -> None:
    server = telegram_server
    async with aiohttp.ClientSession(base_url=server.url) as http:
        anna = await register(http, "anna")
        room = await create_room(http, anna, title="Telegram lobby")
    telegram = signed_init_data({"id": 5550003, "first_name": "Pavel", "language_code": "en"})
    telegram.init_data_unsafe["start_param"] = f"room_{room['code']}"
    page = await new_page(server, telegram=telegram)
    frames = unwatch_frames(page)
    await page.goto(f"{server.url}/app")
    await expect(page.locator("#room-title")).to_have_text("Telegram lobby")
    await page.wait_for_function("window.vmeste.connection.state === 'connected'")
    # The in-page back link gives way to Telegram's own back button.
    await expect(page.get_by_role("button", name="Back to rooms")).to_be_hidden()
    await page.evaluate("""() => {
      const clicks = window.__telegramCalls.filter((call) => call[0] === 'BackButton.onClick');
      clicks[clicks.length - 1][1]();
    }""")
    await expect(page.locator('[data-screen="home"]')).to_be_visible(timeout=1000)
    await sent(frames, [{"roomId": room["id"]}])
    await expect(page.locator("#my-rooms")).to_contain_text("Telegram lobby")

"""Share from the Mini App: a prepared "watch together" message for WebApp.shareMessage."""

from __future__ import annotations

import json
import time

import aiohttp

from composition import Server
from services.accounts.telegram_auth import sign_init_data
from tests.conftest import TEST_BOT_TOKEN, register
from tests.fakes.botapi import FakeBotAPI


async def _telegram_token(http: aiohttp.ClientSession, telegram_id: int) -> str:
    fields = {
        "user": json.dumps({"id": telegram_id, "first_name": "Anna", "language_code": "ru"}),
        "auth_date": str(int(time.time())),
    }
    init_data = sign_init_data(fields, bot_token=TEST_BOT_TOKEN)
    async with http.post("/api/auth/telegram", json={"initData": init_data}) as response:
        return (await response.json())["accessToken"]


async def test_share_prepares_an_inline_message_with_the_room_link(
    bot_server: Server, fake_api: FakeBotAPI
) -> None:
    async with aiohttp.ClientSession(base_url=bot_server.url) as http:
        token = await _telegram_token(http, 5151)
        headers = {"Authorization": f"Bearer {token}"}
        async with http.post(
            "/api/rooms", json={"title": "Кино", "visibility": "private"}, headers=headers
        ) as response:
            room = (await response.json())["room"]
        async with http.post(f"/api/rooms/{room['id']}/share", headers=headers) as response:
            body = await response.json()
            assert response.status == 200, body
    call = await fake_api.wait_for("savePreparedInlineMessage")
    assert body["id"]
    assert call.params["user_id"] == 5151
    result = call.params["result"]
    # In the sharer's language, with a join button carrying the private room's invite code.
    assert result["title"] == "Смотреть вместе"
    (button,) = [b for row in result["reply_markup"]["inline_keyboard"] for b in row]
    assert button["url"] == (
        f"https://t.me/{fake_api.bot_username}?startapp=room_{room['code']}_{room['inviteCode']}"
    )


async def test_share_needs_membership(bot_server: Server, fake_api: FakeBotAPI) -> None:
    async with aiohttp.ClientSession(base_url=bot_server.url) as http:
        host = {"Authorization": f"Bearer {await _telegram_token(http, 6161)}"}
        outsider = {"Authorization": f"Bearer {await _telegram_token(http, 6262)}"}
        async with http.post(
            "/api/rooms", json={"title": "Secret", "visibility": "private"}, headers=host
        ) as response:
            room = (await response.json())["room"]
        async with http.post(f"/api/rooms/{room['id']}/share", headers=outsider) as response:
            assert response.status == 403
    assert not fake_api.calls_of("savePreparedInlineMessage")


async def test_share_without_telegram_is_a_clear_error(server: Server) -> None:
    async with aiohttp.ClientSession(base_url=server.url) as http:
        account = await register(http, "browseruser")
        async with http.post("/api/rooms", json={"title": "Web"}, headers=account.headers) as r:
            room = (await r.json())["room"]
        async with http.post(f"/api/rooms/{room['id']}/share", headers=account.headers) as r:
            body = await r.json()
    assert r.status == 400
    assert body["error"]["details"]["field"] == "share"

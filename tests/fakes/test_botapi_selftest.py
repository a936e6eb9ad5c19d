"""Proves FakeBotAPI is good enough for a real aiogram Bot + Dispatcher over HTTP.

Why: every bot test builds on this fake; if its results did not validate against
aiogram's models, or long polling / error mapping did not work, those tests would be
testing the fake instead of the bot.
"""

from __future__ import annotations

import asyncio
import html
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest
import pytest_asyncio
from aiogram import Bot, Dispatcher, F, Router
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramRetryAfter,
    TelegramUnauthorizedError,
)
from aiogram.filters import CommandStart
from aiogram.types import (
    BotCommand,
    CallbackQuery,
    ChatMemberAdministrator,
    ChatMemberBanned,
    ChatMemberLeft,
    ChatMemberMember,
    ChatMemberOwner,
    ChatMemberRestricted,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQuery,
    InlineQueryResultArticle,
    InputTextMessageContent,
    LabeledPrice,
    MenuButtonWebApp,
    Message,
    PreCheckoutQuery,
    WebAppInfo,
)

from .botapi import Call, FakeBotAPI

# Explicit marker: works in strict mode and is harmless under asyncio_mode=auto.
pytestmark = pytest.mark.asyncio

TOKEN = "123456:TEST"
USER_ID = 111


def make_bot(api: FakeBotAPI, token: str = TOKEN) -> Bot:
    """A real aiogram Bot whose HTTP requests go to the fake server."""
    return Bot(token=token, session=AiohttpSession(api=TelegramAPIServer.from_base(api.base_url)))


def make_router() -> Router:
    """A tiny bot: /start with an inline keyboard, a button, inline mode and Stars payments."""
    router = Router()

    @router.message(CommandStart())
    async def start(message: Message) -> None:
        assert message.from_user is not None
        keyboard = InlineKeyboardMarkup(
            inline_keyboard=[
                [InlineKeyboardButton(text="Watch together", callback_data="room:new")],
                [
                    InlineKeyboardButton(
                        text="Open app", web_app=WebAppInfo(url="https://example.org/app")
                    )
                ],
            ]
        )
        await message.answer(
            f"Hi, <b>{html.escape(message.from_user.first_name)}</b>!",
            parse_mode="HTML",
            reply_markup=keyboard,
        )

    @router.message(F.successful_payment)
    async def paid(message: Message, bot: Bot) -> None:
        payment = message.successful_payment
        assert payment is not None
        assert message.from_user is not None
        await message.answer(f"Thanks for {payment.total_amount} stars")
        await bot.refund_star_payment(message.from_user.id, payment.telegram_payment_charge_id)

    @router.message(F.text)
    async def echo(message: Message) -> None:
        await message.answer(f"echo: {message.text}")

    @router.callback_query(F.data == "room:new")
    async def new_room(query: CallbackQuery) -> None:
        assert isinstance(query.message, Message)
        await query.message.edit_text("Room created", reply_markup=None)
        await query.answer("Created!")

    @router.inline_query()
    async def inline(query: InlineQuery) -> None:
        await query.answer(
            [
                InlineQueryResultArticle(
                    id="invite",
                    title=f"Invite: {query.query}",
                    input_message_content=InputTextMessageContent(message_text="Join me"),
                )
            ],
            cache_time=0,
        )

    @router.pre_checkout_query()
    async def pre_checkout(query: PreCheckoutQuery) -> None:
        await query.answer(ok=query.invoice_payload.startswith("gift:"))

    return router


@pytest_asyncio.fixture
async def api() -> AsyncIterator[FakeBotAPI]:
    async with FakeBotAPI(token=TOKEN, bot_username="vmeste_test_bot") as fake:
        yield fake


@pytest_asyncio.fixture
async def bot(api: FakeBotAPI) -> AsyncIterator[Bot]:
    bot = make_bot(api)
    yield bot
    await bot.session.close()


@pytest_asyncio.fixture
async def polling(api: FakeBotAPI, bot: Bot) -> AsyncIterator[Dispatcher]:
    """A Dispatcher long-polling the fake; stopped cleanly at teardown."""
    dp = Dispatcher()
    dp.include_router(make_router())
    task = asyncio.create_task(
        dp.start_polling(bot, handle_signals=False, polling_timeout=1, close_bot_session=False)
    )
    await api.wait_for("getMe")  # start_polling identifies the bot first
    yield dp
    await dp.stop_polling()
    await asyncio.wait_for(task, timeout=5)


def buttons(markup: dict) -> list[list[tuple[str, str | None]]]:
    """(text, callback_data) per button, row by row."""
    return [[(b["text"], b.get("callback_data")) for b in row] for row in markup["inline_keyboard"]]


# ----------------------------------------------------------------- through the Dispatcher


async def test_start_answers_with_inline_keyboard(api: FakeBotAPI, polling: Dispatcher) -> None:
    calls = await api.say("/start")

    assert [c.method for c in calls] == ["sendMessage"]
    params = calls[0].params
    assert params["chat_id"] == USER_ID
    assert params["text"] == "Hi, <b>Anna</b>!"
    assert params["parse_mode"] == "HTML"
    assert buttons(params["reply_markup"]) == [
        [("Watch together", "room:new")],
        [("Open app", None)],
    ]
    assert params["reply_markup"]["inline_keyboard"][1][0]["web_app"] == {
        "url": "https://example.org/app"
    }
    # The stored message is what Telegram would show: tags parsed away, keyboard kept.
    (sent,) = api.sent_messages(USER_ID)
    assert sent["text"] == "Hi, Anna!"
    assert sent["from"]["username"] == "vmeste_test_bot"
    assert sent["chat"] == {
        "id": USER_ID,
        "type": "private",
        "first_name": "Anna",
        "username": "anna",
    }
    assert buttons(sent["reply_markup"])[0] == [("Watch together", "room:new")]
    # aiogram asked only for the update types it has handlers for.
    first_poll = api.calls_of("getUpdates")[0]
    assert set(first_poll.params["allowed_updates"]) == {
        "message",
        "callback_query",
        "inline_query",
        "pre_checkout_query",
    }
    assert api.calls_of("getMe"), "start_polling fetches the bot's identity first"


async def test_button_press_edits_message_and_answers(api: FakeBotAPI, polling: Dispatcher) -> None:
    await api.say("/start")
    (sent,) = api.sent_messages(USER_ID)

    calls = await api.press("room:new")

    assert [c.method for c in calls] == ["editMessageText", "answerCallbackQuery"]
    edit, answer = calls
    assert edit.params["chat_id"] == USER_ID
    assert edit.params["message_id"] == sent["message_id"]
    assert edit.params["text"] == "Room created"
    assert answer.params["text"] == "Created!"
    (edited,) = api.sent_messages(USER_ID)
    assert edited["text"] == "Room created"
    assert "reply_markup" not in edited
    assert "edit_date" in edited


async def test_updates_are_confirmed_with_offset(api: FakeBotAPI, polling: Dispatcher) -> None:
    first = await api.say("hello")
    second = await api.say("123", user_id=222, first_name="Boris", username=None)

    assert first[0].params["text"] == "echo: hello"
    assert second[0].params == {"chat_id": 222, "text": "echo: 123"}
    third_update = api.message_update("third")
    start = len(api.calls)
    third_id = api.push_update(third_update)
    poll = await api.wait_for("getUpdates", lambda c: bool(c.result), since=start)

    # aiogram confirmed the first two updates by asking for offset = last seen + 1 ...
    assert [u["update_id"] for u in poll.result] == [third_id]
    assert poll.params["offset"] == third_id
    # ... so only the third (not yet confirmed) is still queued on the "server".
    assert [u["update_id"] for u in api.pending_updates] == [third_id]
    await api.wait_for("sendMessage", lambda c: c.params["text"] == "echo: third")


async def test_unsubscribed_update_types_are_dropped(api: FakeBotAPI, polling: Dispatcher) -> None:
    edited = api.message_update("edited text")
    edited["edited_message"] = edited.pop("message")
    update_id = api.push_update(edited)
    calls = await api.say("after")  # delivered in the same getUpdates pass

    assert [u["update_id"] for u in api.dropped_updates] == [update_id]
    assert [c.params["text"] for c in calls] == ["echo: after"]
    assert len(api.calls_of("sendMessage")) == 1


async def test_inline_query_is_answered(api: FakeBotAPI, polling: Dispatcher) -> None:
    update = api.inline_update("movie night")
    api.push_update(update)

    call = await api.wait_for("answerInlineQuery")

    assert call.params["inline_query_id"] == update["inline_query"]["id"]
    (result,) = call.params["results"]
    assert result["title"] == "Invite: movie night"
    assert result["input_message_content"]["message_text"] == "Join me"


async def test_stars_checkout_and_payment(api: FakeBotAPI, polling: Dispatcher) -> None:
    good = api.pre_checkout_update("gift:42", 50)
    bad = api.pre_checkout_update("junk", 50)
    api.push_update(good)
    api.push_update(bad)
    answers = {
        q["pre_checkout_query"]["id"]: await api.wait_for(
            "answerPreCheckoutQuery",
            lambda c, q=q: c.params["pre_checkout_query_id"] == q["pre_checkout_query"]["id"],
        )
        for q in (good, bad)
    }
    assert answers[good["pre_checkout_query"]["id"]].params["ok"] is True
    assert answers[bad["pre_checkout_query"]["id"]].params["ok"] is False

    start = len(api.calls)
    api.push_update(api.successful_payment_update("gift:42", 50, "stxCHARGE1"))
    refund = await api.wait_for("refundStarPayment", since=start)

    assert refund.params == {"user_id": USER_ID, "telegram_payment_charge_id": "stxCHARGE1"}
    thanks = api.calls_of("sendMessage")[-1]
    assert thanks.params["text"] == "Thanks for 50 stars"


async def test_wait_for_timeout_lists_calls(api: FakeBotAPI, polling: Dispatcher) -> None:
    await api.say("ping")
    with pytest.raises(
        AssertionError, match=r"(?s)no sendPhoto call within 0.2s.*calls seen:.*sendMessage"
    ) as exc:
        await api.wait_for("sendPhoto", timeout=0.2)
    assert "echo: ping" in str(exc.value)


# ----------------------------------------------------------------- direct Bot calls


async def test_flood_control_raises_retry_after(api: FakeBotAPI, bot: Bot) -> None:
    api.fail_next("sendMessage")

    with pytest.raises(TelegramRetryAfter) as exc:
        await bot.send_message(USER_ID, "first")
    assert exc.value.retry_after == 1
    assert "Too Many Requests: retry after 1" in str(exc.value)

    message = await bot.send_message(USER_ID, "second")
    assert message.text == "second"
    failed, ok = api.calls_of("sendMessage")
    assert (failed.ok, failed.error and failed.error["error_code"]) == (False, 429)
    assert failed.error is not None
    assert failed.error["parameters"] == {"retry_after": 1}
    assert ok.ok
    assert ok.result["message_id"] == message.message_id
    assert [m["text"] for m in api.sent_messages(USER_ID)] == ["second"]


async def test_wrong_token_is_unauthorized(api: FakeBotAPI) -> None:
    stranger = make_bot(api, token="999:WRONG")
    try:
        with pytest.raises(TelegramUnauthorizedError, match="Unauthorized"):
            await stranger.get_me()
    finally:
        await stranger.session.close()
    assert api.calls == []


async def test_results_validate_as_aiogram_models(api: FakeBotAPI, bot: Bot) -> None:
    me = await bot.get_me()
    assert (me.id, me.is_bot, me.username) == (123456, True, "vmeste_test_bot")
    assert me.supports_inline_queries is True
    assert me.can_read_all_group_messages is False

    commands = [
        BotCommand(command="start", description="Start"),
        BotCommand(command="room", description="New room"),
    ]
    assert await bot.set_my_commands(commands) is True
    assert [(c.command, c.description) for c in await bot.get_my_commands()] == [
        ("start", "Start"),
        ("room", "New room"),
    ]
    assert await bot.delete_my_commands() is True
    assert await bot.get_my_commands() == []
    with pytest.raises(TelegramBadRequest, match="BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand(command="Start", description="x")])

    button = MenuButtonWebApp(text="Open", web_app=WebAppInfo(url="https://example.org/app"))
    assert await bot.set_chat_menu_button(chat_id=USER_ID, menu_button=button) is True
    got = await bot.get_chat_menu_button(chat_id=USER_ID)
    assert isinstance(got, MenuButtonWebApp)
    assert (got.text, got.web_app.url) == ("Open", "https://example.org/app")

    assert await bot.delete_webhook(drop_pending_updates=True) is True
    info = await bot.get_webhook_info()
    assert (info.url, info.pending_update_count) == ("", 0)
    assert await bot.send_chat_action(USER_ID, "typing") is True

    invoice = await bot.send_invoice(
        USER_ID,
        title="Gift",
        description="A gift for a friend",
        payload="gift:42",
        currency="XTR",
        prices=[LabeledPrice(label="Gift", amount=50)],
    )
    assert invoice.invoice is not None
    assert (invoice.invoice.total_amount, invoice.invoice.currency) == (50, "XTR")
    assert api.calls_of("sendInvoice")[0].params["prices"] == [{"label": "Gift", "amount": 50}]
    link = await bot.create_invoice_link(
        title="Gift",
        description="A gift",
        payload="gift:1",
        currency="XTR",
        prices=[LabeledPrice(label="Gift", amount=5)],
    )
    assert link.startswith("https://t.me/$")
    prepared = await bot.save_prepared_inline_message(
        user_id=USER_ID,
        result=InlineQueryResultArticle(
            id="1", title="Join", input_message_content=InputTextMessageContent(message_text="Hi")
        ),
        allow_user_chats=True,
    )
    assert prepared.id
    assert prepared.expiration_date > time.time()
    assert await bot.answer_pre_checkout_query("pcq1", ok=True) is True
    assert await bot.refund_star_payment(USER_ID, "stx1") is True
    assert await bot.answer_callback_query("cbq1", text="ok") is True


async def test_chat_member_statuses(api: FakeBotAPI, bot: Bot) -> None:
    channel = -1001234567890
    expected = {
        "creator": ChatMemberOwner,
        "administrator": ChatMemberAdministrator,
        "member": ChatMemberMember,
        "restricted": ChatMemberRestricted,
        "left": ChatMemberLeft,
        "kicked": ChatMemberBanned,
    }
    for user_id, (status, model) in enumerate(expected.items(), start=1):
        api.set_chat_member(channel, user_id, status)
        member = await bot.get_chat_member(channel, user_id)
        assert isinstance(member, model), status
        assert member.user.id == user_id
    unknown = await bot.get_chat_member(channel, 999)
    assert isinstance(unknown, ChatMemberLeft)


async def test_telegram_like_validation(api: FakeBotAPI, bot: Bot) -> None:
    group = -100777
    message = await bot.send_message(group, "  hi  ")
    assert message.text == "hi"
    assert message.chat.type == "supergroup"

    with pytest.raises(TelegramBadRequest, match="not modified"):
        await bot.edit_message_text("hi", chat_id=group, message_id=message.message_id)
    edited = await bot.edit_message_text(
        "<i>hi</i>", chat_id=group, message_id=message.message_id, parse_mode="HTML"
    )
    assert isinstance(edited, Message)
    assert edited.text == "hi"
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text("x", chat_id=group, message_id=9999)
    with pytest.raises(TelegramBadRequest, match='Unsupported start tag "br"'):
        await bot.send_message(USER_ID, "a<br>b", parse_mode="HTML")
    with pytest.raises(TelegramBadRequest, match="can't parse entities"):
        await bot.send_message(USER_ID, "<b>open", parse_mode="HTML")
    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        await bot.send_message(
            USER_ID,
            "x",
            reply_markup=InlineKeyboardMarkup(
                inline_keyboard=[[InlineKeyboardButton(text="b", callback_data="x" * 65)]]
            ),
        )
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await bot.send_message(USER_ID, "x" * 4097)

    assert await bot.delete_message(group, message.message_id) is True
    assert api.sent_messages(group) == []

    api.set_blocked(USER_ID)
    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await bot.send_message(USER_ID, "hello?")


async def test_raw_http_params_and_errors(api: FakeBotAPI) -> None:
    url = f"{api.base_url}/bot{TOKEN}"
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{url}/SENDMESSAGE", json={"chat_id": 5, "text": "123"}) as r:
            assert r.status == 200
            body = await r.json()
        assert body["ok"] is True
        assert body["result"]["text"] == "123"
        async with http.get(f"{url}/sendMessage", params={"chat_id": "-5", "text": "42"}) as r:
            assert (await r.json())["result"]["chat"]["type"] == "group"
        async with http.post(f"{url}/sendSticker", data={"chat_id": "5"}) as r:
            assert r.status == 404
            assert await r.json() == {
                "ok": False,
                "error_code": 404,
                "description": "Not Found: method not found",
            }
        api.on("sendSticker", lambda params: {"echo": params["sticker"]})
        async with http.post(f"{url}/sendsticker", data={"sticker": "CAACAgI"}) as r:
            assert await r.json() == {"ok": True, "result": {"echo": "CAACAgI"}}
        async with http.post(f"{api.base_url}/botWRONG:1/getMe") as r:
            assert r.status == 401
            assert await r.json() == {
                "ok": False,
                "error_code": 401,
                "description": "Unauthorized",
            }

    post, get, unknown, custom = api.calls
    assert post.method == "sendMessage"  # canonical name despite SENDMESSAGE
    assert post.params == {"chat_id": 5, "text": "123"}
    assert get.params == {"chat_id": -5, "text": "42"}  # text stays a string
    assert (unknown.method, unknown.ok) == ("sendSticker", False)
    assert (custom.method, custom.params) == ("sendSticker", {"sticker": "CAACAgI"})
    assert api.calls_of("sendmessage") == [post, get]
    api.clear()
    assert api.calls == []


async def test_builders_make_complete_updates() -> None:
    """Builders are pure dict factories; aiogram must accept what they build."""
    from aiogram.types import Update

    fake = FakeBotAPI()
    cmd = fake.message_update("/start@vmeste_test_bot ref_42", chat_id=-100555)
    cmd["update_id"] = 1
    update = Update.model_validate(cmd)
    assert update.message is not None
    assert update.message.entities is not None
    assert update.message.entities[0].length == len("/start@vmeste_test_bot")
    assert update.message.chat.type == "supergroup"
    assert Update.model_validate({"update_id": 2, **fake.callback_update("x")}).callback_query
    assert Update.model_validate({"update_id": 3, **fake.inline_update("q")}).inline_query
    paid = fake.successful_payment_update("p", 1, "c")
    assert Update.model_validate({"update_id": 4, **paid}).message.successful_payment  # type: ignore[union-attr]
    assert isinstance(Call("getMe", {}, 0.0).ok, bool)

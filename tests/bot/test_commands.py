"""/help, /terms and /paysupport (Telegram requires the last two of bots that sell)."""

from __future__ import annotations

from composition import Server
from tests.bot.conftest import (
    RU_HELP,
    assert_app_button,
    buttons,
    only_send,
    shown_text,
)
from tests.fakes.botapi import FakeBotAPI

EN_HELP = (
    "Vmeste — watch together in Telegram.\n\n"
    "/start — open the app\n"
    "/watch <link> — watch a video together\n"
    "/rooms — my open rooms\n"
    "/buy — buy coins for gifts\n"
    "/balance — coins, beans and premium\n"
    "/premium — Vmeste Premium\n"
    "/language — change language\n"
    "/terms — terms of service\n"
    "/paysupport — help with payments"
)


async def test_help_lists_the_commands_with_app_button(
    bot_server: Server, fake_api: FakeBotAPI
) -> None:
    reply = only_send(await fake_api.say("/help"))

    assert shown_text(reply) == EN_HELP
    assert_app_button(reply)


async def test_help_in_russian(bot_server: Server, fake_api: FakeBotAPI) -> None:
    reply = only_send(await fake_api.say("/help", user_id=222, language_code="ru"))
    assert shown_text(reply) == RU_HELP


async def test_terms_mention_stars_and_refunds(bot_server: Server, fake_api: FakeBotAPI) -> None:
    reply = only_send(await fake_api.say("/terms"))

    text = shown_text(reply)
    assert text.startswith("Terms of service\n")
    assert "Telegram Stars" in text
    assert "refund" in text
    assert "/paysupport" in text


async def test_paysupport_explains_how_to_get_help(
    bot_server: Server, fake_api: FakeBotAPI
) -> None:
    reply = only_send(await fake_api.say("/paysupport"))

    text = shown_text(reply)
    assert text.startswith("Payment support\n")
    assert "reply to this message" in text
    assert "date of the payment" in text
    assert "refunded" in text


async def test_commands_work_in_groups_without_web_app_buttons(
    bot_server: Server, fake_api: FakeBotAPI
) -> None:
    """web_app buttons are refused outside private chats (BUTTON_TYPE_INVALID)."""
    reply = only_send(await fake_api.say("/help", chat_id=-100123, chat_type="supergroup"))

    assert shown_text(reply) == EN_HELP
    # A t.me link opens the bot's main Mini App from a group.
    assert buttons(reply) == [
        {"text": "Open Vmeste", "url": "https://t.me/vmeste_test_bot?startapp"}
    ]

"""Inline keyboards and the chat menu button. ``web_app`` buttons work only in private chats with
the bot and over HTTPS; in local HTTP development they fall back to plain URL buttons."""

from __future__ import annotations

from aiogram import Bot
from aiogram.types import (
    Chat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    MenuButtonWebApp,
    WebAppInfo,
)
from aiogram.utils.i18n import gettext as _

from services.core import links
from services.core.config import Settings
from services.core.links import room_app_path


def mini_app_url(settings: Settings, path: str = "/app") -> str:
    return f"{settings.public_url}{path}"


def web_app_allowed(settings: Settings) -> bool:
    """Telegram opens only HTTPS Mini Apps."""
    return settings.public_url.startswith("https://")


def open_app_button(settings: Settings, text: str, path: str = "/app") -> InlineKeyboardButton:
    url = mini_app_url(settings, path)
    if web_app_allowed(settings):
        return InlineKeyboardButton(text=text, web_app=WebAppInfo(url=url))
    return InlineKeyboardButton(text=text, url=url)


def open_app_keyboard(settings: Settings) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[open_app_button(settings, _("Open Vmeste"))]])


def app_link(settings: Settings, bot_username: str) -> str:
    """A t.me link that opens the Mini App from anywhere (groups, channels, shared messages)."""
    return links.app_link(bot_username, settings.mini_app_short_name)


async def open_app_keyboard_for(bot: Bot, chat: Chat, settings: Settings) -> InlineKeyboardMarkup:
    """The "Open Vmeste" button for ``chat``: ``web_app`` buttons work only in private chats."""
    if chat.type == "private":
        return open_app_keyboard(settings)
    me = await bot.me()  # cached after the first call
    button = InlineKeyboardButton(text=_("Open Vmeste"), url=app_link(settings, me.username or ""))
    return InlineKeyboardMarkup(inline_keyboard=[[button]])


def app_menu_button(settings: Settings) -> MenuButtonWebApp | None:
    """The menu button that opens the Mini App, labelled in the current locale (None on HTTP)."""
    if not web_app_allowed(settings):
        return None
    return MenuButtonWebApp(text=_("Open"), web_app=WebAppInfo(url=mini_app_url(settings)))


async def set_chat_menu(bot: Bot, chat_id: int, settings: Settings) -> None:
    """Point a private chat's menu button at the Mini App, in the current locale."""
    button = app_menu_button(settings)
    if button is not None:
        await bot.set_chat_menu_button(chat_id=chat_id, menu_button=button)


LANGUAGE_NAMES = {"ru": "Русский", "en": "English"}


def language_keyboard(current: str) -> InlineKeyboardMarkup:
    buttons = [
        InlineKeyboardButton(
            text=("✓ " if code == current else "") + name, callback_data=f"lang:{code}"
        )
        for code, name in LANGUAGE_NAMES.items()
    ]
    return InlineKeyboardMarkup(inline_keyboard=[buttons])


# --------------------------------------------------------------------------- rooms


def room_link(
    settings: Settings, bot_username: str, code: str, invite_code: str | None = None
) -> str:
    """A t.me link opening the room in the Mini App from any chat (groups, inline results)."""
    return links.room_link(bot_username, settings.mini_app_short_name, code, invite_code)


def open_room_keyboard(
    settings: Settings, code: str, invite_code: str | None = None, *, share: bool = False
) -> InlineKeyboardMarkup:
    """For private chats with the bot: "Open room" (``web_app``) and optionally "Invite friends",
    which lets the user pick a chat and posts the room there through inline mode."""
    rows = [[open_app_button(settings, _("Open room"), room_app_path(code, invite_code))]]
    if share:
        rows.append([InlineKeyboardButton(text=_("Invite friends"), switch_inline_query=code)])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def room_link_keyboard(
    settings: Settings, bot_username: str, code: str, invite_code: str | None = None
) -> InlineKeyboardMarkup:
    """For groups and inline results, where ``web_app`` buttons are refused: a t.me URL button."""
    url = room_link(settings, bot_username, code, invite_code)
    return InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text=_("Join"), url=url)]])


async def get_bot_username(bot: Bot, bot_info: dict[str, object] | None = None) -> str:
    """The bot's username: from ``bot_info`` (filled at start) or getMe (cached by aiogram)."""
    username = (bot_info or {}).get("username")
    if isinstance(username, str) and username:
        return username
    me = await bot.me()
    return me.username or ""

"""Inline keyboards. ``web_app`` buttons work only in private chats with the bot and over HTTPS."""

from __future__ import annotations

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, WebAppInfo
from aiogram.utils.i18n import gettext as _

from services.config import Settings


def open_app_button(settings: Settings, text: str, path: str = "/app") -> InlineKeyboardButton:
    url = f"{settings.public_url}{path}"
    if settings.public_url.startswith("https://"):
        return InlineKeyboardButton(text=text, web_app=WebAppInfo(url=url))
    return InlineKeyboardButton(text=text, url=url)


def open_app_keyboard(settings: Settings) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[open_app_button(settings, _("Open Vmeste"))]])


LANGUAGE_NAMES = {"ru": "Русский", "en": "English"}


def language_keyboard(current: str) -> InlineKeyboardMarkup:
    buttons = [
        InlineKeyboardButton(
            text=("✓ " if code == current else "") + name, callback_data=f"lang:{code}"
        )
        for code, name in LANGUAGE_NAMES.items()
    ]
    return InlineKeyboardMarkup(inline_keyboard=[buttons])

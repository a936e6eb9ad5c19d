"""The one place the bot maps errors to replies: domain errors → a localized message or alert;
Telegram refusing to talk (blocked, flood limit) → a log line; anything else → logged + generic."""

from __future__ import annotations

import html
import logging
from typing import Any

from aiogram import Router
from aiogram.exceptions import TelegramAPIError, TelegramForbiddenError, TelegramRetryAfter
from aiogram.filters import ExceptionTypeFilter
from aiogram.types import ErrorEvent
from aiogram.utils.i18n import gettext as _

from services.core.db import as_unavailable
from services.core.errors import AppError

log = logging.getLogger(__name__)

ALERT_MAX_LEN = 200  # Telegram's limit for answerCallbackQuery text


def _render(template: str, data: dict[str, Any], *, escape: bool) -> str:
    values = {k: html.escape(str(v)) if escape else v for k, v in data.items()}
    text = _(template)
    try:
        return text.format(**values)
    except (KeyError, IndexError, ValueError):
        return text


def render_error(exc: AppError, *, escape: bool) -> str:
    """A domain error's message in the current locale (``escape``: for HTML messages)."""
    return _render(exc.template, exc.data, escape=escape)


async def _reply(event: ErrorEvent, message_text: str, alert_text: str | None = None) -> None:
    """Tell the user, in the chat or as an alert; a failure here is logged, never raised.
    A checkout is always answered (refused): Telegram waits for it."""
    update = event.update
    try:
        if update.pre_checkout_query is not None:
            text = alert_text if alert_text is not None else message_text
            await update.pre_checkout_query.answer(ok=False, error_message=text[:ALERT_MAX_LEN])
        elif update.message is not None:
            await update.message.answer(message_text)
        elif update.callback_query is not None:
            text = alert_text if alert_text is not None else message_text
            await update.callback_query.answer(text[:ALERT_MAX_LEN], show_alert=True)
    except TelegramAPIError as exc:
        log.warning("could not report an error for update %s: %s", update.update_id, exc)


async def domain_error(event: ErrorEvent) -> None:
    exc = event.exception
    assert isinstance(exc, AppError)
    await _reply_domain_error(event, exc)


async def _reply_domain_error(event: ErrorEvent, exc: AppError) -> None:
    await _reply(
        event,
        _render(exc.template, exc.data, escape=True),  # messages are sent as HTML
        _render(exc.template, exc.data, escape=False),  # alerts are plain text
    )


async def bot_blocked(event: ErrorEvent) -> None:
    # The user blocked the bot (or left the chat): there is no one to tell.
    log.info("update %s: Telegram refused to deliver: %s", event.update.update_id, event.exception)


async def flood_limited(event: ErrorEvent) -> None:
    # Already retried once by RetryAfterMiddleware; replying now would only hit the limit again.
    log.warning("update %s dropped by flood control: %s", event.update.update_id, event.exception)


async def unexpected_error(event: ErrorEvent) -> None:
    unavailable = as_unavailable(event.exception)
    if unavailable is not None:  # the database (or Redis) went away: say so, it comes back
        log.warning("bot update %s: %s", event.update.update_id, unavailable.code)
        await _reply_domain_error(event, unavailable)
        return
    log.error("bot update %s failed", event.update.update_id, exc_info=event.exception)
    await _reply(event, _("Something went wrong. Please try again."))


def setup() -> Router:
    """A fresh router per dispatcher; the first matching handler wins, so the catch-all is last."""
    router = Router(name=__name__)
    router.errors.register(domain_error, ExceptionTypeFilter(AppError))
    router.errors.register(bot_blocked, ExceptionTypeFilter(TelegramForbiddenError))
    router.errors.register(flood_limited, ExceptionTypeFilter(TelegramRetryAfter))
    router.errors.register(unexpected_error)
    return router

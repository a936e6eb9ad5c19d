"""The one place the bot maps domain errors to a localized reply; other errors are logged."""

from __future__ import annotations

import logging

from aiogram import Router
from aiogram.filters import ExceptionTypeFilter
from aiogram.types import ErrorEvent
from aiogram.utils.i18n import gettext as _

from services.errors import AppError

router = Router(name=__name__)
log = logging.getLogger(__name__)


async def _reply(event: ErrorEvent, text: str) -> None:
    update = event.update
    if update.message is not None:
        await update.message.answer(text)
    elif update.callback_query is not None:
        await update.callback_query.answer(text, show_alert=True)


@router.errors(ExceptionTypeFilter(AppError))
async def domain_error(event: ErrorEvent) -> None:
    exc = event.exception
    assert isinstance(exc, AppError)
    try:
        text = _(exc.template).format(**exc.data)
    except (KeyError, IndexError, ValueError):
        text = _(exc.template)
    await _reply(event, text)


@router.errors()
async def unexpected_error(event: ErrorEvent) -> None:
    log.error("bot update %s failed", event.update.update_id, exc_info=event.exception)
    await _reply(event, _("Something went wrong. Please try again."))

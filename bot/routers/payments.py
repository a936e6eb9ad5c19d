"""Telegram Stars: ``/buy`` (coin packs as invoices), the pre-checkout answer, the credit on
``successful_payment``, Telegram's refunds, ``/balance``, ``/premium`` and the admins'
``/refund``, ``/ban`` and ``/unban``.

The thank-you message is not sent here: ``do_credit`` publishes ``payment:credited`` when (and
only when) it credited, and :class:`bot.payments.PaymentNotifier` answers that, so a payment
credited by the reconciliation is thanked the same way and a replayed update says nothing.
"""

from __future__ import annotations

import asyncio
import html
import logging
from datetime import datetime

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest
from aiogram.filters import Command, CommandObject
from aiogram.types import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LabeledPrice,
    Message,
    PreCheckoutQuery,
)
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.keyboards import open_app_button
from bot.payments import (
    WALLET_PATH,
    credit_with_retry,
    format_date,
    from_timestamp,
    wallet_keyboard,
)
from bot.routers.errors import render_error
from models.users import User
from models.wallet import PaymentStatus, Product, Provider
from services.core.context import Services
from services.core.errors import Forbidden
from services.wallet.catalogue import PACKS, pack_title
from services.wallet.credit import item_for, parse_payload
from services.wallet.ledger import get_balance
from services.wallet.payments import (
    STARS,
    PaymentRefused,
    check_checkout,
    do_create_intent,
    do_refund,
    do_refunded_by_telegram,
    do_set_banned,
    do_set_renewal,
    get_premium,
    invoice_for,
    is_admin,
)
from services.wallet.wallet import get_wallet

log = logging.getLogger(__name__)

#: Telegram waits 10 s for the pre-checkout answer; leave room for the answer itself.
PRE_CHECKOUT_BUDGET = 7.0
REFUND_TOLD_TTL = 7 * 24 * 3600.0


# --------------------------------------------------------------------------- /buy


def packs_keyboard(language: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text=f"{pack_title(pack, language)} — {pack.stars} ⭐",
                    callback_data=f"buy:{pack.id}",
                )
            ]
            for pack in PACKS
        ]
    )


async def buy_command(message: Message, i18n: I18n) -> None:
    language = i18n.current_locale
    lines = [_("<b>Coins</b> for gifts in watch rooms and streams. Pick a pack:"), ""]
    lines += [f"• {html.escape(pack_title(pack, language))} — {pack.stars} ⭐" for pack in PACKS]
    await message.answer("\n".join(lines), reply_markup=packs_keyboard(language))


async def buy_pressed(callback: CallbackQuery, bot: Bot, i18n: I18n) -> None:
    pack_id = (callback.data or "").split(":", 1)[1]
    item = item_for(pack_id)  # ValidationError (no such pack) → the error router's alert
    invoice = invoice_for(item, i18n.current_locale)
    await bot.send_invoice(
        chat_id=callback.from_user.id,
        title=invoice.title,
        description=invoice.description,
        payload=invoice.payload,
        currency=STARS,
        prices=[LabeledPrice(label=invoice.title, amount=invoice.stars)],
        provider_token="",
    )
    await callback.answer()


# --------------------------------------------------------------------------- the checkout


async def pre_checkout(query: PreCheckoutQuery, user: User | None = None) -> None:
    """Answer every checkout within Telegram's 10 s, whatever happens."""
    try:
        if user is None:
            raise PaymentRefused()
        async with asyncio.timeout(PRE_CHECKOUT_BUDGET):
            await check_checkout(user, query.invoice_payload, query.currency, query.total_amount)
    except PaymentRefused as exc:
        await query.answer(ok=False, error_message=render_error(exc, escape=False))
        return
    except Exception:
        log.exception("pre-checkout %s failed; refusing it", query.id)
        await query.answer(ok=False, error_message=checkout_unavailable_text())
        return
    await query.answer(ok=True)


def checkout_unavailable_text() -> str:
    return _("Payments are not available right now. Please try again in a few minutes.")


async def successful_payment(message: Message, services: Services, user: User) -> None:
    paid = message.successful_payment
    assert paid is not None
    item = parse_payload(paid.invoice_payload)
    if item is None:
        # We refused it at the checkout; Telegram took the Stars anyway: support refunds it.
        log.error(
            "successful_payment %s for an unknown payload %r",
            paid.telegram_payment_charge_id,
            paid.invoice_payload,
        )
        await message.answer(
            _("We could not deliver this purchase. Write to /paysupport and we will refund it.")
        )
        return
    first = paid.is_first_recurring
    if first is None:
        # Telegram omits false flags: a renewal is recurring but not the first.
        first = not paid.is_recurring
    credit = await credit_with_retry(
        services,
        provider=Provider.STARS,
        charge_id=paid.telegram_payment_charge_id,
        user_id=user.id,
        item=item,
        amount=paid.total_amount,
        currency=paid.currency,
        provider_charge_id=paid.provider_payment_charge_id or None,
        subscription_until=from_timestamp(paid.subscription_expiration_date),
        first_recurring=first,
    )
    if credit is None:  # the reconciliation credits it once the database is back
        await message.answer(
            _("Your payment went through; the coins will arrive in a few minutes.")
            if item.product == Product.COINS
            else _("Your payment went through; premium will start in a few minutes.")
        )
    # The thanks come from PaymentNotifier (payment:credited), once.


async def refunded_payment(message: Message, services: Services) -> None:
    refunded = message.refunded_payment
    assert refunded is not None
    charge_id = refunded.telegram_payment_charge_id
    payment = await do_refunded_by_telegram(services, charge_id=charge_id)
    if payment is None or payment.status != PaymentStatus.REFUNDED:
        return
    # A refund is told once, however often the update comes.
    if not await services.state.set_if_absent(f"refund-told:{charge_id}", "1", ttl=REFUND_TOLD_TTL):
        return
    if payment.product == Product.PREMIUM:
        await message.answer(_("Your premium payment was refunded; premium has ended."))
        return
    wallet_balance = (await get_balance(payment.user_id))["coins"]
    await message.answer(
        _(
            "Your payment was refunded: {coins} coins were taken back. Balance: {balance} coins."
        ).format(coins=int(payment.coins) - int(payment.refund_shortfall), balance=wallet_balance),
        reply_markup=wallet_keyboard(services.settings),
    )


# --------------------------------------------------------------------------- /balance


def premium_line(premium: dict[str, object]) -> str:
    if not premium.get("active"):
        return _("Premium: not active. /premium")
    until = format_date(datetime.fromisoformat(str(premium["until"])))
    if premium.get("autoRenew"):
        return _("Premium: active until {date}, renews monthly.").format(date=until)
    return _("Premium: active until {date}, renewal is off.").format(date=until)


async def balance_command(message: Message, user: User, services: Services) -> None:
    wallet = await get_wallet(user, limit=1)
    text = "\n".join(
        [
            _("<b>Your wallet</b>"),
            _("Coins: {coins}").format(coins=wallet["coins"]),
            _("Beans: {beans}").format(beans=wallet["beans"]),
            premium_line(wallet["premium"]),
            "",
            _("Buy coins: /buy"),
        ]
    )
    await message.answer(text, reply_markup=wallet_keyboard(services.settings))


# --------------------------------------------------------------------------- /premium


def premium_status(premium: dict[str, object]) -> tuple[str, InlineKeyboardMarkup | None]:
    """Text and buttons for an active premium (renewing or not)."""
    until = format_date(datetime.fromisoformat(str(premium["until"])))
    if premium.get("autoRenew"):
        text = _("<b>Premium</b> is active until {date} and renews every month.").format(date=until)
        button = InlineKeyboardButton(text=_("Cancel renewal"), callback_data="premium:cancel")
    else:
        text = _("<b>Premium</b> is active until {date}; it will not renew.").format(date=until)
        button = InlineKeyboardButton(text=_("Turn renewal back on"), callback_data="premium:renew")
    return text, InlineKeyboardMarkup(inline_keyboard=[[button]])


async def premium_command(message: Message, user: User, services: Services, i18n: I18n) -> None:
    premium = await get_premium(user)
    if premium["active"]:
        text, markup = premium_status(premium)
        await message.answer(text, reply_markup=markup)
        return
    intent = await do_create_intent(
        services, user=user, product_id="premium", provider="stars", language=i18n.current_locale
    )
    invoice = invoice_for(item_for("premium"), i18n.current_locale)
    await message.answer(
        _("<b>Vmeste Premium</b> — {stars} ⭐ a month.\n{description}").format(
            stars=invoice.stars, description=html.escape(invoice.description)
        ),
        reply_markup=InlineKeyboardMarkup(
            inline_keyboard=[
                [InlineKeyboardButton(text=_("Subscribe"), url=intent["invoiceLink"])],
                [open_app_button(services.settings, _("Open wallet"), WALLET_PATH)],
            ]
        ),
    )


async def renewal_pressed(callback: CallbackQuery, user: User, services: Services) -> None:
    renew = callback.data == "premium:renew"
    premium = await do_set_renewal(services, acting_user=user, renew=renew)
    await callback.answer(_("Renewal is on.") if renew else _("Renewal is canceled."))
    message = callback.message
    if not isinstance(message, Message) or not premium["active"]:
        return
    text, markup = premium_status(premium)
    try:
        await message.edit_text(text, reply_markup=markup)
    except TelegramBadRequest as exc:
        if "message is not modified" not in exc.message:
            raise


# --------------------------------------------------------------------------- admins


async def refund_command(
    message: Message, command: CommandObject, services: Services, user: User | None = None
) -> None:
    if user is None:
        raise Forbidden()
    charge_id = (command.args or "").strip()
    if not charge_id:
        if not is_admin(services, user):
            raise Forbidden()
        await message.answer(_("Usage: <code>/refund &lt;telegram_payment_charge_id&gt;</code>"))
        return
    try:
        payment = await do_refund(services, acting_user=user, charge_id=charge_id)
    except TelegramAPIError as exc:
        await message.answer(
            _("Telegram refused the refund ({reason}); the buyer keeps the coins.").format(
                reason=html.escape(exc.message)
            )
        )
        return
    if payment.product == Product.PREMIUM:
        text = _("Refunded {stars} ⭐; the buyer's premium has ended.").format(
            stars=int(payment.amount)
        )
    else:
        text = _("Refunded {stars} ⭐; {coins} coins were taken back.").format(
            stars=int(payment.amount), coins=int(payment.coins)
        )
    await message.answer(text)


async def _ban(
    message: Message, command: CommandObject, user: User, services: Services, banned: bool
) -> None:
    argument = (command.args or "").strip()
    if not argument.isdigit() or len(argument) > 18:
        if not is_admin(services, user):
            raise Forbidden()
        await message.answer(
            _("Usage: <code>/ban &lt;user id&gt;</code>, <code>/unban &lt;user id&gt;</code>")
        )
        return
    target = await do_set_banned(services, acting_user=user, user_id=int(argument), banned=banned)
    if banned:
        text = _("User {id} can no longer buy, give gifts or withdraw.")
    else:
        text = _("User {id} can buy, give gifts and withdraw again.")
    await message.answer(text.format(id=target.id))


async def ban_command(
    message: Message, command: CommandObject, services: Services, user: User | None = None
) -> None:
    if user is None:
        raise Forbidden()
    await _ban(message, command, user, services, True)


async def unban_command(
    message: Message, command: CommandObject, services: Services, user: User | None = None
) -> None:
    if user is None:
        raise Forbidden()
    await _ban(message, command, user, services, False)


def setup() -> Router:
    """A fresh router per dispatcher (a router can belong to one parent only)."""
    router = Router(name=__name__)
    private = F.chat.type == "private"
    router.message.register(buy_command, Command("buy"), private)
    router.callback_query.register(buy_pressed, F.data.startswith("buy:"))
    router.pre_checkout_query.register(pre_checkout)
    router.message.register(successful_payment, F.successful_payment)
    router.message.register(refunded_payment, F.refunded_payment)
    router.message.register(balance_command, Command("balance"), private)
    router.message.register(premium_command, Command("premium"), private)
    router.callback_query.register(renewal_pressed, F.data.in_({"premium:cancel", "premium:renew"}))
    router.message.register(refund_command, Command("refund"))
    router.message.register(ban_command, Command("ban"))
    router.message.register(unban_command, Command("unban"))
    return router

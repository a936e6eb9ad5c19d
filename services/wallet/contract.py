"""The wallet on the wire (docs/wallet.md): gifts, coin packs, payment intents, balances and
history, leaderboards, withdrawals, and the gift events, in ``SOCKET_EVENTS``.

Filled by ``services.wallet`` (``catalogue``, ``ledger``, ``gifts``, ``payments``); imports
only pydantic, the standard library and the other contracts.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field

from services.accounts.contract import User
from services.core.contract import MAX_ID, Ack, Body, Model, SocketEvent
from services.core.text import Token
from services.rooms.contract import RoomRef
from services.wallet import events as ev

GiftKind = Literal["rose", "heart", "diamond", "rocket", "crown", "star", "fire", "rainbow"]
Provider = Literal["stars", "yookassa"]
Currency = Literal["coins", "beans"]
EntryKind = Literal[
    "purchase",
    "gift_sent",
    "gift_received",
    "refund",
    "withdrawal",
    "withdrawal_returned",
]
Id = Annotated[int, Field(gt=0, le=MAX_ID)]
#: Idempotency keys from clients: the same key again is the same gift, applied once.
IdempotencyKey = Annotated[Token, Field(min_length=8, max_length=64)]
#: A pack id (``PACKS``) or ``premium`` (the monthly Stars subscription).
ProductId = Annotated[Token, Field(min_length=1, max_length=32)]


# --- catalogue ----------------------------------------------------------------------------------


class GiftType(Model):
    id: GiftKind
    name: str = Field(description="in the requester's language")
    emoji: str
    coins: int = Field(description="what the sender pays")
    beans: int = Field(description="what the recipient earns")
    tier: int = Field(ge=1, le=4, description="animation size: 1 small … 4 full screen")
    animation: Literal["float", "burst", "fly", "fullscreen"]


class GiftCatalogue(Model):
    gifts: list[GiftType]


class Pack(Model):
    id: str
    title: str = Field(description="in the requester's language")
    coins: int = Field(description="coins credited, bonus included")
    bonus: int = Field(description="of which bonus")
    stars: int = Field(description="price in Telegram Stars (XTR)")
    rub: str | None = Field(
        description='price in roubles for the web version ("99.00"); null: not sold for roubles'
    )


class PremiumOffer(Model):
    stars: int = Field(description="Stars per period")
    days: int = Field(description="the subscription period")
    room_limit: int = Field(description="members per room with premium (the hard cap)")
    free_room_limit: int = Field(description="members per room without it")


class PackList(Model):
    packs: list[Pack]
    premium: PremiumOffer
    providers: list[Provider] = Field(
        description="how this server takes payments: stars always; yookassa when configured"
    )


# --- intents and orders -------------------------------------------------------------------------


class CreateIntentBody(Body):
    pack_id: ProductId = Field(description="a pack id, or premium")
    provider: Provider = Field(
        "stars",
        description="stars inside Telegram (an invoice link for WebApp.openInvoice); yookassa "
        "in a browser outside Telegram (a confirmation URL to redirect to)",
    )


class Intent(Model):
    provider: Provider
    invoice_link: str | None = Field(None, description="stars: for WebApp.openInvoice")
    confirmation_url: str | None = Field(None, description="yookassa: where to send the buyer")
    order_id: str | None = Field(None, description="yookassa: GET /api/payments/orders/{id}")


class Order(Model):
    id: str
    provider: Provider
    pack_id: str
    coins: int
    status: Literal["pending", "succeeded", "canceled", "refunded"]
    created_at: datetime


class OrderResponse(Model):
    order: Order


# --- the wallet ---------------------------------------------------------------------------------


class Premium(Model):
    active: bool
    until: datetime | None
    auto_renew: bool = Field(description="the Stars subscription renews at the end")


class Entry(Model):
    """One ledger entry of the wallet's history."""

    id: int
    currency: Currency
    amount: int = Field(description="signed: credits positive, debits negative")
    kind: EntryKind
    gift: GiftKind | None = None
    counterpart: User | None = Field(
        None, description="gifts: who sent it (received) or who got it (sent)"
    )
    room_id: int | None = None
    created_at: datetime


class ReceivedRow(Model):
    """Who gave the signed-in user what (their own wallet page)."""

    user: User
    gift: GiftKind
    count: int
    beans: int


class Balance(Model):
    coins: int
    beans: int


class Wallet(Balance):
    premium: Premium
    history: list[Entry] = Field(description="newest first")
    received: list[ReceivedRow] = Field(description="who gave you what, most beans first")
    withdrawals_enabled: Literal[False] = Field(
        description="no payout rail yet: requests are recorded for review"
    )


class WalletResponse(Model):
    wallet: Wallet


class WalletQuery(Body):
    before: int | None = Field(None, ge=1, description="only history older than this entry id")
    limit: int = Field(30, ge=1, le=100)


# --- gifts --------------------------------------------------------------------------------------


class SendGiftBody(Body):
    gift_id: GiftKind
    to_user_id: Id
    key: IdempotencyKey | None = Field(
        None, description="the same key again (a retry) sends nothing new and answers the same"
    )


class GiftSent(Model):
    id: int
    room_id: int
    gift: GiftType
    from_: User = Field(alias="from")
    to: User
    combo: int = Field(
        ge=1,
        description="how many of this gift this sender sent this recipient "
        "in a row, a few seconds apart",
    )
    created_at: datetime


class GiftResponse(Model):
    gift: GiftSent
    balance: Balance


class LeaderRow(Model):
    user: User
    coins: int = Field(description="gifters: coins spent; earners: coins' worth received")
    beans: int = Field(description="earners: beans earned")
    gifts: int


class Leaderboard(Model):
    gifters: list[LeaderRow] = Field(description="top senders, most coins first")
    earners: list[LeaderRow] = Field(description="top recipients, most beans first")


class LeaderboardQuery(Body):
    period: Literal["day", "week", "month", "all"] | None = Field(None, description="default all")


class LeaderboardResponse(Model):
    leaderboard: Leaderboard


class WithdrawalBody(Body):
    beans: Annotated[int, Field(gt=0, le=MAX_ID)]


class Withdrawal(Model):
    id: int
    beans: int
    status: Literal["pending", "paid", "rejected"]
    created_at: datetime


class WithdrawalResponse(Model):
    withdrawal: Withdrawal
    balance: Balance


class WithdrawalList(Model):
    withdrawals: list[Withdrawal]
    minimum: int = Field(description="beans per request at least")


# --- Socket.IO ----------------------------------------------------------------------------------


class GiftSend(SendGiftBody):
    room_id: RoomRef


class GiftAck(Ack):
    gift: GiftSent
    balance: Balance


SOCKET_EVENTS: tuple[SocketEvent, ...] = (
    SocketEvent(ev.GIFT_SEND, "send", GiftSend, "Send a gift to someone in the room", ack=GiftAck),
    SocketEvent(
        ev.GIFT_SENT,
        "receive",
        GiftSent,
        "A gift was sent: animate it over the video (bigger tier, bigger animation)",
        scope="room:{roomId}",
    ),
    SocketEvent(
        ev.WALLET_UPDATED,
        "receive",
        Balance,
        "Your balance changed (a purchase, a gift, a refund)",
        scope="user:{userId}",
    ),
)

"""The wallet: balances, the ledger every movement is written to, payments, gifts, withdrawals.

Invariant (``python -m bot check-ledger``): each wallet's ``coins`` and ``beans`` equal the sums
of its ledger entries, and neither is ever negative (CHECK constraints, a second line behind the
conditional updates of ``services.wallet.ledger``).
"""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.migrations.constraints import CheckConstraint
from tortoise.models import Model


class Currency(StrEnum):
    COINS = "coins"
    BEANS = "beans"


class EntryKind(StrEnum):
    PURCHASE = "purchase"
    GIFT_SENT = "gift_sent"
    GIFT_RECEIVED = "gift_received"
    REFUND = "refund"
    WITHDRAWAL = "withdrawal"
    WITHDRAWAL_RETURNED = "withdrawal_returned"


class Provider(StrEnum):
    STARS = "stars"
    YOOKASSA = "yookassa"


class PaymentStatus(StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    CANCELED = "canceled"
    REFUNDED = "refunded"


class Product(StrEnum):
    COINS = "coins"
    PREMIUM = "premium"


class WithdrawalStatus(StrEnum):
    PENDING = "pending"
    PAID = "paid"
    REJECTED = "rejected"


# No semicolons in these docstrings and ``#:`` comments: Tortoise makes them table and column
# comments and its SQLite schema editor splits statements on ";". No one-to-one primary keys
# either: Tortoise 1.1's autodetector sees their options as changed on every run.


class Wallet(Model):
    """One row per user who ever had a movement (no row reads as zero)."""

    id = fields.IntField(primary_key=True)
    user = fields.OneToOneField("models.User", related_name="wallet")
    coins = fields.BigIntField(default=0)
    beans = fields.BigIntField(default=0)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "wallets"
        constraints = [
            CheckConstraint(check="coins >= 0", name="wallets_coins_non_negative"),
            CheckConstraint(check="beans >= 0", name="wallets_beans_non_negative"),
        ]


class LedgerEntry(Model):
    """One movement of one currency of one wallet. ``key`` is unique: the same movement asked
    for twice (a replayed payment update, a retried gift) fails to insert and changes nothing."""

    id = fields.BigIntField(primary_key=True)
    key = fields.CharField(max_length=160, unique=True)
    user = fields.ForeignKeyField("models.User", related_name="ledger_entries")
    currency = fields.CharEnumField(Currency, max_length=8)
    amount = fields.BigIntField()
    kind = fields.CharEnumField(EntryKind, max_length=24)
    payment = fields.ForeignKeyField("models.Payment", related_name="entries", null=True)
    gift = fields.ForeignKeyField("models.Gift", related_name="entries", null=True)
    withdrawal = fields.ForeignKeyField("models.Withdrawal", related_name="entries", null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "ledger_entries"
        indexes = (("user_id", "id"),)


class Payment(Model):
    """A purchase from a provider. Telegram Stars payments are recorded when they succeed
    (keyed by ``telegram_payment_charge_id``), YooKassa orders when created (``order_id`` is
    their idempotency key and metadata), then succeed by webhook."""

    id = fields.IntField(primary_key=True)
    order_id = fields.CharField(max_length=40, unique=True)
    user = fields.ForeignKeyField("models.User", related_name="payments")
    provider = fields.CharEnumField(Provider, max_length=16)
    product = fields.CharEnumField(Product, max_length=16)
    pack_id = fields.CharField(max_length=32)
    coins = fields.BigIntField(default=0)
    #: In the currency's smallest unit: Stars, or kopecks.
    amount = fields.BigIntField()
    currency = fields.CharField(max_length=8)
    status = fields.CharEnumField(PaymentStatus, max_length=16, default=PaymentStatus.PENDING)
    #: Telegram's ``telegram_payment_charge_id`` or YooKassa's payment id.
    charge_id = fields.CharField(max_length=128, null=True, unique=True)
    provider_charge_id = fields.CharField(max_length=128, null=True)
    confirmation_url = fields.CharField(max_length=512, null=True)
    #: Premium: when the paid period ends (Telegram's ``subscription_expiration_date``).
    subscription_until = fields.DatetimeField(null=True)
    #: Coins a refund could not take back because they were spent (refunds Telegram made
    #: without us: ``refunded_payment``).
    refund_shortfall = fields.BigIntField(default=0)
    created_at = fields.DatetimeField(auto_now_add=True)
    paid_at = fields.DatetimeField(null=True)
    refunded_at = fields.DatetimeField(null=True)

    class Meta:
        table = "payments"
        indexes = (("user_id", "created_at"),)


class Subscription(Model):
    """A user's premium Stars subscription: the first charge names it for
    ``editUserStarSubscription``, renewals move ``until``."""

    id = fields.IntField(primary_key=True)
    user = fields.OneToOneField("models.User", related_name="subscription")
    charge_id = fields.CharField(max_length=128)
    until = fields.DatetimeField()
    canceled = fields.BooleanField(default=False)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "subscriptions"


class Gift(Model):
    id = fields.IntField(primary_key=True)
    #: ``<sender id>:<client key>``: a retried send finds the gift it already made.
    key = fields.CharField(max_length=80, unique=True)
    sender = fields.ForeignKeyField("models.User", related_name="gifts_sent")
    recipient = fields.ForeignKeyField("models.User", related_name="gifts_received")
    room = fields.ForeignKeyField("models.Room", related_name="gifts", null=True)
    kind = fields.CharField(max_length=16)
    coins = fields.IntField()
    beans = fields.IntField()
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "gifts"
        indexes = (("room_id", "sender_id"), ("recipient_id", "sender_id"))


class Withdrawal(Model):
    """A request to pay out beans, recorded for an admin. The beans are held (debited) until
    it is paid or rejected (rejected: returned)."""

    id = fields.IntField(primary_key=True)
    user = fields.ForeignKeyField("models.User", related_name="withdrawals")
    beans = fields.BigIntField()
    status = fields.CharEnumField(WithdrawalStatus, max_length=16, default=WithdrawalStatus.PENDING)
    created_at = fields.DatetimeField(auto_now_add=True)
    decided_at = fields.DatetimeField(null=True)

    class Meta:
        table = "withdrawals"

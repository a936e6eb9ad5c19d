"""Accounts: one row per person, whether they came by email sign-up, the Mini App or the bot."""

from __future__ import annotations

from datetime import datetime

from tortoise import fields
from tortoise.models import Model


class User(Model):
    id = fields.IntField(primary_key=True)
    # Telegram user id; the bot and the Mini App meet on this column.
    telegram_id = fields.BigIntField(null=True, unique=True)
    # Lower-cased; only accounts made with email sign-up have one.
    email = fields.CharField(max_length=254, null=True, unique=True)
    # The in-app handle, unique case-insensitively (stored lower-cased).
    username = fields.CharField(max_length=32, null=True, unique=True)
    telegram_username = fields.CharField(max_length=32, null=True)
    password_hash = fields.CharField(max_length=255, null=True)
    first_name = fields.CharField(max_length=128, default="")
    last_name = fields.CharField(max_length=128, null=True)
    photo_url = fields.CharField(max_length=512, null=True)
    # "ru" or "en"; null means "follow the Telegram client's language".
    language = fields.CharField(max_length=8, null=True)
    telegram_language = fields.CharField(max_length=16, null=True)
    is_telegram_premium = fields.BooleanField(default=False)
    # Vmeste premium (paid with Stars): bigger rooms, no ads. Null or past means none.
    premium_until = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)
    last_seen_at = fields.DatetimeField(null=True)
    # Bumped by "sign out everywhere": tokens carry the version they were issued at (``ver``)
    # and one older than this is refused.
    token_version = fields.IntField(default=0)
    #: Set by an admin (``/ban``): no purchases, gifts or withdrawals (null: in good standing).
    banned_at = fields.DatetimeField(null=True)

    class Meta:
        table = "users"

    def has_premium(self, now: datetime) -> bool:
        return self.premium_until is not None and self.premium_until > now

    @property
    def display_name(self) -> str:
        name = " ".join(part for part in (self.first_name, self.last_name) if part)
        return name or self.username or self.telegram_username or f"user{self.id}"

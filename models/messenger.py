"""The messenger: chats (direct and group), their members, messages, and device public keys."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model


class ChatKind(StrEnum):
    DIRECT = "direct"
    GROUP = "group"


class ChatRole(StrEnum):
    ADMIN = "admin"
    MEMBER = "member"


# No semicolons in these docstrings and ``#:`` comments: Tortoise makes them table and column
# comments and its SQLite schema editor splits statements on ";". No one-to-one primary keys.


class Chat(Model):
    """A conversation. Direct chats have exactly two members and a ``direct_key``."""

    id = fields.IntField(primary_key=True)
    kind = fields.CharEnumField(ChatKind, max_length=8)
    title = fields.CharField(max_length=100, null=True)
    #: Direct chats only: the two user ids, lower first ("3:7"), so a pair has one chat.
    direct_key = fields.CharField(max_length=32, null=True, unique=True)
    created_by = fields.ForeignKeyField("models.User", related_name="chats_created", null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    #: The newest message (id and time), for the chat list's order and preview.
    last_message_id = fields.IntField(null=True)
    last_message_at = fields.DatetimeField(null=True)

    class Meta:
        table = "chats"


class ChatMember(Model):
    """One person in one chat. ``left_at`` set: out of it (left or removed), the row is kept
    so the history of who read what stays. ``last_read_id`` and ``last_delivered_id`` are
    read-up-to and delivered-up-to message ids."""

    id = fields.IntField(primary_key=True)
    chat = fields.ForeignKeyField("models.Chat", related_name="members")
    user = fields.ForeignKeyField("models.User", related_name="chat_memberships")
    role = fields.CharEnumField(ChatRole, max_length=8, default=ChatRole.MEMBER)
    muted = fields.BooleanField(default=False)
    last_read_id = fields.IntField(default=0)
    last_delivered_id = fields.IntField(default=0)
    joined_at = fields.DatetimeField(auto_now_add=True)
    left_at = fields.DatetimeField(null=True)

    class Meta:
        table = "chat_members"
        unique_together = (("chat", "user"),)
        indexes = (("user_id", "left_at"),)


class Message(Model):
    """A message as its sender's client sent it. Encrypted ones hold ciphertext in ``content``
    and the wrapped keys in ``encryption``, exactly as sent. ``client_id`` is unique per
    sender: a resend after a reconnect finds the stored message instead of making another."""

    id = fields.IntField(primary_key=True)
    chat = fields.ForeignKeyField("models.Chat", related_name="messages")
    sender = fields.ForeignKeyField("models.User", related_name="messages_sent")
    client_id = fields.CharField(max_length=64)
    content = fields.TextField()
    is_encrypted = fields.BooleanField(default=False)
    encryption = fields.JSONField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    edited_at = fields.DatetimeField(null=True)
    deleted_at = fields.DatetimeField(null=True)

    class Meta:
        table = "messages"
        unique_together = (("sender", "client_id"),)
        indexes = (("chat_id", "id"),)


class DeviceKey(Model):
    """A device's RSA-OAEP public key (SPKI, base64) for end-to-end encryption. One per user
    and device, replaced when the device registers again."""

    id = fields.IntField(primary_key=True)
    user = fields.ForeignKeyField("models.User", related_name="device_keys")
    device_id = fields.CharField(max_length=64)
    public_key = fields.TextField()
    #: SHA-256 of the DER key, hex.
    fingerprint = fields.CharField(max_length=64)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "device_keys"
        unique_together = (("user", "device_id"),)

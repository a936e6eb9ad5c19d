"""The messenger on the wire (docs/messenger.md): chats, messages and their statuses, presence,
device public keys, and every Socket.IO payload, ack and server event, in ``SOCKET_EVENTS``.

Filled by ``services.messenger`` (``chats``, ``messages``, ``presence``, ``keys``); imports only
pydantic, the standard library and the other contracts.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AliasChoices, Field

from services.accounts.contract import User
from services.core.contract import MAX_ID, Ack, Body, Int32, Model, SocketEvent
from services.core.text import Multiline, Title, Token
from services.messenger import events as ev

ChatKind = Literal["direct", "group"]
ChatRole = Literal["admin", "member"]
Status = Literal["sent", "delivered", "read"]
Id = Annotated[int, Field(gt=0, le=MAX_ID)]
#: The client's own id of a message (a UUID, say): the same one again is the same message.
ClientId = Annotated[Token, Field(min_length=1, max_length=64)]
#: Checked by the service (plain text: 1-4000 characters once trimmed, ciphertext: 64 KiB).
Content = Annotated[Multiline, Field(json_schema_extra={"maxLength": 65536})]
#: What an encrypted message carries besides its ciphertext (the IV, the AES key wrapped for
#: each device...): stored and relayed as sent, at most 32 KiB of JSON.
Encryption = Annotated[
    dict[str, Any],
    Field(description="opaque to the server: stored and relayed exactly as sent (<= 32 KiB)"),
]


# --- shapes ------------------------------------------------------------------------------------


class ChatMember(Model):
    user: User
    role: ChatRole
    is_online: bool = Field(description="shown to people who share a chat with them")
    last_seen_at: datetime | None = Field(description="when their last connection closed")


class MessagePreview(Model):
    """The chat list's line: never the content of an encrypted message."""

    id: int
    sender_id: int
    text: str | None = Field(description="the first 100 characters; null when encrypted or deleted")
    is_encrypted: bool
    deleted: bool
    created_at: datetime


class Chat(Model):
    id: int
    kind: ChatKind
    title: str | None = Field(description="groups; null for direct chats")
    members: list[ChatMember] = Field(description="current members")
    my_role: ChatRole
    muted: bool = Field(description="the viewer muted this chat")
    unread_count: int = Field(description="others' messages after the viewer's read mark")
    last_message: MessagePreview | None
    last_message_at: datetime | None
    created_at: datetime


class Message(Model):
    id: int
    chat_id: int
    client_id: str
    sender: User
    content: str = Field(description="text, or ciphertext when isEncrypted; empty when deleted")
    is_encrypted: bool
    encryption: dict[str, Any] | None = Field(description="as the sender's client sent it")
    created_at: datetime
    edited_at: datetime | None
    deleted: bool
    status: Status = Field(description="sent, delivered (someone has it), read (someone read it)")
    read_by: int | None = Field(description="groups: how many others read it; null in direct chats")


class PublicKey(Model):
    device_id: str
    public_key: str = Field(description="RSA-OAEP SPKI, base64")
    fingerprint: str = Field(description="SHA-256 of the DER key, hex, for safety numbers")
    updated_at: datetime


# --- REST: bodies and queries ------------------------------------------------------------------


class CreateChatBody(Body):
    """Direct: ``{userId}`` (the same pair always gets the same chat). Group: ``{memberIds,
    title}`` (the creator is its admin and a member)."""

    user_id: Id | None = Field(None, validation_alias=AliasChoices("userId", "user_id"))
    member_ids: list[Id] | None = Field(None, max_length=200)
    title: Title | None = Field(None, json_schema_extra={"maxLength": 100})


class UpdateChatBody(Body):
    title: Title | None = Field(
        None, json_schema_extra={"maxLength": 100}, description="groups, admins only"
    )
    muted: bool | None = Field(None, description="the requester's own mute flag")


class AddMemberBody(Body):
    user_id: Id = Field(validation_alias=AliasChoices("userId", "user_id"))


class HistoryQuery(Body):
    chat_id: Int32
    before: Int32 | None = Field(None, description="only messages older than this id")
    limit: int = Field(50, ge=1, le=100)


class PublicKeyBody(Body):
    public_key: Token = Field(
        min_length=100, max_length=2048, description="RSA-OAEP SPKI, base64 (2048-4096 bits)"
    )
    device_id: ClientId


# --- REST: responses ---------------------------------------------------------------------------


class ChatResponse(Model):
    chat: Chat


class ChatList(Model):
    chats: list[Chat] = Field(description="newest message first")


class MessagePage(Model):
    messages: list[Message] = Field(description="newest first")
    has_more: bool


class PublicKeyResponse(Model):
    key: PublicKey


class PublicKeyList(Model):
    user_id: int
    keys: list[PublicKey] = Field(description="every device's key, newest first")


# --- Socket.IO: client -> server ---------------------------------------------------------------


class MessageSend(Body):
    chat_id: Id
    content: Content
    is_encrypted: bool = False
    client_id: ClientId
    encryption: Encryption | None = None


class MessageDelivered(Body):
    message_id: Id


class MessageRead(Body):
    chat_id: Id
    message_id: Id = Field(description="read up to and including this message")


class MessageEdit(Body):
    message_id: Id
    content: Content
    encryption: Encryption | None = None


class MessageDelete(Body):
    message_id: Id


class Typing(Body):
    chat_id: Id


# --- Socket.IO: acks ---------------------------------------------------------------------------


class MessageAck(Ack):
    message: Message


class MessageSendAck(MessageAck):
    resent: bool = Field(description="true: this clientId was stored before, nothing new sent")


class ReadAck(Ack):
    unread_count: int


# --- Socket.IO: server -> client ---------------------------------------------------------------


class MessageStatus(Model):
    """Every message of yours in ``chatId`` up to ``messageId`` has at least this status."""

    chat_id: int
    message_id: int
    status: Status
    read_by: int | None = Field(description="groups: how many others read messageId")


class MessageDeleted(Model):
    chat_id: int
    message_id: int


class UserTyping(Model):
    chat_id: int
    user_id: int


class Presence(Model):
    user_id: int
    is_online: bool
    last_seen_at: datetime | None


class ChatRef(Model):
    chat_id: int


USER_SCOPE = "user:{userId}"


def _send(name: str, payload: type[Body], ack: type[Ack], summary: str) -> SocketEvent:
    return SocketEvent(name, "send", payload, summary, ack=ack)


def _receive(name: str, payload: type[Model], summary: str) -> SocketEvent:
    return SocketEvent(name, "receive", payload, summary, scope=USER_SCOPE)


SOCKET_EVENTS: tuple[SocketEvent, ...] = (
    _send(ev.MESSAGE_SEND, MessageSend, MessageSendAck, "Send a message (resend: same clientId)"),
    _send(ev.MESSAGE_DELIVERED, MessageDelivered, Ack, "This client has the message"),
    _send(ev.MESSAGE_READ, MessageRead, ReadAck, "Read the chat up to a message"),
    _send(ev.MESSAGE_EDIT, MessageEdit, MessageAck, "Edit one's own message"),
    _send(ev.MESSAGE_DELETE, MessageDelete, Ack, "Delete one's own message"),
    _send(ev.TYPING, Typing, Ack, "Typing in a chat (relayed at most every 2 s)"),
    _receive(ev.MESSAGE_RECEIVED, Message, "A new message, on every device of every member"),
    _receive(ev.MESSAGE_STATUS, MessageStatus, "Your messages were delivered or read"),
    _receive(ev.MESSAGE_EDITED, Message, "A message was edited"),
    _receive(ev.MESSAGE_DELETED, MessageDeleted, "A message was deleted"),
    _receive(ev.USER_TYPING, UserTyping, "Someone is typing in a chat"),
    _receive(ev.USER_ONLINE, Presence, "Someone you share a chat with came online"),
    _receive(ev.USER_OFFLINE, Presence, "Someone you share a chat with went offline"),
    _receive(ev.CHAT_UPDATED, ChatRef, "A chat of yours changed or is new: fetch it again"),
    _receive(ev.CHAT_REMOVED, ChatRef, "You left or were removed from a chat"),
)

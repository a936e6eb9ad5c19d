"""Names of the messenger's Socket.IO events (seed 003 where it names them, docs/messenger.md).
Payloads, acks and directions are declared in :mod:`services.messenger.contract`."""

from __future__ import annotations

from dataclasses import dataclass

from services.core.events import Event

# --- client -> server (each acked with {ok: true, ...} or {ok: false, error}) ------------------
MESSAGE_SEND = "message:send"
MESSAGE_DELIVERED = "message:delivered"
MESSAGE_READ = "message:read"
MESSAGE_EDIT = "message:edit"
MESSAGE_DELETE = "message:delete"
TYPING = "typing"

# --- server -> client, to user:<id> (every device of every member) -----------------------------
MESSAGE_RECEIVED = "message:received"
MESSAGE_STATUS = "message:status"
MESSAGE_EDITED = "message:edited"
MESSAGE_DELETED = "message:deleted"
USER_TYPING = "user:typing"
USER_ONLINE = "user:online"
USER_OFFLINE = "user:offline"
CHAT_UPDATED = "chat:updated"
CHAT_REMOVED = "chat:removed"


def user_scope(user_id: int) -> str:
    """Every socket of a user is in this Socket.IO room (``signaling.hub``)."""
    return f"user:{user_id}"


@dataclass(frozen=True)
class OriginEvent(Event):
    """An event caused by one connection's command; the hub skips ``origin`` (it has the ack)."""

    origin: str | None = None

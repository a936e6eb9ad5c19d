"""The shared part of the wire contract: the base models, errors, the ack envelope, health.

Every feature declares its HTTP bodies and Socket.IO payloads in its own ``contract.py`` on
top of these (``services/accounts/contract.py``, ``services/rooms/contract.py``). The OpenAPI
and AsyncAPI documents are generated from them (``webapp/openapi.py``, ``webapp/asyncapi.py``)
and the test suite checks every response, emitted event and ack against them.

Contract modules import only pydantic, the standard library, each other and
``services.core.text`` (the one text type of every string field), never the rest of
``services``: they are the shapes, the services fill them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

#: Ids are positive 32-bit integers (the database's ``INTEGER`` primary keys).
MAX_ID = 2**31 - 1
#: Telegram ids (users, chats) are signed 64-bit (``BIGINT`` columns).
MAX_TELEGRAM_ID = 2**63 - 1
#: Every other integer a client sends fits a 32-bit column too (a larger one is a
#: validation_error at the edge, never a database error).
Int32 = Annotated[int, Field(ge=-(2**31), le=MAX_ID)]


class Model(BaseModel):
    """A wire shape: snake_case in Python, camelCase on the wire. Undeclared fields are an
    error, so a payload that grew a field nobody declared fails the contract tests."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        serialize_by_alias=True,
        extra="forbid",
    )


class Body(Model):
    """What clients send (HTTP bodies, Socket.IO event payloads): strict types (no "1" for 1),
    only the wire names (``initData``, not ``init_data``), unknown fields ignored (older and
    newer clients keep working)."""

    model_config = ConfigDict(strict=True, extra="ignore", validate_by_name=False)


class ErrorDetail(Model):
    code: str = Field(description="machine-readable: validation_error, forbidden, not_found...")
    message: str = Field(description="English; the bot and the app localize by code")
    details: dict[str, Any] | None = Field(
        None, description="e.g. {field, reason} of a validation_error, {retry_after} of 429"
    )


class Error(Model):
    """Every HTTP error body."""

    error: ErrorDetail


class Ok(Model):
    ok: Literal[True]


class Ack(Model):
    """A successful Socket.IO ack: ``{ok: true, ...}``; each event's ack adds its fields."""

    ok: Literal[True]


class AckError(Model):
    """A refused Socket.IO event: ``{ok: false, error: {code, message, details?}}``."""

    ok: Literal[False]
    error: ErrorDetail


class DependencyStatus(Model):
    status: Literal["ok", "down", "disabled"]
    latency_ms: float | None = Field(None, description="how long the probe took, ms")


class BotStatus(Model):
    status: Literal["on", "off"]
    mode: Literal["polling", "webhook"]


class Health(Model):
    """``GET /api/health`` (200 when healthy, 503 with the same report when degraded)."""

    status: Literal["ok", "degraded"]
    database: DependencyStatus
    redis: DependencyStatus
    bot: BotStatus


# --- Socket.IO: the declarative table the AsyncAPI document and the contract tests read -------


@dataclass(frozen=True)
class SocketEvent:
    """One Socket.IO event. ``send``: client -> server, answered with ``ack`` (or
    :class:`AckError`); ``receive``: server -> client, to ``scope`` (``room:<id>`` or
    ``user:<id>``)."""

    name: str
    direction: Literal["send", "receive"]
    payload: type[BaseModel]
    summary: str
    ack: type[BaseModel] | None = None
    scope: str | None = None


TIME_SYNC = "time:sync"


class TimeSync(Body):
    client_time: float | None = Field(
        None, description="the client's clock, ms; echoed back (anything else: null)"
    )


class TimeSyncAck(Ack):
    server_time: float = Field(description="server ms when the ack was built")
    received_at: float = Field(description="server ms when the event arrived")
    client_time: float | None


SESSION_EXPIRED = "session:expired"
SESSION_REVOKED = "session:revoked"


class SessionEnded(Model):
    """Sent just before the server disconnects a socket whose session ended; the client gets a
    fresh token (``POST /api/auth/refresh`` before ``exp``, or Telegram sign-in) and connects
    again for ``expired``, and shows the sign-in for ``revoked``."""

    reason: Literal["expired", "revoked"] = Field(
        description="expired: the token's exp passed; revoked: the user signed out everywhere"
    )


SOCKET_EVENTS: tuple[SocketEvent, ...] = (
    SocketEvent(
        SESSION_EXPIRED,
        "receive",
        SessionEnded,
        "The socket's access token expired: the server disconnects it now (io server disconnect)",
    ),
    SocketEvent(
        SESSION_REVOKED,
        "receive",
        SessionEnded,
        "The user signed out everywhere: every socket of theirs is disconnected now",
        scope="user:{userId}",
    ),
    SocketEvent(
        TIME_SYNC,
        "send",
        TimeSync,
        "One NTP-style round trip: keep the lowest-RTT samples to estimate the clock offset",
        ack=TimeSyncAck,
    ),
)

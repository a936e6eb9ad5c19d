"""One hierarchy of domain errors, mapped once per transport.

Services only raise these. Each transport maps them in exactly one place: the HTTP middleware
(status + ``{"error": {"code", "message"}}``), the Socket.IO ack (``{"ok": false, "error"}``)
and the bot's error router (a localized reply). ``message`` is an English template; the bot
translates it through the gettext catalogue (the templates are marked with :func:`N_`).
"""

from __future__ import annotations

from typing import Any, ClassVar


def N_(message: str) -> str:
    """Mark a string for extraction into the catalogue without translating it here."""
    return message


class AppError(Exception):
    code: ClassVar[str] = "error"
    http_status: ClassVar[int] = 400
    template: ClassVar[str] = N_("Something went wrong.")

    def __init__(self, template: str | None = None, /, **data: Any) -> None:
        self.template = template or type(self).template
        self.data = data
        super().__init__(self.message)

    @property
    def message(self) -> str:
        try:
            return self.template.format(**self.data)
        except (KeyError, IndexError, ValueError):
            return self.template

    def to_dict(self, message: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": message or self.message}
        public = {k: v for k, v in self.data.items() if not k.startswith("_")}
        if public:
            body["details"] = public
        return body


class ValidationError(AppError):
    code = "validation_error"
    http_status = 400
    template = N_("Invalid value for {field}: {reason}.")


class Unauthorized(AppError):
    code = "unauthorized"
    http_status = 401
    template = N_("Sign in to continue.")


class Forbidden(AppError):
    code = "forbidden"
    http_status = 403
    template = N_("You are not allowed to do that.")


class NotFound(AppError):
    code = "not_found"
    http_status = 404
    template = N_("Not found.")


class UnknownEvent(AppError):
    """A Socket.IO event no handler is registered for."""

    code = "unknown_event"
    http_status = 404
    template = N_("Unknown event: {event}.")


class Conflict(AppError):
    code = "conflict"
    http_status = 409
    template = N_("This {field} is already taken.")


class RoomFull(Conflict):
    code = "room_full"
    template = N_("The room is full.")


class MediaChanged(Conflict):
    """The client acted on an item that is no longer the one on screen (it moved on)."""

    code = "media_changed"
    template = N_("The video has changed. Try again on the one playing now.")


class InsufficientFunds(AppError):
    code = "insufficient_funds"
    http_status = 402
    template = N_("Not enough coins.")


class PayloadTooLarge(AppError):
    code = "payload_too_large"
    http_status = 413
    template = N_("The request is too large (limit {limit} bytes).")


class RateLimited(AppError):
    code = "rate_limited"
    http_status = 429
    template = N_("Too many requests. Try again in {retry_after} s.")

    @property
    def retry_after(self) -> int:
        return int(self.data.get("retry_after", 1))


class Unavailable(AppError):
    """A backing service (the database, Redis) does not answer: try again in a moment. The
    transports turn such failures into this in their one error mapping
    (:func:`services.core.db.as_unavailable`)."""

    code = "unavailable"
    http_status = 503
    template = N_("The service is temporarily unavailable. Try again in a moment.")


class DatabaseUnavailable(Unavailable):
    code = "database_unavailable"
    template = N_("The database is unavailable right now. Try again in a moment.")

"""Parsing of client event payloads, shared by every event module."""

from __future__ import annotations

from typing import Any

from services.core.errors import ValidationError


def require_dict(data: Any) -> dict[str, Any]:
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ValidationError("The event payload must be an object.", field="payload")
    return data


def room_ref(data: dict[str, Any]) -> int | str:
    """The ``roomId`` of a payload: a numeric id or a room code (checked by the service)."""
    ref = data.get("roomId")
    if isinstance(ref, bool) or not isinstance(ref, (int, str)) or ref in ("", None):
        raise ValidationError(field="roomId", reason="required")
    return ref

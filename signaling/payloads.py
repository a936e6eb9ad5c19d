"""Parsing of client event payloads against their contract models (services/*/contract.py),
shared by every event module. A payload that does not fit is a domain ``ValidationError``
naming the field, acked like any other domain error."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from services.core.errors import ValidationError

B = TypeVar("B", bound=BaseModel)


def require_dict(data: Any) -> dict[str, Any]:
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ValidationError("The event payload must be an object.", field="payload")
    return data


def parse(model: type[B], data: Any) -> B:
    """``data`` as ``model`` (a ``Body``: strict types, unknown fields ignored). The error names
    the top-level field (``mediaIds``, not ``mediaIds.2``; ``roomId``, not its union arm)."""
    try:
        return model.model_validate(require_dict(data))
    except PydanticValidationError as exc:
        error = exc.errors()[0]
        field = str(error["loc"][0]) if error["loc"] else "payload"
        if error["type"] == "missing":
            raise ValidationError(
                "Missing required field: {field}.", field=field, reason="required"
            ) from None
        raise ValidationError(field=field, reason=error["msg"].lower()) from None

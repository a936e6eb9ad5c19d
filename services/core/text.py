"""The one text type: every string that comes in (HTTP bodies, query strings, Socket.IO
payloads, tokens, Telegram profiles) is checked by the same rules before anything stores,
hashes, encodes or looks it up.

A :class:`Rule` says what a kind of text may hold; every kind refuses

* lone surrogates (``"a\\ud800b"`` is a valid JSON string but not Unicode: UTF-8 encoding, the
  database drivers, argon2 and Redis all raise on it),
* NUL and the other control characters (C0, DEL, C1; PostgreSQL refuses NUL in ``text``) —
  newline, carriage return and tab only in multi-line text (the chat),

and lengths are counted in characters (code points). Names and titles (``visible``) also refuse
the bidirectional embedding/override/isolate controls (U+202A–U+202E, U+2066–U+2069: they make
a room's title read like another's) and strings made of whitespace and zero-width characters
only. Tokens are printable ASCII.

Three ways in, one check:

* the contract's pydantic types (:data:`Line`, :data:`Name`, :data:`Title`, :data:`Url`,
  :data:`Multiline`, :data:`Secret`, :data:`Token`), used by every ``Body`` in
  ``services/*/contract.py``: a ``validation_error`` naming the field;
* :func:`check` for services and query strings: the same reasons as a domain
  :class:`~services.core.errors.ValidationError`;
* :func:`clean` for text we must keep but did not get from a form (a Telegram profile, a title
  derived from a link): the offending characters removed.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import AfterValidator, Field
from pydantic_core import PydanticCustomError

from services.core.errors import ValidationError

__all__ = [
    "LINE",
    "MULTILINE",
    "NAME",
    "SECRET",
    "TITLE",
    "TOKEN",
    "URL",
    "Line",
    "Multiline",
    "Name",
    "Rule",
    "Secret",
    "Title",
    "Token",
    "Url",
    "check",
    "clean",
    "problem",
]

_SURROGATE = re.compile("[\ud800-\udfff]")
#: C0 and C1 controls and DEL; multi-line text keeps newline (LF, CR) and tab.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
_CONTROL_MULTILINE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
#: Embeddings and overrides (LRE, RLE, PDF, LRO, RLO) and isolates (LRI, RLI, FSI, PDI).
_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")
#: Characters that show nothing: a name made only of these (and whitespace) is invisible.
_INVISIBLE = frozenset("\u200b\u200c\u200d\u2060\ufeff\u180e\u00ad\u034f\u115f\u1160\u3164")
_TOKEN = re.compile(r"[\x21-\x7e]*")


@dataclass(frozen=True, slots=True)
class Rule:
    """What one kind of text may hold."""

    multiline: bool = False
    #: Names and titles: no bidi controls, not whitespace/zero-width only.
    visible: bool = False
    #: Tokens: printable ASCII only.
    ascii: bool = False
    max_length: int | None = None


LINE = Rule()
NAME = Rule(visible=True, max_length=128)
#: Newlines and tabs pass: ``check_title`` squeezes every run of whitespace into one space.
TITLE = Rule(multiline=True, visible=True)
URL = Rule(max_length=2048)
MULTILINE = Rule(multiline=True)
SECRET = Rule(max_length=1024)
TOKEN = Rule(ascii=True, max_length=4096)


def _invisible(value: str) -> bool:
    return all(
        c.isspace() or c in _INVISIBLE or unicodedata.category(c) in ("Cf", "Mn", "Me")
        for c in value
    )


def problem(value: object, rule: Rule = LINE) -> str | None:
    """Why ``value`` is not text of this kind (a short English reason), or None when it is."""
    if not isinstance(value, str):
        return "must be a string"
    if _SURROGATE.search(value):
        return "not valid Unicode (lone surrogate)"
    if rule.ascii:
        if not _TOKEN.fullmatch(value):
            return "must be printable ASCII"
    elif (_CONTROL_MULTILINE if rule.multiline else _CONTROL).search(value):
        return "contains control characters"
    if rule.max_length is not None and len(value) > rule.max_length:
        return f"at most {rule.max_length} characters"
    if rule.visible:
        if _BIDI.search(value):
            return "contains bidirectional control characters"
        if value and _invisible(value):
            return "has no visible characters"
    return None


def check(value: object, rule: Rule = LINE, *, field: str) -> str:
    """``value`` if it is text of this kind, else a ``validation_error`` naming ``field``."""
    reason = problem(value, rule)
    if reason is not None:
        raise ValidationError(field=field, reason=reason)
    assert isinstance(value, str)
    return value


def clean(value: str, rule: Rule = LINE) -> str:
    """``value`` without what ``rule`` refuses (surrogates, controls, bidi controls), cut to
    its length; an invisible-only name becomes ``""``."""
    value = _SURROGATE.sub("", value)
    value = (_CONTROL_MULTILINE if rule.multiline else _CONTROL).sub("", value)
    if rule.ascii:
        value = "".join(c for c in value if "\x21" <= c <= "\x7e")
    if rule.visible:
        value = _BIDI.sub("", value)
        if _invisible(value):
            value = ""
    if rule.max_length is not None:
        value = value[: rule.max_length]
    return value


def _validator(rule: Rule) -> Any:
    def validate(value: str) -> str:
        reason = problem(value, rule)
        if reason is not None:
            raise PydanticCustomError("text", reason)
        return value

    return AfterValidator(validate)


#: One line of text: no controls, no lone surrogates.
Line = Annotated[str, _validator(LINE)]
#: A person's name or handle: one line, visible, no bidi controls.
Name = Annotated[str, _validator(NAME)]
#: A room's title: one line, visible, no bidi controls (length: after collapsing whitespace).
Title = Annotated[str, _validator(TITLE)]
#: A link.
Url = Annotated[str, _validator(URL), Field(max_length=URL.max_length)]
#: Multi-line text (chat): newline and tab allowed.
Multiline = Annotated[str, _validator(MULTILINE)]
#: A password: one line (it is hashed, never shown).
Secret = Annotated[str, _validator(SECRET), Field(max_length=SECRET.max_length)]
#: A bearer token, an invite code: printable ASCII.
Token = Annotated[str, _validator(TOKEN), Field(max_length=TOKEN.max_length)]

"""Telegram links, built and parsed in one place.

A Mini App opened from a link gets its ``startapp`` parameter as ``start_param``; the bot gets
``/start <parameter>`` from ``t.me/<bot>?start=``. Telegram allows at most 64 characters of
``A-Za-z0-9_-``. Parameters are ``<kind>_<rest>``: ``room_<code>`` or ``room_<code>_<invite>``
(room codes have no ``_``; invite codes may), ``lang_<code>``, and the kinds later features
add. A parameter that is a top-level screen's name opens that screen (``wallet``:
:data:`SCREEN_START_PARAMS`). The Mini App's own copy of these formats is ``static/js/links.js``.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

START_PARAM_MAX = 64
START_PARAM_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
#: Room codes: 8 characters without the look-alikes 0/O and I/l/1 (never all digits).
ROOM_CODE_ALPHABET = "".join(c for c in string.ascii_letters + string.digits if c not in "0OIl1")
ROOM_CODE_LENGTH = 8
ROOM_CODE_RE = re.compile(f"^[{ROOM_CODE_ALPHABET}]{{{ROOM_CODE_LENGTH}}}$")
_ROOM_PARAM_RE = re.compile(r"^room_([A-Za-z0-9]+)(?:_([A-Za-z0-9_-]+))?$")
#: start_params naming a Mini App screen, and its path (``SCREEN_PATHS`` in static/js/links.js).
SCREEN_START_PARAMS = {"wallet": "/app/wallet"}


@dataclass(frozen=True)
class RoomLink:
    code: str
    invite_code: str | None = None


def room_start_param(code: str, invite_code: str | None = None) -> str:
    """``room_<code>`` or ``room_<code>_<inviteCode>``."""
    param = f"room_{code}_{invite_code}" if invite_code else f"room_{code}"
    if not START_PARAM_RE.match(param):
        raise ValueError(f"not a valid start parameter: {param!r}")
    return param


def parse_room_param(param: str) -> RoomLink | None:
    """The room of ``room_<code>[_<invite>]``, or None (not a room link, or a malformed code)."""
    match = _ROOM_PARAM_RE.match(param)
    if match is None or not ROOM_CODE_RE.match(match.group(1)):
        return None
    return RoomLink(match.group(1), match.group(2))


def parse_room_reference(text: str) -> RoomLink | None:
    """A room named by what people paste: a code, ``room_<code>``, or a t.me link with a
    ``startapp``/``start`` parameter (with or without ``https://``)."""
    text = text.strip()
    if ROOM_CODE_RE.match(text):
        return RoomLink(text)
    if "t.me/" in text:
        query = parse_qs(urlsplit(text if "://" in text else "https://" + text).query)
        text = (query.get("startapp") or query.get("start") or [""])[0]
    return parse_room_param(text)


def room_app_path(code: str, invite_code: str | None = None) -> str:
    """The Mini App page of a room (``?invite=`` lets a private room's guest in)."""
    path = f"/app/room/{code}"
    return f"{path}?invite={invite_code}" if invite_code else path


def app_link(bot_username: str, short_name: str | None, start_param: str | None = None) -> str:
    """A t.me link that opens the Mini App from any chat (groups, channels, shared messages):
    the named Mini App ``short_name`` or the bot's main one, with ``startapp`` if given."""
    base = f"https://t.me/{bot_username}"
    if short_name:
        base += f"/{short_name}"
    if start_param is None:
        return base if short_name else f"{base}?startapp"
    return f"{base}?startapp={start_param}"


def room_link(
    bot_username: str, short_name: str | None, code: str, invite_code: str | None = None
) -> str:
    """A t.me link opening a room in the Mini App (groups, inline results, shared messages)."""
    return app_link(bot_username, short_name, room_start_param(code, invite_code))

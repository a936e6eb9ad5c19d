"""A small but real fake of the Telegram Bot API, served over HTTP.

Why: unit tests that mock ``Bot`` methods never exercise aiogram's request encoding,
response validation (pydantic), error mapping (``TelegramRetryAfter`` & co) or the
long-polling loop. This fake is an aiohttp server that aiogram talks to exactly as it
talks to ``api.telegram.org``::

    async with FakeBotAPI(token="123456:TEST") as api:
        bot = Bot(token=api.token,
                  session=AiohttpSession(api=TelegramAPIServer.from_base(api.base_url)))
        ...
        calls = await api.say("/start")          # push an update, wait for the answer
        assert calls[0].params["text"] == "Hi!"

What it does deliberately like Telegram (so real bugs show up in tests):

* the HTTP status equals ``error_code``; wrong token → 401, unknown method → 404;
* ``getUpdates`` long-polls, honours ``offset``/``limit``/``timeout`` and remembers
  ``allowed_updates`` — updates of a type the bot did not ask for are *dropped*, as
  Telegram does (see :attr:`FakeBotAPI.dropped_updates`);
* ``parse_mode="HTML"`` text is checked (unsupported / unbalanced tags → 400
  "can't parse entities") and the returned message carries the *plain* text;
  leading/trailing whitespace is trimmed, empty text → 400, > 4096 chars → 400;
* ``callback_data`` longer than 64 bytes → 400 ``BUTTON_DATA_INVALID``;
* ``web_app`` buttons outside private chats → 400 ``BUTTON_TYPE_INVALID``;
* editing with identical content → 400 "message is not modified";
  editing an unknown message → 400 "message to edit not found";
* ``Message.reply_markup`` in results only ever holds an inline keyboard.

Not simulated: MarkdownV2 parsing (text is returned as sent), entities in results,
files/media methods (register your own with :meth:`FakeBotAPI.on`).

Parameter decoding (aiogram sends ``application/x-www-form-urlencoded``, or multipart
when files are attached; every non-string value is JSON-encoded): each form value is
``json.loads``-ed and the result kept only if it is a dict, list, bool, int or finite
float; anything else (``"@channel"``, ``"typing"``...) stays the original string.
Parameters that are free text by nature (see :data:`STRING_PARAMS`: ``text``,
``caption``, ``data``, ``payload``, ``query``, ids of queries...) are *never* decoded,
so ``send_message(text="123")`` records ``params["text"] == "123"`` while
``chat_id="123"`` becomes ``123``. JSON request bodies are used as-is. Uploaded
files become ``{"filename", "content_type", "data": bytes}``.
"""

from __future__ import annotations

import asyncio
import copy
import inspect
import itertools
import json
import math
import re
import secrets
import time
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from html.parser import HTMLParser
from types import TracebackType
from typing import Any, Self

from aiohttp import web

__all__ = [
    "STRING_PARAMS",
    "BotAPIError",
    "Call",
    "FakeBotAPI",
    "decode_form_value",
]

JSONDict = dict[str, Any]
ChatId = int | str
Handler = Callable[[JSONDict], Any]
"""A method implementation: gets the decoded params, returns the ``result`` (or an
awaitable of it), raises :class:`BotAPIError` to answer ``ok: false``."""


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


STRING_PARAMS: frozenset[str] = _words(
    "text caption query data payload title description short_description name first_name "
    "last_name username url secret_token ip_address callback_query_id inline_query_id "
    "pre_checkout_query_id shipping_query_id web_app_query_id telegram_payment_charge_id "
    "inline_message_id business_connection_id message_effect_id start_parameter "
    "provider_token provider_data currency parse_mode error_message next_offset "
    "switch_pm_text switch_pm_parameter emoji custom_emoji_id language_code action "
    "photo_url question explanation invite_link"
)
"""Form parameters kept verbatim (never JSON-decoded) because they are free text."""

# Update types Telegram does NOT deliver when ``allowed_updates`` was never set (or is []).
_NOT_DELIVERED_BY_DEFAULT: frozenset[str] = frozenset(
    {"chat_member", "message_reaction", "message_reaction_count"}
)
_CHAT_ACTIONS: frozenset[str] = _words(
    "typing upload_photo record_video upload_video record_voice upload_voice "
    "upload_document choose_sticker find_location record_video_note upload_video_note"
)
_MEMBER_STATUS_ALIASES: dict[str, str] = {
    "owner": "creator",
    "admin": "administrator",
    "banned": "kicked",
}
_MEMBER_STATUSES: frozenset[str] = frozenset(
    {"creator", "administrator", "member", "restricted", "left", "kicked"}
)
_HTML_TAGS: frozenset[str] = _words(
    "b strong i em u ins s strike del span tg-spoiler a tg-emoji tg-time code pre blockquote"
)
_COMMAND_RE = re.compile(r"^[a-z0-9_]{1,32}$")
_DEFAULT_ERROR_TEXT: dict[int, str] = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    500: "Internal Server Error",
    502: "Bad Gateway",
}
MESSAGE_MAX_LEN = 4096
NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)
CALLBACK_DATA_MAX_BYTES = 64
SUBSCRIPTION_PERIOD = 2592000
"""The only ``subscription_period`` Telegram accepts (30 days)."""


@dataclass
class Call:
    """One request the bot made (after token check), in completion order."""

    method: str
    """Canonical Telegram name (``"sendMessage"``) — or the raw name if unknown."""
    params: JSONDict
    at: float
    """``time.time()`` when the request arrived."""
    ok: bool = True
    result: Any = None
    error: JSONDict | None = None
    """The ``ok: false`` body when the call failed."""

    def __str__(self) -> str:
        shown = {k: v for k, v in self.params.items() if k not in {"allowed_updates"}}
        status = "" if self.ok else f" -> {self.error}"
        return f"{self.method}({_short(shown)}){status}"


class BotAPIError(Exception):
    """Raised by method implementations to answer ``{"ok": false, ...}``."""

    def __init__(
        self, error_code: int, description: str, parameters: JSONDict | None = None
    ) -> None:
        super().__init__(f"{error_code}: {description}")
        self.error_code = error_code
        self.description = description
        self.parameters = parameters

    def body(self) -> JSONDict:
        """The JSON body Telegram would send for this error."""
        body: JSONDict = {
            "ok": False,
            "error_code": self.error_code,
            "description": self.description,
        }
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def _bad_request(reason: str) -> BotAPIError:
    return BotAPIError(400, f"Bad Request: {reason}")


def _short(value: Any, limit: int = 160) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def decode_form_value(key: str, value: str) -> Any:
    """Turn one form field back into the value aiogram serialised (see module doc)."""
    if key in STRING_PARAMS:
        return value
    try:
        decoded = json.loads(value)
    except ValueError:
        return value
    if isinstance(decoded, dict | list | bool | int):
        return decoded
    if isinstance(decoded, float) and math.isfinite(decoded):
        return decoded
    return value


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units — the unit of Telegram entity offsets."""
    return len(text.encode("utf-16-le")) // 2


def chat_type_for(chat_id: ChatId) -> str:
    """Guess the chat type from the id, the way Telegram ids are laid out."""
    if isinstance(chat_id, str):
        if chat_id.startswith("@"):
            return "channel"
        chat_id = int(chat_id)
    if chat_id > 0:
        return "private"
    return "supergroup" if str(chat_id).startswith("-100") else "group"


def _chat_key(chat_id: Any) -> ChatId:
    """Normalise ``123`` / ``"123"`` to one dict key; keep ``"@name"`` as is."""
    if isinstance(chat_id, bool):
        raise _bad_request("chat_id is empty")
    if isinstance(chat_id, int):
        return chat_id
    if isinstance(chat_id, str) and chat_id:
        try:
            return int(chat_id)
        except ValueError:
            return chat_id
    raise _bad_request("chat_id is empty")


def _update_type(update: JSONDict) -> str:
    return next((k for k in update if k != "update_id"), "")


class _TelegramHTML(HTMLParser):
    """Validates Telegram's HTML subset and collects the plain text."""

    def __init__(self, source: str) -> None:
        super().__init__(convert_charrefs=True)
        self._source = source
        self._line_starts = [0] + [m.end() for m in re.finditer("\n", source)]
        self.parts: list[str] = []
        self.stack: list[str] = []
        self.marks: list[tuple[Any, ...]] = []
        """(offset in plain text, tag or "/tag", attrs) — stands in for entities."""

    def _byte_offset(self) -> int:
        line, col = self.getpos()
        index = self._line_starts[line - 1] + col
        return len(self._source[:index].encode("utf-8"))

    def _fail(self, reason: str) -> None:
        raise _bad_request(f"can't parse entities: {reason}")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _HTML_TAGS:
            self._fail(f'Unsupported start tag "{tag}" at byte offset {self._byte_offset()}')
        if tag == "span" and ("class", "tg-spoiler") not in attrs:
            self._fail(
                f'Tag "span" must have class "tg-spoiler" at byte offset {self._byte_offset()}'
            )
        self.stack.append(tag)
        self.marks.append((self._text_offset(), tag, tuple(attrs)))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack:
            self._fail(f"Unexpected end tag at byte offset {self._byte_offset()}")
        if self.stack[-1] != tag:
            self._fail(
                f"Unmatched end tag at byte offset {self._byte_offset()}, "
                f'expected "</{self.stack[-1]}>", found "</{tag}>"'
            )
        self.stack.pop()
        self.marks.append((self._text_offset(), f"/{tag}", ()))

    def _text_offset(self) -> int:
        return sum(len(part) for part in self.parts)

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def html_to_plain(text: str) -> tuple[str, tuple[tuple[Any, ...], ...]]:
    """Plain text and formatting marks of a ``parse_mode=HTML`` message.

    Raises 400 "can't parse entities" like Telegram on unsupported or unbalanced tags.
    """
    parser = _TelegramHTML(text)
    parser.feed(text)
    parser.close()
    if parser.stack:
        parser._fail(f'Can\'t find end tag corresponding to start tag "{parser.stack[-1]}"')
    return "".join(parser.parts), tuple(parser.marks)


class FakeBotAPI:
    """In-process Telegram Bot API for one bot token, with call recording.

    No global state: every instance has its own server, counters and stores.
    """

    def __init__(
        self,
        token: str = "123456:TEST",
        bot_username: str = "vmeste_test_bot",
        *,
        first_name: str = "Vmeste Test",
        max_poll_wait: float = 1.0,
        host: str = "127.0.0.1",
    ) -> None:
        prefix = token.split(":", 1)[0]
        if not prefix.isdigit():
            raise ValueError(f"token must look like '<bot id>:<secret>', got {token!r}")
        self.token = token
        self.bot_id = int(prefix)
        self.bot_username = bot_username
        self.first_name = first_name
        self.max_poll_wait = max_poll_wait
        """Cap for ``getUpdates`` long-poll waits, so polling stops quickly in tests."""
        self._host = host

        self.calls: list[Call] = []
        self.dropped_updates: list[JSONDict] = []
        """Updates discarded because their type was not in ``allowed_updates``."""

        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        self._closing = False

        self._pending: list[JSONDict] = []
        self._update_ids = itertools.count(1)
        self._last_update_id = 0
        self._update_added = asyncio.Event()
        self._call_added = asyncio.Event()
        self._non_polling_calls = 0
        self._allowed_updates: set[str] | None = None

        self._message_ids = itertools.count(1)
        self._query_ids = itertools.count(4_382_000_000_000_000_001)
        self._messages: dict[ChatId, dict[int, JSONDict]] = {}
        self._formatting: dict[tuple[ChatId, int], tuple[tuple[Any, ...], ...]] = {}
        self._users: dict[int, JSONDict] = {}
        self._chats: dict[ChatId, JSONDict] = {}
        self._members: dict[tuple[ChatId, int], JSONDict] = {}
        self._blocked: set[ChatId] = set()
        self._failures: dict[str, list[BotAPIError]] = {}
        self._commands: dict[tuple[str, str], list[JSONDict]] = {}
        self._menu_buttons: dict[ChatId | None, JSONDict] = {}
        self.webhook: JSONDict = {}
        """Last ``setWebhook`` params (empty when no webhook is set)."""
        self.star_transactions: list[JSONDict] = []
        """What ``getStarTransactions`` returns, oldest first (see
        :meth:`add_star_transaction`)."""
        self.refunded_charges: set[str] = set()
        """Charge ids ``refundStarPayment`` refunded (a second refund is refused)."""
        self.subscription_edits: list[JSONDict] = []
        """``editUserStarSubscription`` params, in order."""

        self._handlers: dict[str, Handler] = {}
        self._names: dict[str, str] = {}
        builtin: dict[str, Handler] = {
            "getMe": self._get_me,
            "getUpdates": self._get_updates,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "setMyCommands": self._set_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "getMyCommands": self._get_my_commands,
            "setChatMenuButton": self._set_chat_menu_button,
            "getChatMenuButton": self._get_chat_menu_button,
            "sendMessage": self._send_message,
            "editMessageText": self._edit_message_text,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "deleteMessage": self._delete_message,
            "deleteMessages": self._delete_messages,
            "answerCallbackQuery": self._true_after("callback_query_id"),
            "answerInlineQuery": self._true_after("inline_query_id", "results"),
            "sendChatAction": self._send_chat_action,
            "getChatMember": self._get_chat_member,
            "sendInvoice": self._send_invoice,
            "createInvoiceLink": self._create_invoice_link,
            "answerPreCheckoutQuery": self._true_after("pre_checkout_query_id", "ok"),
            "refundStarPayment": self._refund_star_payment,
            "editUserStarSubscription": self._edit_user_star_subscription,
            "getStarTransactions": self._get_star_transactions,
            "savePreparedInlineMessage": self._save_prepared_inline_message,
        }
        for name, handler in builtin.items():
            self.on(name, handler)

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Bind a free port on ``host`` and start serving."""
        if self._runner is not None:
            return
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("GET", "/bot{token}/{method}", self._handle)
        app.router.add_route("POST", "/bot{token}/{method}", self._handle)
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, self._host, 0)
        await site.start()
        self._runner = runner
        self._port = int(runner.addresses[0][1])
        self._closing = False

    async def close(self) -> None:
        """Wake pending long polls and stop the server (idempotent)."""
        self._closing = True
        self._update_added.set()
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT`` — pass to ``TelegramAPIServer.from_base``."""
        if self._port is None:
            raise RuntimeError("FakeBotAPI is not started")
        return f"http://{self._host}:{self._port}"

    # ------------------------------------------------------------------ configuration

    def on(self, method: str, handler: Handler) -> None:
        """Add or replace a method implementation (name is case-insensitive).

        Use it for methods the fake lacks (``sendPhoto``...) or to script odd results.
        """
        name = self._names.setdefault(method.lower(), method)
        self._handlers[name] = handler

    def fail_next(
        self,
        method: str,
        error_code: int = 429,
        description: str | None = None,
        retry_after: int | None = None,
    ) -> None:
        """Make the next call of ``method`` fail (queued: call it twice to fail twice).

        For 429 ``retry_after`` defaults to 1 and ``description`` to
        ``"Too Many Requests: retry after N"``. Other codes send ``parameters`` only if
        ``retry_after`` is given (aiogram turns any ``retry_after`` into
        ``TelegramRetryAfter``).
        """
        if error_code == 429 and retry_after is None:
            retry_after = 1
        if description is None:
            description = (
                f"Too Many Requests: retry after {retry_after}"
                if error_code == 429
                else _DEFAULT_ERROR_TEXT.get(error_code, "Error")
            )
        parameters = {"retry_after": retry_after} if retry_after is not None else None
        error = BotAPIError(error_code, description, parameters)
        self._failures.setdefault(method.lower(), []).append(error)

    def set_chat_member(self, chat_id: ChatId, user_id: int, status: str, **fields: Any) -> None:
        """Configure what ``getChatMember(chat_id, user_id)`` returns.

        ``status``: creator|administrator|member|restricted|left|kicked (aliases
        owner/admin/banned). ``fields`` override parts of the ChatMember object, e.g.
        ``until_date=...`` or ``user={...}``.
        """
        status = _MEMBER_STATUS_ALIASES.get(status, status)
        if status not in _MEMBER_STATUSES:
            raise ValueError(f"unknown chat member status {status!r}")
        self._members[(_chat_key(chat_id), user_id)] = {"status": status, **fields}

    def set_blocked(self, chat_id: ChatId, blocked: bool = True) -> None:
        """Simulate a user who blocked the bot: sends to this chat fail with 403."""
        key = _chat_key(chat_id)
        if blocked:
            self._blocked.add(key)
        else:
            self._blocked.discard(key)

    def set_chat(self, chat: JSONDict) -> None:
        """Declare a chat (``{"id", "type", "title"...}``) used in message results."""
        self._chats[_chat_key(chat["id"])] = copy.deepcopy(chat)

    def add_star_transaction(
        self,
        charge_id: str,
        amount: int,
        payload: str,
        *,
        user_id: int = 111,
        date: int | None = None,
        subscription_period: int | None = None,
        user: JSONDict | None = None,
    ) -> JSONDict:
        """Record an incoming Stars payment for ``getStarTransactions`` (a StarTransaction
        whose ``source`` is the paying user), as if Telegram had charged it."""
        source: JSONDict = {
            "type": "user",
            "transaction_type": "invoice_payment",
            "user": user or self._known_user(user_id),
            "invoice_payload": payload,
        }
        if subscription_period is not None:
            source["subscription_period"] = subscription_period
        transaction: JSONDict = {
            "id": charge_id,
            "amount": amount,
            "date": int(time.time()) if date is None else date,
            "source": source,
        }
        self.star_transactions.append(transaction)
        return copy.deepcopy(transaction)

    # ------------------------------------------------------------------ inspection

    def calls_of(self, method: str) -> list[Call]:
        """Recorded calls of ``method`` (case-insensitive), oldest first."""
        wanted = method.lower()
        return [c for c in self.calls if c.method.lower() == wanted]

    def clear(self) -> None:
        """Forget recorded calls (not messages, updates or configuration)."""
        self.calls.clear()
        self._non_polling_calls = 0

    def sent_messages(self, chat_id: ChatId) -> list[JSONDict]:
        """Current state of the bot's (non-deleted) messages in a chat, by message_id."""
        store = self._messages.get(_chat_key(chat_id), {})
        return [copy.deepcopy(store[mid]) for mid in sorted(store)]

    @property
    def pending_updates(self) -> list[JSONDict]:
        """Updates pushed but not yet confirmed by an ``offset``."""
        return copy.deepcopy(self._pending)

    async def wait_for(
        self,
        method: str,
        predicate: Callable[[Call], bool] | None = None,
        timeout: float = 5.0,  # noqa: ASYNC109 - part of the requested API
        *,
        since: int = 0,
    ) -> Call:
        """First call of ``method`` (matching ``predicate``) at index >= ``since``.

        Already-recorded calls count; pass ``since=len(api.calls)`` to only wait for new
        ones. Raises AssertionError listing the calls seen on timeout.
        """
        wanted = method.lower()

        def find() -> Call | None:
            for call in self.calls[since:]:
                if call.method.lower() == wanted and (predicate is None or predicate(call)):
                    return call
            return None

        if await self._wait_until(lambda: find() is not None, timeout):
            found = find()
            assert found is not None
            return found
        raise AssertionError(
            f"no {method} call{' matching the predicate' if predicate else ''} "
            f"within {timeout}s\n{self.describe(since)}"
        )

    def describe(self, since: int = 0) -> str:
        """Human-readable list of calls (without getUpdates noise) for assertion messages."""
        lines = [f"  {c}" for c in self.calls[since:] if c.method != "getUpdates"]
        polls = self.calls_of("getUpdates")
        lines.append(
            f"  (+ {len(polls)} getUpdates calls)"
            if polls
            else "  (no getUpdates call at all — is the dispatcher polling this server?)"
        )
        if self._pending:
            lines.append(f"  pending updates: {_short(self._pending, 400)}")
        if self.dropped_updates:
            lines.append(
                "  dropped (type not in allowed_updates "
                f"{sorted(self._allowed_updates or [])}): "
                f"{[_update_type(u) for u in self.dropped_updates]}"
            )
        return "calls seen:\n" + "\n".join(lines)

    # ------------------------------------------------------------------ update feeding

    def push_update(self, update: JSONDict) -> int:
        """Queue an update for ``getUpdates``; assigns ``update_id`` if missing."""
        update = copy.deepcopy(update)
        if "update_id" not in update:
            update["update_id"] = max(next(self._update_ids), self._last_update_id + 1)
        update_id = int(update["update_id"])
        self._last_update_id = max(self._last_update_id, update_id)
        self._remember_participants(update)
        self._pending.append(update)
        self._update_added.set()
        return update_id

    def user(
        self,
        user_id: int = 111,
        *,
        first_name: str = "Anna",
        last_name: str | None = None,
        username: str | None = "anna",
        language_code: str | None = "en",
        is_premium: bool = False,
    ) -> JSONDict:
        """A Telegram User object for a human (optional fields omitted when empty)."""
        user: JSONDict = {"id": user_id, "is_bot": False, "first_name": first_name}
        if last_name:
            user["last_name"] = last_name
        if username:
            user["username"] = username
        if language_code:
            user["language_code"] = language_code
        if is_premium:
            user["is_premium"] = True
        return user

    def bot_user(self) -> JSONDict:
        """The bot as a User object (``from`` of its messages)."""
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.first_name,
            "username": self.bot_username,
        }

    def message_update(
        self,
        text: str | None,
        *,
        user_id: int = 111,
        chat_id: int | None = None,
        chat_type: str | None = None,
        first_name: str = "Anna",
        last_name: str | None = None,
        username: str | None = "anna",
        language_code: str | None = "en",
        is_premium: bool = False,
        entities: list[JSONDict] | None = None,
        **extra: Any,
    ) -> JSONDict:
        """Update with a user's message. ``/cmd ...`` gets a ``bot_command`` entity.

        ``chat_id`` defaults to ``user_id`` (private chat). ``extra`` is merged into the
        message (e.g. ``web_app_data={...}``, ``reply_to_message={...}``); pass
        ``text=None`` for non-text messages.
        """
        user = self.user(
            user_id,
            first_name=first_name,
            last_name=last_name,
            username=username,
            language_code=language_code,
            is_premium=is_premium,
        )
        chat = self._chat_for_user(user, chat_id, chat_type)
        message: JSONDict = {
            "message_id": next(self._message_ids),
            "from": user,
            "chat": chat,
            "date": int(time.time()),
        }
        if text is not None:
            message["text"] = text
            if entities is None and text.startswith("/"):
                command = text.split(maxsplit=1)[0]
                entities = [{"type": "bot_command", "offset": 0, "length": utf16_len(command)}]
        if entities:
            message["entities"] = entities
        message.update(extra)
        return {"message": message}

    def callback_update(
        self,
        data: str,
        *,
        user_id: int = 111,
        chat_id: int | None = None,
        message: JSONDict | None = None,
        inline_message_id: str | None = None,
        user: JSONDict | None = None,
    ) -> JSONDict:
        """Update with a button press.

        The button's message is ``message``, else the bot's latest message in the chat
        (``chat_id`` defaults to ``user_id``), else a synthesised bot message. The
        message is registered as the bot's so it can be edited. With
        ``inline_message_id`` there is no message (button under an inline result).
        """
        user = user or self._known_user(user_id)
        query: JSONDict = {
            "id": str(next(self._query_ids)),
            "from": user,
            "chat_instance": str(-7_000_000_000_000_000 - abs(user["id"])),
        }
        if inline_message_id is not None:
            query["inline_message_id"] = inline_message_id
        else:
            if message is None:
                chat = self._chat_for_user(user, chat_id, None)
                key = _chat_key(chat["id"])
                store = self._messages.get(key)
                if store:
                    message = copy.deepcopy(store[max(store)])
                else:
                    message = self._store_bot_message(chat["id"], {"text": "..."})
            else:
                message = copy.deepcopy(message)
                key = _chat_key(message["chat"]["id"])
                self._messages.setdefault(key, {}).setdefault(
                    int(message["message_id"]), copy.deepcopy(message)
                )
            query["chat_instance"] = str(-7_000_000_000_000_000 - abs(int(message["chat"]["id"])))
            query["message"] = message
        query["data"] = data
        return {"callback_query": query}

    def inline_update(
        self,
        query: str,
        *,
        user_id: int = 111,
        offset: str = "",
        chat_type: str | None = "sender",
        user: JSONDict | None = None,
    ) -> JSONDict:
        """Update with an inline query (``@bot query``)."""
        inline: JSONDict = {
            "id": str(next(self._query_ids)),
            "from": user or self._known_user(user_id),
            "query": query,
            "offset": offset,
        }
        if chat_type:
            inline["chat_type"] = chat_type
        return {"inline_query": inline}

    def pre_checkout_update(
        self,
        payload: str,
        total_amount: int,
        currency: str = "XTR",
        *,
        user_id: int = 111,
        user: JSONDict | None = None,
    ) -> JSONDict:
        """Update asking the bot to confirm a checkout (answer within 10 s in real life)."""
        return {
            "pre_checkout_query": {
                "id": str(next(self._query_ids)),
                "from": user or self._known_user(user_id),
                "currency": currency,
                "total_amount": total_amount,
                "invoice_payload": payload,
            }
        }

    def successful_payment_update(
        self,
        payload: str,
        total_amount: int,
        charge_id: str,
        currency: str = "XTR",
        *,
        user_id: int = 111,
        chat_id: int | None = None,
        provider_charge_id: str = "",
        user: JSONDict | None = None,
        extra: JSONDict | None = None,
    ) -> JSONDict:
        """Service message update telling the bot a payment went through.

        ``extra`` is merged into ``successful_payment`` (e.g. subscription fields).
        """
        user = user or self._known_user(user_id)
        payment: JSONDict = {
            "currency": currency,
            "total_amount": total_amount,
            "invoice_payload": payload,
            "telegram_payment_charge_id": charge_id,
            "provider_payment_charge_id": provider_charge_id,
            **(extra or {}),
        }
        return {
            "message": {
                "message_id": next(self._message_ids),
                "from": user,
                "chat": self._chat_for_user(user, chat_id, None),
                "date": int(time.time()),
                "successful_payment": payment,
            }
        }

    def refunded_payment_update(
        self,
        payload: str,
        total_amount: int,
        charge_id: str,
        currency: str = "XTR",
        *,
        user_id: int = 111,
        chat_id: int | None = None,
        provider_charge_id: str | None = None,
        user: JSONDict | None = None,
    ) -> JSONDict:
        """Service message update telling the bot a payment was refunded (Bot API 7.10)."""
        user = user or self._known_user(user_id)
        refunded: JSONDict = {
            "currency": currency,
            "total_amount": total_amount,
            "invoice_payload": payload,
            "telegram_payment_charge_id": charge_id,
        }
        if provider_charge_id:
            refunded["provider_payment_charge_id"] = provider_charge_id
        return {
            "message": {
                "message_id": next(self._message_ids),
                "from": user,
                "chat": self._chat_for_user(user, chat_id, None),
                "date": int(time.time()),
                "refunded_payment": refunded,
            }
        }

    async def say(
        self,
        text: str,
        *,
        timeout: float = 5.0,  # noqa: ASYNC109
        settle: float = 0.05,
        **kw: Any,
    ) -> list[Call]:
        """Push a user message and wait for the bot's reply in that chat.

        Waits for a send*/edit*/copy*/forward* call (not sendChatAction) to the chat,
        then until no new call arrives for ``settle`` s. Returns the calls made since
        the push, without getUpdates. ``kw`` goes to :meth:`message_update`.
        """
        update = self.message_update(text, **kw)
        chat_id = update["message"]["chat"]["id"]
        start = len(self.calls)
        self.push_update(update)
        if not await self._wait_until(
            lambda: any(_is_reply(c, chat_id) for c in self.calls[start:]), timeout
        ):
            raise AssertionError(
                f"bot did not answer {text!r} in chat {chat_id} within {timeout}s\n"
                f"{self.describe(start)}"
            )
        return await self._settled(start, settle)

    async def press(
        self,
        data: str,
        *,
        timeout: float = 5.0,  # noqa: ASYNC109
        settle: float = 0.05,
        **kw: Any,
    ) -> list[Call]:
        """Push a button press and wait until the bot answers the callback query.

        A handler that never calls answerCallbackQuery leaves the user's spinner
        running, so that is treated as a failure. ``kw`` goes to
        :meth:`callback_update`.
        """
        update = self.callback_update(data, **kw)
        query_id = update["callback_query"]["id"]
        start = len(self.calls)
        self.push_update(update)
        try:
            await self.wait_for(
                "answerCallbackQuery",
                lambda c: str(c.params.get("callback_query_id")) == query_id,
                timeout,
                since=start,
            )
        except AssertionError as exc:
            raise AssertionError(f"callback {data!r} was not answered: {exc}") from None
        return await self._settled(start, settle)

    # ------------------------------------------------------------------ internals: waiting

    async def _wait_until(
        self,
        condition: Callable[[], bool],
        timeout: float,  # noqa: ASYNC109
    ) -> bool:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not condition():
            remaining = deadline - loop.time()
            if remaining <= 0:
                return False
            self._call_added.clear()
            try:
                async with asyncio.timeout(remaining):
                    await self._call_added.wait()
            except TimeoutError:
                return condition()
        return True

    async def _settled(self, start: int, settle: float) -> list[Call]:
        while True:
            seen = self._non_polling_calls
            await asyncio.sleep(settle)
            if self._non_polling_calls == seen:
                return [c for c in self.calls[start:] if c.method != "getUpdates"]

    def _record(self, call: Call) -> None:
        self.calls.append(call)
        if call.method != "getUpdates":
            self._non_polling_calls += 1
        self._call_added.set()

    # ------------------------------------------------------------------ internals: HTTP

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response(BotAPIError(401, "Unauthorized").body(), status=401)
        arrived = time.time()
        raw_name = request.match_info["method"]
        name = self._names.get(raw_name.lower(), raw_name)
        try:
            params = await self._read_params(request)
        except BotAPIError as exc:
            self._record(Call(name, {}, arrived, ok=False, error=exc.body()))
            return web.json_response(exc.body(), status=exc.error_code)
        call = Call(name, params, arrived)
        try:
            handler = self._handlers.get(name)
            if handler is None:
                raise BotAPIError(404, "Not Found: method not found")
            failures = self._failures.get(name.lower())
            if failures:
                raise failures.pop(0)
            result = handler(params)
            if inspect.isawaitable(result):
                result = await result
        except BotAPIError as exc:
            call.ok, call.error = False, exc.body()
            self._record(call)
            return web.json_response(exc.body(), status=exc.error_code)
        call.result = result
        self._record(call)
        return web.json_response({"ok": True, "result": result})

    async def _read_params(self, request: web.Request) -> JSONDict:
        params: JSONDict = {k: decode_form_value(k, v) for k, v in request.query.items()}
        if request.method != "POST" or not request.can_read_body:
            return params
        if request.content_type == "application/json":
            try:
                body = await request.json()
            except ValueError:
                raise _bad_request("can't parse JSON encoded request body") from None
            if not isinstance(body, dict):
                raise _bad_request("request body must be a JSON object")
            params.update(body)
            return params
        form = await request.post()
        for key, value in form.items():
            if isinstance(value, web.FileField):
                params[key] = {
                    "filename": value.filename,
                    "content_type": value.content_type,
                    "data": value.file.read(),
                }
            else:
                text = value if isinstance(value, str) else bytes(value).decode()
                params[key] = decode_form_value(key, text)
        return params

    # ------------------------------------------------------------------ internals: data

    def _remember_participants(self, update: JSONDict) -> None:
        """Learn users and chats from pushed updates, to fill results realistically."""

        def walk(node: Any, depth: int) -> None:
            if depth > 3 or not isinstance(node, dict):
                return
            sender = node.get("from")
            if isinstance(sender, dict) and not sender.get("is_bot") and "id" in sender:
                self._users[int(sender["id"])] = copy.deepcopy(sender)
            chat = node.get("chat")
            if isinstance(chat, dict) and "id" in chat:
                self._chats[_chat_key(chat["id"])] = copy.deepcopy(chat)
            for value in node.values():
                walk(value, depth + 1)

        walk(update, 0)

    def _known_user(self, user_id: int) -> JSONDict:
        if user_id in self._users:
            return copy.deepcopy(self._users[user_id])
        if user_id == self.bot_id:
            return self.bot_user()
        if user_id == 111:  # the builders' default user
            return self.user(user_id)
        return self.user(user_id, first_name=f"User{user_id}", username=f"user{user_id}")

    def _chat_for_user(
        self, user: JSONDict, chat_id: int | None, chat_type: str | None
    ) -> JSONDict:
        chat_id = user["id"] if chat_id is None else chat_id
        chat_type = chat_type or chat_type_for(chat_id)
        if chat_type == "private":
            chat = {
                k: v for k, v in user.items() if k in {"id", "first_name", "last_name", "username"}
            }
            chat["id"] = chat_id
            chat["type"] = "private"
            return chat
        known = self._chats.get(_chat_key(chat_id))
        if known is not None and known.get("type") == chat_type:
            return copy.deepcopy(known)
        return {"id": chat_id, "type": chat_type, "title": "Vmeste Test Group"}

    def _chat_object(self, chat_id: ChatId) -> JSONDict:
        key = _chat_key(chat_id)
        if key in self._chats:
            return copy.deepcopy(self._chats[key])
        chat_type = chat_type_for(key)
        if chat_type == "private":
            assert isinstance(key, int)
            user = self._known_user(key)
            return self._chat_for_user(user, key, "private")
        if isinstance(key, str):  # "@channelname"
            return {
                "id": -1_000_000_000_000 - zlib.crc32(key.encode()),
                "type": "channel",
                "title": key[1:],
                "username": key[1:],
            }
        return {"id": key, "type": chat_type, "title": "Vmeste Test Group"}

    def _store_bot_message(self, chat_id: ChatId, content: JSONDict) -> JSONDict:
        message: JSONDict = {
            "message_id": next(self._message_ids),
            "from": self.bot_user(),
            "chat": self._chat_object(chat_id),
            "date": int(time.time()),
            **content,
        }
        self._messages.setdefault(_chat_key(chat_id), {})[message["message_id"]] = message
        return copy.deepcopy(message)

    def _target_chat(self, params: JSONDict) -> ChatId:
        key = _chat_key(params.get("chat_id"))
        if key in self._blocked:
            raise BotAPIError(403, "Forbidden: bot was blocked by the user")
        return key

    @staticmethod
    def _require(params: JSONDict, *names: str) -> None:
        for name in names:
            if params.get(name) in (None, ""):
                raise _bad_request(f"parameter {name!r} is required")

    @staticmethod
    def _render_text(text: Any, parse_mode: Any) -> tuple[str, tuple[tuple[Any, ...], ...]]:
        """(text as Telegram stores it, formatting marks) — trimmed and validated."""
        if text is None:
            raise _bad_request("message text is empty")
        raw = str(text)
        marks: tuple[tuple[Any, ...], ...] = ()
        if str(parse_mode or "").lower() == "html":
            raw, marks = html_to_plain(raw)
        elif parse_mode:  # Markdown is not simulated: remember the source as "formatting"
            marks = ((str(parse_mode), raw),)
        lead = len(raw) - len(raw.lstrip())
        plain = raw.strip()
        if not plain:
            raise _bad_request("message text is empty")
        if len(plain) > MESSAGE_MAX_LEN:
            raise _bad_request("message is too long")
        if lead and parse_mode and str(parse_mode).lower() == "html":
            marks = tuple((max(m[0] - lead, 0), *m[1:]) for m in marks)
        return plain, marks

    @staticmethod
    def _inline_markup(markup: Any) -> JSONDict | None:
        """Validate reply_markup; return what Telegram echoes (inline keyboards only)."""
        if not isinstance(markup, dict) or "inline_keyboard" not in markup:
            return None
        rows = markup["inline_keyboard"]
        if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
            raise _bad_request(
                'field "inline_keyboard" of the InlineKeyboardMarkup should be an Array of Arrays'
            )
        for row in rows:
            for button in row:
                if not isinstance(button, dict) or not button.get("text"):
                    raise _bad_request("BUTTON_TEXT_INVALID")
                data = button.get("callback_data")
                if data is not None and not (
                    0 < len(str(data).encode("utf-8")) <= CALLBACK_DATA_MAX_BYTES
                ):
                    raise _bad_request("BUTTON_DATA_INVALID")
        return copy.deepcopy(markup)

    def _check_web_app_buttons(self, chat: ChatId, markup: JSONDict | None) -> None:
        """``web_app`` buttons work only in private chats with the bot, as on Telegram."""
        if markup is None or self._chat_object(chat).get("type") == "private":
            return
        if any("web_app" in button for row in markup["inline_keyboard"] for button in row):
            raise _bad_request("BUTTON_TYPE_INVALID")

    def _true_after(self, *required: str) -> Handler:
        def handler(params: JSONDict) -> bool:
            self._require(params, *required)
            return True

        return handler

    # ------------------------------------------------------------------ methods

    def _get_me(self, _params: JSONDict) -> JSONDict:
        return {
            **self.bot_user(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": True,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _get_updates(self, params: JSONDict) -> list[JSONDict]:
        if self.webhook:
            raise BotAPIError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        if "allowed_updates" in params:
            allowed = params["allowed_updates"]
            self._allowed_updates = set(allowed) if isinstance(allowed, list) and allowed else None
        offset = params.get("offset")
        if isinstance(offset, int):
            if offset < 0:
                self._pending = self._pending[offset:]
            else:
                self._pending = [u for u in self._pending if u["update_id"] >= offset]
        limit = params.get("limit", 100)
        limit = min(max(limit, 1), 100) if isinstance(limit, int) else 100
        timeout = params.get("timeout", 0)
        wait = min(float(timeout) if isinstance(timeout, int | float) else 0.0, self.max_poll_wait)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(wait, 0.0)
        while True:
            ready = self._deliverable()
            remaining = deadline - loop.time()
            if ready or self._closing or remaining <= 0:
                return copy.deepcopy(ready[:limit])
            self._update_added.clear()
            try:
                async with asyncio.timeout(remaining):
                    await self._update_added.wait()
            except TimeoutError:
                pass

    def _deliverable(self) -> list[JSONDict]:
        """Pending updates the bot subscribed to; others are dropped like Telegram does."""
        keep: list[JSONDict] = []
        for update in self._pending:
            kind = _update_type(update)
            wanted = (
                kind not in _NOT_DELIVERED_BY_DEFAULT
                if self._allowed_updates is None
                else kind in self._allowed_updates
            )
            if wanted:
                keep.append(update)
            else:
                self.dropped_updates.append(update)
        self._pending = keep
        return keep

    def _set_webhook(self, params: JSONDict) -> bool:
        url = str(params.get("url") or "")
        if not url:
            return self._delete_webhook(params)
        if not url.startswith("https://"):
            raise _bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        if params.get("drop_pending_updates") is True:
            self._pending.clear()
        if isinstance(params.get("allowed_updates"), list):
            self._allowed_updates = set(params["allowed_updates"]) or None
        self.webhook = dict(params)
        return True

    def _delete_webhook(self, params: JSONDict) -> bool:
        if params.get("drop_pending_updates") is True:
            self._pending.clear()
        self.webhook = {}
        return True

    def _get_webhook_info(self, _params: JSONDict) -> JSONDict:
        info: JSONDict = {
            "url": self.webhook.get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": len(self._pending),
        }
        if self.webhook:
            info["max_connections"] = int(self.webhook.get("max_connections", 40))
            if self._allowed_updates is not None:
                info["allowed_updates"] = sorted(self._allowed_updates)
        return info

    @staticmethod
    def _commands_key(params: JSONDict) -> tuple[str, str]:
        scope = params.get("scope") or {"type": "default"}
        return json.dumps(scope, sort_keys=True), str(params.get("language_code") or "")

    def _set_my_commands(self, params: JSONDict) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise _bad_request("parameter 'commands' is required")
        if len(commands) > 100:
            raise _bad_request("too many commands")
        for command in commands:
            if not isinstance(command, dict) or not _COMMAND_RE.match(
                str(command.get("command", ""))
            ):
                raise _bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise _bad_request("command description is empty or too long")
        self._commands[self._commands_key(params)] = copy.deepcopy(commands)
        return True

    def _delete_my_commands(self, params: JSONDict) -> bool:
        self._commands.pop(self._commands_key(params), None)
        return True

    def _get_my_commands(self, params: JSONDict) -> list[JSONDict]:
        return copy.deepcopy(self._commands.get(self._commands_key(params), []))

    def _set_chat_menu_button(self, params: JSONDict) -> bool:
        chat_id = params.get("chat_id")
        key = None if chat_id in (None, "") else _chat_key(chat_id)
        button = params.get("menu_button") or {"type": "default"}
        if not isinstance(button, dict) or button.get("type") not in {
            "default",
            "commands",
            "web_app",
        }:
            raise _bad_request("MENU_BUTTON_INVALID")
        if button["type"] == "web_app":
            url = str((button.get("web_app") or {}).get("url", ""))
            if not button.get("text") or not url.startswith("https://"):
                raise _bad_request("BUTTON_URL_INVALID")
        self._menu_buttons[key] = copy.deepcopy(button)
        return True

    def _get_chat_menu_button(self, params: JSONDict) -> JSONDict:
        chat_id = params.get("chat_id")
        key = None if chat_id in (None, "") else _chat_key(chat_id)
        button = self._menu_buttons.get(key) or self._menu_buttons.get(None)
        return copy.deepcopy(button or {"type": "default"})

    def _send_message(self, params: JSONDict) -> JSONDict:
        chat = self._target_chat(params)
        text, marks = self._render_text(params.get("text"), params.get("parse_mode"))
        content: JSONDict = {"text": text}
        markup = self._inline_markup(params.get("reply_markup"))
        self._check_web_app_buttons(chat, markup)
        if markup is not None:
            content["reply_markup"] = markup
        message = self._store_bot_message(chat, content)
        self._formatting[(chat, message["message_id"])] = marks
        return message

    def _editable(self, params: JSONDict) -> tuple[ChatId, int, JSONDict]:
        chat = _chat_key(params.get("chat_id"))
        message_id = params.get("message_id")
        if not isinstance(message_id, int):
            raise _bad_request("message identifier is not specified")
        message = self._messages.get(chat, {}).get(message_id)
        if message is None:
            raise _bad_request("message to edit not found")
        return chat, message_id, message

    def _edit_message_text(self, params: JSONDict) -> JSONDict | bool:
        text, marks = self._render_text(params.get("text"), params.get("parse_mode"))
        markup = self._inline_markup(params.get("reply_markup"))
        if params.get("inline_message_id"):
            return True
        chat, message_id, message = self._editable(params)
        self._check_web_app_buttons(chat, markup)
        if "text" not in message:
            raise _bad_request("there is no text in the message to edit")
        before = (message["text"], self._formatting.get((chat, message_id), ()))
        if before == (text, marks) and message.get("reply_markup") == markup:
            raise _bad_request(NOT_MODIFIED)
        message["text"] = text
        self._set_markup(message, markup)
        message["edit_date"] = int(time.time())
        self._formatting[(chat, message_id)] = marks
        return copy.deepcopy(message)

    def _edit_message_reply_markup(self, params: JSONDict) -> JSONDict | bool:
        markup = self._inline_markup(params.get("reply_markup"))
        if params.get("inline_message_id"):
            return True
        chat, _message_id, message = self._editable(params)
        self._check_web_app_buttons(chat, markup)
        if message.get("reply_markup") == markup:
            raise _bad_request(NOT_MODIFIED)
        self._set_markup(message, markup)
        message["edit_date"] = int(time.time())
        return copy.deepcopy(message)

    @staticmethod
    def _set_markup(message: JSONDict, markup: JSONDict | None) -> None:
        if markup is None:
            message.pop("reply_markup", None)
        else:
            message["reply_markup"] = markup

    def _delete_message(self, params: JSONDict) -> bool:
        self._require(params, "message_id")
        self._forget_messages(_chat_key(params.get("chat_id")), [params["message_id"]])
        return True

    def _delete_messages(self, params: JSONDict) -> bool:
        ids = params.get("message_ids")
        if not isinstance(ids, list) or not ids:
            raise _bad_request("parameter 'message_ids' is required")
        self._forget_messages(_chat_key(params.get("chat_id")), ids)
        return True

    def _forget_messages(self, chat: ChatId, message_ids: Iterable[Any]) -> None:
        store = self._messages.get(chat, {})
        for message_id in message_ids:
            store.pop(message_id, None)
            self._formatting.pop((chat, message_id), None)

    def _send_chat_action(self, params: JSONDict) -> bool:
        self._target_chat(params)
        if params.get("action") not in _CHAT_ACTIONS:
            raise _bad_request("wrong parameter action in request")
        return True

    def _get_chat_member(self, params: JSONDict) -> JSONDict:
        chat = _chat_key(params.get("chat_id"))
        user_id = params.get("user_id")
        if not isinstance(user_id, int):
            raise _bad_request("invalid user_id specified")
        configured = self._members.get((chat, user_id))
        if configured is None:
            # In a private chat the user is trivially a member of it.
            configured = {"status": "member" if chat == user_id else "left"}
        fields = dict(configured)
        status = fields.pop("status")
        user = fields.pop("user", None) or self._known_user(user_id)
        return _chat_member(status, user, fields)

    @staticmethod
    def _invoice_fields(params: JSONDict) -> tuple[str, int]:
        FakeBotAPI._require(params, "title", "description", "payload", "currency")
        prices = params.get("prices")
        if not isinstance(prices, list) or not prices:
            raise _bad_request("parameter 'prices' is required")
        currency = str(params["currency"])
        if currency == "XTR":
            if len(prices) != 1:
                raise _bad_request("STARS_INVOICE_INVALID")
            if params.get("provider_token"):
                raise _bad_request("PROVIDER_TOKEN_INVALID")
        try:
            total = sum(int(p["amount"]) for p in prices)
        except (KeyError, TypeError, ValueError):
            raise _bad_request("can't parse prices JSON object") from None
        if total <= 0:
            raise _bad_request("CURRENCY_TOTAL_AMOUNT_INVALID")
        return currency, total

    def _send_invoice(self, params: JSONDict) -> JSONDict:
        chat = self._target_chat(params)
        currency, total = self._invoice_fields(params)
        content: JSONDict = {
            "invoice": {
                "title": str(params["title"]),
                "description": str(params["description"]),
                "start_parameter": str(params.get("start_parameter") or ""),
                "currency": currency,
                "total_amount": total,
            }
        }
        markup = self._inline_markup(params.get("reply_markup"))
        self._check_web_app_buttons(chat, markup)
        if markup is not None:
            content["reply_markup"] = markup
        return self._store_bot_message(chat, content)

    def _create_invoice_link(self, params: JSONDict) -> str:
        currency, total = self._invoice_fields(params)
        period = params.get("subscription_period")
        # Telegram: Stars only, 30 days only, at most 10000 Stars a period.
        if period is not None and (
            currency != "XTR" or period != SUBSCRIPTION_PERIOD or total > 10000
        ):
            raise _bad_request("SUBSCRIPTION_PERIOD_INVALID")
        return f"https://t.me/${secrets.token_urlsafe(24)}"

    def _refund_star_payment(self, params: JSONDict) -> bool:
        self._require(params, "user_id", "telegram_payment_charge_id")
        if not isinstance(params["user_id"], int):
            raise _bad_request("invalid user_id specified")
        charge_id = str(params["telegram_payment_charge_id"])
        if charge_id in self.refunded_charges:
            raise _bad_request("CHARGE_ALREADY_REFUNDED")
        self.refunded_charges.add(charge_id)
        return True

    def _edit_user_star_subscription(self, params: JSONDict) -> bool:
        self._require(params, "user_id", "telegram_payment_charge_id")
        if not isinstance(params["user_id"], int):
            raise _bad_request("invalid user_id specified")
        if not isinstance(params.get("is_canceled"), bool):
            raise _bad_request("parameter 'is_canceled' is required")
        self.subscription_edits.append(copy.deepcopy(params))
        return True

    def _get_star_transactions(self, params: JSONDict) -> JSONDict:
        offset = params.get("offset", 0)
        limit = params.get("limit", 100)
        if not isinstance(offset, int) or offset < 0:
            raise _bad_request("invalid offset specified")
        if not isinstance(limit, int) or not 1 <= limit <= 100:
            raise _bad_request("invalid limit specified")
        return {"transactions": copy.deepcopy(self.star_transactions[offset : offset + limit])}

    def _save_prepared_inline_message(self, params: JSONDict) -> JSONDict:
        self._require(params, "user_id")
        if not isinstance(params.get("result"), dict):
            raise _bad_request("parameter 'result' is required")
        return {"id": secrets.token_urlsafe(12), "expiration_date": int(time.time()) + 86400}


def _is_reply(call: Call, chat_id: ChatId) -> bool:
    """Whether ``call`` is the bot saying something in ``chat_id``."""
    name = call.method.lower()
    if name == "sendchataction" or not name.startswith(("send", "edit", "copy", "forward")):
        return False
    return str(call.params.get("chat_id")) == str(chat_id)


def _chat_member(status: str, user: JSONDict, overrides: JSONDict) -> JSONDict:
    """A complete ChatMember* object for ``status`` (aiogram validates all fields)."""
    member: JSONDict = {"status": status, "user": user}
    if status == "creator":
        member["is_anonymous"] = False
    elif status == "administrator":
        member.update(
            can_be_edited=False,
            is_anonymous=False,
            can_manage_chat=True,
            can_delete_messages=True,
            can_manage_video_chats=True,
            can_restrict_members=True,
            can_promote_members=False,
            can_change_info=True,
            can_invite_users=True,
            can_post_stories=True,
            can_edit_stories=True,
            can_delete_stories=True,
            can_send_welcome_messages=True,
            can_pin_messages=True,
        )
    elif status == "restricted":
        member.update(
            is_member=True,
            can_send_messages=False,
            can_send_audios=False,
            can_send_documents=False,
            can_send_photos=False,
            can_send_videos=False,
            can_send_video_notes=False,
            can_send_voice_notes=False,
            can_send_polls=False,
            can_send_other_messages=False,
            can_add_web_page_previews=False,
            can_react_to_messages=False,
            can_edit_tag=False,
            can_change_info=False,
            can_invite_users=False,
            can_pin_messages=False,
            can_manage_topics=False,
            until_date=0,
        )
    elif status == "kicked":
        member["until_date"] = 0
    member.update(overrides)
    return member

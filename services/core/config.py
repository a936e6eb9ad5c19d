"""Typed settings, read once from the environment and `.env`.

Only this module reads the environment. A missing or malformed value stops the start with one line
that names the variable (:class:`SettingsError`).
"""

from __future__ import annotations

import re
import secrets
from pathlib import Path
from typing import Annotated, Literal

from limits import parse as parse_rate
from limits import parse_many as parse_rates
from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

Csv = Annotated[list[str], NoDecode]
IntCsv = Annotated[list[int], NoDecode]


class SettingsError(Exception):
    """A setting is missing or malformed; the message names the variable."""


class StartupError(Exception):
    """The app cannot start for a reason outside it (the database is unreachable, the address
    cannot be bound); ``python -m bot`` prints the message as one line."""


def redact_url(url: str) -> str:
    """``url`` without its password (for messages and logs)."""
    return re.sub(r"(://[^:/@]+):[^@/]*@", r"\1:***@", url)


def _split_csv(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", frozen=True
    )

    # Telegram
    bot_token: SecretStr | None = None
    bot_mode: Literal["polling", "webhook"] = "polling"
    telegram_api_url: str | None = None
    webhook_secret: SecretStr | None = None
    webhook_path: str = "/telegram/webhook"
    mini_app_short_name: str | None = None
    init_data_max_age: int = Field(default=86400, gt=0)

    # Web
    public_url: str = "http://127.0.0.1:8080"
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    max_body_bytes: int = Field(default=1024 * 1024, gt=0)
    #: Seconds an HTTP connection may sit without a request (before the first one, between
    #: keep-alive requests) before it is closed; a WebSocket is never idle in this sense.
    http_idle_timeout: float = Field(default=75.0, gt=0, le=3600)
    #: Seconds a client has to send a request's headers once their first byte arrived.
    http_header_timeout: float = Field(default=10.0, gt=0, le=600)
    #: Seconds a client has to send a whole request body once the view starts reading it.
    http_body_timeout: float = Field(default=30.0, gt=0, le=3600)

    # Storage
    database_url: str = "sqlite://data/vmeste.sqlite3"
    redis_url: str | None = None
    media_dir: Path = Path("data/media")

    # Auth
    jwt_secret: SecretStr | None = None
    trusted_proxies: Csv = []
    jwt_ttl: int = Field(default=7 * 24 * 3600, gt=0)
    password_hash_profile: Literal["default", "fast"] = "default"
    auth_rate_ip: str = "20/minute"
    auth_rate_account: str = "5/minute"
    auth_rate_telegram: str = "120/minute"
    #: Password sign-ins presenting a device token of the account (services.accounts.devices):
    #: counted per account and device instead of the account's untrusted and address budgets.
    auth_rate_device: str = "10/hour"
    auth_device_ttl: int = Field(default=365 * 24 * 3600, gt=0)
    admin_ids: IntCsv = []

    # Calls and payments
    turn_urls: Csv = []
    turn_secret: SecretStr | None = None
    yookassa_shop_id: str | None = None
    yookassa_secret_key: SecretStr | None = None
    #: The YooKassa API base (tests point it at their fake server).
    yookassa_api_url: str = "https://api.yookassa.ru/v3"
    #: Accept YooKassa webhooks only from YooKassa's published addresses (behind a proxy, set
    #: TRUSTED_PROXIES so the client address is the real one).
    yookassa_check_ip: bool = False
    #: Seconds a YooKassa API call may take (the SDK itself has no timeout).
    yookassa_timeout: float = Field(default=15.0, gt=0, le=120)
    #: Gifts per sender; several rates separated by ";" all apply.
    gift_rate: str = "10/second;300/minute"
    #: Payment intents (invoice links, YooKassa payments) per user.
    payment_intent_rate: str = "10/minute;100/day"

    # Rooms
    free_room_limit: int = Field(default=10, gt=0)
    room_hard_cap: int = Field(default=1000, gt=0)
    host_grace_seconds: float = Field(default=60.0, ge=0)
    member_grace_seconds: float = Field(default=30.0, ge=0)
    #: Each process refreshes its heartbeat this often; a process whose heartbeat is older than
    #: the TTL counts as dead and its connections as dropped (services.rooms.presence).
    presence_heartbeat_seconds: float = Field(default=10.0, gt=0)
    presence_heartbeat_ttl_seconds: float = Field(default=30.0, gt=0)
    subscriber_channel_id: str | None = None

    # Abuse limits per user and per target; several rates separated by ";" all apply.
    room_create_rate: str = "10/minute;50/day"
    invite_rate_inviter: str = "30/hour"
    invite_rate_invitee: str = "10/hour"
    playback_rate_member: str = "10/5seconds"
    playback_rate_room: str = "30/5seconds"
    # Messenger (services.messenger); the presence grace is member_grace_seconds.
    message_rate: str = "20/5seconds;1000/hour"
    chat_create_rate: str = "20/minute;200/day"

    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    @field_validator("auth_rate_ip", "auth_rate_account", "auth_rate_telegram", "auth_rate_device")
    @classmethod
    def _rate(cls, value: str) -> str:
        # Checked now, not at the first sign-in (which would answer 500 for every request).
        try:
            parse_rate(value)
        except ValueError:
            raise ValueError("expected a rate such as 20/minute or 5/10seconds") from None
        return value

    @field_validator(
        "room_create_rate",
        "invite_rate_inviter",
        "invite_rate_invitee",
        "playback_rate_member",
        "playback_rate_room",
        "gift_rate",
        "payment_intent_rate",
        "message_rate",
        "chat_create_rate",
    )
    @classmethod
    def _rates(cls, value: str) -> str:
        try:
            parse_rates(value)
        except ValueError:
            raise ValueError("expected rates such as 10/minute or 10/minute;50/day") from None
        return value

    @field_validator("webhook_secret")
    @classmethod
    def _webhook_secret(cls, value: SecretStr | None) -> SecretStr | None:
        # Telegram's setWebhook accepts 1-256 characters of A-Za-z0-9_- only.
        if value is not None and not re.fullmatch(
            r"[A-Za-z0-9_-]{1,256}", value.get_secret_value()
        ):
            raise ValueError("must be 1-256 characters of A-Za-z0-9_-")
        return value

    @field_validator("jwt_secret")
    @classmethod
    def _jwt_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value().encode()) < 32:
            raise ValueError("must be at least 32 bytes")
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies(cls, value: list[str]) -> list[str]:
        import ipaddress

        for item in value:
            ipaddress.ip_network(item, strict=False)
        return value

    @field_validator("admin_ids", "turn_urls", "trusted_proxies", mode="before")
    @classmethod
    def _csv(cls, value: object) -> object:
        return _split_csv(value)

    @field_validator("public_url", "telegram_api_url", "yookassa_api_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.rstrip("/")
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value

    @field_validator("database_url")
    @classmethod
    def _db_url(cls, value: str) -> str:
        if not value.startswith(("sqlite://", "postgres://", "postgresql://", "asyncpg://")):
            raise ValueError("must be a sqlite:// or postgres:// URL")
        if value.startswith("postgresql://"):
            value = "postgres://" + value[len("postgresql://") :]
        return value

    @field_validator("bot_token")
    @classmethod
    def _token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None
        head, sep, tail = value.get_secret_value().partition(":")
        if not (sep and head.isdigit() and tail):
            raise ValueError("must look like 123456:ABC...")
        return value

    @field_validator("webhook_path")
    @classmethod
    def _path(cls, value: str) -> str:
        if not value.startswith("/"):
            raise ValueError("must start with /")
        return value

    @model_validator(mode="after")
    def _webhook_needs_secret(self) -> Settings:
        if (
            self.bot_mode == "webhook"
            and self.bot_token is not None
            and self.webhook_secret is None
        ):
            raise ValueError("WEBHOOK_SECRET is required when BOT_MODE=webhook")
        if self.presence_heartbeat_ttl_seconds <= self.presence_heartbeat_seconds:
            raise ValueError(
                "PRESENCE_HEARTBEAT_TTL_SECONDS must be longer than PRESENCE_HEARTBEAT_SECONDS"
            )
        if self.redis_url and self.jwt_secret is None:
            # Several processes share Redis; each must verify the others' tokens.
            raise ValueError("JWT_SECRET is required when REDIS_URL is set")
        return self

    @property
    def yookassa_enabled(self) -> bool:
        return bool(self.yookassa_shop_id) and self.yookassa_secret_key is not None

    @property
    def bot_enabled(self) -> bool:
        return self.bot_token is not None

    @property
    def bot_id(self) -> int | None:
        if self.bot_token is None:
            return None
        return int(self.bot_token.get_secret_value().split(":", 1)[0])

    def jwt_key(self) -> str:
        """The JWT signing key; the dev default lives in data/ so tokens survive restarts."""
        if self.jwt_secret is not None:
            return self.jwt_secret.get_secret_value()
        path = Path("data/.jwt_secret")
        if path.exists():
            return path.read_text().strip()
        path.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        path.write_text(key)
        path.chmod(0o600)
        return key


def load_settings(**overrides: object) -> Settings:
    """Read the settings; raise :class:`SettingsError` naming the first bad variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        error = exc.errors()[0]
        if not error["loc"]:
            raise SettingsError(str(error["msg"]).removeprefix("Value error, ")) from None
        name = str(error["loc"][0]).upper()
        if error["type"] == "missing":
            raise SettingsError(f"{name} is required") from None
        raise SettingsError(f"{name} is malformed: {error['msg']}") from None

"""The abuse limits are settings, checked at start like AUTH_RATE_* (services/core/config.py)."""

from __future__ import annotations

import pytest

from services.core.config import SettingsError, load_settings

LIMITS = [
    "AUTH_RATE_DEVICE",
    "ROOM_CREATE_RATE",
    "INVITE_RATE_INVITER",
    "INVITE_RATE_INVITEE",
    "PLAYBACK_RATE_MEMBER",
    "PLAYBACK_RATE_ROOM",
]


@pytest.mark.parametrize("name", LIMITS)
def test_a_malformed_limit_stops_the_start_naming_it(name: str) -> None:
    with pytest.raises(SettingsError, match=f"^{name} is malformed"):
        load_settings(**{name.lower(): "lots"})


def test_limits_take_several_rates_and_device_tokens_a_lifetime() -> None:
    settings = load_settings(room_create_rate="10/minute;50/day", auth_device_ttl=60)
    assert settings.room_create_rate == "10/minute;50/day"
    assert settings.auth_device_ttl == 60
    with pytest.raises(SettingsError, match=r"^AUTH_DEVICE_TTL is malformed"):
        load_settings(auth_device_ttl=0)
    with pytest.raises(SettingsError, match=r"^ROOM_CREATE_RATE is malformed"):
        load_settings(room_create_rate="10/minute;lots")

"""services.core.links: the one grammar of start parameters and t.me links."""

from __future__ import annotations

import pytest

from services.core.links import (
    START_PARAM_RE,
    RoomLink,
    app_link,
    parse_room_param,
    parse_room_reference,
    room_app_path,
    room_link,
    room_start_param,
)

CODE = "AbCdEfGh"


def test_room_parameters_round_trip_with_and_without_an_invite() -> None:
    assert room_start_param(CODE) == f"room_{CODE}"
    # Invite codes (token_urlsafe) may hold "_" and "-": the first "_" after the code splits.
    param = room_start_param(CODE, "a_b-c_d")
    assert param == f"room_{CODE}_a_b-c_d"
    assert parse_room_param(param) == RoomLink(CODE, "a_b-c_d")
    assert parse_room_param(f"room_{CODE}") == RoomLink(CODE, None)


@pytest.mark.parametrize(
    "param",
    ["", "room_", "room_short", "room_AbCdEfG0", "lang_ru", f"rooms_{CODE}", f"room_{CODE}_"],
)
def test_what_is_not_a_room_parameter(param: str) -> None:
    assert parse_room_param(param) is None


def test_a_parameter_telegram_would_refuse_is_never_built() -> None:
    with pytest.raises(ValueError, match="start parameter"):
        room_start_param(CODE, "x" * 60)  # over 64 characters
    with pytest.raises(ValueError, match="start parameter"):
        room_start_param(CODE, "not allowed")
    assert START_PARAM_RE.match(room_start_param(CODE, "x" * 50))


@pytest.mark.parametrize(
    "text",
    [
        CODE,
        f"  room_{CODE}  ",
        f"https://t.me/vmeste_bot?startapp=room_{CODE}",
        f"t.me/vmeste_bot/app?startapp=room_{CODE}_inv",
        f"https://t.me/vmeste_bot?start=room_{CODE}",
    ],
)
def test_what_people_paste_names_the_room(text: str) -> None:
    link = parse_room_reference(text)
    assert link is not None
    assert link.code == CODE


def test_links_for_the_main_and_a_named_mini_app() -> None:
    assert app_link("vmeste_bot", None) == "https://t.me/vmeste_bot?startapp"
    assert app_link("vmeste_bot", "app") == "https://t.me/vmeste_bot/app"
    assert room_link("vmeste_bot", None, CODE) == f"https://t.me/vmeste_bot?startapp=room_{CODE}"
    assert room_link("vmeste_bot", "app", CODE, "inv") == (
        f"https://t.me/vmeste_bot/app?startapp=room_{CODE}_inv"
    )
    assert room_app_path(CODE) == f"/app/room/{CODE}"
    assert room_app_path(CODE, "inv") == f"/app/room/{CODE}?invite=inv"

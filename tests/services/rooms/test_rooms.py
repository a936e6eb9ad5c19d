"""services.rooms: the permission table and the rules the REST tests reach only indirectly."""

from __future__ import annotations

import pytest

from models.rooms import ControlMode, Role, Room
from services.core.errors import NotFound, ValidationError
from services.rooms.access import PERMISSIONS, Action, access_room, can, check_id
from services.rooms.membership import CODE_ALPHABET, CODE_LENGTH, _new_code, check_title
from services.rooms.moderation import check_slow_mode

MEMBER, MODERATOR, HOST = Role.MEMBER, Role.MODERATOR, Role.HOST


def _room(mode: ControlMode) -> Room:
    return Room(control_mode=mode)


@pytest.mark.parametrize(
    ("action", "lowest"),
    [
        (Action.VOTE_SKIP, MEMBER),
        (Action.CHAT, MEMBER),
        (Action.REACT, MEMBER),
        (Action.INVITE, MEMBER),
        (Action.KICK, MODERATOR),
        (Action.DELETE_MESSAGE, MODERATOR),
        (Action.SLOW_MODE, MODERATOR),
        (Action.MODERATORS, HOST),
        (Action.HANDOVER, HOST),
        (Action.SETTINGS, HOST),
        (Action.CLOSE, HOST),
    ],
)
def test_fixed_permissions(action: Action, lowest: Role) -> None:
    order = [MEMBER, MODERATOR, HOST]
    for mode in ControlMode:
        allowed = [role for role in order if can(_room(mode), role, action)]
        assert allowed == order[order.index(lowest) :], (action, mode)


@pytest.mark.parametrize("action", [Action.PLAYBACK, Action.QUEUE])
def test_control_mode_decides_who_drives(action: Action) -> None:
    assert not can(_room(ControlMode.HOST), MEMBER, action)
    assert can(_room(ControlMode.HOST), MODERATOR, action)
    assert can(_room(ControlMode.HOST), HOST, action)
    assert can(_room(ControlMode.EVERYONE), MEMBER, action)


def test_every_action_is_in_the_table() -> None:
    assert set(PERMISSIONS) == set(Action)


def test_codes_are_short_unambiguous_and_never_all_digits() -> None:
    assert not set("0OIl1") & set(CODE_ALPHABET)
    codes = {_new_code() for _ in range(2000)}
    assert len(codes) == 2000
    for code in codes:
        assert len(code) == CODE_LENGTH
        assert set(code) <= set(CODE_ALPHABET)
        assert not code.isdigit()


@pytest.mark.parametrize("value", [0, -1, 2**31, True, "1", 1.0, None])
def test_check_id_refuses(value: object) -> None:
    with pytest.raises(ValidationError):
        check_id(value, field="user_id")


def test_check_id_accepts() -> None:
    assert check_id(1, field="x") == 1
    assert check_id(2**31 - 1, field="x") == 2**31 - 1


@pytest.mark.parametrize("value", [-1, 3601, True, "5", 1.5])
def test_slow_mode_bounds(value: object) -> None:
    with pytest.raises(ValidationError):
        check_slow_mode(value)


def test_titles_are_squeezed_and_bounded() -> None:
    assert check_title("  a \n  b\t") == "a b"
    assert check_title("x" * 100) == "x" * 100
    for bad in ("", " \n ", "x" * 101, 5, None):
        with pytest.raises(ValidationError):
            check_title(bad)


@pytest.mark.parametrize("ref", ["", "²", "-1", "0", str(2**31), "x" * 17, True])
async def test_access_room_refuses_odd_refs_without_a_query(ref: object) -> None:
    # No ORM is set up here: a reference that cannot name a room never reaches the database.
    with pytest.raises(NotFound):
        await access_room(ref)  # type: ignore[arg-type]

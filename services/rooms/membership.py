"""Watch rooms: creation, joining and leaving, capacity, the host's grace, closing, invites,
lists and sharing. Every transport (REST, Socket.IO, bot) calls these functions; writes happen in
a transaction and domain events are published after it commits."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F, Subquery
from tortoise.transactions import in_transaction

from models.rooms import ControlMode, MediaKind, Role, Room, RoomInvite, RoomMember, Visibility
from models.users import User
from services.accounts.users import user_payload
from services.core import text
from services.core.context import Services
from services.core.errors import N_, Conflict, Forbidden, NotFound, RoomFull, ValidationError
from services.core.events import Event
from services.core.links import ROOM_CODE_ALPHABET, ROOM_CODE_LENGTH
from services.rooms.access import (
    MAX_ID,
    Action,
    access_member,
    access_room_to_share,
    check_choice,
    check_id,
    check_permission,
    get_active_member,
    invite_code_matches,
    now,
    room_scope,
)
from services.rooms.media import parse_media_url
from services.rooms.payloads import member_payload

CODE_ALPHABET = ROOM_CODE_ALPHABET
CODE_LENGTH = ROOM_CODE_LENGTH
MAX_TITLE = 100
SUBSCRIBER_CACHE_TTL = 600.0
#: Seconds during which the same link from the same user reuses the room it created.
INLINE_ROOM_TTL = 3600.0

# Abuse limits (the rates are settings, "10/minute;50/day": every rate applies).
#: Rooms one user creates, through any transport (REST, /watch, inline mode):
#: ``ROOM_CREATE_RATE``, keyed by the feature and the user.
ROOM_CREATE_LIMITED = N_("You are creating rooms too often. Try again in {retry_after} s.")
#: Invites one user sends (``INVITE_RATE_INVITER``) and one user receives from anyone
#: (``INVITE_RATE_INVITEE``): each is a Telegram message when the bot is on.
INVITER_LIMITED = N_("You are sending too many invites. Try again in {retry_after} s.")
INVITEE_LIMITED = N_(
    "This person has received too many invites lately. Try again in {retry_after} s."
)
#: Seconds during which the same invite again (same room, same invitee) notifies nobody.
INVITE_REPEAT_SECONDS = 3600.0


async def count_members(room: Room) -> int:
    return await RoomMember.filter(room_id=room.id, left_at=None, banned_at=None).count()


async def get_room_capacity(services: Services, host: User) -> int:
    """Regular hosts get ``FREE_ROOM_LIMIT``; premium hosts and channel subscribers the hard cap."""
    settings = services.settings
    if host.has_premium(now()):
        return settings.room_hard_cap
    if host.telegram_id is not None and await is_subscriber(services, host.telegram_id):
        return settings.room_hard_cap
    return settings.free_room_limit


async def is_subscriber(services: Services, telegram_id: int) -> bool:
    """Channel membership via the bot (getChatMember), cached so joins stay cheap."""
    if services.channel_checker is None or not services.settings.subscriber_channel_id:
        return False
    key = f"subscriber:{telegram_id}"
    cached = await services.state.get(key)
    if cached is not None:
        return cached == "1"
    try:
        member = await services.channel_checker(telegram_id)
    except Exception:  # noqa: BLE001 - Telegram unreachable: the free limit, not an error
        return False
    await services.state.set(key, "1" if member else "0", ttl=SUBSCRIBER_CACHE_TTL)
    return member


@dataclass(frozen=True)
class RoomListPage:
    rooms: list[Room]
    total: int


async def get_public_rooms(
    *, query: str = "", kind: str | None = None, limit: int = 20, offset: int = 0
) -> RoomListPage:
    """Open public rooms someone is in now, most watched first, searchable by title and
    filterable by source kind. A room everyone has left is not listed while it waits for its
    host's grace to run out."""
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 100:
        raise ValidationError(field="limit", reason="1-100")
    if isinstance(offset, bool) or not isinstance(offset, int) or not 0 <= offset <= MAX_ID:
        raise ValidationError(field="offset", reason="0 or more")
    occupied = RoomMember.filter(left_at=None, banned_at=None).values("room_id")
    rooms = Room.filter(closed_at=None, visibility=Visibility.PUBLIC, id__in=Subquery(occupied))
    query = text.check(query, text.LINE, field="query").strip()
    if len(query) > 100:
        raise ValidationError(field="query", reason="at most 100 characters")
    if query:
        rooms = rooms.filter(title__icontains=query)
    if kind:
        rooms = rooms.filter(current_kind=check_choice(MediaKind, kind, field="kind"))
    total = await rooms.count()
    page = await rooms.order_by("-watch_count", "-id").offset(offset).limit(limit)
    return RoomListPage(rooms=list(page), total=total)


async def get_user_rooms(user: User) -> list[Room]:
    """Open rooms the user is in (host first), for /rooms and the app's home (one query)."""
    memberships = await RoomMember.filter(
        user_id=user.id, left_at=None, banned_at=None, room__closed_at=None
    ).select_related("room")
    rooms = [m.room for m in memberships]
    return sorted(rooms, key=lambda r: (r.host_id != user.id, -r.id))


def check_title(title: str) -> str:
    title = " ".join(text.check(title, text.TITLE, field="title").split())
    if not title:
        raise ValidationError(field="title", reason="required")
    if len(title) > MAX_TITLE:
        raise ValidationError(field="title", reason=f"at most {MAX_TITLE} characters")
    return title


def _new_code() -> str:
    while True:
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        if not code.isdigit():  # an all-digit code would read as a room id
            return code


async def do_create_room(
    services: Services,
    *,
    acting_user: User,
    title: str | None = None,
    visibility: Visibility = Visibility.PUBLIC,
    control_mode: ControlMode = ControlMode.HOST,
    media_url: str | None = None,
    chat_id: int | None = None,
) -> Room:
    """Create a room; its host joins at once. A link, if given, becomes the first queue item."""
    source = parse_media_url(media_url) if media_url else None
    title = check_title(title or (source.title if source else f"{acting_user.display_name}"))
    await services.limiter.hit_many(
        services.settings.room_create_rate,
        "room-create",
        "user",
        str(acting_user.id),
        message=ROOM_CREATE_LIMITED,
    )
    for _ in range(5):
        try:
            async with in_transaction():
                room = await Room.create(
                    code=_new_code(),
                    title=title,
                    host=acting_user,
                    visibility=visibility,
                    control_mode=control_mode,
                    invite_code=secrets.token_urlsafe(12),
                    chat_id=chat_id,
                    watch_count=1,
                    # What the public list shows and filters by until playback takes over.
                    current_kind=source.kind if source else None,
                    current_title=source.title if source else None,
                )
                await RoomMember.create(room=room, user=acting_user, role=Role.HOST)
            break
        except IntegrityError:
            continue  # a code collision: draw again
    else:
        raise Conflict(N_("Could not create the room. Try again."), field="code")
    # The queue reacts to it (the link becomes the first item) before this returns.
    await services.events.publish(
        Event(
            "room:created",
            {
                "roomId": room.id,
                "hostId": acting_user.id,
                "room": room,
                "host": acting_user,
                "mediaUrl": source.url if source is not None else None,
            },
        )
    )
    return room


async def do_create_room_for_link(
    services: Services, *, acting_user: User, url: str
) -> Room | None:
    """A room for a link typed in inline mode, where every keystroke asks again: the room this
    user's link made recently, or a new one (None while another is being made)."""
    user = acting_user
    digest = hashlib.sha256(url.encode()).hexdigest()[:24]
    key = f"inline-room:{user.id}:{digest}"
    state = services.state
    known = await state.get(key)
    if known is not None:
        room = await Room.get_or_none(code=known, closed_at=None)
        if room is not None:
            return room
    lock = f"inline-room-lock:{user.id}"
    if not await state.set_if_absent(lock, "1", ttl=15):
        return None  # the previous keystroke is still creating; the next query will find it
    try:
        # Limited as every room creation is (ROOM_CREATE_RATE): RateLimited for the caller.
        room = await do_create_room(services, acting_user=user, media_url=url)
        await state.set(key, room.code, ttl=INLINE_ROOM_TTL)
        return room
    finally:
        await state.delete(lock)


async def do_join_room(
    services: Services, *, room: Room, acting_user: User, invite_code: str | None = None
) -> RoomMember:
    """Join (idempotent). Private rooms need an invite or the invite code; kicked users stay out.

    The host always gets back in; everyone else only while the room has a free place
    (:func:`get_room_capacity`). The count and the insert happen under a lock on the room row
    (PostgreSQL) or the connection's transaction lock (SQLite), so concurrent joins never
    overfill a room.
    """
    existing = await RoomMember.get_or_none(room_id=room.id, user_id=acting_user.id)
    if existing is not None and existing.banned_at is not None:
        raise Forbidden(N_("You were removed from this room."), reason="banned")
    if existing is not None and existing.left_at is None:
        await _host_returned(services, room, acting_user)
        return existing
    if room.visibility == Visibility.PRIVATE and existing is None:
        invited = await RoomInvite.exists(room_id=room.id, invitee_id=acting_user.id)
        if not (
            invited or invite_code_matches(room, invite_code) or acting_user.id == room.host_id
        ):
            raise Forbidden(N_("This room is private. Ask for an invite."), reason="private")
    await room.fetch_related("host")
    capacity = await get_room_capacity(services, room.host)
    try:
        async with in_transaction():
            # PostgreSQL serializes concurrent joins on the room row; SQLite on its one writer.
            locked = await Room.filter(id=room.id).select_for_update().first()
            if locked is None or locked.closed_at is not None:
                raise NotFound(N_("This room does not exist or has been closed."))
            current = await RoomMember.get_or_none(room_id=room.id, user_id=acting_user.id)
            if current is not None and current.banned_at is not None:
                raise Forbidden(N_("You were removed from this room."), reason="banned")
            if current is not None and current.left_at is None:
                return current  # a concurrent request of the same person got in first
            is_host = acting_user.id == locked.host_id
            if not is_host and await count_members(room) >= capacity:
                raise RoomFull(limit=capacity)
            if current is None:
                member = await RoomMember.create(room=room, user=acting_user, role=Role.MEMBER)
                await Room.filter(id=room.id).update(watch_count=F("watch_count") + 1)
            else:
                current.left_at = None
                if current.role == Role.HOST and not is_host:
                    current.role = Role.MEMBER
                await current.save(update_fields=["left_at", "role"])
                member = current
    except IntegrityError:
        # The same person joining twice at once on PostgreSQL: the other request won.
        member = await RoomMember.get(room_id=room.id, user_id=acting_user.id)
        if member.banned_at is not None or member.left_at is not None:
            raise Conflict(N_("Could not join the room. Try again."), field="membership") from None
        return member
    await _host_returned(services, room, acting_user)
    await services.events.publish(
        Event(
            "participant:joined",
            {"roomId": room.id, **member_payload(member, acting_user)},
            scope=room_scope(room.id),
        )
    )
    # A first-time (or returning after leaving) member: the chat says so.
    await services.events.publish(Event("member:joined", {"room": room, "user": acting_user}))
    return member


async def _host_returned(services: Services, room: Room, user: User) -> None:
    if user.id == room.host_id:
        services.scheduler.cancel(f"host-away:{room.id}")


async def do_leave_room(services: Services, *, room: Room, acting_user: User) -> None:
    """Leave. When the host leaves, the room closes unless they are back within the grace period."""
    member = await get_active_member(room, acting_user)
    if member is None:
        return
    member.left_at = now()
    await member.save(update_fields=["left_at"])
    await services.events.publish(
        Event(
            "participant:left",
            {"roomId": room.id, "userId": acting_user.id},
            scope=room_scope(room.id),
        )
    )
    if acting_user.id == room.host_id:
        schedule_host_away(services, room)


def schedule_host_away(services: Services, room: Room, *, delay: float | None = None) -> None:
    """Close the room after the host grace (or ``delay`` s) unless the host is back by then."""

    async def close_if_still_away() -> None:
        fresh = await Room.get_or_none(id=room.id)
        if fresh is None or fresh.closed_at is not None:
            return
        host_member = await RoomMember.get_or_none(room_id=room.id, user_id=fresh.host_id)
        if host_member is not None and host_member.left_at is None:
            return  # came back (perhaps through another process)
        await do_close_room(services, room=fresh, reason="host_left")

    services.scheduler.call_later(
        f"host-away:{room.id}",
        services.settings.host_grace_seconds if delay is None else max(0.0, delay),
        close_if_still_away,
    )


async def do_resume_host_grace(services: Services, *, room_id: int, code: str) -> None:
    """The process that held this room's host grace timer died (services.rooms.presence sweeps it):
    if the host is still away, close the room when their grace (from ``left_at``) runs out."""
    if services.scheduler.pending(f"host-away:{room_id}"):
        return
    room = await Room.get_or_none(id=room_id, code=code, closed_at=None)
    if room is None:
        return
    host = await RoomMember.get_or_none(room_id=room.id, user_id=room.host_id)
    if host is None or host.left_at is None:
        return
    elapsed = (now() - host.left_at).total_seconds()
    schedule_host_away(services, room, delay=services.settings.host_grace_seconds - elapsed)


async def do_close_room(services: Services, *, room: Room, reason: str) -> None:
    closed_at = now()
    # Both or neither: a connection lost in between must not leave a closed room with members.
    async with in_transaction():
        updated = await Room.filter(id=room.id, closed_at=None).update(closed_at=closed_at)
        if updated:
            await RoomMember.filter(room_id=room.id, left_at=None).update(left_at=closed_at)
    if not updated:
        return
    room.closed_at = closed_at
    services.scheduler.cancel(f"host-away:{room.id}")
    await services.events.publish(
        Event("room:closed", {"roomId": room.id, "reason": reason}, scope=room_scope(room.id))
    )


async def do_close_room_as(services: Services, *, room: Room, acting_user: User) -> None:
    member = await access_member(room, acting_user)
    check_permission(room, member, Action.CLOSE)
    await do_close_room(services, room=room, reason="closed_by_host")


async def do_invite(
    services: Services, *, room: Room, acting_user: User, invitee_id: int
) -> RoomInvite:
    """Invite someone: the bot messages them and, if they are online, the app shows it.

    Limited per inviter and per invitee (each invite is a Telegram message). The same invite
    again (same room and invitee, from anyone) within :data:`INVITE_REPEAT_SECONDS` is
    answered as done and notifies nobody, and costs no budget."""
    member = await access_member(room, acting_user)
    check_permission(room, member, Action.INVITE)
    check_id(invitee_id, field="userId")
    if invitee_id == acting_user.id:
        raise ValidationError(field="userId", reason="cannot invite yourself")
    invitee = await User.get_or_none(id=invitee_id)
    if invitee is None:
        raise NotFound(N_("User not found."))
    banned = await RoomMember.exists(room_id=room.id, user_id=invitee_id, banned_at__isnull=False)
    if banned:
        raise Forbidden(N_("This person was removed from the room."))
    repeat_key = f"invite-sent:{room.id}:{room.code}:{invitee.id}"
    state = services.state
    repeated = await state.get(repeat_key) is not None
    if not repeated:
        settings, limiter = services.settings, services.limiter
        await limiter.hit_many(
            settings.invite_rate_inviter,
            "invite",
            "inviter",
            str(acting_user.id),
            message=INVITER_LIMITED,
        )
        await limiter.hit_many(
            settings.invite_rate_invitee,
            "invite",
            "invitee",
            str(invitee.id),
            message=INVITEE_LIMITED,
        )
    try:
        invite, _ = await RoomInvite.get_or_create(
            room=room, invitee=invitee, defaults={"inviter": acting_user}
        )
    except IntegrityError:  # invited twice at once
        invite = await RoomInvite.get(room_id=room.id, invitee_id=invitee.id)
    if repeated or not await state.set_if_absent(repeat_key, "1", ttl=INVITE_REPEAT_SECONDS):
        return invite  # notified already (perhaps by a concurrent request just now)
    await services.events.publish(
        Event(
            "room:invited",
            {
                "roomId": room.id,
                "roomCode": room.code,
                "roomTitle": room.title,
                "inviteCode": room.invite_code,
                "from": user_payload(acting_user),
                "inviteeId": invitee.id,
                "inviteeTelegramId": invitee.telegram_id,
            },
            scope=f"user:{invitee.id}",
        )
    )
    return invite


async def get_group_status_room(room_id: int) -> Room | None:
    """A room bound to a Telegram group whose status message the bot keeps up to date (with its
    host, whose language the message speaks), or None."""
    room = await Room.get_or_none(id=room_id).prefetch_related("host")
    if room is None or room.chat_id is None or room.chat_message_id is None:
        return None
    return room


async def do_set_group_message(room_id: int, message_id: int | None) -> None:
    """The group status message of a room: posted (``/watch`` in a group), or gone (deleted,
    or the bot removed from the group: stop editing it)."""
    await Room.filter(id=room_id).update(chat_message_id=message_id)


async def get_members(room: Room) -> list[tuple[RoomMember, User]]:
    members = await RoomMember.filter(
        room_id=room.id, left_at=None, banned_at=None
    ).prefetch_related("user")
    order = {Role.HOST: 0, Role.MODERATOR: 1, Role.MEMBER: 2}
    members.sort(key=lambda m: (order[m.role], m.joined_at))
    return [(m, m.user) for m in members]


SHARE_RATE = "20/minute"


async def do_prepare_share(services: Services, *, room: Room, acting_user: User) -> str:
    """A prepared Telegram message inviting to the room (``WebApp.shareMessage`` sends it)."""
    room = await access_room_to_share(room.id, user=acting_user)
    if services.share_preparer is None or acting_user.telegram_id is None:
        raise ValidationError(
            N_("Sharing to Telegram chats works inside Telegram only. Copy the link instead."),
            field="share",
            reason="unavailable",
        )
    await services.limiter.hit(SHARE_RATE, "share", str(acting_user.id))
    from services.accounts.users import pick_language

    return await services.share_preparer(acting_user.telegram_id, room, pick_language(acting_user))

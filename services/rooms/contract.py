"""Watch rooms on the wire (docs/rooms-protocol.md): the shapes, every REST body and
response, and every Socket.IO payload, ack and server event, in ``SOCKET_EVENTS``.

Filled by the room services' payload builders (``room_payload``, ``member_payload``,
``media_payload``, ``message_payload``, ``reaction_payload``, the playback state). Imports
only pydantic, the standard library and the other contracts.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AliasChoices, Field, StringConstraints

from services.accounts.contract import User
from services.core.contract import MAX_ID, Ack, Body, Int32, Model, SocketEvent
from services.core.text import Line, Multiline, Title, Token, Url
from services.rooms import events as ev

Role = Literal["host", "moderator", "member"]
Visibility = Literal["public", "private"]
ControlMode = Literal["host", "everyone"]
MediaKind = Literal["youtube", "vimeo", "twitch", "hls", "html5"]
PlaybackStatus = Literal["idle", "paused", "playing"]

Id = Annotated[int, Field(gt=0, le=MAX_ID)]
#: A room by numeric id or by code (the service looks it up: not_found otherwise).
RoomRef = Annotated[
    Int32 | Annotated[Line, StringConstraints(min_length=1, max_length=64)],
    Field(description="the room's numeric id or its code"),
]
#: Invite codes are 32 characters (``Room.invite_code``); anything longer matches no room.
InviteCode = Annotated[Token, Field(max_length=64)]
Seconds = Annotated[float, Field(description="seconds into the media")]
ServerMs = Annotated[float, Field(description="server clock, ms since the epoch")]


# --- shapes ------------------------------------------------------------------------------------


class RolePermissions(Model):
    actions: list[str] = Field(description="what this role may do in the room (Action values)")
    acts_on: list[Role] = Field(description="the roles it may kick or delete messages of")


class Room(Model):
    id: int
    code: str = Field(pattern=r"^[A-Za-z0-9]{8}$")
    title: str
    host: User
    visibility: Visibility
    control_mode: ControlMode
    slow_mode_seconds: int
    current_kind: MediaKind | None
    current_title: str | None
    watch_count: int = Field(description="distinct people who ever joined")
    member_count: int = Field(description="people in the room now")
    bound_chat: bool = Field(description="bound to a Telegram group")
    created_at: datetime
    closed_at: datetime | None
    my_role: Role | None = Field(None, description="the viewer's role; null: not a member")
    invite_code: str | None = Field(None, description="shown to members only")
    permissions: dict[Role, RolePermissions] = Field(
        description="the permission table of this room (its control mode applied)"
    )


class Member(Model):
    user: User
    role: Role


class Participant(Model):
    """A member present now (connected, or inside their grace period)."""

    user: User
    role: Role
    online: Literal[True]


class MediaItem(Model):
    id: int
    url: str
    kind: MediaKind
    source_id: str | None
    title: str
    duration: float | None = Field(description="seconds; null when unknown")
    is_live: bool
    position: int = Field(description="place in the queue")
    added_by: User | None


class Playback(Model):
    """The room's clock. While ``playing`` the position at server time t is
    ``position + max(0, t - updatedAt) / 1000 * rate``."""

    media_id: int | None
    status: PlaybackStatus
    position: Seconds
    rate: float
    updated_at: ServerMs
    seq: int = Field(description="apply a room:state only when its seq is higher")
    by: int | None = Field(description="the user whose command it was; null: the server")


class ChatMessage(Model):
    id: int
    room_id: int
    kind: str = Field(description="text, joined, kicked, now_playing...")
    text: str = Field(description="empty when deleted; an English fallback for system kinds")
    data: dict[str, Any] | None = Field(description="what clients localize system messages from")
    user: User | None = Field(description="the author; null for system messages")
    created_at: datetime
    deleted: bool


class Reaction(Model):
    id: int
    room_id: int
    media_id: int
    emoji: str
    media_time: Seconds
    user: User
    created_at: datetime


# --- REST: request bodies and query strings ----------------------------------------------------


#: Checked by the service (after collapsing whitespace), so documented only.
_TITLE = Field(None, json_schema_extra={"maxLength": 100})


class CreateRoomBody(Body):
    title: Title | None = _TITLE
    visibility: Visibility = "public"
    control_mode: ControlMode = "host"
    url: Url | None = Field(None, description="the first video; its title by default")


class JoinBody(Body):
    invite_code: InviteCode | None = None


class UserIdBody(Body):
    # camelCase like every other field; the snake_case spelling of early clients still reads.
    user_id: Id = Field(validation_alias=AliasChoices("userId", "user_id"))


class SettingsBody(Body):
    title: Title | None = _TITLE
    visibility: Visibility | None = None
    control_mode: ControlMode | None = None
    slow_mode_seconds: Int32 | None = Field(None, json_schema_extra={"minimum": 0, "maximum": 3600})


class RoomListQuery(Body):
    query: Line = Field("", max_length=100, description="search in titles")
    kind: MediaKind | None = Field(None, description="what is playing")
    limit: int = Field(20, ge=1, le=100)
    offset: int = Field(0, ge=0)


class RoomDetailQuery(Body):
    invite: InviteCode | None = Field(None, description="the private room's invite code")


class MessagesQuery(Body):
    before: Int32 | None = Field(None, description="only messages older than this id")
    limit: int = Field(50, ge=1, le=100)


class ReactionsQuery(Body):
    media_id: Int32
    from_: float = Field(0.0, alias="from", description="media seconds, default 0")
    to: float | None = Field(None, description="media seconds, default the end")


# --- REST: responses ---------------------------------------------------------------------------


class RoomResponse(Model):
    room: Room


class RoomPage(Model):
    rooms: list[Room]
    total: int


class RoomList(Model):
    rooms: list[Room]


class RoomSnapshot(Model):
    """Everything a client needs to show a room: ``GET /api/rooms/{id}`` and the ``room:join``
    ack (``services.rooms.snapshot``)."""

    room: Room
    members: list[Member] | None = Field(
        None,
        description="everyone in the room, present or not (REST; the room:join ack leaves it out)",
    )
    participants: list[Participant]
    queue: list[MediaItem]
    playback: Playback
    messages: list[ChatMessage] = Field(description="the last 50, oldest first; members only")
    server_time: ServerMs


#: ``GET /api/rooms/{id}``.
RoomDetail = RoomSnapshot


class MemberResponse(Model):
    member: Member


class PreparedShare(Model):
    id: str = Field(description="a prepared inline message id for WebApp.shareMessage")


class MessageList(Model):
    messages: list[ChatMessage]


class ReactionList(Model):
    reactions: list[Reaction]


# --- Socket.IO: client -> server payloads ------------------------------------------------------


class RoomEvent(Body):
    room_id: RoomRef


class RoomJoin(RoomEvent):
    invite_code: InviteCode | None = None
    rtt: float | None = Field(None, description="the client's measured round trip, ms")


class PresenceRtt(RoomEvent):
    rtt: float = Field(description="ms, 0-10000")


class PlayerCommand(RoomEvent):
    client_seq: Int32 | None = Field(None, description="the client's own counter (not echoed)")


class PlayerPlay(PlayerCommand):
    position: Seconds | None = Field(None, description="default: where the clock says")


class PlayerSeek(PlayerCommand):
    position: Seconds


class PlayerRate(PlayerCommand):
    rate: float = Field(description="0.25-2")


class PlayerLoad(RoomEvent):
    """``{roomId, mediaId}`` (an item of the queue) or ``{roomId, url}`` (a new link)."""

    media_id: Int32 | None = None
    url: Url | None = None


class MediaEvent(RoomEvent):
    media_id: Int32


class QueueAdd(RoomEvent):
    url: Url


class QueueReorder(RoomEvent):
    media_ids: list[Int32] = Field(description="every item still to play, exactly once")


class ChatSend(RoomEvent):
    text: Multiline = Field(description="1-1000 characters once trimmed")


class ChatDelete(RoomEvent):
    message_id: Int32


class ReactionSend(RoomEvent):
    emoji: Line
    media_time: Seconds
    media_id: Int32 | None = Field(None, description="the item reacted to: media_changed if not")


# --- Socket.IO: acks ---------------------------------------------------------------------------


class Snapshot(Ack, RoomSnapshot):
    """The ``room:join`` ack: the room snapshot."""


class PlaybackAck(Ack):
    playback: Playback


class PlaybackQueueAck(Ack):
    playback: Playback
    queue: list[MediaItem]


class QueueAck(Ack):
    queue: list[MediaItem]


class QueueAddAck(Ack):
    item: MediaItem
    queue: list[MediaItem]


class VoteSkipAck(Ack):
    votes: int
    needed: int
    skipped: bool


class ChatSendAck(Ack):
    message: ChatMessage


class ReactionAck(Ack):
    reaction: Reaction


# --- Socket.IO: server -> client events --------------------------------------------------------


class ParticipantJoined(Model):
    room_id: int
    user: User
    role: Role


class ParticipantLeft(Model):
    room_id: int
    user_id: int
    kicked: bool | None = None


class ParticipantRole(Model):
    room_id: int
    user_id: int
    role: Role


class RoomState(Model):
    room_id: int
    playback: Playback


class RoomUpdated(Model):
    room_id: int
    title: str
    visibility: Visibility
    control_mode: ControlMode
    slow_mode_seconds: int
    permissions: dict[Role, RolePermissions]


class RoomClosed(Model):
    room_id: int
    reason: str = Field(description="host_left or closed_by_host")


class QueueUpdated(Model):
    room_id: int
    queue: list[MediaItem]


class QueueVotes(Model):
    room_id: int
    media_id: int
    votes: int
    needed: int


class ChatDeleted(Model):
    room_id: int
    message_id: int


class RoomKicked(Model):
    room_id: int
    user_id: int


class RoomInvited(Model):
    room_id: int
    room_code: str
    room_title: str
    invite_code: str
    from_: User = Field(alias="from")
    invitee_id: int = Field(description="for the bot's notice; the receiver's own id")
    invitee_telegram_id: int | None = Field(description="for the bot's notice")


def _send(name: str, payload: type[Body], ack: type[Ack], summary: str) -> SocketEvent:
    return SocketEvent(name, "send", payload, summary, ack=ack)


def _receive(name: str, payload: type[Model], summary: str, scope: str) -> SocketEvent:
    return SocketEvent(name, "receive", payload, summary, scope=scope)


ROOM_SCOPE = "room:{roomId}"
USER_SCOPE = "user:{userId}"

SOCKET_EVENTS: tuple[SocketEvent, ...] = (
    _send(ev.ROOM_JOIN, RoomJoin, Snapshot, "Join (or come back to) a room: the snapshot"),
    _send(ev.ROOM_LEAVE, RoomEvent, Ack, "Leave the room for good"),
    _send(ev.ROOM_UNWATCH, RoomEvent, Ack, "This socket stops watching; the user stays a member"),
    _send(ev.PRESENCE_RTT, PresenceRtt, Ack, "Report the measured round trip, for scheduling"),
    _send(ev.PLAYER_PLAY, PlayerPlay, PlaybackAck, "Play (scheduled slightly ahead)"),
    _send(ev.PLAYER_PAUSE, PlayerPlay, PlaybackAck, "Pause"),
    _send(ev.PLAYER_SEEK, PlayerSeek, PlaybackAck, "Seek"),
    _send(ev.PLAYER_RATE, PlayerRate, PlaybackAck, "Change the playback rate"),
    _send(ev.PLAYER_LOAD, PlayerLoad, PlaybackQueueAck, "Put an item or a new link on screen"),
    _send(ev.PLAYER_ENDED, MediaEvent, Ack, "The player reached the end of the item"),
    _send(ev.QUEUE_ADD, QueueAdd, QueueAddAck, "Add a link to the queue"),
    _send(ev.QUEUE_REMOVE, MediaEvent, QueueAck, "Remove an item"),
    _send(ev.QUEUE_REORDER, QueueReorder, QueueAck, "Reorder the items still to play"),
    _send(ev.QUEUE_NEXT, RoomEvent, PlaybackQueueAck, "Move to the next item"),
    _send(ev.QUEUE_VOTE_SKIP, RoomEvent, VoteSkipAck, "Vote to skip the item on screen"),
    _send(ev.CHAT_SEND, ChatSend, ChatSendAck, "Send a chat message"),
    _send(ev.CHAT_DELETE, ChatDelete, Ack, "Delete a chat message"),
    _send(ev.REACTION_SEND, ReactionSend, ReactionAck, "React at a moment of the video"),
    _receive(ev.PARTICIPANT_JOINED, ParticipantJoined, "Someone came in", ROOM_SCOPE),
    _receive(ev.PARTICIPANT_LEFT, ParticipantLeft, "Someone left or was kicked", ROOM_SCOPE),
    _receive(ev.PARTICIPANT_ROLE, ParticipantRole, "Someone's role changed", ROOM_SCOPE),
    _receive(ev.ROOM_STATE, RoomState, "The playback clock changed", ROOM_SCOPE),
    _receive(ev.ROOM_UPDATED, RoomUpdated, "The room's settings changed", ROOM_SCOPE),
    _receive(ev.ROOM_CLOSED, RoomClosed, "The room closed; every socket leaves it", ROOM_SCOPE),
    _receive(ev.QUEUE_UPDATED, QueueUpdated, "The queue changed", ROOM_SCOPE),
    _receive(ev.QUEUE_VOTES, QueueVotes, "Skip votes for the item on screen", ROOM_SCOPE),
    _receive(ev.CHAT_MESSAGE, ChatMessage, "A chat message (text or system)", ROOM_SCOPE),
    _receive(ev.CHAT_DELETED, ChatDeleted, "A chat message was deleted", ROOM_SCOPE),
    _receive(ev.REACTION, Reaction, "A reaction, to burst over the video", ROOM_SCOPE),
    _receive(ev.ROOM_KICKED, RoomKicked, "You were removed from a room for good", USER_SCOPE),
    _receive(ev.ROOM_INVITED, RoomInvited, "You were invited to a room", USER_SCOPE),
)

"""Watch rooms: the room, its members, invites, media queue, chat and reactions."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model


class Visibility(StrEnum):
    PUBLIC = "public"
    PRIVATE = "private"


class ControlMode(StrEnum):
    # Only the host and moderators drive playback and the queue.
    HOST = "host"
    # Every member does.
    EVERYONE = "everyone"


class Role(StrEnum):
    HOST = "host"
    MODERATOR = "moderator"
    MEMBER = "member"


class MediaKind(StrEnum):
    YOUTUBE = "youtube"
    VIMEO = "vimeo"
    TWITCH = "twitch"
    HLS = "hls"
    HTML5 = "html5"


class Room(Model):
    id = fields.IntField(primary_key=True)
    # Short shareable code used in links: t.me/<bot>?startapp=room_<code>
    code = fields.CharField(max_length=16, unique=True)
    title = fields.CharField(max_length=100)
    host = fields.ForeignKeyField("models.User", related_name="hosted_rooms")
    visibility = fields.CharEnumField(Visibility, default=Visibility.PUBLIC)
    control_mode = fields.CharEnumField(ControlMode, default=ControlMode.HOST)
    slow_mode_seconds = fields.IntField(default=0)
    # Secret part of private-room links; anyone holding it may join.
    invite_code = fields.CharField(max_length=32, unique=True)
    # A Telegram group the room was created in, and the bot's status message there.
    chat_id = fields.BigIntField(null=True)
    chat_message_id = fields.BigIntField(null=True)
    # Kind of what is playing now, for the public list's filter.
    current_kind = fields.CharEnumField(MediaKind, null=True)
    current_title = fields.CharField(max_length=200, null=True)
    # Distinct people who ever joined: "most watched first" in the public list.
    watch_count = fields.IntField(default=0)
    # The playback clock's durable copy ``{mediaId, status, position, rate, updatedAt, seq, by}``,
    # written on every playback command (services.rooms.playback.write_state): the ephemeral
    # copy in Redis may be lost (a Redis restart) and is then read back from here.
    playback = fields.JSONField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    closed_at = fields.DatetimeField(null=True)

    class Meta:
        table = "rooms"

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


class RoomMember(Model):
    id = fields.IntField(primary_key=True)
    room = fields.ForeignKeyField("models.Room", related_name="members")
    user = fields.ForeignKeyField("models.User", related_name="room_memberships")
    role = fields.CharEnumField(Role, default=Role.MEMBER)
    joined_at = fields.DatetimeField(auto_now_add=True)
    # Set when the person leaves; a member counts towards the room's size while it is null.
    left_at = fields.DatetimeField(null=True)
    # Kicked people cannot rejoin this room.
    banned_at = fields.DatetimeField(null=True)

    class Meta:
        table = "room_members"
        unique_together = (("room", "user"),)
        # "my rooms" looks members up by user.
        indexes = (("user_id", "left_at"),)


class RoomInvite(Model):
    id = fields.IntField(primary_key=True)
    room = fields.ForeignKeyField("models.Room", related_name="invites")
    inviter = fields.ForeignKeyField("models.User", related_name="sent_room_invites")
    invitee = fields.ForeignKeyField("models.User", related_name="room_invites")
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "room_invites"
        unique_together = (("room", "invitee"),)


class MediaItem(Model):
    id = fields.IntField(primary_key=True)
    room = fields.ForeignKeyField("models.Room", related_name="media")
    url = fields.CharField(max_length=2048)
    kind = fields.CharEnumField(MediaKind)
    # Provider id (YouTube video id, Vimeo id, Twitch channel or video) or null for direct links.
    source_id = fields.CharField(max_length=128, null=True)
    title = fields.CharField(max_length=200)
    duration = fields.FloatField(null=True)
    is_live = fields.BooleanField(default=False)
    # Order in the queue; the smallest unplayed one plays next.
    position = fields.IntField()
    added_by = fields.ForeignKeyField("models.User", related_name="added_media", null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    played_at = fields.DatetimeField(null=True)
    removed_at = fields.DatetimeField(null=True)

    class Meta:
        table = "room_media"
        indexes = (("room_id", "position"),)


class ChatMessage(Model):
    id = fields.IntField(primary_key=True)
    room = fields.ForeignKeyField("models.Room", related_name="messages")
    # Null for system messages (joined, kicked, now playing).
    user = fields.ForeignKeyField("models.User", related_name="room_messages", null=True)
    kind = fields.CharField(max_length=16, default="text")
    text = fields.CharField(max_length=1000)
    # Structured data of system messages, so clients can localize them.
    data = fields.JSONField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    deleted_at = fields.DatetimeField(null=True)
    deleted_by = fields.ForeignKeyField("models.User", related_name="deleted_messages", null=True)

    class Meta:
        table = "room_messages"
        # History pages: newest first within a room.
        indexes = (("room_id", "id"),)


class Reaction(Model):
    id = fields.IntField(primary_key=True)
    room = fields.ForeignKeyField("models.Room", related_name="reactions")
    media = fields.ForeignKeyField("models.MediaItem", related_name="reactions")
    user = fields.ForeignKeyField("models.User", related_name="reactions")
    emoji = fields.CharField(max_length=16)
    # Seconds into the media when it was sent, so later viewers see it at the same moment.
    media_time = fields.FloatField()
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "room_reactions"
        # Replay: reactions of one item ordered by media time.
        indexes = (("media_id", "media_time"),)

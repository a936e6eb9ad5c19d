"""Names of the rooms' Socket.IO events (docs/rooms-protocol.md). Their payloads, acks and
directions are declared in :mod:`services.rooms.contract` (``SOCKET_EVENTS``)."""

from __future__ import annotations

# --- client -> server (each acked with {ok: true, ...} or {ok: false, error}) ------------------
ROOM_JOIN = "room:join"
ROOM_LEAVE = "room:leave"
ROOM_UNWATCH = "room:unwatch"
PRESENCE_RTT = "presence:rtt"
PLAYER_PLAY = "player:play"
PLAYER_PAUSE = "player:pause"
PLAYER_SEEK = "player:seek"
PLAYER_RATE = "player:rate"
PLAYER_LOAD = "player:load"
PLAYER_ENDED = "player:ended"
QUEUE_ADD = "queue:add"
QUEUE_REMOVE = "queue:remove"
QUEUE_REORDER = "queue:reorder"
QUEUE_NEXT = "queue:next"
QUEUE_VOTE_SKIP = "queue:vote-skip"
CHAT_SEND = "chat:send"
CHAT_DELETE = "chat:delete"
REACTION_SEND = "reaction:send"

# --- server -> client, to room:<id> --------------------------------------------------------------
PARTICIPANT_JOINED = "participant:joined"
PARTICIPANT_LEFT = "participant:left"
PARTICIPANT_ROLE = "participant:role"
ROOM_STATE = "room:state"
ROOM_UPDATED = "room:updated"
ROOM_CLOSED = "room:closed"
QUEUE_UPDATED = "queue:updated"
QUEUE_VOTES = "queue:votes"
CHAT_MESSAGE = "chat:message"
CHAT_DELETED = "chat:deleted"
REACTION = "reaction"

# --- server -> client, to user:<id> --------------------------------------------------------------
ROOM_KICKED = "room:kicked"
ROOM_INVITED = "room:invited"

# --- bus only (no scope: never reaches a socket) -------------------------------------------------
ROOM_CREATED = "room:created"

"""How the concerns of a room react to each other's events, registered once at composition.

Membership, moderation and the queue publish what happened (``member:joined``, ``member:kicked``,
``media:loaded``, ``room:created``); the chat writes its system lines and the queue takes the
first link from here, so none of them imports another upwards (``make lint`` checks the layers).
Internal events carry the model objects the publisher already holds: they never leave the
process.
"""

from __future__ import annotations

from services.core.context import Services
from services.core.events import Event
from services.rooms import chat, queue


def register(services: Services) -> None:
    bus = services.events
    chat.subscribe(services)

    async def joined(event: Event) -> None:
        await chat.do_system_message(
            services, event.payload["room"], "joined", user=event.payload["user"]
        )

    async def kicked(event: Event) -> None:
        await chat.do_system_message(
            services, event.payload["room"], "kicked", user=event.payload["user"]
        )

    async def now_playing(event: Event) -> None:
        item = event.payload["item"]
        await chat.do_system_message(
            services,
            event.payload["room"],
            "now_playing",
            data={
                "mediaId": item.id,
                "title": item.title,
                "kind": item.kind.value,
                "url": item.url,
            },
        )

    async def first_item(event: Event) -> None:
        url = event.payload.get("mediaUrl")
        if url:
            room, host = event.payload["room"], event.payload["host"]
            await queue.do_enqueue_created_link(services, room=room, host=host, url=url)

    bus.react("member:joined", joined)
    bus.react("member:kicked", kicked)
    bus.react("media:loaded", now_playing)
    bus.react("room:created", first_item)

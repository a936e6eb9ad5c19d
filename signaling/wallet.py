"""Gifts over Socket.IO: ``gift:send`` (acked with the gift and the sender's balance).

``services.wallet.gifts`` publishes ``gift:sent`` to ``room:<id>`` and ``wallet:updated`` to
both users; the hub's fan-out emits them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from services.accounts.users import pick_language
from services.wallet import contract as c
from services.wallet import events as ev
from services.wallet.gifts import do_send_gift
from signaling.rooms import room_actor

if TYPE_CHECKING:
    from signaling.hub import Hub


def register(hub: Hub) -> None:
    @hub.event(ev.GIFT_SEND)
    async def gift_send(hub: Hub, sid: str, data: Any) -> dict[str, Any]:
        payload, user, room = await room_actor(hub, sid, c.GiftSend, data)
        gift, balance = await do_send_gift(
            hub.services,
            room=room,
            acting_user=user,
            gift_id=payload.gift_id,
            to_user_id=payload.to_user_id,
            key=payload.key,
            language=pick_language(user),
        )
        return {"gift": gift, "balance": balance}

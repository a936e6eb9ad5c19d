"""What is for sale and what can be given: gifts (seed 002), coin packs, premium.

Prices live here, in code: an invoice's payload names a pack, and the pre-checkout answer and
the credit both read the price from this table, so a changed price can never credit the old
amount for the new one (the checkout is refused instead: "the price changed").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from services.core.config import Settings
from services.core.errors import N_, ValidationError
from services.core.i18n import translate


@dataclass(frozen=True)
class GiftKind:
    id: str
    name: str  # English; translated through the catalogue (N_)
    emoji: str
    coins: int
    beans: int
    tier: int
    animation: str


GIFTS: tuple[GiftKind, ...] = (
    GiftKind("rose", N_("Rose"), "🌹", 10, 5, 1, "float"),
    GiftKind("heart", N_("Heart"), "❤️", 20, 10, 1, "float"),
    GiftKind("diamond", N_("Diamond"), "💎", 50, 25, 2, "burst"),
    GiftKind("rocket", N_("Rocket"), "🚀", 100, 50, 2, "fly"),
    GiftKind("crown", N_("Crown"), "👑", 200, 100, 3, "burst"),
    GiftKind("star", N_("Star"), "⭐", 500, 250, 3, "fly"),
    GiftKind("fire", N_("Fire"), "🔥", 1000, 500, 4, "fullscreen"),
    GiftKind("rainbow", N_("Rainbow"), "🌈", 2000, 1000, 4, "fullscreen"),
)
GIFTS_BY_ID = {gift.id: gift for gift in GIFTS}


@dataclass(frozen=True)
class Pack:
    id: str
    coins: int
    bonus: int
    stars: int
    #: Roubles in kopecks for YooKassa; None: Stars only.
    kopecks: int | None

    @property
    def total(self) -> int:
        return self.coins + self.bonus


PACKS: tuple[Pack, ...] = (
    Pack("coins_100", 100, 0, 50, 9900),
    Pack("coins_500", 500, 50, 250, 44900),
    Pack("coins_1000", 1000, 200, 500, 89900),
    Pack("coins_2500", 2500, 700, 1000, 179000),
    Pack("coins_5000", 5000, 2000, 2500, 449000),
)
PACKS_BY_ID = {pack.id: pack for pack in PACKS}

#: Premium: a Stars subscription (Telegram's only period is 30 days).
PREMIUM_ID = "premium"
PREMIUM_STARS = 250
PREMIUM_DAYS = 30
SUBSCRIPTION_PERIOD = 30 * 24 * 3600


def get_gift(gift_id: Any) -> GiftKind:
    gift = GIFTS_BY_ID.get(gift_id) if isinstance(gift_id, str) else None
    if gift is None:
        raise ValidationError(field="giftId", reason="not a gift")
    return gift


def get_pack(pack_id: Any) -> Pack:
    pack = PACKS_BY_ID.get(pack_id) if isinstance(pack_id, str) else None
    if pack is None:
        raise ValidationError(N_("There is no such coin pack."), field="packId", reason="unknown")
    return pack


def gift_payload(gift: GiftKind, language: str) -> dict[str, Any]:
    return {
        "id": gift.id,
        "name": translate(gift.name, language),
        "emoji": gift.emoji,
        "coins": gift.coins,
        "beans": gift.beans,
        "tier": gift.tier,
        "animation": gift.animation,
    }


def pack_title(pack: Pack, language: str) -> str:
    if pack.bonus:
        return translate(N_("{coins} coins + {bonus} bonus"), language).format(
            coins=pack.coins, bonus=pack.bonus
        )
    return translate(N_("{coins} coins"), language).format(coins=pack.coins)


def rub(kopecks: int) -> str:
    return f"{kopecks // 100}.{kopecks % 100:02d}"


def pack_payload(pack: Pack, language: str, *, roubles: bool) -> dict[str, Any]:
    return {
        "id": pack.id,
        "title": pack_title(pack, language),
        "coins": pack.total,
        "bonus": pack.bonus,
        "stars": pack.stars,
        "rub": rub(pack.kopecks) if roubles and pack.kopecks is not None else None,
    }


def get_offer(settings: Settings, language: str) -> dict[str, Any]:
    """What this server sells and how it takes payment: rouble prices and the card provider
    only when YooKassa is configured (the web wallet then offers cards outside Telegram)."""
    roubles = settings.yookassa_enabled
    return {
        "packs": [pack_payload(p, language, roubles=roubles) for p in PACKS],
        "premium": {
            "stars": PREMIUM_STARS,
            "days": PREMIUM_DAYS,
            "roomLimit": settings.room_hard_cap,
            "freeRoomLimit": settings.free_room_limit,
        },
        "providers": ["stars", "yookassa"] if roubles else ["stars"],
    }

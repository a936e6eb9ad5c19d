"""Every HTTP route in one place."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from webapp import asyncapi, openapi
from webapp.views import auth, health, messenger, pages, rooms, users, wallet


def setup_routes(app: web.Application, *, static_dir: Path, media_dir: Path) -> None:
    r = app.router
    r.add_get("/api/health", health.health, name="health")
    r.add_get("/api/openapi.json", openapi.openapi_json, name="openapi")
    r.add_get("/api/asyncapi.json", asyncapi.asyncapi_json, name="asyncapi")
    r.add_post("/api/auth/register", auth.register, name="auth_register")
    r.add_post("/api/auth/login", auth.login, name="auth_login")
    r.add_post("/api/auth/telegram", auth.telegram, name="auth_telegram")
    r.add_post("/api/auth/refresh", auth.refresh, name="auth_refresh")
    r.add_post("/api/auth/logout-all", auth.logout_all, name="auth_logout_all")
    r.add_get("/api/auth/me", users.me, name="auth_me")
    r.add_get("/api/users/me", users.me, name="users_me")
    r.add_patch("/api/users/me", users.update_me, name="users_update_me")
    r.add_get("/api/users/search", users.search, name="users_search")
    r.add_post("/api/rooms", rooms.create, name="rooms_create")
    r.add_get("/api/rooms", rooms.list_public, name="rooms_list")
    r.add_get("/api/rooms/mine", rooms.mine, name="rooms_mine")
    r.add_get("/api/rooms/{id}", rooms.detail, name="rooms_detail")
    r.add_patch("/api/rooms/{id}", rooms.update, name="rooms_update")
    r.add_post("/api/rooms/{id}/join", rooms.join, name="rooms_join")
    r.add_post("/api/rooms/{id}/leave", rooms.leave, name="rooms_leave")
    r.add_post("/api/rooms/{id}/close", rooms.close, name="rooms_close")
    r.add_post("/api/rooms/{id}/share", rooms.share, name="rooms_share")
    r.add_post("/api/rooms/{id}/kick/{user_id}", rooms.kick, name="rooms_kick")
    r.add_post("/api/rooms/{id}/invite", rooms.invite, name="rooms_invite")
    r.add_post("/api/rooms/{id}/handover", rooms.handover, name="rooms_handover")
    r.add_post(
        "/api/rooms/{id}/moderators/{user_id}", rooms.add_moderator, name="rooms_add_moderator"
    )
    r.add_delete(
        "/api/rooms/{id}/moderators/{user_id}",
        rooms.remove_moderator,
        name="rooms_remove_moderator",
    )
    r.add_get("/api/rooms/{id}/messages", rooms.messages, name="rooms_messages")
    r.add_get("/api/rooms/{id}/reactions", rooms.room_reactions, name="rooms_reactions")
    r.add_post("/api/rooms/{id}/gifts", wallet.send_gift, name="rooms_gifts")
    r.add_get("/api/rooms/{id}/gifts/top", wallet.room_leaderboard, name="rooms_gifts_top")
    r.add_get("/api/payments/gifts", wallet.gift_catalogue, name="payments_gifts")
    r.add_get("/api/payments/packs", wallet.packs, name="payments_packs")
    r.add_post("/api/payments/create-intent", wallet.create_intent, name="payments_intent")
    r.add_get("/api/payments/orders/{order_id}", wallet.order, name="payments_order")
    r.add_get("/api/payments/leaderboard", wallet.leaderboard, name="payments_leaderboard")
    r.add_post("/api/payments/yookassa/webhook", wallet.yookassa_webhook, name="payments_yookassa")
    r.add_get("/api/wallet", wallet.my_wallet, name="wallet")
    r.add_get("/api/wallet/withdrawals", wallet.withdrawals, name="wallet_withdrawals")
    r.add_post("/api/wallet/withdrawals", wallet.request_withdrawal, name="wallet_withdraw")
    r.add_post("/api/chats", messenger.create_chat, name="chats_create")
    r.add_get("/api/chats", messenger.list_chats, name="chats_list")
    r.add_get("/api/chats/{id}", messenger.chat_detail, name="chats_detail")
    r.add_patch("/api/chats/{id}", messenger.update_chat, name="chats_update")
    r.add_post("/api/chats/{id}/members", messenger.add_member, name="chats_add_member")
    r.add_delete(
        "/api/chats/{id}/members/{user_id}", messenger.remove_member, name="chats_remove_member"
    )
    r.add_get("/api/messages", messenger.list_messages, name="messages_list")
    r.add_post("/api/encryption/public-key", messenger.register_key, name="encryption_key")
    r.add_get(
        "/api/encryption/public-key/{user_id}", messenger.user_keys, name="encryption_user_keys"
    )
    r.add_get("/", pages.root, name="root")
    r.add_get("/app", pages.app_page, name="app")
    r.add_get("/app/room/{code}", pages.room_page, name="app_room")
    r.add_get("/app/{tail:.*}", pages.app_page, name="app_tail")
    r.add_static("/static", static_dir, name="static", append_version=False)
    r.add_static("/media", media_dir, name="media", append_version=False)

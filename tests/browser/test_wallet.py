"""The wallet in headless Chromium: balances, packs and history (en and ru), buying coins with
Stars inside Telegram, the browser without YooKassa, the tab bar and startapp=wallet, and gifts
in a room seen by both of its members."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import pytest
from playwright.async_api import Page, Route, expect

from composition import Server
from models.rooms import Room
from models.users import User
from models.wallet import Provider
from services.rooms.membership import do_join_room
from services.wallet.credit import do_credit, item_for
from tests.browser.conftest import PageFactory, screenshot, signed_init_data
from tests.browser.test_rooms import (  # noqa: F401 (fixtures)
    browser,
    clip_url,
    create_room,
    open_room,
    signed_in,
)
from tests.conftest import TEST_BOT_TOKEN, Account, ServerFactory, register
from tests.fakes.yookassa import FakeYooKassa
from tests.webapp.helpers import in_server

pytestmark = pytest.mark.browser

OLGA = {
    "id": 5550042,
    "first_name": "Olga",
    "username": "olga",
    "language_code": "en",
    "allows_write_to_pm": True,
}


class FakeStars:
    """The bot's Stars client: invoice links, remembered for the test to compare."""

    def __init__(self) -> None:
        self.links: list[str] = []
        self.invoices: list[dict[str, Any]] = []

    async def create_invoice_link(self, **invoice: Any) -> str:
        self.invoices.append(invoice)
        link = f"https://t.me/$test-invoice-{len(self.links) + 1}"
        self.links.append(link)
        return link

    async def refund(self, telegram_user_id: int, charge_id: str) -> None:
        raise AssertionError("no refunds here")

    async def set_subscription_canceled(
        self, telegram_user_id: int, charge_id: str, canceled: bool
    ) -> None:
        raise AssertionError("no subscriptions here")


async def with_stars(server: Server) -> Server:
    assert server.services is not None
    server.services.stars = FakeStars()
    return server


@pytest.fixture
async def server(make_server: ServerFactory) -> Server:
    return await with_stars(await make_server())


@pytest.fixture
async def telegram_server(make_server: ServerFactory) -> Server:
    # Telegram sign-in needs a bot token; its Bot API is unreachable (set-up just retries).
    return await with_stars(
        await make_server(bot_token=TEST_BOT_TOKEN, telegram_api_url="http://127.0.0.1:9")
    )


async def credit(server: Server, user_id: int, pack_id: str, charge_id: str) -> None:
    """A Stars payment for ``pack_id`` credited, as the bot's successful_payment would."""

    async def go() -> None:
        item = item_for(pack_id)
        assert server.services is not None
        done = await do_credit(
            server.services,
            provider=Provider.STARS,
            charge_id=charge_id,
            user_id=user_id,
            item=item,
            amount=item.stars,
            currency="XTR",
        )
        assert done.credited

    await in_server(server, go)


async def send_gift(
    http: aiohttp.ClientSession, sender: Account, room_id: int, to: Account, gift: str
) -> dict[str, Any]:
    async with http.post(
        f"/api/rooms/{room_id}/gifts",
        json={"giftId": gift, "toUserId": to.id},
        headers=sender.headers,
    ) as response:
        body: dict[str, Any] = await response.json()
        assert response.status == 201, body
    return body


async def join(server: Server, room_id: int, account: Account) -> None:
    async def go() -> None:
        assert server.services is not None
        room = await Room.get(id=room_id)
        await do_join_room(server.services, room=room, acting_user=await User.get(id=account.id))

    await in_server(server, go)


def name(account: Account) -> str:
    return str(account.user["displayName"])


@pytest.mark.parametrize(
    ("language", "texts"),
    [
        (
            "en",
            {
                "title": "Wallet",
                "pack": "100 coins",
                "bonus": "500 coins + 50 bonus",
                "bought": "Coins bought",
                "sent": "🌹 Rose to {name}",
                "received": "🌹 Rose from {name}",
                "premium": "You don't have premium.",
                "no_payout": "There are no payouts yet",
            },
        ),
        (
            "ru",
            {
                "title": "Кошелёк",
                "pack": "100 монет",
                "bonus": "500 монет + 50 бонусом",
                "bought": "Покупка монет",
                "sent": "🌹 Роза для {name}",
                "received": "🌹 Роза от {name}",
                "premium": "Премиум не подключён.",
                "no_payout": "Выплат пока нет",
            },
        ),
    ],
)
async def test_wallet_shows_balances_packs_and_history(
    server: Server,
    http: aiohttp.ClientSession,
    new_page: PageFactory,
    language: str,
    texts: dict[str, str],
) -> None:
    anna, boris = await register(http, "anna"), await register(http, "boris")
    for account in (anna, boris):
        async with http.patch(
            "/api/users/me", json={"language": language}, headers=account.headers
        ) as response:
            assert response.status == 200, await response.text()
    room = await create_room(http, anna, title="Gifts")
    await join(server, room["id"], boris)
    await credit(server, anna.id, "coins_100", "charge-history-1")
    await send_gift(http, anna, room["id"], boris, "rose")

    page = await signed_in(new_page, server, anna, f"/app/wallet?lang={language}")
    wallet = page.locator('[data-screen="wallet"]')
    await expect(wallet.get_by_role("heading", name=texts["title"], exact=True)).to_be_visible()
    await expect(page.locator("#wallet-coins")).to_have_text("90")
    await expect(page.locator("#wallet-beans")).to_have_text("0")
    packs = page.locator("#wallet-packs > li")
    await expect(packs).to_have_count(5)
    await expect(packs.first).to_contain_text(texts["pack"])
    await expect(packs.nth(1)).to_contain_text(texts["bonus"])
    await expect(page.locator("#wallet-premium-status")).to_have_text(texts["premium"])
    history = page.locator("#wallet-history > li")
    await expect(history).to_have_count(2)
    # Newest first: the rose, then the purchase.
    await expect(history.nth(0)).to_contain_text(texts["sent"].format(name=name(boris)))
    await expect(history.nth(0)).to_contain_text("−10 🪙")
    await expect(history.nth(1)).to_contain_text(texts["bought"])
    await expect(history.nth(1)).to_contain_text("+100 🪙")
    await expect(wallet).to_contain_text(texts["no_payout"])
    await screenshot(page, f"wallet-{language}")

    # Boris's wallet: the beans the rose earned, and who gave it.
    other = await signed_in(new_page, server, boris, f"/app/wallet?lang={language}")
    await expect(other.locator("#wallet-beans")).to_have_text("5")
    await expect(other.locator("#wallet-history > li").first).to_contain_text(
        texts["received"].format(name=name(anna))
    )
    await expect(other.locator("#wallet-history > li").first).to_contain_text("+5 🫘")
    received = other.locator("#wallet-received > li")
    await expect(received).to_have_count(1)
    await expect(received).to_contain_text(name(anna))
    await expect(received).to_contain_text("×1")


async def test_buying_coins_inside_telegram_opens_the_invoice_and_updates_the_balance(
    telegram_server: Server, new_page: PageFactory
) -> None:
    server = telegram_server
    telegram = signed_init_data(OLGA)
    telegram.init_data_unsafe["start_param"] = "wallet"
    page = await new_page(server, telegram=telegram)
    await page.goto(f"{server.url}/app")

    # startapp=wallet lands on the wallet, at its own address, with its tab highlighted.
    await expect(page.locator('[data-screen="wallet"]')).to_be_visible()
    assert page.url.split("?")[0].endswith("/app/wallet"), page.url
    await expect(page.get_by_role("link", name="Wallet")).to_have_attribute("aria-current", "page")
    await expect(page.locator("#wallet-coins")).to_have_text("0")
    await expect(page.locator("#wallet-stars-only")).to_be_hidden()
    await expect(page.get_by_role("button", name="Subscribe for 250 ⭐")).to_be_visible()

    await page.get_by_role("button", name="Buy 100 coins for 50 Stars").click()
    await page.wait_for_function("window.__telegramInvoices.pending.length === 1")
    stars = server.services.stars  # type: ignore[union-attr]
    assert isinstance(stars, FakeStars)
    assert stars.links == [await page.evaluate("window.__telegramInvoices.pending[0].url")]
    opened = await page.evaluate("window.__telegramCalls.filter((c) => c[0] === 'openInvoice')")
    assert opened == [["openInvoice", stars.links[0]]]
    assert stars.invoices[0]["stars"] == 50

    # Telegram takes the payment; the bot credits it; the invoice closes as paid.
    olga = await in_server(server, lambda: User.get(telegram_id=OLGA["id"]))
    await credit(server, olga.id, "coins_100", "charge-telegram-1")
    await page.evaluate("window.__telegramInvoices.close('paid')")
    await expect(page.locator("#toast")).to_have_text("Payment received")
    await expect(page.locator("#wallet-coins")).to_have_text("100")
    await expect(page.locator("#wallet-history > li").first).to_contain_text("Coins bought")
    await expect(page.locator("#wallet-error")).to_have_text("")

    # A cancelled invoice: nothing changes, no error.
    await page.get_by_role("button", name="Buy 500 coins + 50 bonus for 250 Stars").click()
    await page.wait_for_function("window.__telegramInvoices.pending.length === 1")
    await page.evaluate("window.__telegramInvoices.close('cancelled')")
    await expect(page.locator("#wallet-coins")).to_have_text("100")
    await expect(page.locator("#wallet-error")).to_have_text("")

    # Premium: a Stars subscription invoice, from the Subscribe button.
    await page.get_by_role("button", name="Subscribe for 250 ⭐").click()
    await page.wait_for_function("window.__telegramInvoices.pending.length === 1")
    assert stars.invoices[-1]["subscription_period"] == 30 * 24 * 3600
    assert await page.evaluate("window.__telegramInvoices.pending[0].url") == stars.links[-1]
    await page.evaluate("window.__telegramInvoices.close('failed')")
    await expect(page.locator("#wallet-error")).to_have_text(
        "The payment didn't go through. Nothing was charged."
    )
    await screenshot(page, "wallet-telegram")


async def test_outside_telegram_without_yookassa_says_to_buy_in_telegram(
    server: Server, http: aiohttp.ClientSession, new_page: PageFactory
) -> None:
    anna = await register(http, "anna")
    page = await signed_in(new_page, server, anna, "/app/wallet?lang=en")
    await expect(page.locator("#wallet-stars-only")).to_have_text(
        "Buy coins in Telegram with Stars."
    )
    await expect(page.locator("#wallet-packs > li")).to_have_count(5)
    await expect(page.locator("#wallet-packs > li").first).to_contain_text("⭐ 50")
    await expect(page.locator("#wallet-packs button")).to_have_count(0)
    await expect(page.get_by_role("button", name="Subscribe for 250 ⭐")).to_be_hidden()
    await expect(page.locator("#wallet-error")).to_have_text("")
    await expect(page.locator("#wallet-coins")).to_have_text("0")


async def test_the_tab_bar_switches_between_rooms_and_the_wallet(
    server: Server, http: aiohttp.ClientSession, new_page: PageFactory
) -> None:
    anna = await register(http, "anna")
    page = await signed_in(new_page, server, anna, "/app?lang=en")
    tabs = page.get_by_role("navigation", name="Sections")
    rooms_tab, wallet_tab = (
        tabs.get_by_role("link", name="Rooms"),
        tabs.get_by_role("link", name="Wallet"),
    )
    await expect(page.get_by_role("heading", name="Public rooms")).to_be_visible()
    await expect(rooms_tab).to_have_attribute("aria-current", "page")
    await expect(wallet_tab).not_to_have_attribute("aria-current", "page")

    await wallet_tab.click()
    await expect(page.get_by_role("heading", name="Wallet", exact=True)).to_be_visible()
    await expect(page.get_by_role("heading", name="Public rooms")).to_be_hidden()
    await expect(wallet_tab).to_have_attribute("aria-current", "page")
    assert page.url.split("?")[0].endswith("/app/wallet"), page.url
    await expect(page.locator("#wallet-coins")).to_have_text("0")

    await rooms_tab.click()
    await expect(page.get_by_role("heading", name="Public rooms")).to_be_visible()
    await expect(rooms_tab).to_have_attribute("aria-current", "page")
    assert page.url.split("?")[0].endswith("/app"), page.url

    # The browser's back button goes back to the wallet.
    await page.go_back()
    await expect(page.get_by_role("heading", name="Wallet", exact=True)).to_be_visible()

    # A room has no tab bar.
    room = await create_room(http, anna, title="No tabs")
    await page.goto(f"{server.url}/app/room/{room['code']}?lang=en")
    await expect(page.locator('[data-screen="room"]')).to_be_visible()
    await expect(tabs).to_be_hidden()


async def open_picker(page: Page) -> None:
    # "Gifts", not "Send a gift": the chat's own button is "Send".
    await page.get_by_role("button", name="Gifts", exact=True).click()
    await expect(page.get_by_role("dialog", name="Send a gift")).to_be_visible()


async def test_a_gift_animates_over_the_video_for_both_members(
    server: Server,
    http: aiohttp.ClientSession,
    new_page: PageFactory,
    clip_url: str,  # noqa: F811
) -> None:
    anna, boris = await register(http, "anna"), await register(http, "boris")
    room = await create_room(http, anna, title="Gift night", url=clip_url)
    await credit(server, anna.id, "coins_100", "charge-room-1")
    host = await open_room(new_page, server, anna, room["code"])
    guest = await open_room(new_page, server, boris, room["code"])
    await expect(host.locator("#people-count")).to_have_text("2")

    await open_picker(host)
    await expect(host.locator("#gift-balance")).to_have_text("You have 100 🪙")
    # Not oneself: Boris is the only one to give to.
    recipients = host.locator("#gift-recipient option")
    await expect(recipients).to_have_count(1)
    await expect(recipients).to_have_text(name(boris))
    # Boris prefers less motion: his rose appears and fades, without flying about.
    await guest.emulate_media(reduced_motion="reduce")
    await host.get_by_role("button", name="Rose, 10 coins").click()

    label = f"{name(anna)} → {name(boris)}"

    async def sees_the_rose(page: Page) -> str:
        """What the member sees over the video (a tier-1 float for 3 s), and its animation."""
        shown = page.locator("#player #gift-layer .gift-fx")
        await expect(shown).to_be_visible()
        animation = await shown.evaluate("e => getComputedStyle(e).animationName")
        await expect(shown).to_contain_text(label)
        await expect(shown.locator(".gift-fx__combo")).to_have_text("×1")
        await expect(shown.locator(".gift-fx__emoji")).to_have_text("🌹")
        await expect(shown).to_have_class(re.compile(r"\bgift-fx--tier-1\b"))
        return str(animation)

    animations = await asyncio.gather(sees_the_rose(host), sees_the_rose(guest))
    assert animations == ["gift-float", "gift-still"], animations
    for page in (host, guest):
        await expect(page.locator("#chat-messages .chat__system").last).to_have_text(
            f"{name(anna)} sent {name(boris)} a 🌹 Rose"
        )
    await expect(host.locator("#gift-balance")).to_have_text("You have 90 🪙")
    await expect(host.locator("#gift-error")).to_have_text("")
    await screenshot(host, "room-gift")

    # Again at once: the same animation counts on (×2) on both pages; one chat line per run.
    await host.get_by_role("button", name="Rose, 10 coins").click()
    await asyncio.gather(
        *(
            expect(page.locator("#gift-layer .gift-fx__combo")).to_have_text("×2")
            for page in (host, guest)
        )
    )
    for page in (host, guest):
        await expect(page.locator("#chat-messages .chat__system", has_text="Rose")).to_have_count(1)
    await expect(host.locator("#gift-balance")).to_have_text("You have 80 🪙")

    # Tier 4 covers the whole screen, not only the video. The credit reaches the open picker.
    await credit(server, anna.id, "coins_1000", "charge-room-2")
    await expect(host.locator("#gift-balance")).to_have_text("You have 1,280 🪙")
    await host.get_by_role("button", name="Fire, 1000 coins").click()
    fire = guest.locator('#gift-layer .gift-fx[data-gift-id="fire"]')
    await expect(fire).to_be_visible()
    await expect(fire).to_have_class(re.compile(r"\bgift-fx--tier-4\b"))
    box = await fire.bounding_box()
    assert box is not None
    assert (box["width"], box["height"]) == (390, 780), box
    await expect(host.locator("#gift-balance")).to_have_text("You have 280 🪙")


async def test_not_enough_coins_is_shown_in_the_picker_with_the_way_to_the_wallet(
    server: Server, http: aiohttp.ClientSession, new_page: PageFactory
) -> None:
    anna, boris = await register(http, "anna"), await register(http, "boris")
    room = await create_room(http, anna, title="Broke")
    await open_room(new_page, server, anna, room["code"])
    page = await open_room(new_page, server, boris, room["code"])

    await open_picker(page)
    await expect(page.locator("#gift-balance")).to_have_text("You have 0 🪙")
    # The host is the default recipient.
    await expect(page.locator("#gift-recipient")).to_have_value(str(anna.id))
    await page.get_by_role("button", name="Diamond, 50 coins").click()
    await expect(page.locator("#gift-error")).to_have_text("Not enough coins.")
    await expect(page.locator("#gift-layer .gift-fx")).to_have_count(0)
    buy = page.get_by_role("button", name="Buy coins")
    await expect(buy).to_be_visible()
    await buy.click()
    await expect(page.get_by_role("heading", name="Wallet", exact=True)).to_be_visible()
    assert page.url.split("?")[0].endswith("/app/wallet"), page.url
    # Back (the browser's, or Telegram's BackButton): the room again.
    await page.go_back()
    await expect(page.locator("#room-title")).to_have_text("Broke")


async def test_beans_can_be_requested_for_withdrawal_with_the_no_payout_note(
    server: Server, http: aiohttp.ClientSession, new_page: PageFactory
) -> None:
    anna, boris = await register(http, "anna"), await register(http, "boris")
    room = await create_room(http, anna, title="Rainbow")
    await join(server, room["id"], boris)
    await credit(server, anna.id, "coins_5000", "charge-withdraw-1")
    await send_gift(http, anna, room["id"], boris, "rainbow")  # 1000 beans for Boris

    page = await signed_in(new_page, server, boris, "/app/wallet?lang=en")
    await expect(page.locator("#wallet-beans")).to_have_text("1,000")
    form = page.locator("#wallet-withdraw-form")
    await expect(form).to_contain_text("There are no payouts yet: requests are reviewed by hand")
    await expect(form).to_contain_text("At least 1,000 🫘 per request.")
    await form.get_by_label("Beans to withdraw").fill("999")
    await form.get_by_role("button", name="Request a withdrawal").click()
    await expect(page.locator("#wallet-withdraw-error")).to_have_text(
        "Enter a whole number from 1,000 to 1,000."
    )
    await form.get_by_label("Beans to withdraw").fill("1000")
    await form.get_by_role("button", name="Request a withdrawal").click()
    await expect(page.locator("#wallet-beans")).to_have_text("0")
    requests = page.locator("#wallet-withdrawals > li")
    await expect(requests).to_have_count(1)
    await expect(requests).to_contain_text("1,000 🫘")
    await expect(requests).to_contain_text("Under review")
    await expect(page.locator("#wallet-history > li").first).to_contain_text("Withdrawal request")
    await expect(page.locator("#wallet-history > li").first).to_contain_text("−1,000 🫘")
    # Nothing left to withdraw: the form says when it can be used again.
    await expect(form.get_by_role("button", name="Request a withdrawal")).to_be_disabled()


@pytest.fixture
async def yookassa() -> AsyncIterator[FakeYooKassa]:
    async with FakeYooKassa() as fake:
        yield fake


async def test_in_a_browser_with_yookassa_coins_are_paid_by_card(
    make_server: ServerFactory, new_page: PageFactory, yookassa: FakeYooKassa
) -> None:
    server = await make_server(
        yookassa_shop_id=yookassa.shop_id,
        yookassa_secret_key=yookassa.secret_key,
        yookassa_api_url=yookassa.url,
    )
    async with aiohttp.ClientSession(base_url=server.url) as http:
        anna = await register(http, "anna")
    page = await signed_in(new_page, server, anna, "/app/wallet?lang=en")

    async def checkout(route: Route) -> None:
        """YooKassa's payment page: the buyer pays, and is sent back to the return URL."""
        payment = yookassa.payments_created[-1]
        yookassa.succeed(payment["id"])
        back = urlsplit(yookassa.requests[payment["id"]]["confirmation"]["return_url"])
        await route.fulfill(
            status=302, headers={"Location": f"{server.url}{back.path}?{back.query}&lang=en"}
        )

    await page.route("https://yoomoney.ru/**", checkout)
    await expect(page.locator("#wallet-coins")).to_have_text("0")
    await expect(page.locator("#wallet-stars-only")).to_be_hidden()
    # No Stars outside Telegram: the card button, with the rouble price.
    await expect(page.get_by_role("button", name="Buy 100 coins for 50 Stars")).to_have_count(0)
    card = page.get_by_role("button", name="Buy 100 coins by card for 99.00 ₽")
    await expect(card).to_have_text("💳 99.00 ₽")
    await card.click()

    # Sent to YooKassa, and back at /app/wallet?order=<id>: the order is followed until paid.
    await expect(page.locator("#wallet-order-status")).to_have_text(
        "Payment received: 100 coins added."
    )
    await expect(page.locator("#wallet-coins")).to_have_text("100")
    await expect(page.locator("#wallet-history > li").first).to_contain_text("Coins bought")
    assert "order=" not in page.url, page.url
    assert len(yookassa.payments_created) == 1


#: The first gift:send's ack is lost (as on a timeout), after the server applied it.
LOSE_FIRST_GIFT_ACK_JS = """() => {
  const connection = window.vmeste.roomView.connection;
  const request = connection.request.bind(connection);
  window.giftKeys = [];
  let lost = false;
  connection.request = async (name, payload, options) => {
    if (name === "gift:send") window.giftKeys.push(payload.key);
    const ack = await request(name, payload, options);
    if (name === "gift:send" && !lost) {
      lost = true;
      throw Object.assign(new Error("timeout"), { code: "network_error" });
    }
    return ack;
  };
}"""


async def test_a_gift_whose_ack_is_lost_is_sent_again_with_the_same_key_and_charged_once(
    server: Server, http: aiohttp.ClientSession, new_page: PageFactory
) -> None:
    anna, boris = await register(http, "anna"), await register(http, "boris")
    room = await create_room(http, anna, title="Flaky")
    await credit(server, anna.id, "coins_100", "charge-retry-1")
    host = await open_room(new_page, server, anna, room["code"])
    await open_room(new_page, server, boris, room["code"])
    await expect(host.locator("#people-count")).to_have_text("2")
    await host.evaluate(LOSE_FIRST_GIFT_ACK_JS)

    await open_picker(host)
    await host.get_by_role("button", name="Rose, 10 coins").click()
    await expect(host.locator("#gift-balance")).to_have_text("You have 90 🪙")
    keys = await host.evaluate("window.giftKeys")
    assert len(keys) == 2, keys
    assert keys[0] == keys[1], keys
    await expect(host.locator("#gift-error")).to_have_text("")
    await expect(host.locator("#gift-layer .gift-fx")).to_have_count(1)
    # A second tap is a new gift: a new key.
    await host.get_by_role("button", name="Rose, 10 coins").click()
    await expect(host.locator("#gift-balance")).to_have_text("You have 80 🪙")
    keys = await host.evaluate("window.giftKeys")
    assert len(set(keys)) == 2, keys
    async with http.get("/api/wallet", headers=anna.headers) as response:
        assert (await response.json())["wallet"]["coins"] == 80

"""The Mini App shell in headless Chromium: Telegram sign-in, browser sign-up/in/out, the socket."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest
from playwright.async_api import Page, Request, expect

from composition import Server
from tests.browser.conftest import PageFactory, screenshot, signed_init_data, tampered
from tests.conftest import TEST_BOT_TOKEN, ServerFactory, register
from webapp.keys import TRANSLATIONS

pytestmark = pytest.mark.browser

ANNA = {
    "id": 5550001,
    "first_name": "Анна",
    "last_name": "Петрова",
    "username": "anna_petrova",
    "language_code": "ru",
    "allows_write_to_pm": True,
}


async def telegram_server(make_server: ServerFactory) -> Server:
    # An unreachable Bot API: the bot's background set-up just retries there.
    return await make_server(bot_token=TEST_BOT_TOKEN, telegram_api_url="http://127.0.0.1:9")


def gettext(server: Server, locale: str, message: str, **params: Any) -> str:
    """``message`` as the page in ``locale`` shows it (the same catalogue as the templates)."""
    assert server.app is not None
    text: str = server.app[TRANSLATIONS][locale].gettext(message)
    return text % params if params else text


async def test_telegram_user_is_greeted_by_name_in_their_language(
    make_server: ServerFactory, new_page: PageFactory
) -> None:
    server = await telegram_server(make_server)
    # The browser asks for English; Anna's Telegram speaks Russian, and that wins once she is
    # signed in (the page reloads itself with ?lang=ru).
    page = await new_page(server, telegram=signed_init_data(ANNA), locale="en-US")
    await page.goto(f"{server.url}/app")

    greeting = page.locator("#home-greeting")
    await expect(greeting).to_have_text(gettext(server, "ru", "Hi, %(name)s", name="Анна Петрова"))
    await expect(page.locator("html")).to_have_attribute("lang", "ru")
    assert "lang=ru" in page.url
    await expect(page.locator("#home-handle")).to_have_text("@anna_petrova")
    await expect(page.locator("#home-avatar")).to_have_text("А")
    await expect(page.get_by_role("radio", name="Русский")).to_be_checked()
    await expect(page.locator("#connection-status")).to_have_text(
        gettext(server, "ru", "Connected")
    )
    # Inside Telegram the account is Telegram's: no sign-out, no sign-in forms.
    await expect(page.locator("#sign-out")).to_be_hidden()
    await expect(page.locator('[data-screen="auth"]')).to_be_hidden()
    calls = [call[0] for call in await page.evaluate("window.__telegramCalls")]
    assert "ready" in calls
    assert "expand" in calls
    await screenshot(page, "telegram-home")


async def test_browser_sign_up_reload_sign_out_and_sign_in(server: Server, page: Page) -> None:
    # A stale token is dropped and the sign-in form shown.
    await page.goto(f"{server.url}/app")
    await page.evaluate("localStorage.setItem('vmeste.token', 'not-a-token')")
    await page.reload()
    signin = page.locator("#panel-signin")
    await expect(signin.get_by_label("Email")).to_be_visible()
    assert await page.evaluate("localStorage.getItem('vmeste.token')") is None
    await screenshot(page, "browser-sign-in")

    await page.get_by_role("tab", name="Sign up").click()
    signup = page.locator("#panel-signup")
    await signup.get_by_label("Email").fill("maria@example.com")
    await signup.get_by_label("Username").fill("Maria_K")
    await signup.get_by_label("Password").fill("correct horse")
    await signup.get_by_role("button", name="Create account").click()

    greeting = page.locator("#home-greeting")
    await expect(greeting).to_have_text("Hi, maria_k")
    await expect(page.locator("#home-avatar")).to_have_text("M")

    await page.reload()
    await expect(greeting).to_have_text("Hi, maria_k")

    await page.get_by_role("button", name="Sign out").click()
    await expect(signin.get_by_label("Email")).to_be_visible()
    await expect(greeting).to_be_hidden()
    assert await page.evaluate("localStorage.getItem('vmeste.token')") is None

    await signin.get_by_label("Email").fill("maria@example.com")
    await signin.get_by_label("Password").fill("wrong horse")
    await signin.get_by_role("button", name="Sign in").click()
    await expect(signin.get_by_role("alert")).to_have_text("Wrong email or password.")
    await expect(greeting).to_be_hidden()

    await signin.get_by_label("Password").fill("correct horse")
    await signin.get_by_role("button", name="Sign in").click()
    await expect(greeting).to_have_text("Hi, maria_k")
    await expect(signin.get_by_role("alert")).to_be_hidden()


async def test_sign_up_checks_fields_and_shows_server_errors_by_field(
    server: Server, http: aiohttp.ClientSession, page: Page
) -> None:
    await register(http, "boris")
    register_calls: list[Request] = []
    page.on(
        "request",
        lambda request: (
            register_calls.append(request) if request.url.endswith("/api/auth/register") else None
        ),
    )
    await page.goto(f"{server.url}/app")
    await page.get_by_role("tab", name="Sign up").click()
    signup = page.locator("#panel-signup")
    email = signup.get_by_label("Email")
    create = signup.get_by_role("button", name="Create account")

    # Client-side checks: nothing is sent.
    await email.fill("not-an-email")
    await signup.get_by_label("Username").fill("no!")
    await signup.get_by_label("Password").fill("short")
    await create.click()
    await expect(page.locator("#signup-email-error")).to_have_text("Enter a valid email address.")
    await expect(page.locator("#signup-username-error")).to_have_text(
        "3 to 32 characters: Latin letters, digits and _."
    )
    await expect(page.locator("#signup-password-error")).to_have_text("Use at least 8 characters.")
    await expect(email).to_have_attribute("aria-invalid", "true")
    await expect(email).to_be_focused()
    assert register_calls == []

    # The server's 409 lands next to the field it names.
    await email.fill("boris@example.com")
    await signup.get_by_label("Username").fill("boris2")
    await signup.get_by_label("Password").fill("long enough")
    await create.click()
    await expect(page.locator("#signup-email-error")).to_have_text(
        "This email is already registered."
    )
    await expect(email).to_have_attribute("aria-invalid", "true")
    await expect(page.locator("#signup-username-error")).to_be_empty()
    await expect(page.locator("#home-greeting")).to_be_hidden()
    assert len(register_calls) == 1


async def test_socket_indicator_connects_and_clock_syncs(
    server: Server, http: aiohttp.ClientSession, page: Page
) -> None:
    account = await register(http, "vera")
    await page.goto(f"{server.url}/app")
    await page.evaluate("token => localStorage.setItem('vmeste.token', token)", account.token)
    await page.reload()

    status = page.locator("#connection-status")
    await expect(page.locator("#home-greeting")).to_have_text("Hi, vera")
    await expect(status).to_have_text("Connected")
    await expect(status).to_have_attribute("data-state", "connected")
    await expect(status).to_have_attribute("data-clock-synced", "true")
    # Same machine, same clock: the measured offset is tiny.
    offset = await page.evaluate("window.vmeste.connection.clockOffset")
    assert abs(offset) < 1000

    await page.get_by_role("button", name="Sign out").click()
    await expect(page.locator("#panel-signin")).to_be_visible()
    assert await page.evaluate("window.vmeste.connection") is None


async def test_tampered_init_data_shows_a_sign_in_error(
    make_server: ServerFactory, new_page: PageFactory
) -> None:
    server = await telegram_server(make_server)
    forged = tampered(signed_init_data(ANNA), id=1, first_name="Admin")
    page = await new_page(server, telegram=forged)
    await page.goto(f"{server.url}/app")

    await expect(page.get_by_role("heading", name="Couldn't sign in with Telegram")).to_be_visible()
    await expect(page.locator("#error-message")).to_have_text(
        "Telegram didn't confirm who you are. Close the app and open it again from the bot."
    )
    await expect(page.get_by_role("button", name="Try again")).to_be_visible()
    await expect(page.locator("#home-greeting")).to_be_hidden()
    await expect(page.get_by_text("Admin")).to_have_count(0)

    # The way out inside Telegram: email sign-in.
    await page.get_by_role("button", name="Sign in with email instead").click()
    await expect(page.locator("#panel-signin").get_by_label("Email")).to_be_visible()


async def test_language_switch_is_saved_on_the_account(
    server: Server, http: aiohttp.ClientSession, page: Page
) -> None:
    account = await register(http, "lev")
    await page.goto(f"{server.url}/app")
    await page.evaluate("token => localStorage.setItem('vmeste.token', token)", account.token)
    await page.reload()
    await expect(page.locator("#home-greeting")).to_have_text("Hi, lev")
    await expect(page.locator("html")).to_have_attribute("lang", "en")

    await page.locator('[data-screen="home"]').get_by_text("Русский").click()
    await expect(page.locator("html")).to_have_attribute("lang", "ru")
    await expect(page.locator("#home-greeting")).to_have_text(
        gettext(server, "ru", "Hi, %(name)s", name="lev")
    )
    await expect(page.get_by_role("radio", name="Русский")).to_be_checked()
    async with http.get("/api/users/me", headers=account.headers) as response:
        assert (await response.json())["user"]["language"] == "ru"

    # The browser still asks for English, but the account's choice wins.
    await page.goto(f"{server.url}/app")
    await expect(page.locator("html")).to_have_attribute("lang", "ru")
    assert "lang=ru" in page.url

"""Headless Chromium (Debian's, never a downloaded build) driven by Playwright's async API.

Pages only reach the app under test: every request to another origin (telegram.org's script
included) is aborted, so the tests never touch the network. Telegram's WebApp object comes from
:class:`FakeTelegram`, installed before any page script runs.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode

import pytest
from playwright.async_api import Browser, Page, Route, async_playwright

from composition import Server
from services.accounts.telegram_auth import sign_init_data
from tests.conftest import TEST_BOT_TOKEN

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: Set to a directory to have the tests save screenshots of the screens they reach.
SCREENSHOT_DIR = os.environ.get("VMESTE_SCREENSHOTS")

#: Telegram's own dark theme (Telegram Desktop "Night"), as themeParams.
DARK_THEME = {
    "bg_color": "#17212b",
    "secondary_bg_color": "#232e3c",
    "section_bg_color": "#17212b",
    "text_color": "#f5f5f5",
    "hint_color": "#708499",
    "link_color": "#6ab3f3",
    "button_color": "#5288c1",
    "button_text_color": "#ffffff",
    "header_bg_color": "#17212b",
    "accent_text_color": "#6ab2f2",
    "section_header_text_color": "#6ab3f3",
    "subtitle_text_color": "#708499",
    "destructive_text_color": "#ec3942",
}

FAKE_TELEGRAM_JS = """
(() => {
  const config = __CONFIG__;
  const calls = [];
  const handlers = {};
  const record = (name) => (...args) => { calls.push([name, ...args]); };
  const bottomButton = (name) => ({
    text: "", isVisible: false, isActive: true, isProgressVisible: false,
    setText(text) { this.text = text; calls.push([name + ".setText", text]); return this; },
    setParams(params) { Object.assign(this, params); return this; },
    show() { this.isVisible = true; calls.push([name + ".show"]); return this; },
    hide() { this.isVisible = false; calls.push([name + ".hide"]); return this; },
    enable() { this.isActive = true; return this; },
    disable() { this.isActive = false; return this; },
    showProgress() { this.isProgressVisible = true; return this; },
    hideProgress() { this.isProgressVisible = false; return this; },
    onClick: record(name + ".onClick"),
    offClick: record(name + ".offClick"),
  });
  const webApp = {
    initData: config.initData,
    initDataUnsafe: config.initDataUnsafe,
    version: "8.0",
    platform: "tdesktop",
    colorScheme: config.colorScheme,
    themeParams: config.themeParams,
    isExpanded: false,
    viewportHeight: window.innerHeight,
    viewportStableHeight: window.innerHeight,
    isVersionAtLeast(version) {
      const [a, b = 0] = String(version).split(".").map(Number);
      const [x, y] = this.version.split(".").map(Number);
      return x > a || (x === a && y >= b);
    },
    ready: record("ready"),
    expand() { this.isExpanded = true; calls.push(["expand"]); },
    close: record("close"),
    onEvent(type, handler) { (handlers[type] ??= []).push(handler); },
    offEvent(type, handler) {
      handlers[type] = (handlers[type] ?? []).filter((h) => h !== handler);
    },
    setHeaderColor: record("setHeaderColor"),
    setBackgroundColor: record("setBackgroundColor"),
    HapticFeedback: {
      impactOccurred: record("HapticFeedback.impactOccurred"),
      notificationOccurred: record("HapticFeedback.notificationOccurred"),
      selectionChanged: record("HapticFeedback.selectionChanged"),
    },
    BackButton: {
      isVisible: false,
      onClick: record("BackButton.onClick"),
      offClick: record("BackButton.offClick"),
      show() { this.isVisible = true; calls.push(["BackButton.show"]); },
      hide() { this.isVisible = false; calls.push(["BackButton.hide"]); },
    },
    MainButton: bottomButton("MainButton"),
    SecondaryButton: bottomButton("SecondaryButton"),
    // Stars invoices: recorded, and left open until the test closes them with the status it
    // chooses (window.__telegramInvoices.close("paid")), as Telegram would: the callback, then
    // the invoiceClosed event ({url, status}).
    openInvoice(url, callback) {
      calls.push(["openInvoice", url]);
      invoices.pending.push({ url, callback });
    },
  };
  const invoices = {
    pending: [],
    close(status) {
      const invoice = invoices.pending.shift();
      if (!invoice) throw new Error("no open invoice");
      if (typeof invoice.callback === "function") invoice.callback(status);
      for (const handler of handlers.invoiceClosed ?? []) {
        handler.call(webApp, { url: invoice.url, status });
      }
      return invoice.url;
    },
  };
  // Frozen and non-writable: were telegram-web-app.js ever to load, it could not replace us.
  Object.defineProperty(window, "Telegram", {
    value: Object.freeze({ WebApp: webApp }), writable: false, configurable: false,
  });
  Object.defineProperty(window, "__telegramCalls", { value: calls });
  Object.defineProperty(window, "__telegramInvoices", { value: invoices });
})();
"""


@dataclass
class FakeTelegram:
    """What the fake ``Telegram.WebApp`` carries; ``init_data=""`` is Telegram without initData."""

    init_data: str
    init_data_unsafe: dict[str, Any] = field(default_factory=dict)
    color_scheme: str = "dark"
    theme_params: dict[str, str] = field(default_factory=lambda: dict(DARK_THEME))

    def script(self) -> str:
        config = {
            "initData": self.init_data,
            "initDataUnsafe": self.init_data_unsafe,
            "colorScheme": self.color_scheme,
            "themeParams": self.theme_params,
        }
        return FAKE_TELEGRAM_JS.replace("__CONFIG__", json.dumps(config))


def signed_init_data(user: dict[str, Any], *, bot_token: str = TEST_BOT_TOKEN) -> FakeTelegram:
    """A fake Telegram carrying initData for ``user``, signed as Telegram would sign it."""
    fields = {
        "query_id": "AAHdF6IQAAAAAN0XohDhrOrc",
        "user": json.dumps(user, ensure_ascii=False, separators=(",", ":")),
        "auth_date": str(int(time.time())),
    }
    unsafe: dict[str, Any] = {**fields, "user": user, "auth_date": int(fields["auth_date"])}
    return FakeTelegram(sign_init_data(fields, bot_token=bot_token), unsafe)


def tampered(telegram: FakeTelegram, **user_changes: Any) -> FakeTelegram:
    """The same initData and hash with the user object edited, as a forger would."""
    fields = dict(parse_qsl(telegram.init_data, keep_blank_values=True))
    user = {**json.loads(fields["user"]), **user_changes}
    fields["user"] = json.dumps(user, ensure_ascii=False, separators=(",", ":"))
    init_data = urlencode(list(fields.items()), quote_via=quote)
    return FakeTelegram(init_data, {**telegram.init_data_unsafe, "user": user})


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        yield browser
        await browser.close()


PageFactory = Callable[..., Awaitable[Page]]


@pytest.fixture
async def new_page(browser: Browser) -> AsyncIterator[PageFactory]:
    """``await new_page(server, telegram=None, locale="en-US")``: a phone-sized page that can
    reach only ``server``. Uncaught script errors fail the test."""
    errors: list[str] = []

    async def factory(
        server: Server, *, telegram: FakeTelegram | None = None, locale: str = "en-US"
    ) -> Page:
        context = await browser.new_context(
            locale=locale, viewport={"width": 390, "height": 780}, service_workers="block"
        )
        origin = server.url

        async def only_the_app(route: Route) -> None:
            url = route.request.url
            if url == origin or url.startswith(origin + "/"):
                await route.continue_()
            else:
                await route.abort("blockedbyclient")

        await context.route("**/*", only_the_app)
        if telegram is not None:
            await context.add_init_script(script=telegram.script())
        page = await context.new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        return page

    yield factory
    assert not errors, f"uncaught errors in the page: {errors}"


@pytest.fixture
async def page(new_page: PageFactory, server: Server) -> Page:
    """A plain browser page (no Telegram) for the default ``server``."""
    return await new_page(server)


async def screenshot(page: Page, name: str) -> None:
    """Save ``name``.png under $VMESTE_SCREENSHOTS (Playwright creates the directory)."""
    if SCREENSHOT_DIR:
        path = Path(SCREENSHOT_DIR) / f"{name}.png"
        await page.screenshot(path=str(path), animations="disabled")

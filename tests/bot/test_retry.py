"""Flood control: a reply hit by "429 retry after N" is sent once more after N seconds (small N)."""

from __future__ import annotations

import logging

import pytest

from composition import Server
from tests.bot.conftest import errors_logged, shown_text
from tests.fakes.botapi import FakeBotAPI


async def test_reply_is_retried_after_retry_after(
    bot_server: Server, fake_api: FakeBotAPI, caplog: pytest.LogCaptureFixture
) -> None:
    fake_api.fail_next("sendMessage", 429, retry_after=1)
    start = len(fake_api.calls)

    fake_api.push_update(fake_api.message_update("/help"))
    delivered = await fake_api.wait_for("sendMessage", lambda c: c.ok, since=start)

    refused, retried = fake_api.calls_of("sendMessage")
    assert refused.error is not None
    assert refused.error["error_code"] == 429
    assert retried is delivered
    assert retried.params == refused.params
    assert retried.at - refused.at >= 0.95
    assert shown_text(delivered).startswith("Vmeste — watch together")
    assert not errors_logged(caplog)


async def test_long_retry_after_is_not_waited_for(
    bot_server: Server, fake_api: FakeBotAPI, caplog: pytest.LogCaptureFixture
) -> None:
    """Holding an update for half a minute helps no one; it is logged, not retried or replied to."""
    caplog.set_level(logging.WARNING, logger="bot.routers.errors")
    fake_api.fail_next("sendMessage", 429, retry_after=30)

    calls = await fake_api.say("/help", settle=0.3)

    (attempt,) = [c for c in calls if c.method == "sendMessage"]
    assert attempt.error is not None
    assert attempt.error["error_code"] == 429
    assert not errors_logged(caplog)
    assert any(
        r.name == "bot.routers.errors" and "flood control" in r.getMessage() for r in caplog.records
    )

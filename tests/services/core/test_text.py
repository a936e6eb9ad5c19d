"""The one text type (services/core/text.py): what each kind refuses, and clean()."""

from __future__ import annotations

import pytest
from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from services.core import text
from services.core.errors import ValidationError


@pytest.mark.parametrize(
    ("value", "rule", "reason"),
    [
        ("a\ud800b", text.LINE, "not valid Unicode (lone surrogate)"),
        ("\udfff", text.MULTILINE, "not valid Unicode (lone surrogate)"),
        ("a\x00b", text.LINE, "contains control characters"),
        ("a\x00b", text.MULTILINE, "contains control characters"),
        ("c1\x85", text.LINE, "contains control characters"),
        ("two\nlines", text.LINE, "contains control characters"),
        ("\u202eevil", text.NAME, "contains bidirectional control characters"),
        ("x\u2066y\u2069", text.TITLE, "contains bidirectional control characters"),
        ("\u200b\u200c\u200d\u2060\ufeff", text.TITLE, "has no visible characters"),
        (" \u200b ", text.NAME, "has no visible characters"),
        ("é", text.TOKEN, "must be printable ASCII"),
        ("a b", text.TOKEN, "must be printable ASCII"),
        ("x" * 129, text.NAME, "at most 128 characters"),
        (5, text.LINE, "must be a string"),
    ],
)
def test_refused(value: object, rule: text.Rule, reason: str) -> None:
    assert text.problem(value, rule) == reason
    with pytest.raises(ValidationError) as caught:
        text.check(value, rule, field="f")
    assert caught.value.data == {"field": "f", "reason": reason}


@pytest.mark.parametrize(
    ("value", "rule"),
    [
        ("Вера 🎬", text.NAME),
        ("שלום", text.TITLE),  # right-to-left text itself is fine; only the controls are not
        ("a\u200db", text.NAME),  # a joiner inside a name (emoji sequences, Persian)
        ("two\nlines\tand\r\nmore", text.MULTILINE),
        ("title\nsqueezed later", text.TITLE),
        ("\u202eallowed in chat", text.MULTILINE),
        ("eyJhbGciOi.J9.x-_", text.TOKEN),
        ("", text.LINE),
        ("x" * 128, text.NAME),  # length counts characters, not UTF-8 bytes
        ("я" * 128, text.NAME),
    ],
)
def test_accepted(value: str, rule: text.Rule) -> None:
    assert text.problem(value, rule) is None


def test_clean_removes_what_the_rule_refuses() -> None:
    assert text.clean("V\x00e\ud800r\u202ea", text.NAME) == "Vera"
    assert text.clean("\u200b\u200b", text.NAME) == ""
    assert text.clean("n" * 300, text.NAME) == "n" * 128
    assert text.clean("a\nb", text.MULTILINE) == "a\nb"


def test_the_contract_types_refuse_with_the_same_reason() -> None:
    class Body(BaseModel):
        title: text.Title
        url: text.Url

    with pytest.raises(PydanticValidationError) as caught:
        Body(title="\u202eevil", url="https://x.org/")
    assert caught.value.errors()[0]["msg"] == "contains bidirectional control characters"
    with pytest.raises(PydanticValidationError):
        Body(title="ok", url="https://x.org/\x00")
    assert Body(title="ok", url="https://x.org/").title == "ok"

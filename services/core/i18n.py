"""The gettext catalogue in ``locales/``: the Mini App's templates, and the domain errors the
HTTP API and the Socket.IO hub answer with, in the user's language (the bot reads the same
catalogue through aiogram's I18n)."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from babel.support import NullTranslations, Translations

from services.core.errors import AppError
from services.core.languages import DEFAULT_LANGUAGE, SUPPORTED_LANGUAGES

LOCALES_DIR = Path(__file__).resolve().parents[2] / "locales"
DOMAIN = "messages"


def load_translations() -> dict[str, NullTranslations]:
    """Compiled catalogues by language; compile them with ``make locales`` (pybabel compile)."""
    result: dict[str, NullTranslations] = {}
    for language in SUPPORTED_LANGUAGES:
        mo = LOCALES_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.mo"
        if not mo.exists():
            raise RuntimeError(f"{mo} is missing: run `make locales` (pybabel compile -d locales)")
        result[language] = Translations.load(str(LOCALES_DIR), [language], DOMAIN)
    return result


@functools.cache
def _catalogues() -> dict[str, NullTranslations]:
    return load_translations()


def translate(message: str, language: str) -> str:
    """``message`` (an English msgid marked with ``N_``) in ``language``, for text services
    build themselves (gift and pack names); unknown languages get English."""
    catalogue = _catalogues().get(language)
    return catalogue.gettext(message) if catalogue is not None else message


def negotiate(query_lang: str | None, accept_language: str | None) -> str:
    """``?lang=`` if supported, else the best Accept-Language match, else the default."""
    if query_lang in SUPPORTED_LANGUAGES:
        return query_lang
    weighted: list[tuple[float, str]] = []
    for part in (accept_language or "").split(","):
        tag, _, params = part.strip().partition(";")
        code = tag.strip().lower().split("-", 1)[0]
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        if code in SUPPORTED_LANGUAGES:
            weighted.append((q, code))
    return max(weighted)[1] if weighted else DEFAULT_LANGUAGE


def error_body(exc: AppError, translations: NullTranslations) -> dict[str, Any]:
    """``exc`` as the wire's ``{code, message, details?}`` with its message translated (an
    error whose template has no translation keeps the English text)."""
    template = translations.gettext(exc.template)
    try:
        message = template.format(**exc.data)
    except (KeyError, IndexError, ValueError):
        message = exc.message
    return exc.to_dict(message)

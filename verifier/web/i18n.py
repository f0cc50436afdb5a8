"""Language of pages and messages: ``?lang=`` first, then Accept-Language, else Bahasa Indonesia."""

from __future__ import annotations

import functools

from flask import Flask, request
from flask_babel import Babel
from werkzeug.datastructures import LanguageAccept
from werkzeug.http import parse_accept_header

from verifier.config import PACKAGE_DIR
from verifier.core.messages import DEFAULT_LANGUAGE, LANGUAGES

TRANSLATIONS_DIR = PACKAGE_DIR / "translations"


def init_app(app: Flask) -> None:
    """Set up Flask-Babel with our locale selector and WIB as the display time zone."""
    Babel(
        app,
        default_locale=DEFAULT_LANGUAGE,
        default_timezone="Asia/Jakarta",
        default_translation_directories=str(TRANSLATIONS_DIR),
        locale_selector=request_language,
    )


def request_language() -> str:
    """``id`` or ``en`` for this request."""
    return asked_language() or language_for_header(request.environ.get("HTTP_ACCEPT_LANGUAGE", ""))


def asked_language() -> str | None:
    """The language ``?lang=`` asks for, when it names one of ours."""
    if not request.environ.get("QUERY_STRING"):  # the verify path has none: skip parsing
        return None
    asked = request.args.get("lang", "").strip().lower()
    return asked if asked in LANGUAGES else None


@functools.lru_cache(maxsize=256)
def language_for_header(accept_language: str) -> str:
    """The best of our languages for an Accept-Language value (phones send a handful of them).

    Cached because parsing the header cost more than the database lookup on the verify path.
    """
    if not accept_language:
        return DEFAULT_LANGUAGE
    parsed = parse_accept_header(accept_language, LanguageAccept)
    return parsed.best_match(LANGUAGES, default=DEFAULT_LANGUAGE) or DEFAULT_LANGUAGE

"""Language of pages and messages: ``?lang=`` first, then Accept-Language, else Bahasa Indonesia."""

from __future__ import annotations

from flask import Flask, request
from flask_babel import Babel

from verifier.config import PROJECT_ROOT
from verifier.messages import DEFAULT_LANGUAGE, LANGUAGES

TRANSLATIONS_DIR = PROJECT_ROOT / "verifier" / "translations"


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
    asked = request.args.get("lang", "").strip().lower()
    if asked in LANGUAGES:
        return asked
    return request.accept_languages.best_match(LANGUAGES, default=DEFAULT_LANGUAGE) or (
        DEFAULT_LANGUAGE
    )

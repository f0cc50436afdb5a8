"""Types for the parts of Flask-Babel the verifier uses.

Flask-Babel annotates its functions but ships no ``py.typed`` marker, so mypy would treat the
package as Any and ``mypy --strict`` could not check a view's ``return _("...")``. The signatures
are Flask-Babel 4's own (flask_babel/__init__.py); mypy_path in pyproject.toml points here.
"""

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import date as _date
from datetime import datetime, tzinfo
from datetime import time as _time
from typing import Any

from babel.core import Locale
from babel.support import NullTranslations, Translations
from flask import Flask

class Babel:
    def __init__(
        self,
        app: Flask | None = None,
        date_formats: dict[str, str | None] | None = None,
        configure_jinja: bool = True,
        *args: Any,
        **kwargs: Any,
    ) -> None: ...
    def init_app(
        self,
        app: Flask,
        default_locale: str = "en",
        default_domain: str = "messages",
        default_translation_directories: str = "translations",
        default_timezone: str = "UTC",
        locale_selector: Callable[[], str | Locale | None] | None = None,
        timezone_selector: Callable[[], str | tzinfo | None] | None = None,
    ) -> None: ...

def force_locale(locale: str | Locale) -> AbstractContextManager[None]: ...
def get_translations() -> Translations | NullTranslations: ...
def get_locale() -> Locale | None: ...
def gettext(string: str, **variables: Any) -> str: ...
def format_date(
    date: _date | datetime | None = None, format: str | None = None, rebase: bool = True
) -> str: ...
def format_time(
    time: _time | datetime | None = None, format: str | None = None, rebase: bool = True
) -> str: ...

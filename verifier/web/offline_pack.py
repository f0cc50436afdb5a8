"""The page pack: what the service worker needs to render verdict pages exactly as the server
does, with no signal (docs/offline.md §7).

For each language: the verify page's shell (base.html with a marker where the verdict goes),
every translated message of the catalog, the status sentences, the CLDR date and time patterns
and month names Babel formats with, the offline note fragments, and the no-data page. Built from
the same templates and catalogs that render the server's pages, so a wording change reaches both.
"""

from __future__ import annotations

import functools
from typing import Any

from babel import Locale
from babel.messages.pofile import read_po
from flask import get_template_attribute, render_template
from flask_babel import force_locale, get_translations, gettext
from markupsafe import Markup

from verifier.core.messages import LANGUAGES, status_message
from verifier.core.verify import Status
from verifier.web.i18n import TRANSLATIONS_DIR

#: Markers the service worker replaces (verifier/static/offline/render.js, MARKS).
MARKS = {"verdict": "@@verdict@@", "lang_query": "@@lang-query@@", "date": "@@date@@"}


def build(official_domain: str, page_policy: str) -> dict[str, Any]:
    """The pack, in every language; call inside a request (templates need one)."""
    return {
        "csp": page_policy,
        "official_domain": official_domain,
        "languages": {language: _language(language) for language in LANGUAGES},
    }


def _language(language: str) -> dict[str, Any]:
    singular, plural = _msgids()
    with force_locale(language):
        overrides = {"page_lang": language, "lang_query": MARKS["lang_query"], "marks": MARKS}
        stamp = Markup(MARKS["date"])  # noqa: S704 (our own constant marker)
        return {
            "shell": render_template("offline_shell.html", **overrides),
            "missing": render_template("offline_missing.html", **overrides),
            "notes": {
                "fresh": str(get_template_attribute("_offline.html", "fresh_note")(stamp)),
                "old": str(get_template_attribute("_offline.html", "old_note")(stamp)),
            },
            "messages": {msgid: gettext(msgid) for msgid in singular},
            # The catalog's forms as they are: templates format them (Flask-Babel's ngettext
            # would already have, with only num).
            "plurals": {
                one: [get_translations().ngettext(one, other, count) for count in (1, 2)]
                for one, other in plural
            },
            "status_messages": {
                status.value: status_message(status.value, language) for status in Status
            },
            "dates": _date_formats(language),
        }


@functools.cache
def _msgids() -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]]:
    """Every message of the catalog (the Indonesian one lists them all): singular and plural."""
    with (TRANSLATIONS_DIR / "id" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalog = read_po(handle)
    singular = tuple(m.id for m in catalog if m.id and isinstance(m.id, str))
    plural = tuple((m.id[0], m.id[1]) for m in catalog if isinstance(m.id, (tuple, list)))
    return singular, plural


def _date_formats(language: str) -> dict[str, Any]:
    """What page_model.moment formats with: format_date(long), format_time(short) in WIB."""
    locale = Locale.parse(language)
    return {
        "date": locale.date_formats["long"].pattern,
        "time": locale.time_formats["short"].pattern,
        "months": [locale.months["format"]["wide"][month] for month in range(1, 13)],
        "am": locale.day_periods["format"]["abbreviated"]["am"],
        "pm": locale.day_periods["format"]["abbreviated"]["pm"],
    }

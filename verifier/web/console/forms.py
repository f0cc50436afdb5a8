"""Small helpers the console's views share: links that keep the chosen language, form fields,
and the words for a core error shown next to a form."""

from __future__ import annotations

from typing import Any

from flask import Response, request, url_for
from flask_babel import gettext as _

from verifier.core.errors import InvalidInput, SkkError
from verifier.core.nik import holds_nik_like
from verifier.web.i18n import asked_language

#: The longest text any console form field takes (a note is the longest, 1,000 characters).
MAX_FIELD = 2000


def language() -> dict[str, str]:
    """``{"lang": ...}`` when the user chose a language with ``?lang=``, to keep it in links."""
    asked = asked_language()
    return {"lang": asked} if asked else {}


def page_number(text: str) -> int:
    """A list's ``?page=`` (1 when empty); InvalidInput unless a whole number from 1."""
    if not text:
        return 1
    if not (text.isascii() and text.isdigit()) or len(text) > 6 or int(text) < 1:
        raise InvalidInput("page must be a whole number from 1", field="page")
    return int(text)


def link(endpoint: str, **values: Any) -> str:
    """``url_for`` that keeps ``?lang=``."""
    arguments: dict[str, Any] = {**values, **language()}
    return url_for(endpoint, **arguments)


def go(endpoint: str, **values: Any) -> Response:
    """``303 See Other`` to a console page (after a form, the browser then GETs it)."""
    return Response(status=303, headers={"Location": link(endpoint, **values)})


def field(name: str) -> str:
    """A form field, trimmed; at most MAX_FIELD characters are looked at."""
    return request.form.get(name, "")[:MAX_FIELD].strip()


def shown(value: str) -> str:
    """What may be filled back into a form: never something that looks like a NIK."""
    return "" if holds_nik_like(value) else value


def problem(error: SkkError) -> dict[str, str]:
    """An error for a form: the field at fault (to mark it), a sentence in the page's language,
    and the core's own explanation (in English, without any NIK: core messages never hold one)."""
    names = {
        "holder_name": _("Holder name"),
        "job_title": _("Job title"),
        "job_code": _("Job title"),
        "level": _("Level"),
        "nik": _("NIK"),
        "number": _("Certificate number"),
        "valid_from": _("Valid from"),
        "reason": _("Reason"),
        "note": _("Note"),
        "username": _("Username"),
        "role": _("Role"),
        "agency": _("Agency"),
        "file": _("File"),
    }
    label = names.get(error.field or "", "")
    summary = _("Please check: %(field)s.", field=label) if label else _("This could not be done.")
    return {"field": error.field or "", "summary": summary, "detail": error.message}

"""CSRF protection of every console form, with Flask-WTF's tokens.

Each session holds a random token (Flask-WTF keeps it in ``session["csrf_token"]``) and a random
key of its own that signs the copy put in forms, so no application-wide secret has to be shared
between workers and hosts: the session row is the shared state. Flask-WTF's ``CSRFProtect`` is not
installed app-wide, because the JSON API's POSTs (API-key authenticated, no cookies) must not need
a token; the console blueprint calls :func:`protect` before every state-changing request instead.
A missing or wrong token is a 400 and nothing is changed.
"""

from __future__ import annotations

import secrets

from flask import request
from flask_wtf.csrf import CSRFError, generate_csrf, validate_csrf
from wtforms import ValidationError

from verifier.store.staff_sessions import ABSOLUTE_SECONDS
from verifier.web.console.session import current

FIELD = "csrf_token"
_KEY = "csrf_key"


def token() -> str:
    """The token to put in this page's forms (field ``csrf_token``)."""
    console = current()
    if _KEY not in console:
        console[_KEY] = secrets.token_urlsafe(32)
    return str(generate_csrf(secret_key=console[_KEY], token_key=FIELD))


def protect() -> None:
    """Refuse (CSRFError, 400) a form whose token does not belong to this session."""
    key = current().get(_KEY)
    try:
        if key is None:
            raise ValidationError("the session has no CSRF token")
        validate_csrf(
            request.form.get(FIELD), secret_key=key, time_limit=ABSOLUTE_SECONDS, token_key=FIELD
        )
    except ValidationError as exc:
        raise CSRFError(f"CSRF check failed: {exc}") from None

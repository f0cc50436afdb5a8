"""Per-client rate limits (Flask-Limiter) on verification, manual checks and failed logins.

Storage defaults to each worker's memory; set ``SKK_RATELIMIT_STORAGE_URI`` (e.g. ``redis://``)
to share counters between workers and hosts. The per-credential NIK-miss lock does not depend on
this: it lives in the database (``verifier.nik_match``).
"""

from __future__ import annotations

import os

from flask import Flask, Response, render_template
from flask_limiter import Limiter, RequestLimit
from flask_limiter.util import get_remote_address

from verifier.web.errors import wants_json
from verifier.web.problems import problem

VERIFY_LIMIT = "300 per minute"
MANUAL_CHECK_LIMIT = "10 per minute;50 per day"
FAILED_AUTH_LIMIT = "20 per minute"

limiter = Limiter(
    key_func=get_remote_address,
    strategy="fixed-window",
    headers_enabled=True,
    on_breach=lambda limit: _too_many(limit),
)


def init_app(app: Flask) -> None:
    """Bind the limiter to the app; storage from SKK_RATELIMIT_STORAGE_URI or memory."""
    app.config.setdefault(
        "RATELIMIT_STORAGE_URI", os.environ.get("SKK_RATELIMIT_STORAGE_URI", "memory://")
    )
    limiter.init_app(app)


def _too_many(limit: RequestLimit) -> Response:
    if wants_json():
        return problem(429, f"rate limit exceeded: {limit.limit}")
    return Response(render_template("error.html", status=429), status=429)

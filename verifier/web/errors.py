"""Error handlers: problem+json for the API, HTML pages for people; never a traceback.

A database that does not answer is a 503, never a verdict; bad input is always a 4xx.
"""

from __future__ import annotations

import logging

from flask import Flask, Response, render_template, request
from werkzeug.exceptions import HTTPException

from verifier.errors import SkkError, StorageUnavailable
from verifier.web.database import drop_connection
from verifier.web.problems import problem, problem_from, status_for

log = logging.getLogger(__name__)
_JSON_PREFIXES = ("/api/", "/.well-known/", "/healthz", "/openapi.json")


def init_app(app: Flask) -> None:
    """Register the handlers."""
    app.register_error_handler(SkkError, _skk_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)


def wants_json() -> bool:
    """API paths answer in problem+json; everything else is a page for people."""
    return request.path.startswith(_JSON_PREFIXES)


def _skk_error(error: SkkError) -> Response | tuple[str, int]:
    status = status_for(error)
    if isinstance(error, StorageUnavailable):
        drop_connection()
        log.warning("database unavailable: %s", error.message)
    if wants_json():
        return problem_from(error)
    return _page(status)


def _http_error(error: HTTPException) -> Response | tuple[str, int]:
    status = error.code or 500
    if wants_json():
        response = problem(status, error.description if status < 500 else None)
        if status == 405 and error.get_response().headers.get("Allow"):
            response.headers["Allow"] = error.get_response().headers["Allow"]
        return response
    return _page(status)


def _unexpected(error: Exception) -> Response | tuple[str, int]:
    # Last resort at the boundary: log the bug (never request data), answer without details.
    log.exception("unhandled error on %s %s", request.method, request.url_rule)
    if wants_json():
        return problem(500)
    return _page(500)


def _page(status: int) -> tuple[str, int]:
    return render_template("error.html", status=status), status

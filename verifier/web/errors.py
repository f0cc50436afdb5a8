"""Error handlers: problem+json for the API, HTML pages for people; never a traceback.

A database that does not answer is a 503, never a verdict; bad input is always a 4xx.
"""

from __future__ import annotations

import logging

from flask import Flask, Response, render_template, request
from werkzeug.exceptions import HTTPException

from verifier.core.errors import SkkError, StorageUnavailable, TooManyAttempts
from verifier.store.db import STORAGE_FAILURES
from verifier.web.database import drop_connection
from verifier.web.problems import problem, problem_from, status_for

log = logging.getLogger(__name__)
_JSON_PREFIXES = ("/api/", "/.well-known/", "/healthz", "/openapi.json")
UNAVAILABLE_DETAIL = "the database is unavailable; try again shortly"
RETRY_AFTER_SECONDS = 5


def init_app(app: Flask) -> None:
    """Register the handlers."""
    app.register_error_handler(SkkError, _skk_error)
    # Views wrap their queries in storage_errors(); these catch a query that escaped it, so a
    # database failure is still a 503 that drops the broken connection, never a 500.
    for failure in STORAGE_FAILURES:
        app.register_error_handler(failure, _storage_failure)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)


def wants_json() -> bool:
    """API paths answer in problem+json; everything else is a page for people."""
    return request.path.startswith(_JSON_PREFIXES)


def _skk_error(error: SkkError) -> Response:
    if isinstance(error, StorageUnavailable):
        return unavailable_response(error)
    response = problem_from(error) if wants_json() else _page(status_for(error))
    if isinstance(error, TooManyAttempts) and error.retry_after:
        response.headers["Retry-After"] = str(error.retry_after)
    return response


def unavailable_response(error: StorageUnavailable) -> Response:
    """The 503 for a database that does not answer: a page, or a problem on API paths."""
    # The driver's message is for the operator's log only: a database error can quote values.
    # Retry-After, because the service recovers by itself once the database answers again.
    drop_connection()
    log.warning("database unavailable: %s", error.message)
    response = problem(503, UNAVAILABLE_DETAIL) if wants_json() else _page(503)
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def _storage_failure(error: Exception) -> Response:
    return unavailable_response(StorageUnavailable(f"database unavailable: {type(error).__name__}"))


def _http_error(error: HTTPException) -> Response:
    status = error.code or 500
    if wants_json():
        response = problem(status, error.description if status < 500 else None)
    else:
        response = _page(status)
    allow = error.get_response().headers.get("Allow") if status == 405 else None
    if allow:  # RFC 9110 §15.5.6: a 405 lists the methods the resource supports, pages too
        response.headers["Allow"] = allow
    return response


def _unexpected(error: Exception) -> Response:
    # Last resort at the boundary: log the bug (never request data), answer without details.
    # The traceback of the error handed in, not whatever sys.exc_info() holds here.
    log.error("unhandled error on %s %s", request.method, request.url_rule, exc_info=error)
    if wants_json():
        return problem(500)
    return _page(500)


def _page(status: int) -> Response:
    return Response(render_template("error.html", status=status), status, mimetype="text/html")

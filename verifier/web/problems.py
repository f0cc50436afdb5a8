"""RFC 9457 problem details, and the mapping from our error tree to HTTP status codes."""

from __future__ import annotations

import json
from typing import Any

from flask import Response

from verifier.core.errors import (
    ConfigurationError,
    Conflict,
    InvalidInput,
    NotFound,
    SkkError,
    StorageUnavailable,
    TooManyAttempts,
    UnreadableInput,
)

PROBLEM_TYPE = "application/problem+json"

#: SPEC §6: 404 also for another agency's record; 409 duplicates and refused changes; 422 rules.
STATUS_OF = (
    (NotFound, 404),
    (Conflict, 409),
    (InvalidInput, 422),
    (UnreadableInput, 422),
    (TooManyAttempts, 429),
    (StorageUnavailable, 503),
    (ConfigurationError, 503),  # e.g. issuance on a verify-only host without keys
)

TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    413: "Content Too Large",
    415: "Unsupported Media Type",
    422: "Unprocessable Content",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


def status_for(error: SkkError) -> int:
    """The HTTP status of one of our errors."""
    for kind, status in STATUS_OF:
        if isinstance(error, kind):
            return status
    return 500


def problem(status: int, detail: str | None = None, **extra: Any) -> Response:
    """A problem+json response; ``detail`` must never hold a NIK, token or secret."""
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": TITLES.get(status, "Error"),
        "status": status,
    }
    if detail:
        body["detail"] = detail
    body.update(extra)
    response = Response(json.dumps(body, ensure_ascii=False), status=status, mimetype=PROBLEM_TYPE)
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="skk"'
    return response


def problem_from(error: SkkError) -> Response:
    """A problem response for one of our errors, naming the field at fault when known."""
    status = status_for(error)
    extra = {"field": error.field} if error.field else {}
    if isinstance(error, ConfigurationError):
        return problem(status, "this host is not configured for this request")
    return problem(status, error.message, **extra)

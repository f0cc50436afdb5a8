"""Agency API authentication: ``Authorization: Bearer skk_<key_id>_<secret>`` -> the caller.

Every failure is the same 401 (RFC 6750 §3) whatever went wrong, so a guesser learns nothing
about which key ids exist, and failures count against a per-client limit shared by every agency
route: correct keys never use it up, a client that keeps failing is stopped before it is checked.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, Response, g, request

from verifier.config import RateLimit
from verifier.core.errors import InvalidInput
from verifier.store import apikeys
from verifier.store.db import storage_errors
from verifier.web import limits
from verifier.web.problems import problem

_CALLER_KEY = "_skk_caller"


@dataclass(frozen=True)
class Caller:
    """The authenticated agency and the key it used."""

    agency_id: str
    key_id: str

    @property
    def actor(self) -> str:
        """How the revocation history records this caller."""
        return f"apikey:{self.key_id}"


def protect(bp: Blueprint) -> None:
    """Require an API key on every route of ``bp``, under the failed-authentication limit."""
    bp.before_request(_authenticate)


def current_caller() -> Caller:
    """The caller of this agency API request (set before the view runs)."""
    caller: Caller = g.get(_CALLER_KEY)
    return caller


def _authenticate() -> Response | None:
    # One counter per client across all agency routes, counted only on 401: correct keys never
    # use it up; a client that keeps failing is refused before its key is even looked at.
    limits.current_limiter().check(RateLimit.FAILED_AUTH, limits.client_address())
    header = request.headers.get("Authorization", "")
    if not header.strip():
        return _unauthorized("an API key is required: Authorization: Bearer <API key>", None)
    scheme, _, api_key = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not api_key.strip():
        return _unauthorized("the Authorization header must be 'Bearer <API key>'")
    try:
        with storage_errors():
            agency_id = apikeys.authenticate(api_key)
    except InvalidInput:
        return _unauthorized("unknown, revoked or malformed API key")
    # authenticate() accepted skk_<12 hex>_<secret>; the id is the part between the first '_'s.
    g.setdefault(_CALLER_KEY, Caller(agency_id, api_key.strip().split("_", 2)[1]))
    return None


def _unauthorized(detail: str, error: str | None = "invalid_token") -> Response:
    limits.hit(RateLimit.FAILED_AUTH)
    response = problem(401, detail)
    challenge = 'Bearer realm="skk"'
    if error:  # RFC 6750 §3.1: no error code when the request carried no credentials at all
        challenge += f', error="{error}"'
    response.headers["WWW-Authenticate"] = challenge
    return response

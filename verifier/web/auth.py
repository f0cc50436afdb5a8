"""API authentication: ``Authorization: Bearer skk_<key_id>_<secret>`` -> the caller.

Agency routes take agency keys (:func:`protect`), project owners' routes owner keys
(:func:`protect_owner`); a key of the other kind is refused like an unknown one. Every failure is
the same 401 (RFC 6750 §3) whatever went wrong, so a guesser learns nothing about which key ids
exist, and failures count against a per-client limit shared by every authenticated route: correct
keys never use it up, a client that keeps failing is stopped before it is checked.
"""

from __future__ import annotations

from collections.abc import Callable
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


@dataclass(frozen=True)
class OwnerCaller:
    """The authenticated project owner and the key it used."""

    owner_id: str
    key_id: str


_OWNER_KEY = "_skk_owner"


def protect(bp: Blueprint) -> None:
    """Require an agency API key on every route of ``bp``, under the failed-authentication limit."""
    bp.before_request(_authenticate)


def protect_owner(bp: Blueprint) -> None:
    """Require a project owner's API key on every route of ``bp``, under the same limit."""
    bp.before_request(_authenticate_owner)


def current_caller() -> Caller:
    """The caller of this agency API request (set before the view runs)."""
    caller: Caller = g.get(_CALLER_KEY)
    return caller


def current_owner() -> OwnerCaller:
    """The project owner calling this request (set before the view runs)."""
    caller: OwnerCaller = g.get(_OWNER_KEY)
    return caller


def optional_owner() -> OwnerCaller | Response | None:
    """For a public route that does more for project owners: None without an Authorization
    header, the owner for a good owner key, a 401 response for any other key."""
    if not request.headers.get("Authorization", "").strip():
        return None
    refusal = _authenticate_owner()
    return refusal if refusal is not None else current_owner()


def owner_of_key(api_key: str) -> OwnerCaller | None:
    """The project owner a key typed into a form acts for, or None (counted as a failed login,
    under the same per-client limit as a wrong Authorization header)."""
    limits.check(RateLimit.FAILED_AUTH)
    try:
        with storage_errors():
            owner_id = apikeys.authenticate_owner(api_key)
    except InvalidInput:
        limits.hit(RateLimit.FAILED_AUTH)
        return None
    return OwnerCaller(owner_id, api_key.strip().split("_", 2)[1])


def _authenticate() -> Response | None:
    return _authenticate_with(
        apikeys.authenticate,
        lambda holder, key_id: g.setdefault(_CALLER_KEY, Caller(holder, key_id)),
    )


def _authenticate_owner() -> Response | None:
    return _authenticate_with(
        apikeys.authenticate_owner,
        lambda holder, key_id: g.setdefault(_OWNER_KEY, OwnerCaller(holder, key_id)),
    )


def _authenticate_with(
    authenticate: Callable[[str], str], remember: Callable[[str, str], object]
) -> Response | None:
    # One counter per client across all authenticated routes, counted only on 401: correct keys
    # never use it up; a client that keeps failing is refused before its key is even looked at.
    limits.check(RateLimit.FAILED_AUTH)
    header = request.headers.get("Authorization", "")
    if not header.strip():
        return _unauthorized("an API key is required: Authorization: Bearer <API key>", None)
    scheme, _, api_key = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not api_key.strip():
        return _unauthorized("the Authorization header must be 'Bearer <API key>'")
    try:
        with storage_errors():
            holder = authenticate(api_key)
    except InvalidInput:
        return _unauthorized("unknown, revoked or malformed API key")
    # authenticate() accepted skk_<12 hex>_<secret>; the id is the part between the first '_'s.
    remember(holder, api_key.strip().split("_", 2)[1])
    return None


def _unauthorized(detail: str, error: str | None = "invalid_token") -> Response:
    limits.hit(RateLimit.FAILED_AUTH)
    response = problem(401, detail)
    challenge = 'Bearer realm="skk"'
    if error:  # RFC 6750 §3.1: no error code when the request carried no credentials at all
        challenge += f', error="{error}"'
    response.headers["WWW-Authenticate"] = challenge
    return response

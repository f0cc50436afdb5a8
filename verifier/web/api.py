"""Public JSON API (SPEC §6): verify, JWKS, agencies, health, OpenAPI."""

from __future__ import annotations

import time
from typing import Any

from flask import Blueprint, Response

from verifier.config import RateLimit
from verifier.core.errors import StorageUnavailable
from verifier.core.nik import check_nik
from verifier.core.verify import VerificationResult
from verifier.store import nik_match, registry
from verifier.store.db import outdated_schema, storage_errors
from verifier.web import limits, openapi, requests
from verifier.web.database import reconnecting
from verifier.web.i18n import request_language
from verifier.web.requests import Member, json_response, read_object
from verifier.web.state import current_state

bp = Blueprint("api", __name__)
requests.register(bp)

VERIFY_MEMBERS = {"token": Member(str, required=True), "nik": Member(str)}
JWKS_MAX_AGE = 300  # seconds: relying parties may cache the key set this long


@bp.post("/api/v1/verify")
@limits.limited(RateLimit.VERIFY)
@reconnecting
@storage_errors()
def verify() -> Response:
    """Verify a token, QR payload or verify URL; optionally ask whether a NIK matches."""
    # SPEC §6: any string token gets a result, malformed at worst, even one no UTF-8 can hold.
    body = read_object(VERIFY_MEMBERS, lone_surrogates=True)
    nik: str | None = body.get("nik")
    if nik is not None:
        # Per client as well as per credential (in the database): see verifier.web.limits.
        limits.hit(RateLimit.NIK_MATCH)
        check_nik(nik)  # 422 before any lookup; the message never repeats the NIK
    state = current_state()
    now = int(time.time())
    result = state.verifier.verify(body["token"], at=now)
    data = result.to_dict(request_language())
    if nik is not None:
        data["nik_match"] = _nik_match(result, nik, state.settings.nik_pepper, now)
    return json_response(data)


def _nik_match(result: VerificationResult, nik: str, pepper: str | None, now: int) -> bool | None:
    """Answered only for a valid credential; anything else could be a guessing oracle."""
    if not result.valid or result.credential is None:
        return None
    cred = result.credential
    return nik_match.match_nik(cred.agency_id, cred.number, nik, pepper, now)


@bp.get("/.well-known/jwks.json")
@storage_errors()
def jwks() -> Response:
    """Every key that still verifies, for any origin (RFC 7517 §5)."""
    response = json_response(registry.jwks())
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Cache-Control"] = f"public, max-age={JWKS_MAX_AGE}"
    return response


@bp.get("/api/v1/agencies")
@storage_errors()
def agencies() -> Response:
    """Registered agencies, their authorised levels and the ids of keys that still verify."""
    kids: dict[str, list[str]] = {}
    for key in registry.list_keys():
        if key.state != "revoked":
            kids.setdefault(key.agency_id, []).append(key.kid)
    listing: list[dict[str, Any]] = [
        {**agency.to_dict(), "keys": kids.get(agency.id, [])} for agency in registry.list_agencies()
    ]
    return json_response(listing)


@bp.get("/healthz")
@storage_errors()
def healthz() -> Response:
    """200 when the database answers with a schema this release can use; otherwise 503.

    A host upgraded before `skk init` ran would fail on its first query of a new table or
    column; answering 503 here lets a load balancer keep it out until the schema is upgraded.
    """
    problem = outdated_schema(current_state().database)
    if problem is not None:
        raise StorageUnavailable(problem)  # logged for the operator; the body stays generic
    response = json_response({"status": "ok"})
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/openapi.json")
def openapi_document() -> Response:
    """The OpenAPI 3.1 description of this API."""
    return json_response(openapi.document(current_state().settings.base_url))

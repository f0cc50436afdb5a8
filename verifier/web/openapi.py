"""The OpenAPI 3.1 document of the HTTP API (SPEC §6), built once from plain Python data."""

from __future__ import annotations

import functools
from typing import Any

from verifier.store.audit import AGENCY_ACTIONS
from verifier.web import openapi_crew
from verifier.web.openapi_spec import (
    BATCH_PATHS,
    IDEMPOTENCY_KEY_PARAMETER,
    LIST_PARAMETERS,
    OFFLINE_PATHS,
    REPLAYED_HEADER,
    RESPONSES,
    SCHEMAS,
    SECURITY_SCHEMES,
)

AGENCY: list[dict[str, list[str]]] = [{"apiKey": []}]
_NUMBER_PARAM = {
    "name": "number",
    "in": "path",
    "required": True,
    "description": "Certificate number, URL-encoded (spaces as %20).",
    "schema": {"type": "string"},
}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _body(name: str, required: bool = True) -> dict[str, Any]:
    return {"required": required, "content": {"application/json": {"schema": _ref(name)}}}


def _problems(*names: str) -> dict[str, Any]:
    codes = {
        "BadRequest": "400",
        "Unauthorized": "401",
        "NotFound": "404",
        "Conflict": "409",
        "ContentTooLarge": "413",
        "UnsupportedMediaType": "415",
        "UnprocessableContent": "422",
        "TooManyRequests": "429",
        "ServiceUnavailable": "503",
    }
    return {codes[name]: {"$ref": f"#/components/responses/{name}"} for name in names}


#: Every agency operation can fail authentication (and its limit) or find the database down.
_AGENCY_ERRORS = ("Unauthorized", "TooManyRequests", "ServiceUnavailable")
_BODY_ERRORS = ("BadRequest", "ContentTooLarge", "UnsupportedMediaType")


def _op(
    summary: str,
    ok: dict[str, Any],
    *errors: str,
    agency: bool = False,
    code: str = "200",
    extra_responses: dict[str, Any] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "summary": summary,
        **extra,
        "responses": {code: ok, **_problems(*errors), **(extra_responses or {})},
    }
    if agency:
        operation["security"] = AGENCY
        operation["responses"].update(_problems(*_AGENCY_ERRORS))
        operation["tags"] = ["agency"]
    else:
        operation.setdefault("tags", ["public"])  # the /v/ page says "pages"
    return operation


def _html(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"text/html": {"schema": {"type": "string"}}}}


def _state_change(action: str, request: str, reason: bool) -> dict[str, Any]:
    waits = {
        "202": _json(
            _ref("PendingRevocation"),
            "The agency has four-eyes revocation on: "
            "the revocation waits for a second admin's approval in the console.",
        )
    }
    done = {
        **_json(_ref("StateChange"), "The state after the request (the CLI's object)."),
        "headers": {
            "SKK-Number-Note": {
                "description": "Only when no certificate issued here has this number (an "
                "agency that signs elsewhere): the number was recorded exactly as typed and "
                "affects a certificate only if it matches its number character for character.",
                "schema": {"type": "string"},
            }
        },
    }
    return {
        "post": _op(
            f"{action.capitalize()} an own credential",
            done,
            *_BODY_ERRORS,
            "NotFound",
            "Conflict",
            "UnprocessableContent",
            agency=True,
            parameters=[_NUMBER_PARAM],
            requestBody=_body(request, required=reason),
            extra_responses=waits if action == "revoke" else None,
        )
    }


def _qr(kind: str, media: str) -> dict[str, Any]:
    return {
        "get": _op(
            f"QR code of an own credential ({kind.upper()})",
            {
                "description": "Encodes exactly the credential's url.",
                "content": {media: {"schema": {"type": "string"}}},
            },
            "NotFound",
            agency=True,
            parameters=[_NUMBER_PARAM],
        )
    }


PATHS: dict[str, Any] = {
    "/api/v1/verify": {
        "post": _op(
            "Verify a certificate token, QR payload or verify URL",
            _json(
                _ref("VerificationResult"),
                "The SPEC §3 result, whatever the status (malformed at worst).",
            ),
            *_BODY_ERRORS,
            "UnprocessableContent",
            "TooManyRequests",
            "ServiceUnavailable",
            description="With nik, also answers whether it matches: wrong guesses are limited per "
            "credential (then 429) and requests carrying a nik per client. ?lang=id|en or "
            "Accept-Language sets the message language.",
            requestBody=_body("VerifyRequest"),
        )
    },
    "/.well-known/jwks.json": {
        "get": _op(
            "Public keys that still verify (CORS open)",
            _json(_ref("Jwks"), "RFC 7517 JWK Set."),
            "ServiceUnavailable",
        )
    },
    "/api/v1/agencies": {
        "get": _op(
            "Registered agencies, authorised levels and key ids",
            _json({"type": "array", "items": _ref("Agency")}, "All agencies by id."),
            "ServiceUnavailable",
        )
    },
    "/healthz": {
        "get": _op(
            "Health: the database answers, with a schema this release can use",
            _json(_ref("Health"), "Healthy."),
            "ServiceUnavailable",
        )
    },
    "/openapi.json": {
        "get": _op(
            "This document",
            _json({"type": "object"}, "OpenAPI 3.1."),
        )
    },
    "/v/{payload}": {
        "get": _op(
            "The page a QR code opens (HTML for people; /V/ works too)",
            _html("Verification page: the verdict, whatever it is."),
            parameters=[
                {"name": "payload", "in": "path", "required": True, "schema": {"type": "string"}}
            ],
            tags=["pages"],
            # Pages answer their errors as pages too, not as problem documents.
            extra_responses={
                "429": _html("Too many checks from this client; Retry-After says when to retry."),
                "503": _html(
                    "The service cannot check now (the database does not answer): a page "
                    "saying so, never a verdict."
                ),
            },
        )
    },
    "/api/v1/credentials": {
        "post": _op(
            "Issue a credential",
            {
                **_json(_ref("Issued"), "Issued; Location names the record."),
                "headers": REPLAYED_HEADER,
            },
            *_BODY_ERRORS,
            "Conflict",
            "UnprocessableContent",
            agency=True,
            code="201",
            parameters=[IDEMPOTENCY_KEY_PARAMETER],
            requestBody=_body("IssueRequest"),
        ),
        "get": _op(
            "Own credentials: for a NIK, or a page of all of them",
            {
                **_json({"type": "array", "items": _ref("CredentialRecord")}, "Newest first."),
                "headers": {
                    "X-Total-Count": {
                        "description": "Without nik: how many match in all.",
                        "schema": {"type": "integer"},
                    },
                    "Link": {
                        "description": "Without nik: RFC 8288 links to the next and prev "
                        "pages, when there are any.",
                        "schema": {"type": "string"},
                    },
                },
            },
            "BadRequest",
            "UnprocessableContent",
            agency=True,
            description="With nik: every own credential for that NIK (prefer POST "
            "/api/v1/credentials/search: a query string ends up in proxy logs); nik takes no "
            "other parameter. Without nik: a page of every own credential, filtered by the "
            "other parameters. An unknown parameter is refused with 400.",
            parameters=[
                {
                    "name": "nik",
                    "in": "query",
                    "required": False,
                    "schema": SCHEMAS["NikQuery"]["properties"]["nik"],
                },
                *LIST_PARAMETERS,
            ],
        ),
    },
    "/api/v1/credentials/search": {
        "post": _op(
            "Own credentials for a NIK, with the NIK in the body",
            _json({"type": "array", "items": _ref("CredentialRecord")}, "Newest first."),
            *_BODY_ERRORS,
            "UnprocessableContent",
            agency=True,
            requestBody=_body("NikQuery"),
        )
    },
    "/api/v1/credentials/{number}": {
        "get": _op(
            "An own credential record",
            _json(_ref("CredentialRecord"), "The record."),
            "NotFound",
            agency=True,
            parameters=[_NUMBER_PARAM],
        )
    },
    "/api/v1/credentials/{number}/qr.svg": _qr("svg", "image/svg+xml"),
    "/api/v1/credentials/{number}/qr.png": _qr("png", "image/png"),
    "/api/v1/credentials/{number}/revoke": _state_change("revoke", "RevokeRequest", True),
    "/api/v1/credentials/{number}/suspend": _state_change("suspend", "RevokeRequest", True),
    "/api/v1/credentials/{number}/reinstate": _state_change("reinstate", "ReinstateRequest", False),
    "/api/v1/audit": {
        "get": _op(
            "The agency's own audit log, oldest first",
            _json(
                _ref("Audit"),
                "Every action of every actor (CLI, API keys, console users): "
                "issuing, revoke, suspend, reinstate (with notes), approvals, sign-ins, accounts, "
                "keys and API keys.",
            ),
            "BadRequest",
            "UnprocessableContent",
            agency=True,
            parameters=[
                {
                    "name": "number",
                    "in": "query",
                    "required": False,
                    "description": "Only this credential's events.",
                    "schema": {"type": "string"},
                },
                {
                    "name": "actor",
                    "in": "query",
                    "required": False,
                    "description": "Only this actor's events (also those it approved).",
                    "schema": {"type": "string"},
                },
                {
                    "name": "action",
                    "in": "query",
                    "required": False,
                    "schema": {"enum": list(AGENCY_ACTIONS)},
                },
                {
                    "name": "since",
                    "in": "query",
                    "required": False,
                    "schema": {"type": "string", "format": "date"},
                    "description": "First day (UTC).",
                },
                {
                    "name": "until",
                    "in": "query",
                    "required": False,
                    "schema": {"type": "string", "format": "date"},
                    "description": "Last day (UTC).",
                },
                {
                    "name": "after",
                    "in": "query",
                    "required": False,
                    "schema": {"type": "integer", "minimum": 0},
                    "description": "Only events after this id (the next page).",
                },
                {
                    "name": "limit",
                    "in": "query",
                    "required": False,
                    "schema": {"type": "integer", "minimum": 1, "maximum": 1000},
                },
            ],
        )
    },
    **BATCH_PATHS,
    **OFFLINE_PATHS,
    **openapi_crew.CREW_PATHS,
}


@functools.cache
def _base_document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "info": {
            "title": "SKK Verifier",
            "version": "1",
            "description": "Issue and verify signed construction-worker competency certificates "
            "(SKK). Errors are RFC 9457 application/problem+json.",
        },
        "tags": [{"name": "public"}, {"name": "agency"}, {"name": "owner"}, {"name": "pages"}],
        "paths": PATHS,
        "webhooks": openapi_crew.WEBHOOKS,
        "components": {
            "schemas": {**SCHEMAS, **openapi_crew.CREW_SCHEMAS},
            "responses": RESPONSES,
            "securitySchemes": {**SECURITY_SCHEMES, "ownerKey": openapi_crew.SECURITY_SCHEME},
        },
    }


def document(base_url: str) -> dict[str, Any]:
    """The document, with this deployment's base URL as its server."""
    return {**_base_document(), "servers": [{"url": base_url}]}

"""OpenAPI 3.1 components: JSON Schema 2020-12 of every body, and the shared problem responses.

The enumerations come from the core modules, so the document cannot drift from what the code
accepts; tests check the routes against the paths and real responses against these schemas.
"""

from __future__ import annotations

from typing import Any

from verifier.core.verify import Status
from verifier.issuance.issuer import MAX_DAYS_AHEAD
from verifier.store.audit import ACTIONS
from verifier.store.credential_list import MAX_PER_PAGE, STATUSES
from verifier.store.registry import AGENCY_KINDS
from verifier.store.revocation import MAX_NOTE_LENGTH, REASONS
from verifier.web import idempotency

INSTANT = {"type": "string", "format": "date-time", "examples": ["2026-11-23T10:00:00Z"]}
NUMBER = {
    "type": "string",
    "pattern": "^[A-Za-z0-9][A-Za-z0-9 .-]{0,39}$",
    "examples": ["41011 7112 3 00001234 2025"],
}
AGENCY_ID = {"type": "string", "pattern": "^[a-z0-9][a-z0-9-]{1,39}$", "examples": ["lsp-contoh"]}
NIK = {
    "type": "string",
    "pattern": "^[0-9]{16}$",
    "description": "16 digits, province code 11-96; never stored, shown or logged.",
}
LEVEL = {"type": "integer", "minimum": 1, "maximum": 9, "description": "KKNI jenjang."}
REASON = {"type": "string", "enum": list(REASONS)}
NOTE = {
    "type": ["string", "null"],
    "maxLength": MAX_NOTE_LENGTH,
    "description": "Internal; never public. Must not contain a NIK.",
}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(name: str) -> dict[str, Any]:
    return {"oneOf": [_ref(name), {"type": "null"}]}


def _object(
    properties: dict[str, Any], required: list[str] | None = None, closed: bool = True, **extra: Any
) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "type": "object",
        "properties": properties,
        "required": required if required is not None else list(properties),
    }
    if closed:
        schema["additionalProperties"] = False
    return {**schema, **extra}


CREDENTIAL = _object(
    {
        "number": NUMBER,
        "holder_name": {"type": "string", "maxLength": 100},
        "job_title": {"type": "string", "maxLength": 100},
        "job_code": {"type": ["string", "null"], "pattern": "^[A-Z]{2}[0-9]{6}$"},
        "level": LEVEL,
        "agency": _object({"id": AGENCY_ID, "name": {"type": "string"}}),
        "issued_at": INSTANT,
        "valid_from": INSTANT,
        "expires_at": INSTANT,
    }
)

VERIFICATION_RESULT = _object(
    {
        "valid": {"type": "boolean", "description": "True only for status valid."},
        "status": {"type": "string", "enum": [status.value for status in Status]},
        "message": {"type": "string", "description": "For people, in the request language."},
        "checked_at": INSTANT,
        "credential": {
            **_nullable("Credential"),
            "description": "Only for valid, revoked, suspended, not_yet_valid, expired and "
            "stale_data (offline only).",
        },
        "revocation": _nullable("Revocation"),
        "nik_match": {
            "type": ["boolean", "null"],
            "description": "Only when the request carried a nik: null unless the credential "
            "is valid, was issued here and has a NIK on record.",
        },
    },
    required=["valid", "status", "message", "checked_at", "credential", "revocation"],
    examples=[
        {
            "valid": True,
            "status": "valid",
            "message": "Sertifikat sah dan berlaku.",
            "checked_at": "2026-11-23T10:00:00Z",
            "credential": {
                "number": "41011 7112 3 00001234 2025",
                "holder_name": "Rina Marlina",
                "job_title": "Operator Wheel Excavator",
                "job_code": "ME063100",
                "level": 3,
                "agency": {"id": "lsp-contoh", "name": "LSP Konstruksi Contoh Nusantara"},
                "issued_at": "2025-05-15T00:00:00Z",
                "valid_from": "2025-05-15T00:00:00Z",
                "expires_at": "2030-05-15T00:00:00Z",
            },
            "revocation": None,
        }
    ],
)

#: Query parameters of the credential list (``GET /api/v1/credentials`` without ``nik``).
LIST_PARAMETERS = [
    {
        "name": "status",
        "in": "query",
        "required": False,
        "schema": {"enum": list(STATUSES)},
        "description": "active: neither revoked nor suspended; valid: active and within its "
        "validity now; expired: active and past its end.",
    },
    {
        "name": "job_code",
        "in": "query",
        "required": False,
        "schema": {"type": "string", "pattern": "^[A-Z]{2}[0-9]{6}$"},
    },
    {"name": "level", "in": "query", "required": False, "schema": LEVEL},
    {
        "name": "issued_from",
        "in": "query",
        "required": False,
        "schema": {"type": "string", "format": "date"},
        "description": "First day (UTC).",
    },
    {
        "name": "issued_to",
        "in": "query",
        "required": False,
        "schema": {"type": "string", "format": "date"},
        "description": "Last day (UTC).",
    },
    {"name": "page", "in": "query", "required": False, "schema": {"type": "integer", "minimum": 1}},
    {
        "name": "per_page",
        "in": "query",
        "required": False,
        "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE},
    },
]

RECORD = _object(
    {
        "number": NUMBER,
        "agency": AGENCY_ID,
        "holder_name": {"type": "string"},
        "job_title": {"type": "string"},
        "job_code": {"type": ["string", "null"]},
        "level": LEVEL,
        "issued_at": INSTANT,
        "valid_from": INSTANT,
        "expires_at": INSTANT,
        "status": {"type": "string", "enum": ["active", "revoked", "suspended"]},
        "revocation": _nullable("Revocation"),
    }
)

ISSUE_REQUEST = _object(
    {
        "holder_name": {"type": "string", "maxLength": 100},
        "job_code": {"type": ["string", "null"], "examples": ["ME063100"]},
        "job_title": {"type": ["string", "null"], "examples": ["Operator Wheel Excavator"]},
        "level": LEVEL,
        "nik": {**NIK, "type": ["string", "null"]},
        "number": {**NUMBER, "type": ["string", "null"], "description": "Assigned when omitted."},
        "valid_from": {
            "type": ["string", "null"],
            "description": "ISO-8601; default now. "
            "Refused (422) when the certificate would have expired already (more "
            f"than five years ago) or when more than {MAX_DAYS_AHEAD} days ahead, "
            "unless allow_expired or allow_future says it is meant.",
            "examples": ["2026-01-15"],
        },
        "allow_expired": {
            "type": ["boolean", "null"],
            "description": "Issue although "
            "valid_from is so old that the certificate has expired at issue.",
        },
        "allow_future": {
            "type": ["boolean", "null"],
            "description": f"Issue although valid_from is more than {MAX_DAYS_AHEAD} days ahead.",
        },
    },
    required=["holder_name", "level"],
    description="Exactly one of job_code and job_title. iss, kid, iat, nbf and exp are never "
    "taken from the client: any member not listed here is refused with 400.",
)

SCHEMAS: dict[str, Any] = {
    "Problem": _object(
        {
            "type": {"type": "string"},
            "title": {"type": "string"},
            "status": {"type": "integer", "minimum": 400, "maximum": 599},
            "detail": {"type": "string"},
            "field": {"type": "string", "description": "The request member at fault."},
        },
        required=["type", "title", "status"],
        closed=False,
        description="RFC 9457 problem details.",
    ),
    "VerifyRequest": _object(
        {
            "token": {"type": "string", "description": "A JWS, QR payload or verify URL."},
            "nik": {**NIK, "type": ["string", "null"]},
        },
        required=["token"],
    ),
    "VerificationResult": VERIFICATION_RESULT,
    "Credential": CREDENTIAL,
    "Revocation": _object(
        {
            "status": {"type": "string", "enum": ["revoked", "suspended"]},
            "at": INSTANT,
            "reason": REASON,
        }
    ),
    "Jwk": _object(
        {
            "kty": {"type": "string"},
            "kid": {"type": "string"},
            "alg": {"type": "string", "enum": ["EdDSA", "ES256"]},
            "use": {"const": "sig"},
        },
        closed=False,
        description="RFC 7517 public key; crv, x (and y for P-256) as RFC 8037 / RFC 7518.",
    ),
    "Jwks": _object({"keys": {"type": "array", "items": _ref("Jwk")}}),
    "Agency": _object(
        {
            "id": AGENCY_ID,
            "name": {"type": "string"},
            "kind": {"type": "string", "enum": list(AGENCY_KINDS)},
            "levels": _object({"min": LEVEL, "max": LEVEL}),
            "keys": {
                "type": "array",
                "items": {"type": "string"},
                "description": "kids that verify",
            },
        }
    ),
    "Health": _object({"status": {"const": "ok"}}),
    "IssueRequest": ISSUE_REQUEST,
    "Issued": _object(
        {
            "number": NUMBER,
            "token": {"type": "string"},
            "url": {"type": "string", "description": "Exactly what the QR encodes."},
        }
    ),
    "CredentialRecord": RECORD,
    "NikQuery": _object({"nik": NIK}),
    "RevokeRequest": _object({"reason": REASON, "note": NOTE}, required=["reason"]),
    "ReinstateRequest": _object({"note": NOTE}, required=[]),
    "StateChange": _object(
        {
            "agency": AGENCY_ID,
            "number": NUMBER,
            "status": {"type": "string", "enum": ["active", "revoked", "suspended"]},
            "at": {"type": ["string", "null"], "format": "date-time"},
            "reason": {"type": ["string", "null"]},
            "changed": {
                "type": "boolean",
                "description": "False when the request repeated a state.",
            },
        }
    ),
    "PendingRevocation": _object(
        {
            "agency": AGENCY_ID,
            "number": NUMBER,
            "status": {"const": "pending_approval"},
            "approval": {"type": "integer", "description": "The request's id (audit subject #id)."},
        }
    ),
    "AuditEvent": _object(
        {
            "id": {"type": "integer", "minimum": 1, "description": "Increasing; for ?after=."},
            "at": INSTANT,
            "actor": {
                "type": "string",
                "description": "cli, apikey:<key id> or user:<username>; "
                "two joined by + when a second admin approved the step.",
                "examples": ["apikey:0123456789ab", "cli", "user:rina", "user:rina+user:budi"],
            },
            "action": {"type": "string", "enum": list(ACTIONS)},
            "number": {
                **NUMBER,
                "type": ["string", "null"],
                "description": "The certificate acted on, if any.",
            },
            "status": {
                "type": ["string", "null"],
                "enum": ["active", "revoked", "suspended", None],
                "description": "The certificate's status after the action.",
            },
            "reason": {"type": ["string", "null"]},
            "note": {"type": ["string", "null"]},
            "subject": {
                "type": ["string", "null"],
                "description": "What else was acted on: a username, key id, API key id "
                "or request id.",
            },
        }
    ),
    "Audit": _object(
        {
            "events": {
                "type": "array",
                "items": _ref("AuditEvent"),
                "description": "Oldest first.",
            },
            "next": {
                "type": ["string", "null"],
                "description": "The URL of the events after these; null at the end.",
            },
        }
    ),
}

_PROBLEMS = {
    "BadRequest": "Unparseable JSON, a member of the wrong type, or an unknown member.",
    "Unauthorized": "Missing, malformed, unknown or revoked API key.",
    "NotFound": "No such record, or it belongs to another agency.",
    "Conflict": "Duplicate number, a state change the rules refuse, or the first request "
    "with this Idempotency-Key is still running (Retry-After).",
    "ContentTooLarge": "Body over 16 KiB, refused before parsing.",
    "UnsupportedMediaType": "The body is not application/json.",
    "UnprocessableContent": "A domain rule: level, job code, NIK, number, reason, date...; or "
    "an Idempotency-Key already used for another request.",
    "TooManyRequests": "Rate limit (per client), or too many wrong NIKs for one credential.",
    "ServiceUnavailable": "The database does not answer (never a verdict), or this host is "
    "not set up for the request.",
}

RESPONSES: dict[str, Any] = {
    name: {
        "description": text,
        "content": {"application/problem+json": {"schema": _ref("Problem")}},
    }
    for name, text in _PROBLEMS.items()
}

SECURITY_SCHEMES = {
    "apiKey": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "skk_<key_id>_<secret>",
        "description": "Created with `skk apikey create --agency ID`; acts only for that agency.",
    }
}


# --- Idempotency-Key on the issuing routes (verifier.web.idempotency) ------------------------

IDEMPOTENCY_KEY_PARAMETER: dict[str, Any] = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": 'Makes a retry safe (IETF httpapi draft "The Idempotency-Key HTTP Header '
    'Field"): a Structured Fields string such as "8e03978e-40d5-43e8-bc93-6894a57f9324" '
    "(a bare token is accepted too), 1 to 255 characters, one per new request, scoped to the "
    "agency (all its API keys). The same key with the same request within 24 hours gets the "
    "first answer again (Idempotent-Replayed: true) and issues nothing; with another request "
    "422; while the first request still runs 409 with Retry-After. A first request that failed "
    "with 5xx, 409 or 429 leaves the key unused.",
    "schema": {"type": "string", "pattern": idempotency.KEY_PATTERN},
    "examples": {"uuid": {"value": '"8e03978e-40d5-43e8-bc93-6894a57f9324"'}},
}
REPLAYED_HEADER: dict[str, Any] = {
    "Idempotent-Replayed": {
        "description": "true when this is the stored answer to an earlier "
        "request with the same Idempotency-Key.",
        "schema": {"type": "string", "enum": ["true"]},
    },
}


# --- POST /api/v1/credentials/batch (verifier.web.batch_api) --------------------------------

_BATCH_RESULT = _object(
    {
        "line": {"type": "integer", "minimum": 1, "description": "Line of the row in the file."},
        "number": NUMBER,
        "name": {"type": "string"},
        "job": {"type": "string", "description": "Job title (jabatan kerja)."},
        "level": LEVEL,
        "status": {
            "type": "string",
            "enum": ["issued", "existing", "revoked", "suspended"],
            "description": "existing: the same agency, NIK and job (or number) was issued "
            "before; revoked or suspended: issued before and revoked or suspended since.",
        },
        "verify_url": {
            "type": "string",
            "description": "Exactly what the credential's QR encodes.",
        },
    }
)
SCHEMAS["BatchResult"] = _BATCH_RESULT
SCHEMAS["BatchIssued"] = _object(
    {
        "issued": {"type": "integer", "minimum": 0},
        "existing": {"type": "integer", "minimum": 0},
        "results": {"type": "array", "items": _ref("BatchResult"), "description": "File order."},
    }
)
SCHEMAS["RowProblem"] = _object(
    {
        "line": {"type": "integer", "minimum": 1},
        "column": {"type": "string", "description": "The column's header as the file names it."},
        "message": {
            "type": "string",
            "description": "Never holds a NIK; names the cell for .xlsx.",
        },
    }
)
SCHEMAS["BatchProblem"] = {
    "allOf": [_ref("Problem")],
    "type": "object",
    "properties": {
        "errors": {
            "type": "array",
            "items": _ref("RowProblem"),
            "description": "Every problem of every row; present when rows are wrong.",
        }
    },
    "description": "422: nothing was issued. Without errors, the file as a whole is unusable "
    "(no header, missing column, more rows than allowed, unreadable .xlsx); detail says why.",
}


def _batch_limits() -> tuple[str, str, str]:
    from verifier.web.batch_api import MAX_BODY_BYTES, MAX_ROWS
    from verifier.web.requests import XLSX_TYPE

    return f"{MAX_ROWS:,}", f"{MAX_BODY_BYTES // 2**20} MiB", XLSX_TYPE


_BATCH_ROWS, _BATCH_BYTES, _XLSX = _batch_limits()


def _problem_response(description: str, schema: str = "Problem") -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/problem+json": {"schema": _ref(schema)}},
    }


BATCH_PATHS: dict[str, Any] = {
    "/api/v1/credentials/batch": {
        "post": {
            "summary": "Issue a cohort from a participant list (CSV or .xlsx), all rows or none",
            "description": "Columns (Indonesian headers, English aliases): nama/name, nik, "
            "kode_jabatan/job_code or jabatan/job_title, jenjang/level, optional nomor/number, "
            "berlaku_mulai/valid_from, asosiasi; each row needs a NIK or a number. CSV as Excel "
            f"saves it (`;` or `,`, UTF-8 BOM, CRLF, blank lines, 'apostrophe NIKs). At most "
            f"{_BATCH_ROWS} rows and {_BATCH_BYTES} per request. "
            "Every row is checked first; if any is wrong nothing is issued and the 422 lists "
            "every problem. Re-sending a file issues "
            "nothing twice: rows issued before come back as existing (still 201, with issued 0 "
            "when none is new).",
            "tags": ["agency"],
            "security": [{"apiKey": []}],
            "parameters": [IDEMPOTENCY_KEY_PARAMETER],
            "requestBody": {
                "required": True,
                "content": {
                    "text/csv": {"schema": {"type": "string"}},
                    _XLSX: {"schema": {"type": "string", "contentMediaType": _XLSX}},
                    "multipart/form-data": {
                        "schema": {
                            "type": "object",
                            "required": ["file"],
                            "properties": {
                                "file": {"type": "string", "description": "CSV or .xlsx file"}
                            },
                        },
                    },
                },
            },
            "responses": {
                "201": {
                    "description": "Every row issued, or found issued before (issued is 0 when "
                    "the file was sent again).",
                    "headers": REPLAYED_HEADER,
                    "content": {"application/json": {"schema": _ref("BatchIssued")}},
                },
                "400": {"$ref": "#/components/responses/BadRequest"},
                "401": {"$ref": "#/components/responses/Unauthorized"},
                "409": _problem_response(
                    "Another import of the agency issued some of these rows "
                    "meanwhile, or the first request with this "
                    "Idempotency-Key is still running (Retry-After)."
                ),
                "413": _problem_response(f"Body over {_BATCH_BYTES}, refused before it is read."),
                "415": _problem_response("Not text/csv, .xlsx or multipart/form-data."),
                "422": _problem_response(
                    "Nothing was issued: the rows' problems, or why the file "
                    f"is unusable (including more than {_BATCH_ROWS} rows), "
                    "or the Idempotency-Key was used for another file.",
                    "BatchProblem",
                ),
                "429": {"$ref": "#/components/responses/TooManyRequests"},
                "503": {"$ref": "#/components/responses/ServiceUnavailable"},
            },
        }
    },
}


#: Offline checks (docs/offline.md): the signed trust bundle and the keys that sign it.
OFFLINE_PATHS: dict[str, Any] = {
    "/api/v1/offline/bundle": {
        "get": {
            "summary": "The signed trust bundle for offline checks, or the delta after a sequence",
            "description": "One compact JWS (typ skk-bundle+jwt, EdDSA) signed by a bundle key: "
            "agencies, keys and every revoked or suspended credential, fresh for "
            "SKK_OFFLINE_MAX_AGE seconds. With since, the changes after that sequence number as a "
            "signed delta. Gzipped when the client accepts gzip.",
            "tags": ["public"],
            "parameters": [
                {
                    "name": "since",
                    "in": "query",
                    "required": False,
                    "description": "The seq of the bundle the client holds.",
                    "schema": {"type": "integer", "minimum": 0, "maximum": 9_999_999_999_999_999},
                }
            ],
            "responses": {
                # No schema: the body is a compact JWS, often sent with Content-Encoding gzip.
                "200": {
                    "description": "The bundle or delta (RFC 7519 §10.3.1 media type).",
                    "content": {"application/jwt": {}},
                },
                "400": _problem_response("since is not a whole number from 0."),
                "410": _problem_response(
                    "No delta from that sequence (unknown, from before a "
                    "reset, or too many changes): fetch the full bundle."
                ),
                "429": {"$ref": "#/components/responses/TooManyRequests"},
                "503": {"$ref": "#/components/responses/ServiceUnavailable"},
            },
        }
    },
    "/.well-known/skk-bundle-keys.json": {
        "get": {
            "summary": "The bundle keys to pin (CORS open)",
            "description": "Ed25519 JWKs with created (and retired, for the previous key while "
            "a bundle it signed can still be fresh), as NumericDates.",
            "tags": ["public"],
            "responses": {
                "200": {
                    "description": "The key set.",
                    "content": {"application/json": {"schema": _ref("Jwks")}},
                },
                "503": {"$ref": "#/components/responses/ServiceUnavailable"},
            },
        }
    },
}

"""OpenAPI 3.1 for crew checks: ``/api/v1/crew-check``, ``/api/v1/projects...`` and the webhook
events subscribers receive (the document's top-level ``webhooks``).

Statuses, findings and limits come from the modules that define them, so this cannot drift from
what the code does; tests check routes, examples and real answers against it.
"""

from __future__ import annotations

from typing import Any

from verifier.core.crew.evaluation import STATUSES, Finding
from verifier.core.crew.roster import MAX_CREDENTIAL_LENGTH, MAX_WORKERS
from verifier.store.outbox import EXPIRING_EVENT, KEY_REVOKED_EVENT, STATE_EVENTS
from verifier.web.openapi_spec import AGENCY_ID, INSTANT, NUMBER, _object, _ref
from verifier.web.requests import XLSX_TYPE

OWNER: list[dict[str, list[str]]] = [{"ownerKey": []}]
DATE = {
    "type": "string",
    "format": "date",
    "examples": ["2026-12-31"],
    "description": "A calendar day in WIB (YYYY-MM-DD).",
}
_TEXT = {"type": ["string", "null"]}

SECURITY_SCHEME = {
    "type": "http",
    "scheme": "bearer",
    "bearerFormat": "skk_<key_id>_<secret>",
    "description": "A project owner's key: `skk apikey create --owner ID`. It acts only for "
    "that owner's projects, and is refused on every agency route (an agency's key likewise "
    "here).",
}

REQUIREMENT = _object(
    {
        "job_code": {
            "type": "string",
            "pattern": "^[A-Za-z]{2}[0-9]{6}$",
            "examples": ["ME063100"],
        },
        "min_level": {"type": "integer", "minimum": 1, "maximum": 9},
    }
)
WORKER_IN = _object(
    {
        "ref": {**_TEXT, "maxLength": 100, "description": "The owner's own reference, echoed."},
        "credential": {
            **_TEXT,
            "maxLength": MAX_CREDENTIAL_LENGTH,
            "description": "The verify URL, QR payload or JWS, as scanned.",
        },
        "agency": {**_TEXT, "description": "Agency id or full name (with number and name)."},
        "number": {**_TEXT, "description": "Certificate number as printed."},
        "holder_name": {**_TEXT, "description": "Holder's name as printed."},
    },
    required=[],
    description="Either credential, or agency + number + holder_name (credential wins when "
    "both are given). Never a NIK: unknown members are refused.",
)
WORKERS = {"type": "array", "items": _ref("CrewWorkerInput"), "maxItems": MAX_WORKERS}
REPORT_WORKER = _object(
    {
        "line": {
            "type": "integer",
            "minimum": 1,
            "description": "Line of the row in the uploaded file (file uploads only).",
        },
        "ref": {**_TEXT, "description": "As given; present for JSON rows and when a file has it."},
        "status": {
            "type": "string",
            "enum": list(STATUSES),
            "description": "The SPEC §3 status, or for rows given by number: "
            "not_found (no credential of that agency has that number with that name), "
            "name_mismatch (the number exists under another name; told to project "
            "owners only, the public check "
            "says not_found, as /cek would).",
        },
        "credential": {"oneOf": [_ref("Credential"), {"type": "null"}]},
        "revocation": {"oneOf": [_ref("Revocation"), {"type": "null"}]},
        "findings": {
            "type": "array",
            "items": {"type": "string", "enum": [f.value for f in Finding]},
        },
    },
    required=["status", "credential", "revocation", "findings"],
)
_COUNTS = {"type": "object", "additionalProperties": {"type": "integer", "minimum": 1}}
REPORT = _object(
    {
        "project": _object(
            {
                "id": {"type": "string"},
                "name": _TEXT,
                "starts": DATE,
                "ends": {**DATE, "type": ["string", "null"]},
                "requirements": {"type": "array", "items": _ref("CrewRequirement")},
            },
            required=["name", "ends", "requirements"],
        ),
        "checked_at": INSTANT,
        "summary": _object(
            {
                "workers": {"type": "integer", "minimum": 0},
                "ok": {"type": "integer", "minimum": 0},
                "problems": {
                    "type": "integer",
                    "minimum": 0,
                    "description": "Workers whose status is not valid, or who have any finding.",
                },
                "by_status": {**_COUNTS, "propertyNames": {"enum": list(STATUSES)}},
                "by_finding": {**_COUNTS, "propertyNames": {"enum": [f.value for f in Finding]}},
            }
        ),
        "workers": {
            "type": "array",
            "items": _ref("CrewReportWorker"),
            "description": "In input order.",
        },
    }
)
PROJECT = _object(
    {
        "id": {"type": "string", "pattern": "^[0-9a-f]{16}$"},
        "name": {"type": "string", "maxLength": 200},
        "starts": DATE,
        "ends": DATE,
        "requirements": {"type": "array", "items": _ref("CrewRequirement")},
        "created_at": INSTANT,
    }
)
WEBHOOK = _object(
    {"id": {"type": "string"}, "url": {"type": "string", "format": "uri"}, "created_at": INSTANT}
)
EVENT = _object(
    {
        "type": {
            "type": "string",
            "enum": [*STATE_EVENTS.values(), KEY_REVOKED_EVENT, EXPIRING_EVENT],
        },
        "timestamp": INSTANT,
        "data": _object(
            {
                "project": _object({"id": {"type": "string"}, "name": {"type": "string"}}),
                "credential": _object(
                    {"agency": AGENCY_ID, "number": NUMBER, "expires_at": INSTANT},
                    required=["agency", "number"],
                ),
                "status": {
                    "type": "string",
                    "enum": ["revoked", "suspended", "active", "key_revoked"],
                },
                "reason": {"type": ["string", "null"]},
                "changed_at": INSTANT,
                "days_left": {"type": "integer", "minimum": 1},
                "workers": {
                    "type": "array",
                    "items": _object(
                        {
                            "position": {"type": "integer", "minimum": 1},
                            "line": {"type": ["integer", "null"]},
                            "ref": _TEXT,
                        }
                    ),
                },
            },
            required=["project", "credential", "workers"],
        ),
    },
    description="POSTed with headers webhook-id (stable across retries: deduplicate by it), "
    "webhook-timestamp (seconds, of the attempt) and webhook-signature: v1,<base64 of "
    "HMAC-SHA256 under the base64-decoded part of the whsec_ secret, of "
    "'<webhook-id>.<webhook-timestamp>.<body>'> (Standard Webhooks). Answer 2xx to accept; "
    "anything else is retried with exponential backoff (5 s, 10 s, 20 s ... up to an hour) "
    "for 24 hours.",
)

CREW_SCHEMAS: dict[str, Any] = {
    "CrewRequirement": REQUIREMENT,
    "CrewWorkerInput": WORKER_IN,
    "CrewCheckRequest": _object(
        {
            "project": _object(
                {
                    "name": _TEXT,
                    "ends": {**DATE, "type": ["string", "null"]},
                    "requirements": {"type": ["array", "null"], "items": _ref("CrewRequirement")},
                },
                required=[],
            ),
            "workers": WORKERS,
        },
        required=["workers"],
    ),
    "CrewRequest": _object({"workers": WORKERS}),
    "CrewReportWorker": REPORT_WORKER,
    "CrewReport": REPORT,
    "CrewProblem": {
        "allOf": [_ref("Problem")],
        "type": "object",
        "properties": {
            "errors": {
                "type": "array",
                "items": _ref("RowProblem"),
                "description": "Every problem of every row; for JSON, line is the worker's "
                "place in the list from 1 and column its member.",
            }
        },
    },
    "ProjectRequest": _object(
        {
            "name": {"type": "string"},
            "starts": DATE,
            "ends": DATE,
            "requirements": {"type": ["array", "null"], "items": _ref("CrewRequirement")},
        },
        required=["name", "starts", "ends"],
    ),
    "Project": PROJECT,
    "ProjectList": _object({"projects": {"type": "array", "items": _ref("Project")}}),
    "WebhookRequest": _object(
        {
            "url": {
                "type": "string",
                "description": "https (plain http only to loopback on a demo "
                "instance); no private or loopback address.",
            }
        }
    ),
    "Webhook": WEBHOOK,
    "WebhookCreated": _object(
        {
            **WEBHOOK["properties"],
            "secret": {"type": "string", "pattern": "^whsec_", "description": "Shown this once."},
        }
    ),
    "WebhookList": _object({"webhooks": {"type": "array", "items": _ref("Webhook")}}),
    "WebhookEvent": EVENT,
}


def _problem(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/responses/{name}"}


def _report_answer(description: str) -> dict[str, Any]:
    return {
        "description": description + " With Accept: text/csv, as CSV: one ;-separated "
        "row per worker, UTF-8 with BOM.",
        "content": {
            "application/json": {"schema": _ref("CrewReport")},
            "text/csv": {"schema": {"type": "string"}},
        },
    }


_ROSTER_BODY = {
    "text/csv": {"schema": {"type": "string"}},
    XLSX_TYPE: {"schema": {"type": "string", "contentMediaType": XLSX_TYPE}},
    "multipart/form-data": {
        "schema": {
            "type": "object",
            "required": ["file"],
            "properties": {
                "file": {"type": "string", "description": "CSV or .xlsx"},
                "name": {"type": "string"},
                "ends": {"type": "string"},
                "requirements": {"type": "string", "description": "e.g. ME063100:3, SI013017:2"},
            },
        }
    },
}
_ROSTER_TEXT = (
    f"Up to {MAX_WORKERS:,} workers. A file (CSV as Excel saves it, or .xlsx; columns: ref, "
    "kredensial/credential, lembaga/agency, nomor/number, nama/holder_name; a nik column is "
    "ignored and never kept) or JSON. Every bad row is listed in a 422 with its line and column "
    "and nothing is checked."
)
#: What a request with a body may answer before its content is judged.
_BODY_ERRORS = {
    "400": _problem("BadRequest"),
    "413": _problem("ContentTooLarge"),
    "415": _problem("UnsupportedMediaType"),
}
#: ... and a JSON body whose content breaks a rule.
_JSON_BODY_ERRORS = {**_BODY_ERRORS, "422": _problem("UnprocessableContent")}
_CREW_ERRORS = {
    **_BODY_ERRORS,
    "422": {
        "description": "Bad rows (every one listed) or project terms.",
        "content": {"application/problem+json": {"schema": _ref("CrewProblem")}},
    },
}
_OWNER_ERRORS = {
    "401": _problem("Unauthorized"),
    "429": _problem("TooManyRequests"),
    "503": _problem("ServiceUnavailable"),
}
_PROJECT_PARAM = {
    "name": "project_id",
    "in": "path",
    "required": True,
    "schema": {"type": "string"},
}


def _owner_op(summary: str, responses: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "summary": summary,
        "tags": ["owner"],
        "security": OWNER,
        **extra,
        "responses": {**responses, **_OWNER_ERRORS},
    }


def _in_project(summary: str, responses: dict[str, Any], **extra: Any) -> dict[str, Any]:
    extra.setdefault("parameters", [_PROJECT_PARAM])
    return _owner_op(summary, {**responses, "404": _problem("NotFound")}, **extra)


def _json_answer(name: str, description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref(name)}}}


_NO_CONTENT = {"description": "Deleted."}

CREW_PATHS: dict[str, Any] = {
    "/api/v1/crew-check": {
        "post": {
            "summary": "Check a whole crew at once (nothing is stored)",
            "description": _ROSTER_TEXT + " Rows given by number count as manual checks "
            "unless a project owner's key is sent, by outcome: misses against the per-client "
            "SKK_RATELIMIT_MANUAL_CHECK, found certificates against "
            "SKK_RATELIMIT_MANUAL_CHECK_MATCH; scanned rows never count. Project terms: JSON "
            "member project, or for files the query or form fields name, ends (YYYY-MM-DD) "
            "and requirements (ME063100:3, ...).",
            "tags": ["public"],
            "security": [{}, *OWNER],
            "parameters": [
                {
                    "name": name,
                    "in": "query",
                    "required": False,
                    "schema": {"type": "string"},
                    "description": f"Project {name} (files).",
                }
                for name in ("name", "ends", "requirements")
            ],
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {"schema": _ref("CrewCheckRequest")},
                    **_ROSTER_BODY,
                },
            },
            "responses": {
                "200": _report_answer("The report, whatever the workers' statuses."),
                **_CREW_ERRORS,
                **_OWNER_ERRORS,
            },
        }
    },
    "/api/v1/projects": {
        "post": _owner_op(
            "Register a project to watch",
            {
                "201": _json_answer("Project", "Registered; Location names it."),
                **_JSON_BODY_ERRORS,
            },
            requestBody={
                "required": True,
                "content": {"application/json": {"schema": _ref("ProjectRequest")}},
            },
        ),
        "get": _owner_op(
            "The owner's projects", {"200": _json_answer("ProjectList", "Latest end first.")}
        ),
    },
    "/api/v1/projects/{project_id}": {
        "get": _in_project(
            "One of the owner's projects", {"200": _json_answer("Project", "The project.")}
        ),
        "delete": _in_project(
            "Delete a project with its crew and webhook subscriptions", {"204": _NO_CONTENT}
        ),
    },
    "/api/v1/projects/{project_id}/crew": {
        "put": _in_project(
            "Replace the project's crew; answers its report",
            {"200": _report_answer("The crew's report."), **_CREW_ERRORS},
            description=_ROSTER_TEXT + " A credential on a crew is watched while the project runs.",
            requestBody={
                "required": True,
                "content": {"application/json": {"schema": _ref("CrewRequest")}, **_ROSTER_BODY},
            },
        )
    },
    "/api/v1/projects/{project_id}/report": {
        "get": _in_project(
            "The crew checked now against the project's terms",
            {"200": _report_answer("The report.")},
        )
    },
    "/api/v1/projects/{project_id}/webhooks": {
        "post": _in_project(
            "Subscribe to the project's events (Standard Webhooks)",
            {
                "201": _json_answer(
                    "WebhookCreated", "The subscription and its secret, shown this once."
                ),
                **_JSON_BODY_ERRORS,
            },
            requestBody={
                "required": True,
                "content": {"application/json": {"schema": _ref("WebhookRequest")}},
            },
        ),
        "get": _in_project(
            "The project's subscriptions (never their secrets)",
            {"200": _json_answer("WebhookList", "Oldest first.")},
        ),
    },
    "/api/v1/projects/{project_id}/webhooks/{webhook_id}": {
        "delete": _in_project(
            "Delete a subscription with its undelivered messages",
            {"204": _NO_CONTENT},
            parameters=[
                _PROJECT_PARAM,
                {
                    "name": "webhook_id",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "string"},
                },
            ],
        )
    },
}

WEBHOOKS: dict[str, Any] = {
    "crewEvent": {
        "post": {
            "summary": "A credential on a watched crew was revoked, suspended or reinstated, "
            "its signing key was revoked, or it expires within 30 days before the project ends",
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": _ref("WebhookEvent")}},
            },
            "parameters": [
                {"name": name, "in": "header", "required": True, "schema": {"type": "string"}}
                for name in ("webhook-id", "webhook-timestamp", "webhook-signature")
            ],
            "responses": {"2XX": {"description": "Accepted; anything else is retried."}},
        }
    },
}

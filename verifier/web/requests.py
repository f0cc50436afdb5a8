"""JSON bodies in and out: strict parsing, member type checks, and responses in our key order.

SPEC §6: a wrong content type is 415; a body that is not one strict JSON object, a member of the
wrong type and a member we do not know are all 400 naming the member; only then do domain rules
(422) apply. Unknown members are refused rather than ignored so that a client can never believe it
set ``iss``, ``kid`` or a time claim: those are always the service's own.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from flask import Blueprint, Response, request
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge, UnsupportedMediaType

if TYPE_CHECKING:  # typeshed's WSGI protocol types exist for type checkers only
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

from verifier.core.jws import MalformedToken, parse_json_object
from verifier.core.nik import holds_nik_like
from verifier.web.problems import problem

_SAFE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,39}")
_KIND_NAMES = {
    str: "a string",
    int: "an integer",
    dict: "an object",
    list: "an array",
    bool: "true or false",
}


class InvalidBody(BadRequest):
    """400: the body is not the JSON object this endpoint takes; ``field`` names the member."""

    def __init__(self, detail: str, field: str | None = None) -> None:
        super().__init__(detail)
        self.field = field


@dataclass(frozen=True)
class Member:
    """One member of a request object: its JSON type, and whether it must be present."""

    kind: type
    required: bool = False


def register(bp: Blueprint) -> None:
    """Answer InvalidBody raised in this blueprint with a problem that names the member."""
    bp.register_error_handler(InvalidBody, _invalid_body)


def _invalid_body(error: InvalidBody) -> Response:
    extra = {"field": error.field} if error.field else {}
    return problem(400, error.description, **extra)


def read_object(
    members: Mapping[str, Member], *, allow_empty: bool = False, lone_surrogates: bool = False
) -> dict[str, Any]:
    """The body's members, type-checked; optional members that are absent or null are left out.

    ``lone_surrogates``: accept JSON strings holding them (see jws.parse_json_object); only for
    members that are checked as untrusted text afterwards, like the token to verify.
    """
    if allow_empty and not request.content_length and not request.get_data(cache=True):
        return {}
    return check_members(_body(lone_surrogates), members)


def check_members(body: Any, members: Mapping[str, Member], where: str = "") -> dict[str, Any]:
    """``body``'s members, type-checked as :func:`read_object` does; ``where`` names a nested
    object in messages and ``field`` (``workers[3].``)."""
    if not isinstance(body, dict):
        raise InvalidBody(
            f"{where.rstrip('.') or 'the body'} must be an object", field=where.rstrip(".") or None
        )
    for name in body:
        if name not in members:
            if _SAFE_NAME.fullmatch(name) and not holds_nik_like(name):
                raise InvalidBody(f"unknown member {where + name!r}", field=where + name)
            raise InvalidBody("unknown member")  # never echo a name that could be a NIK
    checked: dict[str, Any] = {}
    for name, member in members.items():
        value = body.get(name)
        if value is None:
            if member.required:
                raise InvalidBody(f"member {where + name!r} is required", field=where + name)
            continue
        if not _has_kind(value, member.kind):
            raise InvalidBody(
                f"member {where + name!r} must be {_KIND_NAMES[member.kind]}", field=where + name
            )
        checked[name] = value
    return checked


def read_json_object() -> dict[str, Any]:
    """The body as one strict JSON object, unchecked (for bodies with nested members)."""
    return _body()


def _body(lone_surrogates: bool = False) -> dict[str, Any]:
    """The parsed body of this request."""
    if not request.is_json:
        raise UnsupportedMediaType("send the body as application/json")
    # get_data enforces MAX_CONTENT_LENGTH (413) before a single byte is parsed.
    data = request.get_data(cache=True)
    try:
        body = parse_json_object(data, "request body", lone_surrogates=lone_surrogates)
    except MalformedToken as exc:
        raise InvalidBody(str(exc)) from None
    return body


def _has_kind(value: object, kind: type) -> bool:
    # bool is an int in Python but not in JSON: ``"level": true`` is a wrong type.
    return isinstance(value, kind) and (kind is bool or not isinstance(value, bool))


def json_response(data: Any, status: int = 200) -> Response:
    """A JSON response keeping our member order (Flask's provider would sort the keys).

    ASCII escapes keep any text we ever stored encodable, so building a response cannot fail.
    """
    return Response(json.dumps(data), status=status, mimetype="application/json")


def attachment(data: bytes, mimetype: str, name: str) -> Response:
    """A file to download under ``name`` (templates, exports)."""
    response = Response(data, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


class ChunkedBodyLimit:
    """WSGI middleware: a body sent without Content-Length (chunked) gets one, or is refused.

    Werkzeug's stream stops quietly at ``max_content_length`` when there is no Content-Length,
    so a view would parse a truncated body (a cut CSV may even end on a row boundary). Buffering
    up to ``limit`` bytes (the largest body any route takes) plus one, and stating the length,
    lets every route's own Content-Length check answer 413 before anything is parsed.
    """

    def __init__(self, app: WSGIApplication, limit: int) -> None:
        self.app = app
        self.limit = limit

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        """Buffer a body of unstated length (up to the limit, plus one byte), then pass it on."""
        chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        # Servers that de-chunk themselves may instead leave Content-Length out and mark the
        # stream as ending by itself (wsgi.input_terminated), which Werkzeug honours the same way.
        unstated = not environ.get("CONTENT_LENGTH") and environ.get("wsgi.input_terminated")
        if not (chunked or unstated):
            return self.app(environ, start_response)
        body = environ["wsgi.input"].read(self.limit + 1)
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))  # over every limit when it was cut here
        # Werkzeug ignores Content-Length while Transfer-Encoding says chunked (RFC 9112 §6.3).
        environ.pop("HTTP_TRANSFER_ENCODING", None)
        return self.app(environ, start_response)


CSV_TYPES = frozenset({"text/csv", "application/csv"})
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MULTIPART_TYPE = "multipart/form-data"


def accept_body_up_to(limit: int, too_large: str) -> None:
    """Let this route read a body up to ``limit`` bytes (the app's default is 16 KiB); 413 with
    ``too_large`` before a byte is read when Content-Length says more."""
    request.max_content_length = limit
    # Werkzeug's multipart reader buffers 64 KiB reads and refuses any buffer over the form
    # memory limit (16 KiB app-wide), so without this any uploaded file over 16 KiB got a 413.
    request.max_form_memory_size = limit
    # A chunked body has a Content-Length by now too (ChunkedBodyLimit), so this refuses any
    # body over the limit before a byte of it is parsed.
    if request.content_length is not None and request.content_length > limit:
        raise RequestEntityTooLarge(too_large)


def is_upload() -> bool:
    """The body is a CSV, an .xlsx or a multipart form (rather than JSON)."""
    return request.mimetype in CSV_TYPES | {XLSX_TYPE, MULTIPART_TYPE}


def read_upload(what: str) -> tuple[bytes, str]:
    """The uploaded list's bytes and a name hinting its kind (only ``.xlsx`` matters to the
    reader): a text/csv or .xlsx body, or a multipart form with the file in part ``file``."""
    mimetype = request.mimetype
    if mimetype in CSV_TYPES | {XLSX_TYPE}:
        data = request.get_data(cache=False)
        return data, "upload.xlsx" if mimetype == XLSX_TYPE else "upload.csv"
    if mimetype == MULTIPART_TYPE:
        upload = request.files.get("file")
        if upload is None:
            raise InvalidBody(
                f"the multipart body needs the {what} in a part named 'file'", field="file"
            )
        # The part's own name only tells .xlsx from CSV; it is never echoed (it may hold anything).
        name = "upload.xlsx" if (upload.filename or "").lower().endswith(".xlsx") else "upload.csv"
        return upload.read(), name
    raise UnsupportedMediaType(
        f"send the {what} as text/csv, {XLSX_TYPE}, or {MULTIPART_TYPE} with a part named 'file'"
    )

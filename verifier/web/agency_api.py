"""Agency JSON API (SPEC §6), authenticated with ``Authorization: Bearer skk_<id>_<secret>``.

Every lookup is scoped to the caller's agency, so another agency's record is simply not there
(404), exactly like one that never existed. The views compose the same core calls as the CLI.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, request, url_for

from verifier.core.credential import checked_number, day_span, parse_instant
from verifier.core.errors import InvalidInput, NotFound
from verifier.core.nik import check_nik
from verifier.issuance.issuer import IssueRequest
from verifier.issuance.service import Issued
from verifier.qr import render
from verifier.store import approvals, audit, credential_list, credentials, records, revocation
from verifier.store.db import storage_errors
from verifier.store.revocation import NO_SUCH_CREDENTIAL
from verifier.web import auth, idempotency, requests
from verifier.web.auth import current_caller
from verifier.web.requests import InvalidBody, Member, json_response, read_object
from verifier.web.state import current_state

bp = Blueprint("agency_api", __name__, url_prefix="/api/v1")
auth.protect(bp)
requests.register(bp)

ISSUE_MEMBERS = {
    "holder_name": Member(str, required=True),
    "job_code": Member(str),
    "job_title": Member(str),
    "level": Member(int, required=True),
    "nik": Member(str),
    "number": Member(str),
    "valid_from": Member(str),
    "allow_expired": Member(bool),
    "allow_future": Member(bool),
}
NIK_MEMBERS = {"nik": Member(str, required=True)}
REASON_MEMBERS = {"reason": Member(str, required=True), "note": Member(str)}
NOTE_MEMBERS = {"note": Member(str)}


@bp.post("/credentials")
@storage_errors()
def issue_credential() -> Response:
    """Issue and sign a credential for the caller's agency; ``201 {"number","token","url"}``;
    once per ``Idempotency-Key`` (verifier.web.idempotency)."""
    body = read_object(ISSUE_MEMBERS)
    caller = current_caller()

    def issue(keep: idempotency.Keep) -> Response:
        issue_request = _issue_request(caller.agency_id, body)
        answered: list[Response] = []

        def store_with(issued: Issued) -> None:
            # In the issuing transaction: the answer is kept with the credential or not at all.
            response = json_response(issued.to_dict(), 201)
            response.headers["Location"] = url_for(".get_credential", number=issued.number)
            keep(response)
            answered.append(response)

        current_state().issuing.issue(
            issue_request, actor=caller.actor, now=int(time.time()), store_with=store_with
        )
        return answered[0]

    # A retry with the same Idempotency-Key gets the first answer instead of a second credential.
    return idempotency.answer_once(
        idempotency.agency_scope(caller.agency_id), request.get_data(cache=True), issue
    )


def _issue_request(agency_id: str, body: dict[str, Any]) -> IssueRequest:
    """The core request; iss and every time except valid_from are ours, never the client's."""
    if body.get("nik") is not None:
        check_nik(body["nik"])
    valid_from = None
    if body.get("valid_from") is not None:
        try:
            valid_from = parse_instant(body["valid_from"])
        except ValueError:
            raise InvalidInput(
                "valid_from must be an ISO-8601 date or date-time", field="valid_from"
            ) from None
    return IssueRequest(
        agency_id=agency_id,
        holder_name=body["holder_name"],
        level=body["level"],
        job_code=body.get("job_code"),
        job_title=body.get("job_title"),
        nik=body.get("nik"),
        number=body.get("number"),
        valid_from=valid_from,
        allow_expired=body.get("allow_expired", False),
        allow_future=body.get("allow_future", False),
    )


@bp.get("/credentials/<number>")
@storage_errors()
def get_credential(number: str) -> Response:
    """One of the caller's own records."""
    record = records.get_record(current_caller().agency_id, _existing(number))
    return json_response(record)


def _existing(number: str) -> str:
    """A number that could exist, canonical; any other cannot name a record, so 404.

    Checked before any query: PostgreSQL refuses a NUL in a parameter outright (a 5xx otherwise).
    """
    try:
        return checked_number(number)
    except InvalidInput:
        raise NotFound(NO_SUCH_CREDENTIAL, field="number") from None


@bp.get("/credentials")
@storage_errors()
def find_credentials() -> Response:
    """``?nik=``: the caller's credentials for that NIK (SPEC §6; the POST form keeps it out of
    logs). Otherwise a page of all of them, newest first, filtered by status, job_code, level,
    issued_from and issued_to; ``Link`` names the next and previous pages, ``X-Total-Count``
    counts them all."""
    unknown = sorted(set(request.args) - LIST_PARAMETERS - {"nik"})
    if unknown:
        raise InvalidBody(f"unknown query parameter {unknown[0]!r}", field=unknown[0])
    nik = request.args.get("nik")
    if nik is not None:
        if set(request.args) != {"nik"}:
            raise InvalidBody("nik cannot be combined with the list's parameters", field="nik")
        return _find(nik)
    return _list_page()


#: What ``GET /api/v1/credentials`` takes besides ``nik``.
LIST_PARAMETERS = frozenset(
    {"status", "job_code", "level", "issued_from", "issued_to", "page", "per_page"}
)


def _list_page() -> Response:
    args = request.args
    issued_from, issued_before = day_span(
        args.get("issued_from"), args.get("issued_to"), ("issued_from", "issued_to")
    )
    filters = credential_list.ListFilter(
        status=args.get("status"),
        job_code=args.get("job_code"),
        level=_whole_number("level"),
        issued_from=issued_from,
        issued_before=issued_before,
    )
    page = credential_list.list_records(
        current_caller().agency_id,
        filters,
        page=_number_or("page", 1),
        per_page=_number_or("per_page", credential_list.DEFAULT_PER_PAGE),
        now=int(time.time()),
    )
    response = json_response(page.records)
    response.headers["X-Total-Count"] = str(page.total)
    links = [
        f'<{_page_url(number)}>; rel="{rel}"'
        for number, rel in ((page.page + 1, "next"), (page.page - 1, "prev"))
        if 1 <= number <= page.pages
    ]
    if links:
        response.headers["Link"] = ", ".join(links)  # RFC 8288
    return response


def _number_or(name: str, default: int) -> int:
    value = _whole_number(name)
    return default if value is None else value


def _whole_number(name: str) -> int | None:
    value = request.args.get(name)
    if value is None:
        return None
    if not (value.isascii() and value.isdigit()) or len(value) > 9:
        raise InvalidBody(f"query parameter {name!r} must be a whole number", field=name)
    return int(value)


def _page_url(number: int) -> str:
    args: dict[str, Any] = {**request.args.to_dict(), "page": str(number)}
    return url_for(".find_credentials", **args)


@bp.post("/credentials/search")
@storage_errors()
def search_credentials() -> Response:
    """The caller's credentials for the NIK in the body."""
    return _find(read_object(NIK_MEMBERS)["nik"])


def _find(nik: str) -> Response:
    pepper = current_state().settings.nik_pepper
    return json_response(records.find_by_nik(current_caller().agency_id, nik, pepper))


@bp.get("/credentials/<number>/qr.svg")
@storage_errors()
def credential_qr_svg(number: str) -> Response:
    """The QR code of an own credential as SVG."""
    return Response(render.qr_svg(_credential_url(number)), mimetype="image/svg+xml")


@bp.get("/credentials/<number>/qr.png")
@storage_errors()
def credential_qr_png(number: str) -> Response:
    """The QR code of an own credential as PNG."""
    return Response(render.qr_png(_credential_url(number)), mimetype="image/png")


def _credential_url(number: str) -> str:
    token = records.get_token(current_caller().agency_id, _existing(number))
    return current_state().issuing.verify_url(token)


@bp.post("/credentials/<number>/revoke")
@storage_errors()
def revoke_credential(number: str) -> Response:
    """Revoke an own credential for good; with four-eyes on, ``202`` and the request waits for
    a second admin in the console."""
    return _with_reason(approvals.revoke_or_request, number)


@bp.post("/credentials/<number>/suspend")
@storage_errors()
def suspend_credential(number: str) -> Response:
    """Suspend an own credential until reinstated."""
    return _with_reason(revocation.suspend, number)


@bp.post("/credentials/<number>/reinstate")
@storage_errors()
def reinstate_credential(number: str) -> Response:
    """Lift a suspension; the body (``{"note"}``) may be left out."""
    body = read_object(NOTE_MEMBERS, allow_empty=True)
    caller = current_caller()
    change = revocation.reinstate(
        caller.agency_id,
        number,
        note=body.get("note"),
        actor=caller.actor,
        now=int(time.time()),
    )
    return _state_change(change)


def _with_reason(
    action: Callable[..., revocation.StateChange | approvals.Approval], number: str
) -> Response:
    body = read_object(REASON_MEMBERS)
    caller = current_caller()
    change = action(
        caller.agency_id,
        number,
        body["reason"],
        note=body.get("note"),
        actor=caller.actor,
        now=int(time.time()),
    )
    if isinstance(change, approvals.Approval):
        return json_response(
            {
                "agency": change.agency_id,
                "number": change.number,
                "status": "pending_approval",
                "approval": change.id,
            },
            202,
        )
    return _state_change(change)


#: Carries revocation.AS_TYPED_NOTE beside the SPEC §5 object, whose members are fixed.
AS_TYPED_HEADER = "SKK-Number-Note"


def _state_change(change: revocation.StateChange) -> Response:
    response = json_response(change.to_dict())
    if change.as_typed:
        response.headers[AS_TYPED_HEADER] = revocation.AS_TYPED_NOTE
    return response


@bp.get("/audit")
@storage_errors()
def audit_log() -> Response:
    """The caller's audit log, oldest first: ``?after=<id>`` continues where the last page ended
    (``next`` gives it), ``?number=``, ``?actor=``, ``?action=``, ``?since=``, ``?until=``
    (dates, ``until`` inclusive) narrow it."""
    unknown = sorted(set(request.args) - AUDIT_PARAMETERS)
    if unknown:
        raise InvalidBody(f"unknown query parameter {unknown[0]!r}", field=unknown[0])
    args = request.args
    number = args.get("number")
    since, until = day_span(args.get("since"), args.get("until"), ("since", "until"))
    filters = audit.AuditFilter(
        number=None
        if number is None
        else credentials.stored_number(current_caller().agency_id, number),
        actor=args.get("actor"),
        action=args.get("action"),
        since=since,
        until=until,
    )
    limit = _number_or("limit", AUDIT_PAGE)
    if not 1 <= limit <= AUDIT_PAGE:
        raise InvalidBody(f"limit must be from 1 to {AUDIT_PAGE}", field="limit")
    events = audit.oldest(
        current_caller().agency_id, filters, after=_number_or("after", 0), limit=limit
    )
    following = None
    if len(events) == limit:
        query: dict[str, Any] = {**args.to_dict(), "after": str(events[-1].id)}
        following = url_for(".audit_log", **query)
    return json_response({"events": [event.to_dict() for event in events], "next": following})


#: Events per answer of ``GET /api/v1/audit`` (and the most ``?limit=`` may ask for).
AUDIT_PAGE = 1000
AUDIT_PARAMETERS = frozenset({"number", "actor", "action", "since", "until", "after", "limit"})

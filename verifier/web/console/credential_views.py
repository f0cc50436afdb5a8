"""Dashboard, issuing one certificate, search, the list, and a certificate's own page with its
suspend / reinstate / revoke steps (each behind a confirmation page)."""

from __future__ import annotations

import base64
from typing import Any

from flask import Response, abort, render_template, request
from flask_babel import gettext as _

from verifier.core.credential import checked_number, day_span, day_start
from verifier.core.errors import Conflict, InvalidInput, NotFound
from verifier.core.nik import check_nik, holds_nik_like
from verifier.issuance.issuer import IssueRequest
from verifier.qr import render
from verifier.store import approvals, audit, credential_list, records, registry, revocation
from verifier.store.audit import AuditFilter
from verifier.store.credential_list import ListFilter
from verifier.store.staff_accounts import StaffAccount
from verifier.web.console.blueprint import bp, current_account, notify, now, requires
from verifier.web.console.forms import field, go, page_number, problem, shown
from verifier.web.state import current_state

#: Who may do which state change, and the status each one needs to start from.
STATE_CHANGES = {
    "suspend": ("operator", ("active",)),
    "reinstate": ("operator", ("suspended",)),
    "revoke": ("admin", ("active", "suspended")),
}
RECENT_ACTIONS = 10
SEARCH_KINDS = ("number", "name", "nik")


@bp.get("/")
def dashboard() -> str:
    """Counts, what waits for a second admin, and the latest actions."""
    agency_id = current_account().agency_id
    return render_template(
        "console/dashboard.html",
        agency=registry.get_agency(agency_id),
        counts=credential_list.counts(agency_id, now()),
        waiting=approvals.pending(agency_id),
        four_eyes=approvals.four_eyes(agency_id),
        recent=audit.newest(agency_id, AuditFilter(), offset=0, limit=RECENT_ACTIONS),
    )


# --- issue one ---------------------------------------------------------------------------------


@bp.get("/issue")
@requires("operator")
def issue_form() -> str:
    """The form for one certificate."""
    return _issue_page({}, None)


def _issue_page(form: dict[str, str], error: dict[str, str] | None) -> str:
    agency = registry.get_agency(current_account().agency_id)
    titles = sorted({job.title for job in credential_list.job_choices(agency.id)}, key=str.casefold)
    levels = range(agency.level_min, agency.level_max + 1)
    return render_template(
        "console/issue.html", titles=titles, levels=levels, form=form, error=error
    )


@bp.post("/issue")
@requires("operator")
def issue() -> Response | tuple[str, int]:
    """Issue it; the job title and level are checked against the master list."""
    account = current_account()
    form = {
        name: field(name) for name in ("holder_name", "job_title", "level", "nik", "valid_from")
    }
    try:
        issued = current_state().issuing.issue(
            _issue_request(account.agency_id, form), actor=account.actor, now=now()
        )
    except (InvalidInput, Conflict) as exc:
        # The NIK is never filled back in; a name holding one neither.
        refill = {key: shown(value) for key, value in form.items() if key != "nik"}
        return _issue_page(refill, problem(exc)), 422
    number = issued.number
    notify(_("Certificate %(number)s has been issued.", number=number))
    return go("console.credential", number=number)


def _issue_request(agency_id: str, form: dict[str, str]) -> IssueRequest:
    level = form["level"]
    if not (level.isascii() and level.isdigit() and len(level) == 1):
        raise InvalidInput("choose a level", field="level")
    nik = form["nik"] or None
    if nik is not None:
        check_nik(nik)
    valid_from = form["valid_from"]
    return IssueRequest(
        agency_id=agency_id,
        holder_name=form["holder_name"],
        level=int(level),
        job_title=form["job_title"],
        nik=nik,
        valid_from=day_start(valid_from, "valid_from") if valid_from else None,
    )


# --- search and list ---------------------------------------------------------------------------


@bp.get("/search")
def search_form() -> str:
    """Search by number, name or NIK (sent by POST: a NIK never goes into a URL)."""
    return render_template("console/search.html", by="number", query="", results=None, error=None)


@bp.post("/search")
def search() -> tuple[str, int] | str:
    """The agency's certificates matching the query; the NIK is matched by its HMAC only."""
    by = request.form.get("by", "number")
    if by not in SEARCH_KINDS:
        abort(400)
    typed = field("query")
    query_shown = "" if by == "nik" else shown(typed)
    try:
        results = _search(current_account().agency_id, by, typed)
    except InvalidInput as exc:
        return render_template(
            "console/search.html", by=by, query=query_shown, results=None, error=problem(exc)
        ), 422
    return render_template(
        "console/search.html", by=by, query=query_shown, results=results, error=None
    )


def _search(agency_id: str, by: str, typed: str) -> list[dict[str, Any]]:
    if by == "nik":
        return records.find_by_nik(agency_id, typed, current_state().settings.nik_pepper)
    if by == "name":
        return credential_list.find_by_name(agency_id, typed)
    if holds_nik_like(typed):
        raise InvalidInput("that looks like a NIK: search by NIK instead", field="number")
    try:
        return [records.get_record(agency_id, typed)]
    except NotFound:
        return []


@bp.get("/credentials")
def credential_list_page() -> tuple[str, int] | str:
    """The agency's certificates, newest first, filtered by status, job, level, issue date."""
    agency_id = current_account().agency_id
    args = {
        name: request.args.get(name, "").strip()
        for name in ("status", "job", "level", "from", "to", "page")
    }
    try:
        page = credential_list.list_records(
            agency_id,
            _list_filter(args),
            page=page_number(args["page"]),
            per_page=credential_list.DEFAULT_PER_PAGE,
            now=now(),
        )
        error = None
    except InvalidInput as exc:
        page, error = None, problem(exc)
    jobs = credential_list.job_choices(agency_id)
    agency = registry.get_agency(agency_id)
    return render_template(
        "console/credentials.html",
        page=page,
        args=args,
        error=error,
        jobs=jobs,
        statuses=credential_list.STATUSES,
        levels=range(agency.level_min, agency.level_max + 1),
    ), (200 if error is None else 422)


def _list_filter(args: dict[str, str]) -> ListFilter:
    level = args["level"]
    if level and not (level.isascii() and level.isdigit() and len(level) == 1):
        raise InvalidInput("choose a level", field="level")
    issued_from, issued_before = day_span(args["from"] or None, args["to"] or None, ("from", "to"))
    return ListFilter(
        status=args["status"] or None,
        job_code=args["job"] or None,
        level=int(level) if level else None,
        issued_from=issued_from,
        issued_before=issued_before,
    )


# --- one certificate ---------------------------------------------------------------------------


def _own_record(number: str) -> dict[str, Any]:
    try:
        return records.get_record(current_account().agency_id, checked_number(number))
    except (InvalidInput, NotFound):
        abort(404)  # another agency's, or none: the same answer


@bp.get("/credentials/<number>")
def credential(number: str) -> str:
    """Details, verify URL and QR, the whole history, and the steps this user may take."""
    record = _own_record(number)
    agency_id = current_account().agency_id
    url = current_state().issuing.verify_url(records.get_token(agency_id, record["number"]))
    svg = render.qr_svg(url).encode()
    history = audit.oldest(agency_id, AuditFilter(number=record["number"]), after=0, limit=1000)
    waiting = approvals.pending(agency_id, record["number"])
    return render_template(
        "console/credential.html",
        record=record,
        url=url,
        history=history,
        waiting=waiting,
        qr="data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii"),
        steps=[action for action in STATE_CHANGES if _may(action, record, waiting)],
    )


def _may(action: str, record: dict[str, Any], waiting: list[approvals.Approval]) -> bool:
    role, starts_from = STATE_CHANGES[action]
    if action == "revoke" and any(item.kind == "revoke" for item in waiting):
        return False
    return current_account().may(role) and record["status"] in starts_from


@bp.get("/credentials/<number>/<action>")
def confirm_change(number: str, action: str) -> str:
    """The confirmation step of a suspend, reinstate or revoke."""
    record = _checked_step(number, action)
    return _change_page(record, action, {}, None)


def _checked_step(number: str, action: str) -> dict[str, Any]:
    if action not in STATE_CHANGES:
        abort(404)
    record = _own_record(number)
    if not current_account().may(STATE_CHANGES[action][0]):
        abort(403)
    return record


def _change_page(
    record: dict[str, Any], action: str, form: dict[str, str], error: dict[str, str] | None
) -> str:
    return render_template(
        "console/change.html",
        record=record,
        action=action,
        form=form,
        error=error,
        reasons=revocation.REASONS,
        four_eyes=action == "revoke" and approvals.four_eyes(current_account().agency_id),
    )


@bp.post("/credentials/<number>/<action>")
def change(number: str, action: str) -> Response | tuple[str, int]:
    """Carry out the confirmed step (with four-eyes on, a revoke waits for a second admin)."""
    record = _checked_step(number, action)
    account = current_account()
    form = {"reason": field("reason"), "note": field("note"), "suspend_now": field("suspend_now")}
    note = form["note"] or None
    try:
        message = _apply(action, account, record, form, note)
    except (InvalidInput, Conflict) as exc:
        return _change_page(
            record, action, {**form, "note": shown(form["note"])}, problem(exc)
        ), 422
    notify(message)
    return go("console.credential", number=record["number"])


def _apply(
    action: str,
    account: StaffAccount,
    record: dict[str, Any],
    form: dict[str, str],
    note: str | None,
) -> str:
    agency_id, number, actor = account.agency_id, record["number"], account.actor
    if action == "reinstate":
        revocation.reinstate(agency_id, number, note=note, actor=actor, now=now())
        return _("The certificate is valid again.")
    if action == "suspend":
        revocation.suspend(agency_id, number, form["reason"], note=note, actor=actor, now=now())
        return _("The certificate is suspended.")
    if not approvals.four_eyes(agency_id):
        revocation.revoke(agency_id, number, form["reason"], note=note, actor=actor, now=now())
        return _("The certificate is revoked.")
    approvals.request_revocation(
        agency_id,
        number,
        form["reason"],
        note=note,
        actor=actor,
        now=now(),
        suspend_now=bool(form["suspend_now"]),
    )
    return _("The revocation waits for a second admin's approval.")

"""The audit log (and its CSV), signing keys, API keys, users, four-eyes approvals and policy."""

from __future__ import annotations

from collections.abc import Iterator

from flask import Response, abort, render_template, request
from flask_babel import gettext as _

from verifier import key_admin
from verifier.core.credential import day_span, to_iso
from verifier.core.errors import ConfigurationError, Conflict, InvalidInput, NotFound
from verifier.issuance import keyring
from verifier.issuance.keystore import PrivateKeyStore
from verifier.printing.spreadsheet import excel_csv
from verifier.staff import accounts
from verifier.store import apikeys, approvals, audit, registry, staff_accounts
from verifier.store.audit import AuditFilter
from verifier.web.console.blueprint import bp, current_account, notify, now, requires
from verifier.web.console.forms import field, go, page_number, problem
from verifier.web.requests import attachment
from verifier.web.state import current_state

AUDIT_PAGE = 50
#: Rows per read while writing the CSV export (the export itself has no limit).
EXPORT_CHUNK = 1000
AUDIT_COLUMNS = ("id", "at", "actor", "action", "number", "status", "reason", "note", "subject")
KEY_ALGORITHMS = ("EdDSA", "ES256")


# --- audit log ---------------------------------------------------------------------------------


def _audit_filter() -> tuple[dict[str, str], AuditFilter]:
    args = {
        name: request.args.get(name, "").strip()
        for name in ("actor", "action", "from", "to", "page")
    }
    since, until = day_span(args["from"] or None, args["to"] or None, ("from", "to"))
    return args, AuditFilter(
        actor=args["actor"] or None, action=args["action"] or None, since=since, until=until
    )


@bp.get("/audit")
def audit_log() -> tuple[str, int]:
    """The agency's audit log, newest first, filtered by actor, action and date."""
    agency_id = current_account().agency_id
    args: dict[str, str] = {}
    try:
        args, filters = _audit_filter()
        page = page_number(args["page"])
        total = audit.count(agency_id, filters)
        events = audit.newest(agency_id, filters, offset=(page - 1) * AUDIT_PAGE, limit=AUDIT_PAGE)
        error = None
    except InvalidInput as exc:
        page, total, events, error = 1, 0, [], problem(exc)
    pages = max(1, -(-total // AUDIT_PAGE))
    return render_template(
        "console/audit.html",
        args=args,
        events=events,
        page=page,
        pages=pages,
        total=total,
        error=error,
        actions=audit.AGENCY_ACTIONS,
        actors=audit.actors(agency_id),
    ), (200 if error is None else 422)


@bp.get("/audit.csv")
def audit_csv() -> Response:
    """The same rows as CSV for Excel (``;``, UTF-8 with BOM), every match, newest first."""
    agency_id = current_account().agency_id
    try:
        _, filters = _audit_filter()
        audit.count(agency_id, filters)  # checks the filter before the download starts
    except InvalidInput:
        abort(422)

    def rows() -> Iterator[list[object]]:
        offset = 0
        while True:
            chunk = audit.newest(agency_id, filters, offset=offset, limit=EXPORT_CHUNK)
            for event in chunk:
                row = event.to_dict()
                yield [row[column] for column in AUDIT_COLUMNS]
            if len(chunk) < EXPORT_CHUNK:
                return
            offset += EXPORT_CHUNK

    name = f"audit-{agency_id}-{to_iso(now())[:10]}.csv"
    # Built before the response starts, so a failing database is still a proper error page.
    return attachment(excel_csv(AUDIT_COLUMNS, rows()), "text/csv", name)


# --- keys and API keys -------------------------------------------------------------------------


@bp.get("/keys")
@requires("admin")
def keys() -> str:
    """The agency's signing keys and API keys."""
    return _keys_page(created=None, error=None)


def _keys_page(created: dict[str, str] | None, error: dict[str, str] | None) -> str:
    agency_id = current_account().agency_id
    keys = registry.list_keys(agency_id)
    settings = current_state().settings
    store = PrivateKeyStore(settings.keys_dir, settings.key_passphrase)
    signing = {key.kid for key in keys if keyring.can_sign(store, key)}  # as `skk keys list`
    return render_template(
        "console/keys.html",
        keys=keys,
        signing=signing,
        api_keys=apikeys.list_keys(agency_id),
        algorithms=KEY_ALGORITHMS,
        created=created,
        error=error,
    )


@bp.post("/keys")
@requires("admin")
def generate_key() -> Response | tuple[str, int]:
    """A new signing key; the one in use is retired (tokens it signed stay valid)."""
    alg = field("alg")
    if alg not in KEY_ALGORITHMS:
        abort(400)
    account = current_account()
    settings = current_state().settings
    try:
        key = key_admin.generate_key(
            PrivateKeyStore(settings.keys_dir, settings.key_passphrase),
            account.agency_id,
            alg,
            actor=account.actor,
            now=now(),
        )
    except ConfigurationError as exc:  # no key passphrase on this host
        return _keys_page(None, problem(exc)), 503
    notify(_("New signing key %(kid)s is in use; the previous one is retired.", kid=key.kid))
    return go("console.keys")


@bp.post("/apikeys")
@requires("admin")
def create_api_key() -> str:
    """A new API key, its secret shown on this page only."""
    account = current_account()
    created = key_admin.create_api_key(account.agency_id, actor=account.actor, now=now())
    return _keys_page(created, None)


@bp.post("/apikeys/<key_id>/revoke")
@requires("admin")
def revoke_api_key(key_id: str) -> Response:
    """Stop an API key of this agency from working."""
    account = current_account()
    try:
        key_admin.revoke_api_key(
            key_id, actor=account.actor, now=now(), agency_id=account.agency_id
        )
    except NotFound:
        abort(404)
    notify(_("API key %(key_id)s is revoked.", key_id=key_id))
    return go("console.keys")


# --- users -------------------------------------------------------------------------------------


@bp.get("/users")
@requires("admin")
def users() -> str:
    """The agency's accounts."""
    return _users_page(None, None, {})


def _users_page(
    issued: dict[str, str] | None, error: dict[str, str] | None, form: dict[str, str]
) -> str:
    return render_template(
        "console/users.html",
        users=staff_accounts.list_accounts(current_account().agency_id),
        roles=staff_accounts.ROLES,
        issued=issued,
        error=error,
        form=form,
    )


@bp.post("/users")
@requires("admin")
def add_user() -> str | tuple[str, int]:
    """A new account of this agency; its one-time password is shown on this page only."""
    account = current_account()
    form = {"username": field("username").lower(), "role": field("role")}
    try:
        added, password = accounts.add_user(
            account.agency_id, form["username"], form["role"], actor=account.actor, now=now()
        )
    except (InvalidInput, Conflict) as exc:
        return _users_page(None, problem(exc), form), 422
    return _users_page({"username": added.username, "password": password}, None, {})


@bp.post("/users/<username>/<action>")
@requires("admin")
def change_user(username: str, action: str) -> Response | str | tuple[str, int]:
    """Disable an account, or reset it (new one-time password, new enrolment)."""
    account = current_account()
    if action not in ("disable", "reset"):
        abort(404)
    if username == account.username:
        # Locking oneself out needs another admin (or the CLI), never one slip of the mouse.
        return _users_page(
            None,
            {
                "field": "username",
                "detail": "",
                "summary": _("You cannot disable or reset your own account."),
            },
            {},
        ), 409
    try:
        if action == "disable":
            accounts.disable(username, actor=account.actor, now=now(), agency_id=account.agency_id)
            notify(_("%(username)s is disabled and signed out.", username=username))
            return go("console.users")
        password = accounts.reset(
            username, actor=account.actor, now=now(), agency_id=account.agency_id
        )[1]
    except NotFound:
        abort(404)
    return _users_page({"username": username, "password": password}, None, {})


# --- four-eyes ---------------------------------------------------------------------------------


@bp.get("/settings")
@requires("admin")
def settings() -> str:
    """The agency's four-eyes policy."""
    agency_id = current_account().agency_id
    return render_template(
        "console/settings.html",
        four_eyes=approvals.four_eyes(agency_id),
        waiting=approvals.pending(agency_id),
    )


@bp.post("/settings/four-eyes")
@requires("admin")
def four_eyes() -> Response:
    """Turn four-eyes on at once, or ask a second admin to turn it off."""
    account = current_account()
    try:
        if field("four_eyes") == "on":
            approvals.turn_on(account.agency_id, actor=account.actor, now=now())
            notify(_("Revocations now need a second admin's approval."))
        else:
            approvals.request_turn_off(account.agency_id, actor=account.actor, now=now())
            notify(_("Turning four-eyes off waits for a second admin's approval."))
    except Conflict:
        notify(_("Nothing changed: that is already the case or already waiting."))
    return go("console.settings")


@bp.post("/approvals/<request_id>/<decision>")
@requires("admin")
def decide(request_id: str, decision: str) -> Response:
    """Approve (a second admin) or reject (any admin, the requester too) a waiting step."""
    account = current_account()
    # (Not an int converter: a body over the limit must meet the 413 of the gate, not a 404.)
    if decision not in ("approve", "reject") or not (request_id.isascii() and request_id.isdigit()):
        abort(404)
    approval_id = int(request_id)
    try:
        if decision == "approve":
            approvals.approve(account.agency_id, approval_id, approver=account.actor, now=now())
            notify(_("Approved and carried out."))
        else:
            approvals.reject(account.agency_id, approval_id, decider=account.actor, now=now())
            notify(_("Rejected; nothing was changed."))
    except NotFound:
        abort(404)
    except Conflict as exc:
        notify(
            _("A second admin must approve what you asked for.")
            if exc.field == "approver"
            else _("Another admin decided this a moment ago.")
        )
    return go("console.dashboard")

"""Signing in and out, the first sign-in's password change and second-factor enrolment.

Failed sign-ins count against two limits shared by every worker (per account, per client;
``verifier.web.limits``); once either is spent, even a correct password is refused until the
window ends, so the limit cannot be used as an oracle. A browser the user signed in from before
(its device cookie, :mod:`verifier.store.staff_devices`) is refused only on its own failures,
so strangers failing at the account cannot lock the user out.
Every attempt is audited by the staff service (:func:`verifier.staff.accounts.sign_in`), never
with what was typed.
"""

from __future__ import annotations

import hashlib

from flask import Response, render_template, request, url_for
from flask_babel import gettext as _

from verifier.config import RateLimit
from verifier.core.errors import Conflict, InvalidInput
from verifier.qr import render
from verifier.staff import accounts
from verifier.store import audit, staff_accounts, staff_devices, staff_sessions
from verifier.store.db import storage_errors
from verifier.store.staff_accounts import StaffAccount
from verifier.web import limits
from verifier.web.console.blueprint import (
    bp,
    current_account,
    notify,
    now,
    setup_step,
)
from verifier.web.console.forms import go
from verifier.web.console.session import cookies_secure, current, end_current, start

#: The cookie naming a browser as a device of the user who signed in from it.
DEVICE_COOKIE = "skk_device"


@bp.get("/login")
def login() -> Response | str:
    """The sign-in form (a signed-in user goes to the dashboard)."""
    record = current().record
    if record is not None and record.user_id is not None:
        return go("console.dashboard")
    return render_template("console/login.html", failed=False)


@bp.post("/login")
@storage_errors()
def sign_in() -> Response | tuple[str, int]:
    """Check username, password and code; on success a new session (and id) begins."""
    username = request.form.get("username", "").strip().lower()
    password = request.form.get("password", "")
    code = request.form.get("code", "")
    limiter = limits.current_limiter()
    client = limits.client_address()
    device = request.cookies.get(DEVICE_COOKIE, "")
    known_device = bool(device) and staff_devices.username_of(device, now=now()) == username
    # The account's counter is keyed by a hash of what was typed (unknown names count too). A
    # browser that signed in as that user before is judged by its own counter instead, so that
    # strangers failing at the account cannot lock the user out; its failures still count
    # against the account too, so a stolen device cookie adds no guesses for anyone else.
    account_key = "account:" + hashlib.sha256(username.encode()).hexdigest()
    deciding_key = staff_devices.limit_key(device) if known_device else account_key
    limiter.check(RateLimit.CONSOLE_LOGIN_CLIENT, client)
    limiter.check(RateLimit.CONSOLE_LOGIN_ACCOUNT, deciding_key)
    result = accounts.sign_in(username, password, code, now=now())
    if result.account is None:
        if known_device:
            limiter.count(RateLimit.CONSOLE_LOGIN_ACCOUNT, account_key)
        limiter.hit(RateLimit.CONSOLE_LOGIN_CLIENT, client)
        limiter.hit(RateLimit.CONSOLE_LOGIN_ACCOUNT, deciding_key)
        return render_template("console/login.html", failed=True), 200
    account = result.account
    start(account.id, "active" if account.ready else "setup", now=now())
    response = go(setup_step(account) if not account.ready else "console.dashboard")
    if known_device:
        staff_devices.used(device, now=now())
    else:
        device = staff_devices.remember(account.id, now=now())
    _set_device_cookie(response, device)  # again for a known one: it lives as long as its row
    return response


def _set_device_cookie(response: Response, raw_id: str) -> None:
    """Name this browser a device of the user who just signed in (sent only to the sign-in)."""
    response.set_cookie(
        DEVICE_COOKIE,
        raw_id,
        max_age=staff_devices.KEEP_SECONDS,
        path=url_for("console.sign_in"),
        secure=cookies_secure(),
        httponly=True,
        samesite="Strict",
    )


@bp.post("/logout")
@storage_errors()
def logout() -> Response:
    """End the session."""
    account = current_account()
    audit.record(account.agency_id, account.actor, "logout", at=now())
    end_current()
    return go("console.login")


@bp.get("/password")
def password() -> str:
    """The password change form (the first sign-in must use it)."""
    return render_template("console/password.html", error=None)


@bp.post("/password")
@storage_errors()
def change_password() -> Response | tuple[str, int]:
    """Replace the password; the account's other sessions end, this one gets a new id."""
    account = current_account()
    form = request.form
    new = form.get("new", "")
    if new != form.get("confirm", ""):
        return render_template(
            "console/password.html", error=_("The two new passwords differ.")
        ), 422
    try:
        accounts.change_password(account.id, form.get("current", ""), new, now=now())
    except InvalidInput as exc:
        return render_template("console/password.html", error=_password_error(exc)), 422
    account = staff_accounts.by_id(account.id)
    start(account.id, "active" if account.ready else "setup", now=now())
    if not account.ready:
        return go(setup_step(account))
    notify(_("Your password has been changed. Your other sessions have ended."))
    return go("console.dashboard")


def _password_error(error: InvalidInput) -> str:
    if error.field == "current":
        return _("The current password is wrong.")
    return _(
        "The new password needs at least %(count)d characters and must differ from your "
        "username and the current password.",
        count=accounts.MIN_PASSWORD,
    )


@bp.get("/totp")
@storage_errors()
def totp() -> Response | str:
    """Second-factor enrolment: the otpauth QR and the secret as text."""
    account = current_account()
    if account.totp_enrolled:
        return go("console.dashboard")
    return _enrolment_page(account, error=None)


def _enrolment_page(account: StaffAccount, error: str | None) -> str:
    secret = accounts.enrolment_secret(account.id)
    uri = accounts.provisioning_uri(account.username, secret)
    image = render.enrolment_qr_data_uri(uri)
    return render_template("console/totp.html", secret=secret, qr=image, error=error)


@bp.post("/totp")
@storage_errors()
def enrol_totp() -> Response | tuple[str, int]:
    """Confirm enrolment with a first code; the account is then ready."""
    account = current_account()
    try:
        accounts.confirm_enrolment(account.id, request.form.get("code", ""), now=now())
    except InvalidInput:
        return _enrolment_page(
            account, _("That code does not match. Type the 6 digits the app shows now.")
        ), 422
    except Conflict:
        return go("console.dashboard")
    account = staff_accounts.by_id(account.id)
    record = current().record
    if record is not None:
        staff_sessions.set_stage(record.id_hash, "active" if account.ready else "setup")
    if not account.ready:
        return go(setup_step(account))
    notify(
        _(
            "Two-step sign-in is set up. From now on, sign in with your password and a code "
            "from the app."
        )
    )
    return go("console.dashboard")

"""Staff accounts: passwords (Argon2id), the TOTP second factor and signing in.

An account starts with a one-time password (``skk user add`` or an admin in the console shows
it once); the first sign-in must replace it and enrol an authenticator app (RFC 6238: 6 digits,
30-second steps). From then on every sign-in needs the password and a current code, and a code
is accepted once only: the last accepted time step is stored, and only a later step passes, so
a code seen over someone's shoulder or replayed from a log is refused. The rows themselves are
:mod:`verifier.store.staff_accounts`; every change is audited in the transaction that makes it.

Passwords are hashed with Argon2id (RFC 9106, argon2-cffi's defaults: 64 MiB, 3 passes). They
are never stored, logged or put in an audit row; nor is anything typed into the username box of
a failed sign-in, which is often a password typed one field too early.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from functools import cache

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from verifier.core.errors import Conflict, InvalidInput
from verifier.core.nik import holds_nik_like
from verifier.store import audit, staff_accounts, staff_devices, staff_sessions
from verifier.store.db import transaction
from verifier.store.registry import get_agency
from verifier.store.staff_accounts import ROLES, USERNAME_RE, StaffAccount, StaffSecrets

MIN_PASSWORD = 10
MAX_PASSWORD = 128
TOTP_ISSUER = "SKK Verifier"
TOTP_DIGITS = 6
TOTP_STEP_SECONDS = 30
#: Steps either side of now a code may come from (clock drift of a phone).
TOTP_DRIFT_STEPS = 1
#: One-time passwords: 4 groups of 4 from 31 characters that cannot be mistaken for each other
#: (no 0/o, 1/l/i), about 79 bits; read aloud or copied by hand once.
_OTP_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
_ANONYMOUS = "anonymous"


@cache
def _hasher() -> PasswordHasher:
    return PasswordHasher()  # Argon2id with RFC 9106's low-memory parameters


@cache
def _decoy_hash() -> str:
    # Verified against when the username is unknown, so both cases take the same time.
    return _hasher().hash(secrets.token_urlsafe(16))


def one_time_password() -> str:
    """A fresh one-time password like ``k7mp-2xqa-9wde-h4tz``."""
    return "-".join("".join(secrets.choice(_OTP_ALPHABET) for _ in range(4)) for _ in range(4))


def add_user(
    agency_id: str, username: str, role: str, *, actor: str, now: int
) -> tuple[StaffAccount, str]:
    """Create an account; returns it and its one-time password (shown once, never stored)."""
    get_agency(agency_id)
    _check_username(username)
    if role not in ROLES:
        raise InvalidInput(f"role must be one of {', '.join(ROLES)}", field="role")
    password = one_time_password()
    with transaction():
        account = staff_accounts.create(
            agency_id, username, role, _hasher().hash(password), now=now
        )
        audit.record(agency_id, actor, "user_added", at=now, subject=username, reason=role)
    return account, password


def _check_username(username: str) -> None:
    if not USERNAME_RE.fullmatch(username) or holds_nik_like(username):
        raise InvalidInput(
            "username must be 3-32 lowercase letters, digits, '.' or '-', "
            "starting with a letter or digit",
            field="username",
        )


def disable(username: str, *, actor: str, now: int, agency_id: str | None = None) -> StaffAccount:
    """Disable an account and end its sessions at once; repeating it changes nothing.
    NotFound also when it belongs to another agency than ``agency_id``."""
    with transaction():
        account = staff_accounts.get(username, agency_id)
        if staff_accounts.mark_disabled(account.id, now):
            staff_sessions.end_for_user(account.id)
            staff_devices.forget_user(account.id)
            audit.record(account.agency_id, actor, "user_disabled", at=now, subject=username)
    return staff_accounts.get(username)


def reset(
    username: str, *, actor: str, now: int, agency_id: str | None = None
) -> tuple[StaffAccount, str]:
    """A new one-time password and a new enrolment for a forgotten password or a lost phone;
    ends the account's sessions. A disabled account stays disabled."""
    password = one_time_password()
    with transaction():
        account = staff_accounts.get(username, agency_id)
        staff_accounts.set_password(account.id, _hasher().hash(password), one_time=True)
        staff_accounts.forget_second_factor(account.id)
        staff_sessions.end_for_user(account.id)
        staff_devices.forget_user(account.id)
        audit.record(account.agency_id, actor, "user_reset", at=now, subject=username)
    return staff_accounts.get(username), password


# --- signing in --------------------------------------------------------------------------------


@dataclass(frozen=True)
class SignIn:
    """The outcome of a sign-in attempt: the account when it passed, and whether its password
    and code were right (``failure`` names the first thing wrong, for the audit log only)."""

    account: StaffAccount | None
    failure: str | None


def sign_in(username: str, password: str, code: str, *, now: int) -> SignIn:
    """Check password and, for an enrolled account, the code; audited either way.

    An account that has not finished its first sign-in needs no code yet: it passes with its
    password and must then change it and enrol (the console allows nothing else until then).
    """
    found = staff_accounts.secrets_of(username)
    password_ok = _password_matches(found.password_hash if found else _decoy_hash(), password)
    if found is None:
        audit.record(None, _ANONYMOUS, "login_failed", at=now, reason="account")
        return SignIn(None, "account")
    account = found.account
    failure = None
    if not password_ok:
        failure = "password"
    elif account.disabled:
        failure = "disabled"
    elif account.totp_enrolled and not _accept_code(found, code, now):
        failure = "code"
    if failure:
        audit.record(account.agency_id, account.actor, "login_failed", at=now, reason=failure)
        return SignIn(None, failure)
    audit.record(account.agency_id, account.actor, "login", at=now)
    return SignIn(staff_accounts.get(account.username), None)


def _password_matches(encoded: str, password: str) -> bool:
    if not 0 < len(password) <= MAX_PASSWORD:
        return False
    try:
        return bool(_hasher().verify(encoded, password))
    except (VerificationError, InvalidHashError):
        return False


def change_password(
    user_id: int, current: str, new: str, *, now: int, keep_session: str | None = None
) -> None:
    """Replace the password (the one-time one on first sign-in); ends the account's other
    sessions. InvalidInput names the field at fault."""
    found = staff_accounts.secrets_by_id(user_id)
    if not _password_matches(found.password_hash, current):
        raise InvalidInput("the current password is wrong", field="current")
    account = found.account
    check_new_password(new, account.username, current)
    with transaction():
        staff_accounts.set_password(user_id, _hasher().hash(new), one_time=False)
        staff_sessions.end_for_user(user_id, keep=keep_session)
        audit.record(account.agency_id, account.actor, "password_changed", at=now)


def check_new_password(new: str, username: str, current: str) -> None:
    """Refuse a password that is too short, too long, the username or the current one."""
    if len(new) < MIN_PASSWORD or not new.strip():
        raise InvalidInput(
            f"the new password needs at least {MIN_PASSWORD} characters", field="new"
        )
    if len(new) > MAX_PASSWORD:
        raise InvalidInput(
            f"the new password may have at most {MAX_PASSWORD} characters", field="new"
        )
    if new.casefold() == username.casefold() or new == current:
        raise InvalidInput(
            "the new password must differ from the username and the current password", field="new"
        )


# --- TOTP (RFC 6238) ---------------------------------------------------------------------------


def enrolment_secret(user_id: int) -> str:
    """The base32 secret to enrol (made on first call, kept until enrolment is confirmed)."""
    found = staff_accounts.secrets_by_id(user_id)
    if found.account.totp_enrolled:
        raise Conflict("a second factor is already enrolled", field="code")
    if found.totp_secret:
        return found.totp_secret
    # 160 bits, as RFC 4226 recommends
    return staff_accounts.offer_secret(user_id, pyotp.random_base32())


def provisioning_uri(username: str, secret: str) -> str:
    """The ``otpauth://`` URI an authenticator app scans."""
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=TOTP_ISSUER)


def confirm_enrolment(user_id: int, code: str, *, now: int) -> None:
    """Finish enrolment with a first code from the app; InvalidInput when it does not match."""
    found = staff_accounts.secrets_by_id(user_id)
    account = found.account
    if account.totp_enrolled:
        raise Conflict("a second factor is already enrolled", field="code")
    if not found.totp_secret or not _accept_code(found, code, now):
        raise InvalidInput(
            "the code does not match; type the 6 digits the app shows now", field="code"
        )
    with transaction():
        staff_accounts.mark_enrolled(user_id, now)
        audit.record(account.agency_id, account.actor, "totp_enrolled", at=now)


def _accept_code(found: StaffSecrets, code: str, now: int) -> bool:
    """True, once, for a code of the current step or one step either side (the store keeps
    the last accepted step and takes only a later one)."""
    step = _matching_step(str(found.totp_secret), code, now)
    return step is not None and staff_accounts.accept_step(found.account.id, step)


def _matching_step(secret: str, code: str, now: int) -> int | None:
    typed = "".join(code.split())
    if len(typed) != TOTP_DIGITS or not (typed.isascii() and typed.isdigit()):
        return None
    totp = pyotp.TOTP(secret, digits=TOTP_DIGITS, interval=TOTP_STEP_SECONDS)
    current = now // TOTP_STEP_SECONDS
    found = None
    for step in range(current - TOTP_DRIFT_STEPS, current + TOTP_DRIFT_STEPS + 1):
        # Every candidate is compared (constant time), so timing says nothing about which.
        if hmac.compare_digest(totp.generate_otp(step), typed):
            found = step
    return found

"""Staff accounts: one agency each, a role, an Argon2id password and a TOTP second factor.

An account starts with a one-time password (``skk user add`` or an admin in the console shows
it once); the first sign-in must replace it and enrol an authenticator app (RFC 6238: 6 digits,
30-second steps). From then on every sign-in needs the password and a current code, and a code
is accepted once only: the last accepted time step is stored, and only a later step passes, so
a code seen over someone's shoulder or replayed from a log is refused.

Passwords are hashed with Argon2id (RFC 9106, argon2-cffi's defaults: 64 MiB, 3 passes). They
are never stored, logged or put in an audit row; nor is anything typed into the username box of
a failed sign-in, which is often a password typed one field too early.
"""

from __future__ import annotations

import hmac
import re
import secrets
from dataclasses import dataclass
from functools import cache
from typing import Any

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from verifier import audit
from verifier.errors import Conflict, InvalidInput, NotFound
from verifier.models import StaffSession, StaffUser, database_proxy
from verifier.nik import holds_nik_like
from verifier.registry import get_agency

#: Least to most powerful; each role may do everything the ones before it may.
ROLES = ("viewer", "operator", "admin")
USERNAME_RE = re.compile(r"[a-z0-9][a-z0-9.-]{2,31}")
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


@dataclass(frozen=True)
class StaffAccount:
    """An account without its secrets."""

    id: int
    agency_id: str
    username: str
    role: str
    must_change_password: bool
    totp_enrolled: bool
    disabled: bool
    created_at: int

    @property
    def actor(self) -> str:
        """How the audit log and the revocation history name this user."""
        return audit.user_actor(self.username)

    @property
    def ready(self) -> bool:
        """True once the one-time password is replaced and a second factor enrolled."""
        return not self.must_change_password and self.totp_enrolled

    def may(self, role: str) -> bool:
        """True when this account's role is ``role`` or a more powerful one."""
        return ROLES.index(self.role) >= ROLES.index(role)

    def to_dict(self) -> dict[str, Any]:
        """What ``skk user`` prints: never a hash or secret."""
        return {"username": self.username, "agency": self.agency_id, "role": self.role,
                "enrolled": self.totp_enrolled, "disabled": self.disabled}


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


def add_user(agency_id: str, username: str, role: str, *, actor: str,
             now: int) -> tuple[StaffAccount, str]:
    """Create an account; returns it and its one-time password (shown once, never stored)."""
    get_agency(agency_id)
    _check_username(username)
    if role not in ROLES:
        raise InvalidInput(f"role must be one of {', '.join(ROLES)}", field="role")
    password = one_time_password()
    with database_proxy.obj.atomic():
        if StaffUser.get_or_none(StaffUser.username == username) is not None:
            raise Conflict(f"username {username} is taken", field="username")
        row = StaffUser.create(agency=agency_id, username=username, role=role,
                               password_hash=_hasher().hash(password), must_change_password=True,
                               created_at=now)
        audit.record(agency_id, actor, "user_added", at=now, subject=username, reason=role)
    return _account(row), password


def _check_username(username: str) -> None:
    if not USERNAME_RE.fullmatch(username) or holds_nik_like(username):
        raise InvalidInput("username must be 3-32 lowercase letters, digits, '.' or '-', "
                           "starting with a letter or digit", field="username")


def get_user(username: str, agency_id: str | None = None) -> StaffAccount:
    """The account; NotFound also when it belongs to another agency than ``agency_id``."""
    return _account(_row(username, agency_id))


def account_by_id(user_id: int) -> StaffAccount:
    """The account with this id; NotFound otherwise."""
    row = StaffUser.get_or_none(StaffUser.id == user_id)
    if row is None:
        raise NotFound("no such user", field="user")
    return _account(row)


def _row(username: str, agency_id: str | None) -> StaffUser:
    query = StaffUser.username == username
    if agency_id is not None:
        query &= StaffUser.agency == agency_id
    row = StaffUser.get_or_none(query) if USERNAME_RE.fullmatch(username) else None
    if row is None:
        raise NotFound("no such user", field="username")
    return row


def list_users(agency_id: str | None = None) -> list[StaffAccount]:
    """Accounts by username, optionally of one agency."""
    query = StaffUser.select().order_by(StaffUser.username)
    if agency_id is not None:
        get_agency(agency_id)
        query = query.where(StaffUser.agency == agency_id)
    return [_account(row) for row in query]


def disable(username: str, *, actor: str, now: int,
            agency_id: str | None = None) -> StaffAccount:
    """Disable an account and end its sessions at once; repeating it changes nothing."""
    with database_proxy.obj.atomic():
        row = _row(username, agency_id)
        if row.disabled_at is None:
            StaffUser.update(disabled_at=now).where(StaffUser.id == row.id).execute()
            end_sessions(row.id)
            audit.record(row.agency_id, actor, "user_disabled", at=now, subject=username)
    return get_user(username)


def reset(username: str, *, actor: str, now: int,
          agency_id: str | None = None) -> tuple[StaffAccount, str]:
    """A new one-time password and a new enrolment for a forgotten password or a lost phone;
    ends the account's sessions. A disabled account stays disabled."""
    password = one_time_password()
    with database_proxy.obj.atomic():
        row = _row(username, agency_id)
        StaffUser.update(password_hash=_hasher().hash(password), must_change_password=True,
                         totp_secret=None, totp_enrolled_at=None).where(
            StaffUser.id == row.id).execute()
        end_sessions(row.id)
        audit.record(row.agency_id, actor, "user_reset", at=now, subject=username)
    return get_user(username), password


def end_sessions(user_id: int, keep: str | None = None) -> None:
    """End every session of the user, except the one whose id hash is ``keep``."""
    query = StaffSession.delete().where(StaffSession.user == user_id)
    if keep is not None:
        query = query.where(StaffSession.id_hash != keep)
    query.execute()


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
    row = (StaffUser.get_or_none(StaffUser.username == username)
           if USERNAME_RE.fullmatch(username) else None)
    password_ok = _password_matches(row.password_hash if row else _decoy_hash(), password)
    if row is None:
        audit.record(None, _ANONYMOUS, "login_failed", at=now, reason="account")
        return SignIn(None, "account")
    failure = None
    if not password_ok:
        failure = "password"
    elif row.disabled_at is not None:
        failure = "disabled"
    elif row.totp_enrolled_at is not None and not _accept_code(row, code, now):
        failure = "code"
    actor = audit.user_actor(row.username)
    if failure:
        audit.record(row.agency_id, actor, "login_failed", at=now, reason=failure)
        return SignIn(None, failure)
    audit.record(row.agency_id, actor, "login", at=now)
    return SignIn(get_user(row.username), None)


def _password_matches(encoded: str, password: str) -> bool:
    if not 0 < len(password) <= MAX_PASSWORD:
        return False
    try:
        return bool(_hasher().verify(encoded, password))
    except (VerificationError, InvalidHashError):
        return False


def change_password(user_id: int, current: str, new: str, *, now: int,
                    keep_session: str | None = None) -> None:
    """Replace the password (the one-time one on first sign-in); ends the account's other
    sessions. InvalidInput names the field at fault."""
    row = StaffUser.get_by_id(user_id)
    if not _password_matches(row.password_hash, current):
        raise InvalidInput("the current password is wrong", field="current")
    check_new_password(new, row.username, current)
    with database_proxy.obj.atomic():
        StaffUser.update(password_hash=_hasher().hash(new), must_change_password=False).where(
            StaffUser.id == user_id).execute()
        end_sessions(user_id, keep=keep_session)
        audit.record(row.agency_id, audit.user_actor(row.username), "password_changed", at=now)


def check_new_password(new: str, username: str, current: str) -> None:
    """Refuse a password that is too short, too long, the username or the current one."""
    if len(new) < MIN_PASSWORD or not new.strip():
        raise InvalidInput(f"the new password needs at least {MIN_PASSWORD} characters",
                           field="new")
    if len(new) > MAX_PASSWORD:
        raise InvalidInput(f"the new password may have at most {MAX_PASSWORD} characters",
                           field="new")
    if new.casefold() == username.casefold() or new == current:
        raise InvalidInput("the new password must differ from the username and the current "
                           "password", field="new")


# --- TOTP (RFC 6238) ---------------------------------------------------------------------------


def enrolment_secret(user_id: int) -> str:
    """The base32 secret to enrol (made on first call, kept until enrolment is confirmed)."""
    row = StaffUser.get_by_id(user_id)
    if row.totp_enrolled_at is not None:
        raise Conflict("a second factor is already enrolled", field="code")
    if row.totp_secret:
        return str(row.totp_secret)
    secret = pyotp.random_base32()  # 160 bits, as RFC 4226 recommends
    StaffUser.update(totp_secret=secret).where(
        (StaffUser.id == user_id) & StaffUser.totp_secret.is_null()).execute()
    return str(StaffUser.get_by_id(user_id).totp_secret)


def provisioning_uri(username: str, secret: str) -> str:
    """The ``otpauth://`` URI an authenticator app scans."""
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=TOTP_ISSUER)


def confirm_enrolment(user_id: int, code: str, *, now: int) -> None:
    """Finish enrolment with a first code from the app; InvalidInput when it does not match."""
    row = StaffUser.get_by_id(user_id)
    if row.totp_enrolled_at is not None:
        raise Conflict("a second factor is already enrolled", field="code")
    if not row.totp_secret or not _accept_code(row, code, now):
        raise InvalidInput("the code does not match; type the 6 digits the app shows now",
                           field="code")
    with database_proxy.obj.atomic():
        StaffUser.update(totp_enrolled_at=now).where(StaffUser.id == user_id).execute()
        audit.record(row.agency_id, audit.user_actor(row.username), "totp_enrolled", at=now)


def _accept_code(row: StaffUser, code: str, now: int) -> bool:
    """True, once, for a code of the current step or one step either side: the step is stored
    in the same statement that checks it is newer than the last one, so two workers given the
    same code at the same moment accept it once."""
    step = _matching_step(str(row.totp_secret), code, now)
    if step is None:
        return False
    accepted = StaffUser.update(totp_last_step=step).where(
        (StaffUser.id == row.id)
        & (StaffUser.totp_last_step.is_null() | (StaffUser.totp_last_step < step))
    ).execute()
    return bool(accepted)


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


def _account(row: StaffUser) -> StaffAccount:
    return StaffAccount(
        id=row.id,
        agency_id=row.agency_id,
        username=row.username,
        role=row.role,
        must_change_password=bool(row.must_change_password),
        totp_enrolled=row.totp_enrolled_at is not None,
        disabled=row.disabled_at is not None,
        created_at=row.created_at,
    )

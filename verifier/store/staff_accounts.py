"""Console staff accounts as stored: one agency each, a role, a password hash, a TOTP secret.

Hashing passwords and checking codes is :mod:`verifier.staff.accounts`; this module only reads
and writes the rows. Hashes and secrets leave it in :class:`StaffSecrets` only, which the staff
service alone asks for; everything else gets a :class:`StaffAccount`, which holds neither.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from verifier.core.errors import Conflict, NotFound
from verifier.store.audit import user_actor
from verifier.store.db import bound_database
from verifier.store.models import StaffUser
from verifier.store.registry import get_agency

#: Least to most powerful; each role may do everything the ones before it may.
ROLES = ("viewer", "operator", "admin")
#: What a username looks like (anything else is never looked up: PostgreSQL refuses a NUL).
USERNAME_RE = re.compile(r"[a-z0-9][a-z0-9.-]{2,31}")


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
        return user_actor(self.username)

    @property
    def ready(self) -> bool:
        """True once the one-time password is replaced and a second factor enrolled."""
        return not self.must_change_password and self.totp_enrolled

    def may(self, role: str) -> bool:
        """True when this account's role is ``role`` or a more powerful one."""
        return ROLES.index(self.role) >= ROLES.index(role)

    def to_dict(self) -> dict[str, Any]:
        """What ``skk user`` prints: never a hash or secret."""
        return {
            "username": self.username,
            "agency": self.agency_id,
            "role": self.role,
            "enrolled": self.totp_enrolled,
            "disabled": self.disabled,
        }


@dataclass(frozen=True)
class StaffSecrets:
    """An account with what checking its sign-in needs: the password hash and TOTP state."""

    account: StaffAccount
    password_hash: str
    totp_secret: str | None


def create(
    agency_id: str, username: str, role: str, password_hash: str, *, now: int
) -> StaffAccount:
    """Store a new account that must change its (one-time) password; Conflict when the
    username is taken (usernames are unique across agencies)."""
    with bound_database().atomic():
        if StaffUser.get_or_none(StaffUser.username == username) is not None:
            raise Conflict(f"username {username} is taken", field="username")
        row = StaffUser.create(
            agency=agency_id,
            username=username,
            role=role,
            password_hash=password_hash,
            must_change_password=True,
            created_at=now,
        )
    return _account(row)


def get(username: str, agency_id: str | None = None) -> StaffAccount:
    """The account; NotFound also when it belongs to another agency than ``agency_id``."""
    return _account(_row(username, agency_id))


def by_id(user_id: int) -> StaffAccount:
    """The account with this id; NotFound otherwise."""
    row = StaffUser.get_or_none(StaffUser.id == user_id)
    if row is None:
        raise NotFound("no such user", field="user")
    return _account(row)


def list_accounts(agency_id: str | None = None) -> list[StaffAccount]:
    """Accounts by username, optionally of one agency."""
    query = StaffUser.select().order_by(StaffUser.username)
    if agency_id is not None:
        get_agency(agency_id)
        query = query.where(StaffUser.agency == agency_id)
    return [_account(row) for row in query]


def secrets_of(username: str) -> StaffSecrets | None:
    """The account and its secrets for a sign-in; None when there is no such username."""
    row = (
        StaffUser.get_or_none(StaffUser.username == username)
        if USERNAME_RE.fullmatch(username)
        else None
    )
    return None if row is None else _secrets(row)


def secrets_by_id(user_id: int) -> StaffSecrets:
    """The account and its secrets (a password change, an enrolment); NotFound otherwise."""
    row = StaffUser.get_or_none(StaffUser.id == user_id)
    if row is None:
        raise NotFound("no such user", field="user")
    return _secrets(row)


def mark_disabled(user_id: int, now: int) -> bool:
    """Disable the account; False when it already was (nothing changes then)."""
    return bool(
        StaffUser.update(disabled_at=now)
        .where((StaffUser.id == user_id) & StaffUser.disabled_at.is_null())
        .execute()
    )


def set_password(user_id: int, password_hash: str, *, one_time: bool) -> None:
    """Replace the password hash; ``one_time``: the next sign-in must change it."""
    StaffUser.update(password_hash=password_hash, must_change_password=one_time).where(
        StaffUser.id == user_id
    ).execute()


def forget_second_factor(user_id: int) -> None:
    """Drop the TOTP secret and enrolment: the next sign-in enrols again."""
    StaffUser.update(totp_secret=None, totp_enrolled_at=None).where(
        StaffUser.id == user_id
    ).execute()


def offer_secret(user_id: int, secret: str) -> str:
    """Keep ``secret`` for the enrolment unless one is kept already; the one kept (two pages
    opened at once both show the same)."""
    StaffUser.update(totp_secret=secret).where(
        (StaffUser.id == user_id) & StaffUser.totp_secret.is_null()
    ).execute()
    return str(StaffUser.get_by_id(user_id).totp_secret)


def mark_enrolled(user_id: int, now: int) -> None:
    """The second factor is confirmed: every later sign-in needs a code."""
    StaffUser.update(totp_enrolled_at=now).where(StaffUser.id == user_id).execute()


def accept_step(user_id: int, step: int) -> bool:
    """Record ``step`` as the last accepted TOTP time step if it is later than the last one;
    False otherwise. Checked and stored in one statement, so two workers given the same code
    at the same moment accept it once."""
    accepted = (
        StaffUser.update(totp_last_step=step)
        .where(
            (StaffUser.id == user_id)
            & (StaffUser.totp_last_step.is_null() | (StaffUser.totp_last_step < step))
        )
        .execute()
    )
    return bool(accepted)


def _row(username: str, agency_id: str | None) -> StaffUser:
    query = StaffUser.username == username
    if agency_id is not None:
        query &= StaffUser.agency == agency_id
    row = StaffUser.get_or_none(query) if USERNAME_RE.fullmatch(username) else None
    if row is None:
        raise NotFound("no such user", field="username")
    return row


def _secrets(row: StaffUser) -> StaffSecrets:
    secret = None if row.totp_secret is None else str(row.totp_secret)
    return StaffSecrets(_account(row), str(row.password_hash), secret)


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

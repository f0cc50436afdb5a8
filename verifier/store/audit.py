"""The audit log: one append-only record of every action, whoever took it and however.

Issuing (single and cohort), revoke / suspend / reinstate, four-eyes requests and decisions,
console sign-ins and account changes, keys and API keys: each is one row naming the actor
(``cli``, ``apikey:<key id>``, ``user:<username>``, or two of them joined by ``+`` when a second
admin approved a step). Rows are only ever inserted. Nothing here holds a NIK, a password or a
secret: numbers and notes are refused when they look like a NIK before they get this far, and the
other fields are identifiers this service made.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import peewee

from verifier.core.credential import Credential, to_iso
from verifier.core.errors import InvalidInput
from verifier.store.credentials import chunks
from verifier.store.models import AuditEvent

#: Every action the log records, in the order the console lists them.
ACTIONS = (
    "issue",
    "suspend",
    "reinstate",
    "revoke",
    "revoke_requested",
    "request_rejected",
    "four_eyes_on",
    "four_eyes_off_requested",
    "four_eyes_off",
    "login",
    "login_failed",
    "logout",
    "password_changed",
    "totp_enrolled",
    "user_added",
    "user_disabled",
    "user_reset",
    "key_generated",
    "key_retired",
    "key_revoked",
    "apikey_created",
    "apikey_revoked",
    "jobs_import",  # a jabatan kerja master imported (no agency: it applies to all)
)
#: Actions of the whole service, recorded with no agency: never in an agency's log.
SERVICE_ACTIONS = frozenset({"jobs_import"})
#: The actions an agency's log can hold: the choices of its ``action`` filter (API, console).
AGENCY_ACTIONS = tuple(action for action in ACTIONS if action not in SERVICE_ACTIONS)
#: What an actor filter may look like: our own actor strings, nothing else.
ACTOR_RE = re.compile(r"[a-z0-9:.+-]{1,80}")
CLI_ACTOR = "cli"


def user_actor(username: str) -> str:
    """How the log names a console user."""
    return f"user:{username}"


def both(first: str, second: str) -> str:
    """The actor of a step one person requested and a second approved."""
    return f"{first}+{second}"


@dataclass(frozen=True)
class AuditEntry:
    """One row of the log."""

    id: int
    at: int
    actor: str
    action: str
    number: str | None
    status: str | None
    reason: str | None
    note: str | None
    subject: str | None

    def to_dict(self) -> dict[str, Any]:
        """The API's event object (notes included: the log is for the agency only)."""
        return {
            "id": self.id,
            "at": to_iso(self.at),
            "actor": self.actor,
            "action": self.action,
            "number": self.number,
            "status": self.status,
            "reason": self.reason,
            "note": self.note,
            "subject": self.subject,
        }


@dataclass(frozen=True)
class AuditFilter:
    """Which rows to read; every field narrows, None leaves it open."""

    number: str | None = None
    actor: str | None = None
    action: str | None = None
    since: int | None = None  # inclusive
    until: int | None = None  # exclusive

    def checked(self) -> AuditFilter:
        """The filter itself; InvalidInput naming a field that could match nothing we write."""
        if self.actor is not None and not ACTOR_RE.fullmatch(self.actor):
            raise InvalidInput(
                "actor must look like cli, apikey:<key id> or user:<username>", field="actor"
            )
        if self.action is not None and self.action not in AGENCY_ACTIONS:
            raise InvalidInput(f"action must be one of {', '.join(AGENCY_ACTIONS)}", field="action")
        return self


def record(
    agency_id: str | None,
    actor: str,
    action: str,
    *,
    at: int,
    number: str | None = None,
    status: str | None = None,
    reason: str | None = None,
    note: str | None = None,
    subject: str | None = None,
) -> None:
    """Append one row; call it inside the transaction of the change it records."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    AuditEvent.create(
        agency=agency_id,
        at=at,
        actor=actor,
        action=action,
        number=number,
        status=status,
        reason=reason,
        note=note,
        subject=subject,
    )


def record_issued(credentials: Sequence[Credential], actor: str) -> None:
    """One ``issue`` row per credential (a cohort's rows in few statements)."""
    rows = [
        {
            "agency": c.agency_id,
            "at": c.issued_at,
            "actor": actor,
            "action": "issue",
            "number": c.number,
            "status": "active",
        }
        for c in credentials
    ]
    for chunk in chunks(rows):
        AuditEvent.insert_many(chunk).execute()


def _query(agency_id: str, filters: AuditFilter) -> peewee.ModelSelect[AuditEvent]:
    query = AuditEvent.select().where(AuditEvent.agency == agency_id)
    if filters.number is not None:
        query = query.where(AuditEvent.number == filters.number)
    if filters.actor is not None:
        # A pair "user:a+user:b" is an action of each of them.
        actor = filters.actor
        query = query.where(
            (AuditEvent.actor == actor)
            | AuditEvent.actor.startswith(actor + "+")
            | AuditEvent.actor.endswith("+" + actor)
        )
    if filters.action is not None:
        query = query.where(AuditEvent.action == filters.action)
    if filters.since is not None:
        query = query.where(AuditEvent.at >= filters.since)
    if filters.until is not None:
        query = query.where(AuditEvent.at < filters.until)
    return query


def count(agency_id: str, filters: AuditFilter) -> int:
    """How many of the agency's rows match."""
    return int(_query(agency_id, filters.checked()).count())


def newest(agency_id: str, filters: AuditFilter, *, offset: int, limit: int) -> list[AuditEntry]:
    """A page of the agency's matching rows, newest first (the console's view)."""
    query = _query(agency_id, filters.checked()).order_by(AuditEvent.id.desc())
    return [_entry(row) for row in query.offset(offset).limit(limit)]


def oldest(agency_id: str, filters: AuditFilter, *, after: int, limit: int) -> list[AuditEntry]:
    """Matching rows after row ``after``, oldest first (the API's view: a client keeps the last
    id it saw and asks for what came after)."""
    query = _query(agency_id, filters.checked()).where(AuditEvent.id > after)
    return [_entry(row) for row in query.order_by(AuditEvent.id).limit(limit)]


def actors(agency_id: str) -> list[str]:
    """Every single actor in the agency's log (pairs split), for a filter's choices."""
    rows = AuditEvent.select(AuditEvent.actor).where(AuditEvent.agency == agency_id).distinct()
    return sorted({part for row in rows for part in row.actor.split("+")})


def _entry(row: AuditEvent) -> AuditEntry:
    return AuditEntry(
        row.id,
        row.at,
        row.actor,
        row.action,
        row.number,
        row.status,
        row.reason,
        row.note,
        row.subject,
    )

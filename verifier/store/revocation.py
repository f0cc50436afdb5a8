"""Revocation store: revoke (final), suspend and reinstate (reversible), with full history.

Records are keyed by (agency, canonical number), never by a hash of the token: one certificate has
many valid serialisations (member order, a second signature by ES256), and all of them must fail.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import peewee

from verifier.core.credential import has_control_characters, to_iso
from verifier.core.errors import Conflict, InvalidInput, NotFound
from verifier.core.nik import holds_nik_like
from verifier.core.trust import RevocationStatus
from verifier.store import audit, outbox
from verifier.store.credentials import chunks, stored_number
from verifier.store.db import bound_database
from verifier.store.models import (
    CredentialRecord,
    RevocationEvent,
    RevocationRecord,
    SigningKeyRecord,
)
from verifier.store.offline_changes import record_change
from verifier.store.registry import get_agency

REASONS = (
    "fraud",
    "misuse",
    "data_error",
    "holder_request",
    "superseded",
    "investigation",
    "other",
)
MAX_NOTE_LENGTH = 1000
#: Controls a multi-line note may hold; every other control (NUL first) is refused.
_NOTE_CONTROLS = "\t\n\r"


@dataclass(frozen=True)
class StateChange:
    """Outcome of revoke / suspend / reinstate, as the CLI and API print it."""

    agency_id: str
    number: str
    status: str  # revoked | suspended | active
    at: int | None
    reason: str | None
    changed: bool
    #: The number names no certificate this service issued (the agency signs elsewhere), so it
    #: was recorded exactly as typed: say :data:`AS_TYPED_NOTE` beside the object (not in it:
    #: SPEC §5 fixes its members).
    as_typed: bool = False

    def to_dict(self) -> dict[str, Any]:
        """The SPEC §5 state-change object."""
        return {
            "agency": self.agency_id,
            "number": self.number,
            "status": self.status,
            "at": None if self.at is None else to_iso(self.at),
            "reason": self.reason,
            "changed": self.changed,
        }


#: Never repeats the number asked for: someone may have typed a NIK into the number box.
NO_SUCH_CREDENTIAL = "this agency has no such credential"
#: Said with a change to a number no certificate issued here has. Verification compares the
#: token's number exactly (SPEC §2 rules 7-8): finding it however typed is for certificates
#: this service issued, whose numbers it knows.
AS_TYPED_NOTE = (
    "no certificate issued here has this number (the agency signs elsewhere): it "
    "was recorded exactly as typed, and affects a certificate only if it matches "
    "the certificate's number character for character, upper and lower case "
    "included"
)


def lookup(agency_id: str, number: str) -> RevocationStatus | None:
    """The record for (agency, number), or None; one indexed primary-key read."""
    database = bound_database()
    p = database.param  # placeholders differ between SQLite and PostgreSQL
    row = database.execute_sql(
        f"SELECT status, at, reason FROM revocation WHERE agency_id = {p} AND number = {p}",  # noqa: S608
        (agency_id, number),
    ).fetchone()
    return None if row is None else RevocationStatus(row[0], int(row[1]), row[2])


def statuses(agency_id: str, numbers: Sequence[str]) -> dict[str, str]:
    """``revoked`` or ``suspended`` for each of these numbers that is so now (active ones are
    left out); a few statements for a whole cohort."""
    found: dict[str, str] = {}
    for chunk in chunks(sorted(set(numbers))):
        query = RevocationRecord.select(RevocationRecord.number, RevocationRecord.status).where(
            (RevocationRecord.agency == agency_id) & RevocationRecord.number.in_(chunk)
        )
        found.update((row.number, row.status) for row in query)
    return found


def lookup_with_registry_version(
    agency_id: str, number: str
) -> tuple[RevocationStatus | None, int]:
    """The record for (agency, number) and the trust registry's version, in one statement.

    One statement sees one state of the database (one read transaction in SQLite, one snapshot
    in PostgreSQL), so the version tells whether the trust snapshot used for this verification
    was current when the revocation state was read. Verification's hot path thus takes one
    round trip instead of two.
    """
    database = bound_database()
    p = database.param
    row = database.execute_sql(
        "SELECT (SELECT value FROM skk_meta WHERE name = 'registry_version'),"  # noqa: S608
        " r.status, r.at, r.reason FROM (SELECT 1 AS one) AS anchor"
        f" LEFT JOIN revocation AS r ON r.agency_id = {p} AND r.number = {p}",
        (agency_id, number),
    ).fetchone()
    version = int(row[0] or 0)
    return (None if row[1] is None else RevocationStatus(row[1], int(row[2]), row[3])), version


def revoke(
    agency_id: str, number: str, reason: str, *, note: str | None, actor: str, now: int
) -> StateChange:
    """Revoke for good; allowed from suspended; a repeat changes nothing."""
    return _apply("revoke", agency_id, number, reason, note, actor, now)


def suspend(
    agency_id: str, number: str, reason: str, *, note: str | None, actor: str, now: int
) -> StateChange:
    """Suspend until reinstated; refused for a revoked credential."""
    return _apply("suspend", agency_id, number, reason, note, actor, now)


def reinstate(
    agency_id: str, number: str, *, note: str | None, actor: str, now: int
) -> StateChange:
    """Lift a suspension; refused for a revoked credential."""
    return _apply("reinstate", agency_id, number, None, note, actor, now)


def _apply(
    action: str,
    agency_id: str,
    raw_number: str,
    reason: str | None,
    note: str | None,
    actor: str,
    now: int,
) -> StateChange:
    number = stored_number(agency_id, raw_number)  # however typed: case, spaces
    # A number no certificate here has passes only when the agency signs elsewhere: then it is
    # recorded exactly as typed, and the change says so.
    as_typed = not check_request(action, agency_id, number, reason, note)
    for attempt in range(2):
        try:
            with bound_database().atomic():
                change = _transition(action, agency_id, number, reason, note, actor, now)
            return replace(change, as_typed=as_typed)
        except peewee.IntegrityError:
            # Another writer created the record between our read and insert; read it again.
            if attempt:
                raise
    raise AssertionError("unreachable")


def check_request(
    action: str, agency_id: str, number: str, reason: str | None, note: str | None
) -> bool:
    """Refuse a request that could never apply: bad reason or note, unknown credential. True
    when a certificate issued here has ``number``; False when only the agency signing
    elsewhere lets it through."""
    if action != "reinstate" and reason not in REASONS:
        raise InvalidInput(f"reason must be one of {', '.join(REASONS)}", field="reason")
    if note is not None:
        if len(note) > MAX_NOTE_LENGTH:
            raise InvalidInput(f"note must be at most {MAX_NOTE_LENGTH} characters", field="note")
        if has_control_characters(note, allowed=_NOTE_CONTROLS):
            raise InvalidInput("note must not contain control characters", field="note")
        if holds_nik_like(note):
            raise InvalidInput("note must not contain a NIK or other 16-digit number", field="note")
    get_agency(agency_id)
    issued_here = _issued_here(agency_id, number)
    if not issued_here and not _signs_elsewhere(agency_id):
        raise NotFound(NO_SUCH_CREDENTIAL, field="number")
    return issued_here


def _issued_here(agency_id: str, number: str) -> bool:
    query = CredentialRecord.select().where(
        (CredentialRecord.agency == agency_id) & (CredentialRecord.number == number)
    )
    return bool(query.exists())


def _signs_elsewhere(agency_id: str) -> bool:
    """An agency whose keys are all imported signs elsewhere; we cannot know its numbers."""
    origins = {
        row.origin
        for row in SigningKeyRecord.select(SigningKeyRecord.origin).where(
            SigningKeyRecord.agency == agency_id
        )
    }
    return origins == {"imported"}


_TARGET = {"revoke": "revoked", "suspend": "suspended", "reinstate": "active"}


def _transition(
    action: str,
    agency_id: str,
    number: str,
    reason: str | None,
    note: str | None,
    actor: str,
    now: int,
) -> StateChange:
    current = RevocationRecord.get_or_none(
        (RevocationRecord.agency == agency_id) & (RevocationRecord.number == number)
    )
    status = current.status if current else "active"
    target = _TARGET[action]
    if status == target:
        # A repeat keeps the first change's time (SPEC §5). Reinstating deletes the record, so
        # for an active credential that time is the last reinstatement in the history, if any.
        at = current.at if current else _last_reinstated_at(agency_id, number)
        kept_reason = current.reason if current else None
        return StateChange(agency_id, number, status, at, kept_reason, changed=False)
    if status == "revoked":
        raise Conflict(f"the credential is revoked; it cannot be {target}", field="number")
    where = (RevocationRecord.agency == agency_id) & (RevocationRecord.number == number)
    if target == "active":
        RevocationRecord.delete().where(where).execute()
    elif current is None:
        RevocationRecord.create(
            agency=agency_id, number=number, status=target, reason=reason, at=now
        )
    else:
        RevocationRecord.update(status=target, reason=reason, at=now).where(where).execute()
    RevocationEvent.create(
        agency=agency_id,
        number=number,
        action=action,
        status=target,
        reason=reason,
        note=note,
        actor=actor,
        at=now,
    )
    # In this transaction, so offline bundle deltas carry the change (docs/offline.md).
    record_change(agency_id, number)
    audit.record(
        agency_id, actor, action, at=now, number=number, status=target, reason=reason, note=note
    )
    # Watched crews hear of it from messages committed with the change, or not at all.
    outbox.enqueue_state_change(agency_id, number, action, target, reason, now)
    return StateChange(
        agency_id, number, target, now, reason if target != "active" else None, changed=True
    )


def _last_reinstated_at(agency_id: str, number: str) -> int | None:
    last = (
        RevocationEvent.select(RevocationEvent.at, RevocationEvent.status)
        .where((RevocationEvent.agency == agency_id) & (RevocationEvent.number == number))
        .order_by(RevocationEvent.at.desc(), RevocationEvent.id.desc())
        .first()
    )
    return int(last.at) if last is not None and last.status == "active" else None


def history(agency_id: str, number: str | None = None) -> list[dict[str, Any]]:
    """The agency's own revocation history, oldest first (notes included: agency-only view)."""
    query = RevocationEvent.select().where(RevocationEvent.agency == agency_id)
    if number is not None:
        query = query.where(RevocationEvent.number == stored_number(agency_id, number))
    return [
        {
            "number": event.number,
            "action": event.action,
            "status": event.status,
            "reason": event.reason,
            "note": event.note,
            "actor": event.actor,
            "at": to_iso(event.at),
        }
        for event in query.order_by(RevocationEvent.id)
    ]

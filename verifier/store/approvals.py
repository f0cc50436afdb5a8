"""Four-eyes revocation: when an agency turns it on, a revocation waits for a second admin.

Revoking is final, so with four-eyes on no single person can do it: a revoke from the console or
the agency API becomes a pending request, and only another admin's approval carries it out (the
revocation history and the audit log then name both, ``user:a+user:b``). Suspending still takes
effect at once, so a fraud can be stopped the moment it is found; the console offers to suspend
while the revocation waits. Turning four-eyes off is itself a step that needs a second admin,
or one admin could switch it off and revoke alone. The server operator's ``skk revoke`` is not
held back: whoever runs the CLI on the server can change the database anyway.
"""

from __future__ import annotations

from dataclasses import dataclass

import peewee

from verifier.core.errors import Conflict, NotFound
from verifier.store import audit, revocation
from verifier.store.credentials import stored_number
from verifier.store.db import bound_database
from verifier.store.models import AgencyPolicy, PendingApproval
from verifier.store.registry import get_agency

KINDS = ("revoke", "four_eyes_off")


@dataclass(frozen=True)
class Approval:
    """A step waiting for (or decided by) a second admin."""

    id: int
    agency_id: str
    kind: str
    number: str | None
    reason: str | None
    note: str | None
    requested_by: str
    requested_at: int
    outcome: str | None  # None while pending | approved | rejected
    decided_by: str | None


def four_eyes(agency_id: str) -> bool:
    """True when the agency's revocations need a second admin."""
    row = AgencyPolicy.get_or_none(AgencyPolicy.agency == agency_id)
    return bool(row and row.four_eyes_revocation)


def turn_on(agency_id: str, *, actor: str, now: int) -> None:
    """Require a second admin for revocations from now on (takes effect at once)."""
    get_agency(agency_id)
    with bound_database().atomic():
        if four_eyes(agency_id):
            return
        _set(agency_id, True, now)
        audit.record(agency_id, actor, "four_eyes_on", at=now)


def request_turn_off(agency_id: str, *, actor: str, now: int) -> Approval:
    """Ask a second admin to turn four-eyes off."""
    with bound_database().atomic():
        if not four_eyes(agency_id):
            raise Conflict("four-eyes revocation is already off", field="four_eyes")
        if _pending_query(agency_id).where(PendingApproval.kind == "four_eyes_off").exists():
            raise Conflict(
                "turning four-eyes off is already waiting for approval", field="four_eyes"
            )
        row = PendingApproval.create(
            agency=agency_id, kind="four_eyes_off", requested_by=actor, requested_at=now
        )
        audit.record(agency_id, actor, "four_eyes_off_requested", at=now, subject=f"#{row.id}")
    return _approval(row)


def revoke_or_request(
    agency_id: str, number: str, reason: str, *, note: str | None, actor: str, now: int
) -> revocation.StateChange | Approval:
    """Revoke at once, or, with four-eyes on, file a request a second admin must approve."""
    if not four_eyes(agency_id):
        return revocation.revoke(agency_id, number, reason, note=note, actor=actor, now=now)
    return request_revocation(agency_id, number, reason, note=note, actor=actor, now=now)


def request_revocation(
    agency_id: str,
    number: str,
    reason: str,
    *,
    note: str | None,
    actor: str,
    now: int,
    suspend_now: bool = False,
) -> Approval:
    """File a revocation for a second admin; Conflict when one is waiting or it is revoked.
    ``suspend_now`` suspends an active credential at once too, in the same transaction (so it
    is suspended only if the request is filed), to stop a fraud while the revocation waits."""
    canonical = stored_number(agency_id, number)
    revocation.check_request("revoke", agency_id, canonical, reason, note)
    with bound_database().atomic():
        state = revocation.lookup(agency_id, canonical)
        if state is not None and state.status == "revoked":
            raise Conflict("the credential is already revoked", field="number")
        waiting = _pending_query(agency_id).where(
            (PendingApproval.kind == "revoke") & (PendingApproval.number == canonical)
        )
        if waiting.exists():
            raise Conflict(
                "a revocation of this credential is already waiting for approval", field="number"
            )
        if suspend_now and state is None:
            revocation.suspend(agency_id, canonical, reason, note=note, actor=actor, now=now)
        row = PendingApproval.create(
            agency=agency_id,
            kind="revoke",
            number=canonical,
            reason=reason,
            note=note,
            requested_by=actor,
            requested_at=now,
        )
        audit.record(
            agency_id,
            actor,
            "revoke_requested",
            at=now,
            number=canonical,
            reason=reason,
            note=note,
            subject=f"#{row.id}",
        )
    return _approval(row)


def pending(agency_id: str, number: str | None = None) -> list[Approval]:
    """The agency's waiting requests, oldest first (optionally for one credential)."""
    query = _pending_query(agency_id)
    if number is not None:
        query = query.where(PendingApproval.number == number)
    return [_approval(row) for row in query.order_by(PendingApproval.id)]


def approve(agency_id: str, approval_id: int, *, approver: str, now: int) -> Approval:
    """Carry out a waiting request as its second admin; the requester cannot approve it."""
    with bound_database().atomic():
        row = _waiting(agency_id, approval_id)
        if row.requested_by == approver:
            raise Conflict("a second admin must approve this; you asked for it", field="approver")
        actor = audit.both(row.requested_by, approver)
        if row.kind == "revoke":
            revocation.revoke(
                agency_id, str(row.number), str(row.reason), note=row.note, actor=actor, now=now
            )
        else:
            _set(agency_id, False, now)
            audit.record(agency_id, actor, "four_eyes_off", at=now, subject=f"#{row.id}")
        _decide(row, "approved", approver, now)
    return _approval(PendingApproval.get_by_id(row.id))


def reject(agency_id: str, approval_id: int, *, decider: str, now: int) -> Approval:
    """Turn a waiting request down (its requester may withdraw it the same way)."""
    with bound_database().atomic():
        row = _waiting(agency_id, approval_id)
        _decide(row, "rejected", decider, now)
        audit.record(
            agency_id, decider, "request_rejected", at=now, number=row.number, subject=f"#{row.id}"
        )
    return _approval(PendingApproval.get_by_id(row.id))


def _waiting(agency_id: str, approval_id: int) -> PendingApproval:
    row: PendingApproval | None = (
        _pending_query(agency_id).where(PendingApproval.id == approval_id).first()
    )
    if row is None:
        raise NotFound("no such request waiting for approval", field="approval")
    return row


def _decide(row: PendingApproval, outcome: str, decider: str, now: int) -> None:
    decided = (
        PendingApproval.update(outcome=outcome, decided_by=decider, decided_at=now)
        .where((PendingApproval.id == row.id) & PendingApproval.outcome.is_null())
        .execute()
    )
    if not decided:  # another admin decided it a moment ago; this transaction is undone
        raise Conflict("this request was decided a moment ago", field="approval")


def _pending_query(agency_id: str) -> peewee.ModelSelect[PendingApproval]:
    return PendingApproval.select().where(
        (PendingApproval.agency == agency_id) & PendingApproval.outcome.is_null()
    )


def _set(agency_id: str, on: bool, now: int) -> None:
    updated = (
        AgencyPolicy.update(four_eyes_revocation=on, changed_at=now)
        .where(AgencyPolicy.agency == agency_id)
        .execute()
    )
    if not updated:
        AgencyPolicy.create(agency=agency_id, four_eyes_revocation=on, changed_at=now)


def _approval(row: PendingApproval) -> Approval:
    return Approval(
        row.id,
        row.agency_id,
        row.kind,
        row.number,
        row.reason,
        row.note,
        row.requested_by,
        row.requested_at,
        row.outcome,
        row.decided_by,
    )

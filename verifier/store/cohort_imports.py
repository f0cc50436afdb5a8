"""Cohort files uploaded in the console, as stored between upload, preview and confirmation.

The file waits here sealed (encrypted by :mod:`verifier.staff.imports`: it holds NIKs) until it is
issued or for at most :data:`KEEP_UPLOAD_SECONDS`, then it is deleted. Once issued, what stays is
the list of its rows' lines, numbers and statuses, from which the print pack is built again on
each download.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from verifier.core.errors import Conflict, NotFound
from verifier.store.db import bound_database
from verifier.store.models import CohortImport

#: An upload not issued within a day is deleted (with the NIKs it holds).
KEEP_UPLOAD_SECONDS = 24 * 3600
#: One issued row: its line in the file, its certificate number, and issued or existing.
Entry = tuple[int, str, str]


@dataclass(frozen=True)
class WaitingUpload:
    """An upload not issued yet: its kind (``csv`` or ``xlsx``) and its sealed content."""

    kind: str
    sealed: bytes


@dataclass(frozen=True)
class IssuedImport:
    """A cohort issued from the console: who, when, and its rows as issued."""

    id: str
    agency_id: str
    issued_at: int
    entries: list[Entry]  # (line, number, status) in file order

    @property
    def issued(self) -> int:
        """Rows newly issued."""
        return sum(1 for _, _, status in self.entries if status == "issued")

    @property
    def existing(self) -> int:
        """Rows found issued before."""
        return len(self.entries) - self.issued


def save(agency_id: str, user_id: int, kind: str, sealed: bytes, *, now: int) -> str:
    """Keep a sealed upload for its preview and confirmation; its id (random, unguessable).
    Uploads past their time are deleted on the way."""
    import_id = secrets.token_hex(16)
    with bound_database().atomic():
        sweep(now)
        CohortImport.create(
            id=import_id, agency=agency_id, user=user_id, kind=kind, content=sealed, uploaded_at=now
        )
    return import_id


def waiting(agency_id: str, import_id: str, *, now: int) -> WaitingUpload:
    """The sealed upload; NotFound when it is another agency's, issued, or too old."""
    row = _row(agency_id, import_id)
    if (
        row.issued_at is not None
        or row.content is None
        or row.uploaded_at + KEEP_UPLOAD_SECONDS <= now
    ):
        raise gone()
    return WaitingUpload(str(row.kind), bytes(row.content))


def gone() -> NotFound:
    """What an upload that is no longer waiting answers (issued, expired, unreadable)."""
    return NotFound("this upload is no longer waiting; upload the file again", field="file")


def mark_issued(agency_id: str, import_id: str, entries: Sequence[Entry], *, now: int) -> None:
    """Record the upload as issued with its rows, and drop its content; Conflict when it was
    issued a moment ago (call it in the transaction that stores the credentials: confirmed
    twice at once, the first one issues and the second nothing)."""
    marked = (
        CohortImport.update(
            issued_at=now, content=None, entries=json.dumps([list(entry) for entry in entries])
        )
        .where(
            (CohortImport.id == import_id)
            & (CohortImport.agency == agency_id)
            & CohortImport.issued_at.is_null()
        )
        .execute()
    )
    if not marked:
        raise Conflict("this upload was issued a moment ago", field="file")


def issued(agency_id: str, import_id: str) -> IssuedImport:
    """An issued upload; NotFound when it is another agency's or not issued."""
    row = _row(agency_id, import_id)
    if row.issued_at is None or row.entries is None:
        raise NotFound("this upload has not been issued", field="file")
    entries = [
        (int(line), str(number), str(status)) for line, number, status in json.loads(row.entries)
    ]
    return IssuedImport(row.id, row.agency_id, int(row.issued_at), entries)


def sweep(now: int) -> int:
    """Delete uploads never issued and older than a day (they hold NIKs); how many went."""
    return int(
        CohortImport.delete()
        .where(
            CohortImport.issued_at.is_null()
            & (CohortImport.uploaded_at <= now - KEEP_UPLOAD_SECONDS)
        )
        .execute()
    )


def _row(agency_id: str, import_id: str) -> CohortImport:
    row = None
    if len(import_id) == 32 and all(ch in "0123456789abcdef" for ch in import_id):
        row = CohortImport.get_or_none(
            (CohortImport.id == import_id) & (CohortImport.agency == agency_id)
        )
    if row is None:
        raise NotFound("no such upload", field="file")
    return row

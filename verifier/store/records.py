"""Issued-credential records: an agency's own (by number, or by NIK through its HMAC), and the
manual check's question "is there one with this number and this holder?"."""

from __future__ import annotations

import hmac
from typing import Any

from verifier.core.credential import (
    AGENCY_ID_RE,
    MAX_TEXT_LENGTH,
    NUMBER_RE,
    canonical_number,
    checked_number,
    to_iso,
)
from verifier.core.errors import NotFound
from verifier.core.nik import nik_hmac
from verifier.core.text import fold
from verifier.store.models import CredentialRecord
from verifier.store.registry import get_agency
from verifier.store.revocation import NO_SUCH_CREDENTIAL, lookup


def get_record(agency_id: str, number: str) -> dict[str, Any]:
    """The agency's record for a number; NotFound also when it belongs to another agency."""
    return _record(_row(agency_id, number))


def get_token(agency_id: str, number: str) -> str:
    """The stored token of the agency's credential (for re-rendering its QR)."""
    return str(_row(agency_id, number).token)


def _row(agency_id: str, number: str) -> CredentialRecord:
    row = CredentialRecord.get_or_none(
        (CredentialRecord.agency == agency_id)
        & (CredentialRecord.number == checked_number(number))
    )
    if row is None:
        raise NotFound(NO_SUCH_CREDENTIAL, field="number")
    return row


def find_by_nik(agency_id: str, nik: str, pepper: str | None) -> list[dict[str, Any]]:
    """The agency's own credentials for a NIK, newest first; the NIK is only ever hashed."""
    get_agency(agency_id)
    digest = nik_hmac(nik, agency_id, pepper)
    rows = (
        CredentialRecord.select()
        .where((CredentialRecord.agency == agency_id) & (CredentialRecord.nik_hmac == digest))
        .order_by(CredentialRecord.issued_at.desc(), CredentialRecord.id.desc())
    )
    return [_record(row) for row in rows]


def matching_token(agency_id: str, raw_number: str, name: str) -> str | None:
    """The stored token when the agency's credential with that number has that holder name.

    Names compare folded (case, spacing and composition do not matter), in constant time, and
    against every candidate (none, usually one), so that timing says nothing more. Numbers
    compare after canonical_number; typed in lower case they also find the upper-case number
    printed on the certificate (phones often start a field in lower case).
    """
    number = canonical_number(raw_number)
    if (not NUMBER_RE.fullmatch(number) or len(name) > 4 * MAX_TEXT_LENGTH
            or not AGENCY_ID_RE.fullmatch(agency_id)):
        return None  # (PostgreSQL would refuse a NUL in any of them outright: a 5xx)
    rows = CredentialRecord.select(CredentialRecord.holder_name, CredentialRecord.token).where(
        (CredentialRecord.agency == agency_id)
        & CredentialRecord.number.in_(sorted({number, number.upper()}))
    )
    typed = fold(name).encode()
    found = None
    for row in rows:
        if hmac.compare_digest(fold(row.holder_name).encode(), typed):
            found = str(row.token)
    return found


def _record(row: CredentialRecord) -> dict[str, Any]:
    state = lookup(row.agency_id, row.number)
    return {
        "number": row.number,
        "agency": row.agency_id,
        "holder_name": row.holder_name,
        "job_title": row.job_title,
        "job_code": row.job_code,
        "level": row.level,
        "issued_at": to_iso(row.issued_at),
        "valid_from": to_iso(row.valid_from),
        "expires_at": to_iso(row.expires_at),
        "status": state.status if state else "active",
        "revocation": state.to_dict() if state else None,
    }

"""An agency's own issued-credential records: by number, or by NIK (matched through its HMAC)."""

from __future__ import annotations

from typing import Any

from verifier.credential import checked_number, to_iso
from verifier.errors import NotFound
from verifier.models import CredentialRecord, database_proxy
from verifier.nik import nik_hmac
from verifier.registry import get_agency
from verifier.revocation import NO_SUCH_CREDENTIAL, RevocationStatus, lookup


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


def _record(row: CredentialRecord) -> dict[str, Any]:
    return record_dict(row, lookup(database_proxy.obj, row.agency_id, row.number))


def record_dict(row: CredentialRecord, state: RevocationStatus | None) -> dict[str, Any]:
    """The API's record object of a stored credential and its revocation state."""
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

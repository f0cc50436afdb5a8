"""The credentials this service issued: stored in one transaction, found again by NIK or number.

Batches are written in chunks of :data:`STORE_CHUNK` rows per statement, and imports of one
agency take turns (:func:`insert_cohort`), so a file sent twice at once is issued once.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import peewee

from verifier.core.credential import Credential, checked_number, number_key
from verifier.core.errors import Conflict
from verifier.core.nik import quoted
from verifier.core.slices import slices
from verifier.store.db import bound_database, take_turns
from verifier.store.models import CredentialRecord

#: Rows per statement: one query per credential kept a 5,000-row cohort's transaction open
#: for 2-9 s (and SQLite's write lock with it); 500 keeps each statement far below SQLite's
#: bound-parameter limit (32,766 on common builds; 12 per row).
STORE_CHUNK = 500

Item = TypeVar("Item")


@dataclass(frozen=True)
class SignedCredential:
    """A credential with its token, the kid that signed it and, when a NIK was given, its HMAC:
    one row of the credential table."""

    credential: Credential
    token: str
    kid: str
    nik_hmac: str | None


def chunks(items: Sequence[Item], size: int = STORE_CHUNK) -> Iterator[Sequence[Item]]:
    """``items`` in consecutive slices of at most ``size``: one statement each."""
    return slices(items, size)


def insert(signed: Sequence[SignedCredential]) -> None:
    """Insert in one transaction; Conflict naming the number if any already exists, also in
    other upper or lower case (checked first, and held by the unique number_key index against
    a twin issued by another request at the same moment)."""
    try:
        with bound_database().atomic():
            _check_unique([item.credential for item in signed])
            for chunk in chunks(signed):
                CredentialRecord.insert_many([_row(item) for item in chunk]).execute()
    except peewee.IntegrityError:
        numbers = [item.credential.number for item in signed]
        named = (
            f"certificate number {quoted(numbers[0])}"
            if len(numbers) == 1
            else ("one of these certificate numbers")
        )
        raise Conflict(
            f"{named} already exists for this agency (issued a moment ago, "
            "perhaps in other upper or lower case)",
            field="number",
        ) from None


def insert_cohort(signed: Sequence[SignedCredential]) -> None:
    """Insert a cohort's new credentials in one transaction (all or nothing).

    Two imports of the same file at the same moment would both find its rows new (numbers are
    random, so the unique number does not catch it). Imports of one agency therefore take turns
    here (SQLite: the write lock taken at BEGIN; PostgreSQL: an advisory lock per agency), and
    the later one re-checks: Conflict if another import issued any of its rows meanwhile.
    """
    if not signed:
        return
    database = bound_database()
    agency_id = signed[0].credential.agency_id
    with database.atomic():
        take_turns(database, "skk-cohort:" + agency_id)
        if _issued_meanwhile(signed, agency_id):
            raise Conflict(
                "another import issued some of these rows a moment ago; nothing was issued by "
                "this one: run the file again to see them as existing",
                field="file",
            )
        insert(signed)


def _issued_meanwhile(signed: Sequence[SignedCredential], agency_id: str) -> bool:
    """True when any (NIK, job) of ``signed`` now has an unexpired credential stored."""
    wanted = {(s.nik_hmac, s.credential.job_code) for s in signed if s.nik_hmac}
    now = signed[0].credential.issued_at
    by_nik = by_nik_hmac(agency_id, [nik for nik, _ in wanted])
    return any(
        (nik, stored.credential.job_code) in wanted and stored.credential.expires_at > now
        for nik, found in by_nik.items()
        for stored in found
    )


def by_nik_hmac(agency_id: str, digests: Sequence[str]) -> dict[str, list[SignedCredential]]:
    """The agency's stored credentials for each of these NIK HMACs (absent ones left out)."""
    return _by(CredentialRecord.nik_hmac, agency_id, digests)


def by_number(agency_id: str, numbers: Sequence[str]) -> dict[str, list[SignedCredential]]:
    """The agency's stored credentials for each of these numbers (absent ones left out)."""
    return _by(CredentialRecord.number, agency_id, numbers)


def numbers_as_stored(agency_id: str, numbers: Sequence[str]) -> dict[str, list[str]]:
    """The agency's stored numbers that equal each of these canonical numbers in case-blind
    comparison, by :func:`~verifier.core.credential.number_key` (absent ones left out).

    One query on the unique (agency, number_key) index finds them. Only an agency holding
    case-twins stored before schema version 7 (number_key NULL) has those compared as well,
    as ``UPPER(number)`` among its NULL-key rows alone, so that such a number is seen as
    ambiguous instead of silently naming one of the twins.
    """
    keys = sorted({number_key(number) for number in numbers})
    found: dict[str, set[str]] = {}
    for chunk in chunks(keys):
        _collect(
            found, (CredentialRecord.agency == agency_id) & CredentialRecord.number_key.in_(chunk)
        )
    if found and _has_unkeyed_twins(agency_id):
        for chunk in chunks(sorted(found)):
            _collect(
                found,
                (CredentialRecord.agency == agency_id)
                & CredentialRecord.number_key.is_null()
                & peewee.fn.UPPER(CredentialRecord.number).in_(chunk),
            )
    return {key: sorted(stored) for key, stored in found.items()}


def _has_unkeyed_twins(agency_id: str) -> bool:
    """True when the agency has a credential without number_key: a case-twin from before
    schema version 7 (an index lookup: NULLs are in the (agency, number_key) index)."""
    return bool(
        CredentialRecord.select()
        .where((CredentialRecord.agency == agency_id) & CredentialRecord.number_key.is_null())
        .exists()
    )


def _collect(found: dict[str, set[str]], condition: Any) -> None:
    for row in CredentialRecord.select(CredentialRecord.number).where(condition):
        found.setdefault(number_key(row.number), set()).add(row.number)


def stored_number(agency_id: str, raw: str) -> str:
    """The agency's number as stored for a number however typed (case, outer and doubled spaces
    do not matter): the one stored number it equals in case-blind comparison (the same number
    when typed exactly as stored); the canonical typed number when none does (NotFound is the
    caller's to say). InvalidInput when it cannot be a number; Conflict when several stored
    numbers (case-twins from before schema version 7) differ from it only in case."""
    number = checked_number(raw)
    stored = numbers_as_stored(agency_id, [number]).get(number_key(number), [])
    if number in stored:
        return number
    if len(stored) > 1:
        raise Conflict(
            "several certificate numbers differ from this one only in upper and "
            "lower case: type it exactly as printed",
            field="number",
        )
    return stored[0] if stored else number


def _by(column: Any, agency_id: str, values: Sequence[str]) -> dict[str, list[SignedCredential]]:
    found: dict[str, list[SignedCredential]] = {}
    for chunk in chunks(sorted(set(values))):
        query = CredentialRecord.select().where(
            (CredentialRecord.agency == agency_id) & column.in_(chunk)
        )
        for row in query:
            found.setdefault(getattr(row, column.name), []).append(_signed(row))
    return found


def _check_unique(credentials: list[Credential]) -> None:
    """Conflict when a number exists for its agency, also in other upper or lower case (a number
    found however typed must name one certificate): compared by number_key, on its index."""
    keys: dict[str, set[str]] = {}
    for credential in credentials:
        keys.setdefault(credential.agency_id, set()).add(number_key(credential.number))
    for agency_id, wanted in keys.items():
        for chunk in chunks(sorted(wanted)):
            taken = (
                CredentialRecord.select(CredentialRecord.number)
                .where(
                    (CredentialRecord.agency == agency_id) & CredentialRecord.number_key.in_(chunk)
                )
                .limit(1)
                .scalar()
            )
            if taken is not None:
                raise Conflict(
                    f"certificate number {quoted(taken)} already exists for this agency",
                    field="number",
                )


def _row(item: SignedCredential) -> dict[str, Any]:
    cred = item.credential
    return {
        "agency": cred.agency_id,
        "number": cred.number,
        "number_key": number_key(cred.number),
        "holder_name": cred.holder_name,
        "job_title": cred.job_title,
        "job_code": cred.job_code,
        "level": cred.level,
        "nik_hmac": item.nik_hmac,
        "kid": item.kid,
        "issued_at": cred.issued_at,
        "valid_from": cred.valid_from,
        "expires_at": cred.expires_at,
        "token": item.token,
    }


def _signed(row: CredentialRecord) -> SignedCredential:
    credential = Credential(
        row.agency_id,
        row.number,
        row.holder_name,
        row.job_title,
        row.job_code,
        row.level,
        row.issued_at,
        row.valid_from,
        row.expires_at,
    )
    return SignedCredential(credential, str(row.token), str(row.kid), row.nik_hmac)

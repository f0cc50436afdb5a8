"""Issued-credential records: an agency's own (by number, or by NIK through its HMAC), and the
question of the manual check and of crew rows given by number: "is there one with this number
and this holder?"."""

from __future__ import annotations

import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import peewee

from verifier.core.credential import (
    AGENCY_ID_RE,
    MAX_TEXT_LENGTH,
    NUMBER_RE,
    canonical_number,
    number_key,
    to_iso,
)
from verifier.core.errors import NotFound
from verifier.core.nik import nik_hmac
from verifier.core.text import fold
from verifier.core.trust import RevocationStatus
from verifier.store.credentials import chunks, numbers_as_stored, stored_number
from verifier.store.models import CredentialRecord, RevocationRecord
from verifier.store.registry import get_agency
from verifier.store.revocation import NO_SUCH_CREDENTIAL


def get_record(agency_id: str, number: str) -> dict[str, Any]:
    """The agency's record for a number; NotFound also when it belongs to another agency."""
    return joined_record(_row(agency_id, number))


def get_token(agency_id: str, number: str) -> str:
    """The stored token of the agency's credential (for re-rendering its QR)."""
    return str(_row(agency_id, number).token)


def _row(agency_id: str, number: str) -> CredentialRecord:
    """The agency's row for a number however typed (:func:`stored_number`), with its state."""
    row: CredentialRecord | None = (
        with_revocation()
        .where(
            (CredentialRecord.agency == agency_id)
            & (CredentialRecord.number == stored_number(agency_id, number))
        )
        .first()
    )
    if row is None:
        raise NotFound(NO_SUCH_CREDENTIAL, field="number")
    return row


def with_revocation() -> peewee.ModelSelect[CredentialRecord]:
    """Credential rows, each with its current revocation record joined on (None when it has
    none): one query for a record and its state, or for a whole page of them."""
    return CredentialRecord.select(
        CredentialRecord, RevocationRecord.status, RevocationRecord.at, RevocationRecord.reason
    ).join(
        RevocationRecord,
        peewee.JOIN.LEFT_OUTER,
        on=(
            (RevocationRecord.agency == CredentialRecord.agency)
            & (RevocationRecord.number == CredentialRecord.number)
        ),
        attr="revocation_row",
    )


def joined_record(row: CredentialRecord) -> dict[str, Any]:
    """The API's record object of a row selected by :func:`with_revocation`."""
    joined = getattr(row, "revocation_row", None)
    state = None
    if joined is not None and joined.status is not None:
        state = RevocationStatus(joined.status, int(joined.at), joined.reason)
    return record_dict(row, state)


def find_by_nik(agency_id: str, nik: str, pepper: str | None) -> list[dict[str, Any]]:
    """The agency's own credentials for a NIK, newest first; the NIK is only ever hashed."""
    get_agency(agency_id)
    digest = nik_hmac(nik, agency_id, pepper)
    rows = (
        with_revocation()
        .where((CredentialRecord.agency == agency_id) & (CredentialRecord.nik_hmac == digest))
        .order_by(CredentialRecord.issued_at.desc(), CredentialRecord.id.desc())
    )
    return [joined_record(row) for row in rows]


@dataclass(frozen=True)
class NumberMatch:
    """What the records say about one (agency, number, holder name) question."""

    #: The stored token when the agency has that number with that holder name.
    token: str | None
    #: The agency has a credential with that number, whatever its holder's name.
    number_known: bool


_NO_MATCH = NumberMatch(None, False)


def matching_token(agency_id: str, raw_number: str, name: str) -> str | None:
    """The stored token when the agency's credential with that number has that holder name (the
    manual check's question; :func:`match_many` says how they compare)."""
    return match_many([(agency_id, raw_number, name)])[0].token


def match_many(questions: Sequence[tuple[str, str, str]]) -> list[NumberMatch]:
    """The answers to many (agency, number, holder name) questions, in order (the manual check
    asks one, a crew check one per row given by number); one query per agency and chunk.

    Names compare folded (case, spacing and composition do not matter), in constant time, and
    against every candidate (none, usually one), so that timing says nothing more. Numbers
    compare by number_key, as everywhere a number is typed: in lower case or with stray spaces
    they find the number printed on the certificate (phones often start a field in lower case).
    """
    asked = [
        _number_asked(agency_id, raw_number, name) for agency_id, raw_number, name in questions
    ]
    wanted: dict[str, set[str]] = {}
    for agency_id, number in (form for form in asked if form is not None):
        wanted.setdefault(agency_id, set()).add(number)
    found: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for agency_id, numbers in wanted.items():
        stored = [
            number
            for forms in numbers_as_stored(agency_id, sorted(numbers)).values()
            for number in forms
        ]
        for chunk in chunks(stored):
            rows = CredentialRecord.select(
                CredentialRecord.number, CredentialRecord.holder_name, CredentialRecord.token
            ).where((CredentialRecord.agency == agency_id) & CredentialRecord.number.in_(chunk))
            for row in rows:
                found.setdefault((agency_id, number_key(row.number)), []).append(
                    (row.holder_name, str(row.token))
                )
    answers = []
    for (agency_id, _, name), form in zip(questions, asked, strict=True):
        if form is None:
            answers.append(_NO_MATCH)
            continue
        answers.append(_compare(found.get((agency_id, number_key(form[1])), []), name))
    return answers


def _number_asked(agency_id: str, raw_number: str, name: str) -> tuple[str, str] | None:
    """The agency and the canonical number to look up; None for a question no record can
    answer."""
    number = canonical_number(raw_number)
    if (
        not NUMBER_RE.fullmatch(number)
        or len(name) > 4 * MAX_TEXT_LENGTH
        or not AGENCY_ID_RE.fullmatch(agency_id)
    ):
        return None  # (PostgreSQL would refuse a NUL in any of them outright: a 5xx)
    return agency_id, number


def _compare(candidates: list[tuple[str, str]], name: str) -> NumberMatch:
    typed = fold(name).encode()
    token = None
    for holder_name, stored_token in candidates:
        if hmac.compare_digest(fold(holder_name).encode(), typed):
            token = stored_token
    return NumberMatch(token, bool(candidates))


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

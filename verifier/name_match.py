"""Finding issued credentials by agency + certificate number + holder name, as people type them.

Used by the manual check (``/cek``) and by crew rows given by number (``verifier.crew``). Numbers
compare after canonicalisation, and typed in lower case they also find the upper-case number
printed on the certificate (phones often start a field in lower case). Names compare NFC,
case- and spacing-insensitively, in constant time against every candidate, so timing says
nothing about which part differed.
"""

from __future__ import annotations

import hmac
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from verifier.core.credential import AGENCY_ID_RE, MAX_TEXT_LENGTH, NUMBER_RE, canonical_number
from verifier.store.credentials import STORE_CHUNK, chunks
from verifier.store.models import CredentialRecord


@dataclass(frozen=True)
class NumberMatch:
    """What the records say about one (agency, number, name) question."""

    #: The stored token when the agency has that number with that holder name.
    token: str | None
    #: The agency has a credential with that number, whatever its holder's name.
    number_known: bool


NO_MATCH = NumberMatch(None, False)


def folded_name(name: str) -> str:
    """NFC, single spaces, case-folded: how two spellings of one name compare equal."""
    folded = " ".join(unicodedata.normalize("NFC", name).split()).casefold()
    return unicodedata.normalize("NFC", folded)


def match(agency_id: str, raw_number: str, name: str) -> NumberMatch:
    """The answer for one question."""
    return match_many([(agency_id, raw_number, name)])[0]


def match_many(questions: Sequence[tuple[str, str, str]]) -> list[NumberMatch]:
    """The answers for many (agency, number, name) questions, in order; one query per agency
    and chunk of numbers."""
    asked = [_forms(agency_id, raw_number, name) for agency_id, raw_number, name in questions]
    wanted: dict[str, set[str]] = {}
    for agency_id, numbers in (form for form in asked if form is not None):
        wanted.setdefault(agency_id, set()).update(numbers)
    found: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for agency_id, numbers in wanted.items():
        for chunk in chunks(sorted(numbers), STORE_CHUNK):
            rows = CredentialRecord.select(
                CredentialRecord.number, CredentialRecord.holder_name, CredentialRecord.token
            ).where((CredentialRecord.agency == agency_id) & CredentialRecord.number.in_(chunk))
            for row in rows:
                found.setdefault((agency_id, row.number), []).append(
                    (row.holder_name, str(row.token)))
    answers = []
    for (agency_id, _, name), form in zip(questions, asked, strict=True):
        if form is None:
            answers.append(NO_MATCH)
            continue
        candidates = [row for number in sorted(form[1]) for row in found.get((agency_id, number),
                                                                             [])]
        answers.append(_compare(candidates, name))
    return answers


def _forms(agency_id: str, raw_number: str, name: str) -> tuple[str, set[str]] | None:
    """The agency and the number forms to look up; None for a question no record can answer."""
    number = canonical_number(raw_number)
    if (not NUMBER_RE.fullmatch(number) or len(name) > 4 * MAX_TEXT_LENGTH
            or not AGENCY_ID_RE.fullmatch(agency_id)):
        return None  # (PostgreSQL would refuse a NUL in any of them outright: a 5xx)
    return agency_id, {number, number.upper()}


def _compare(candidates: list[tuple[str, str]], name: str) -> NumberMatch:
    typed = folded_name(name).encode()
    token = None
    # Compare against every candidate (none, usually one) so that timing says nothing more.
    for holder_name, stored_token in candidates:
        if hmac.compare_digest(folded_name(holder_name).encode(), typed):
            token = stored_token
    return NumberMatch(token, bool(candidates))

""" "Is this the worker's NIK?" for a valid credential issued here, without leaking NIKs.

The answer is only true or false, the NIK is compared as its per-agency HMAC, and wrong guesses
are limited per credential in the database (shared by every worker and host), so rotating IP
addresses does not help a guesser while honest checkers behind one carrier NAT are not blocked.
"""

from __future__ import annotations

import hmac

from verifier.core.credential import canonical_number
from verifier.core.errors import TooManyAttempts
from verifier.core.nik import nik_hmac
from verifier.store.models import CredentialRecord, NikMiss

MAX_MISSES = 5
#: Misses count for a day, and are deleted after it (verifier.store.pruning).
WINDOW_SECONDS = 24 * 3600


def match_nik(agency_id: str, number: str, nik: str, pepper: str | None, now: int) -> bool | None:
    """True/False for a credential with a NIK on record; None when there is nothing to compare."""
    number = canonical_number(number)
    row = CredentialRecord.get_or_none(
        (CredentialRecord.agency == agency_id) & (CredentialRecord.number == number)
    )
    if row is None or row.nik_hmac is None:
        return None
    # The latest misses in the window: locked while MAX_MISSES of them are, until the oldest
    # of those leaves the window (that is the Retry-After).
    latest = [
        miss.at
        for miss in NikMiss.select(NikMiss.at)
        .where(
            (NikMiss.agency == agency_id)
            & (NikMiss.number == number)
            & (NikMiss.at > now - WINDOW_SECONDS)
        )
        .order_by(NikMiss.at.desc())
        .limit(MAX_MISSES)
    ]
    if len(latest) >= MAX_MISSES:
        raise TooManyAttempts(
            "too many wrong NIKs for this credential; try again tomorrow",
            retry_after=max(1, latest[-1] + WINDOW_SECONDS - now),
        )
    matched = hmac.compare_digest(row.nik_hmac, nik_hmac(nik, agency_id, pepper))
    if not matched:
        NikMiss.create(agency=agency_id, number=number, at=now)
    return matched


def prune(now: int) -> int:
    """Delete misses that have left the window: they count for nothing any more; how many."""
    return int(NikMiss.delete().where(NikMiss.at <= now - WINDOW_SECONDS).execute())

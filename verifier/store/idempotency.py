"""``Idempotency-Key`` records: the first answer to an issuing request, so that a retry gets it
again instead of issuing twice (issue 14; the web glue is :mod:`verifier.web.idempotency`).

A request *claims* its key (scope + key) before it acts. The claim is one ``INSERT ... ON
CONFLICT DO NOTHING``, so of two requests racing with the same key exactly one wins on SQLite
and PostgreSQL alike: the unique index decides, never a read followed by a write. The winner
then *finishes* the record with its answer, or *releases* it when it failed in a way a retry
may repair (a 5xx, a crash), so that the key is not pinned. A claim is named by its scope, key
and the second it was made (``claimed_at``): a worker that outlived its lease can no longer
finish or release a claim that another request has taken over since.
"""

from __future__ import annotations

from dataclasses import dataclass

import peewee

from verifier.store.db import bound_database
from verifier.store.models import IdempotencyRecord

#: Records are kept (and answers replayed) this long; :func:`prune` (run by every claim and by
#: ``skk prune``) removes older ones.
KEEP_SECONDS = 24 * 3600
#: A claim still without an answer after this long belongs to a worker that died (gunicorn
#: kills a worker after 30 s, verifier/gunicorn_conf.py): a retry may take it over.
IN_FLIGHT_LEASE_SECONDS = 120
#: Claim attempts when the record found vanishes before it is read (released meanwhile);
#: after that the key counts as in flight.
_CLAIM_ATTEMPTS = 3


@dataclass(frozen=True)
class Record:
    """A stored key: the fingerprint of the request that claimed it, and its answer once made."""

    scope: str
    key: str
    fingerprint: str
    status_code: int | None
    response_body: str | None
    created_at: int

    @property
    def in_flight(self) -> bool:
        """The request that claimed the key has not answered yet."""
        return self.status_code is None


def claim(scope: str, key: str, fingerprint: str, now: int) -> Record | None:
    """Claim ``key`` for a request; None when this request now holds it (act, then
    :func:`finish` or :func:`release` with ``claimed_at=now``), otherwise the record found.

    A record older than :data:`KEEP_SECONDS`, or one in flight longer than
    :data:`IN_FLIGHT_LEASE_SECONDS` with the same fingerprint, is taken over (a compare-and-set
    on its ``created_at``, and on its still missing answer for one in flight, so that of two
    retries only one takes it and an answer stored meanwhile is never wiped).

    Every claim first deletes the records older than :data:`KEEP_SECONDS` (any caller's: one
    probe of the ``created_at`` index, rarely a row): the privacy notice's 24 hours hold for
    these answers (names and numbers) even on a host without the ``skk prune`` timer.
    """
    prune(now - KEEP_SECONDS)
    for _ in range(_CLAIM_ATTEMPTS):
        if _insert(scope, key, fingerprint, now):
            return None
        found = lookup(scope, key)
        if found is None:
            continue  # released between the two statements: claim again
        if not _expired(found, fingerprint, now):
            return found
        if _take_over(found, fingerprint, now):
            return None
        # Changed since it was read (answered, or taken by another retry): read it again, so
        # that an answer stored meanwhile is replayed.
    # Claimed and released again three times in a row: as busy as a request in flight.
    return Record(scope, key, fingerprint, None, None, now)


def _insert(scope: str, key: str, fingerprint: str, now: int) -> bool:
    database = bound_database()
    p = database.param
    table = IdempotencyRecord._meta.table_name
    cursor = database.execute_sql(
        # only the table name and placeholders are interpolated
        f'INSERT INTO {table} (scope, "key", fingerprint, status_code, response_body, created_at) '  # noqa: S608
        f'VALUES ({p}, {p}, {p}, NULL, NULL, {p}) ON CONFLICT (scope, "key") DO NOTHING '
        f"RETURNING id",
        (scope, key, fingerprint, now),
    )
    return cursor.fetchone() is not None


def _expired(found: Record, fingerprint: str, now: int) -> bool:
    if found.created_at <= now - KEEP_SECONDS:
        return True
    return (
        found.in_flight
        and found.fingerprint == fingerprint
        and found.created_at <= now - IN_FLIGHT_LEASE_SECONDS
    )


def _take_over(found: Record, fingerprint: str, now: int) -> bool:
    unchanged = _named(found.scope, found.key, found.created_at)
    if found.in_flight:
        # Only while still unanswered: its worker may have stored its answer since it was read.
        unchanged &= IdempotencyRecord.status_code.is_null()
    taken = (
        IdempotencyRecord.update(
            fingerprint=fingerprint, status_code=None, response_body=None, created_at=now
        )
        .where(unchanged)
        .execute()
    )
    return bool(taken)


def finish(scope: str, key: str, claimed_at: int, status_code: int, response_body: str) -> bool:
    """Store the answer of the claim made at ``claimed_at``; False if that claim is gone."""
    done = (
        IdempotencyRecord.update(status_code=status_code, response_body=response_body)
        .where(_named(scope, key, claimed_at) & IdempotencyRecord.status_code.is_null())
        .execute()
    )
    return bool(done)


def release(scope: str, key: str, claimed_at: int) -> bool:
    """Forget the unanswered claim made at ``claimed_at``, so that a retry can act; False if
    it is not there (answered, or taken over)."""
    gone = (
        IdempotencyRecord.delete()
        .where(_named(scope, key, claimed_at) & IdempotencyRecord.status_code.is_null())
        .execute()
    )
    return bool(gone)


def _named(scope: str, key: str, created_at: int) -> peewee.Expression:
    return (
        (IdempotencyRecord.scope == scope)
        & (IdempotencyRecord.key == key)
        & (IdempotencyRecord.created_at == created_at)
    )


def lookup(scope: str, key: str) -> Record | None:
    """The record of ``key`` in ``scope``, or None."""
    row = IdempotencyRecord.get_or_none(
        (IdempotencyRecord.scope == scope) & (IdempotencyRecord.key == key)
    )
    if row is None:
        return None
    return Record(
        row.scope, row.key, row.fingerprint, row.status_code, row.response_body, int(row.created_at)
    )


def prune(before: int) -> int:
    """Delete the records made before ``before`` (``now - KEEP_SECONDS`` keeps the promise of
    24 hours); how many went."""
    return int(IdempotencyRecord.delete().where(IdempotencyRecord.created_at < before).execute())

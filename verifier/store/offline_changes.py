"""The offline change sequence: one counter, bumped in the transaction of every change that an
offline bundle carries, and a log row per change, so a delta is "every change after SEQ".

:mod:`verifier.store.db` calls :func:`record_change` from ``bump_registry_version``, so this
module speaks only through the models (which act on the bound database) and imports nothing else
of the store.

The counter is the ``skk_meta`` row ``offline_seq``. Taking the next value is an UPDATE, which
holds that row's lock until the transaction ends, so a second writer waits and gets its number
only after the first has committed or rolled back: numbers are handed out in commit order, and a
reader who sees counter value S has seen every change numbered up to S. (An AUTOINCREMENT id
would not do: on PostgreSQL a later id can commit first, and a client that had fetched up to it
would never be sent the earlier one.)
"""

from __future__ import annotations

from verifier.store.models import OfflineChange, SkkMeta

COUNTER = "offline_seq"
#: Deltas are served only from this sequence on (``skk bundle reset`` moves it, after a restore).
FLOOR = "offline_floor"


def record_change(agency_id: str | None, number: str | None) -> int:
    """Log one change (a credential's revocation state, or the registry when both are None) in
    the caller's transaction; its sequence number."""
    seq = _bump(COUNTER, 1)
    OfflineChange.insert(seq=seq, agency=agency_id, number=number).execute()
    return seq


def read_counter(name: str = COUNTER) -> int:
    """The counter's committed value; 0 before the first change."""
    row = SkkMeta.get_or_none(SkkMeta.name == name)
    return 0 if row is None else int(row.value)


def changes_after(since: int, limit: int) -> list[tuple[str | None, str | None]]:
    """(agency, number) of the first ``limit`` changes numbered after ``since``, in order."""
    query = (
        OfflineChange.select(OfflineChange.agency, OfflineChange.number)
        .where(OfflineChange.seq > since)
        .order_by(OfflineChange.seq)
        .limit(limit)
    )
    return [(row.agency, row.number) for row in query]


def reset() -> int:
    """Start a new run of sequence numbers no client can hold, and serve deltas only within it.

    For after a database restore: the counter went back in time, so a phone's sequence number
    may name changes that were lost, or that were numbered again since. Jumping past any number
    handed out before (2**32 changes) and refusing deltas below the jump makes every client
    fetch a full bundle once. Call in a transaction
    (:func:`verifier.store.bundle_source.restart_deltas`); returns the new floor.
    """
    floor = _bump(COUNTER, 2**32)
    current = _bump(FLOOR, 0)
    _bump(FLOOR, floor - current)
    return floor


def _bump(name: str, step: int) -> int:
    """Add ``step`` to the ``skk_meta`` counter ``name`` (created at 0) and return its value."""
    # The row may not exist yet (a database created before offline bundles, or never changed);
    # ignoring the conflict makes creating it safe when two first changes race.
    SkkMeta.insert(name=name, value=0).on_conflict_ignore().execute()
    # The UPDATE takes the row's lock; reading the row back in this transaction sees our value.
    SkkMeta.update(value=SkkMeta.value + step).where(SkkMeta.name == name).execute()
    return int(SkkMeta.get(SkkMeta.name == name).value)

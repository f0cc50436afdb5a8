"""The offline change sequence: one counter, bumped in the transaction of every change that an
offline bundle carries, and a log row per change, so a delta is "every change after SEQ".

Plain SQL on purpose: :mod:`verifier.db` calls :func:`record_change` from
``bump_registry_version``, and this module must not import the models or the registry.

The counter is the ``skk_meta`` row ``offline_seq``. Taking the next value is an UPDATE, which
holds that row's lock until the transaction ends, so a second writer waits and gets its number
only after the first has committed or rolled back: numbers are handed out in commit order, and a
reader who sees counter value S has seen every change numbered up to S. (An AUTOINCREMENT id
would not do: on PostgreSQL a later id can commit first, and a client that had fetched up to it
would never be sent the earlier one.)
"""

from __future__ import annotations

import peewee

COUNTER = "offline_seq"
#: Deltas are served only from this sequence on (``skk bundle reset`` moves it, after a restore).
FLOOR = "offline_floor"


def record_change(database: peewee.Database, agency_id: str | None, number: str | None) -> int:
    """Log one change (a credential's revocation state, or the registry when both are None) in
    the caller's transaction; its sequence number."""
    seq = bump(database, COUNTER, 1)
    p = database.param
    database.execute_sql(
        f"INSERT INTO offline_change (seq, agency, number) VALUES ({p}, {p}, {p})",
        (seq, agency_id, number),
    )
    return seq


def bump(database: peewee.Database, name: str, step: int) -> int:
    """Add ``step`` to the ``skk_meta`` counter ``name`` (created at 0) and return its value."""
    p = database.param
    # The row may not exist yet (a database created before offline bundles, or never changed);
    # ON CONFLICT DO NOTHING makes creating it safe when two first changes race.
    database.execute_sql(
        f"INSERT INTO skk_meta (name, value) VALUES ({p}, 0) ON CONFLICT (name) DO NOTHING",
        (name,),
    )
    row = database.execute_sql(
        f"UPDATE skk_meta SET value = value + {p} WHERE name = {p} RETURNING value", (step, name)
    ).fetchone()
    return int(row[0])


def read_counter(database: peewee.Database, name: str = COUNTER) -> int:
    """The counter's committed value; 0 before the first change."""
    row = database.execute_sql(
        f"SELECT value FROM skk_meta WHERE name = {database.param}", (name,)
    ).fetchone()
    return int(row[0]) if row else 0


def reset(database: peewee.Database) -> int:
    """Start a new run of sequence numbers no client can hold, and serve deltas only within it.

    For after a database restore: the counter went back in time, so a phone's sequence number
    may name changes that were lost, or that were numbered again since. Jumping past any number
    handed out before (2**32 changes) and refusing deltas below the jump makes every client
    fetch a full bundle once. Call in a transaction; returns the new floor.
    """
    floor = bump(database, COUNTER, 2**32)
    current = bump(database, FLOOR, 0)
    bump(database, FLOOR, floor - current)
    return floor

"""Fixed-window request counters in the database, so that every worker and host shares them.

One upsert per counted request (``INSERT ... ON CONFLICT DO UPDATE ... RETURNING``, on SQLite
3.35+ and PostgreSQL alike): a window that has ended starts again at the new request. Only for
limits where a per-worker count would be too lenient and the volume is small (NIK questions);
the verify limit stays in each worker's memory, off the hot path of the database.
"""

from __future__ import annotations

from verifier.store.db import bound_database
from verifier.store.models import RateCounter

#: Increments between deletions of ended windows, so the table stays small.
SWEEP_EVERY = 1000
_increments = 0


def increment(name: str, window_ms: int, amount: int, now_ms: int) -> int:
    """Add ``amount`` to counter ``name`` and return its count in the current window."""
    global _increments
    database = bound_database()
    p = database.param
    table = RateCounter._meta.table_name
    sql = (
        f"INSERT INTO {table} (name, hits, expires_at_ms) VALUES ({p}, {p}, {p}) "  # noqa: S608
        f"ON CONFLICT (name) DO UPDATE SET "
        f"hits = CASE WHEN {table}.expires_at_ms <= {p} THEN excluded.hits "
        f"ELSE {table}.hits + excluded.hits END, "
        f"expires_at_ms = CASE WHEN {table}.expires_at_ms <= {p} THEN excluded.expires_at_ms "
        f"ELSE {table}.expires_at_ms END "
        f"RETURNING hits"
    )
    with database.atomic():
        row = database.execute_sql(sql, (name, amount, now_ms + window_ms, now_ms, now_ms))
        hits = int(row.fetchone()[0])
        _increments += 1
        if _increments >= SWEEP_EVERY:
            _increments = 0
            RateCounter.delete().where(RateCounter.expires_at_ms <= now_ms).execute()
    return hits


def count(name: str, now_ms: int) -> int:
    """Counter ``name`` in its current window (0 once the window has ended)."""
    row = RateCounter.get_or_none(RateCounter.name == name)
    return 0 if row is None or row.expires_at_ms <= now_ms else int(row.hits)


def expires_at_ms(name: str, now_ms: int) -> int:
    """When counter ``name``'s window ends (``now_ms`` when there is none)."""
    row = RateCounter.get_or_none(RateCounter.name == name)
    return now_ms if row is None else int(row.expires_at_ms)


def prune(now: int) -> int:
    """Delete every counter whose window has ended (the longest window is a day); how many."""
    return int(RateCounter.delete().where(RateCounter.expires_at_ms <= now * 1000).execute())


def clear(name: str | None = None) -> int:
    """Forget one counter, or all of them; how many rows went."""
    query = RateCounter.delete()
    if name is not None:
        query = query.where(RateCounter.name == name)
    return int(query.execute())

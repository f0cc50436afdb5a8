"""Database-backed fixed-window counters (verifier.store.rate_counts), on SQLite and PostgreSQL."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from verifier.store import rate_counts
from verifier.store.db import open_database
from verifier.store.models import RateCounter

T0 = 1_768_435_200_000  # milliseconds
MINUTE = 60_000


def test_counts_within_a_window_and_restarts_after_it(database):
    assert [rate_counts.increment("nik/a", MINUTE, 1, T0 + i) for i in range(3)] == [1, 2, 3]
    assert rate_counts.count("nik/a", T0 + 10) == 3
    assert rate_counts.expires_at_ms("nik/a", T0) == T0 + MINUTE
    # The window ends at T0 + MINUTE: the next request starts a new one, with a new end.
    assert rate_counts.count("nik/a", T0 + MINUTE) == 0
    assert rate_counts.increment("nik/a", MINUTE, 1, T0 + MINUTE) == 1
    assert rate_counts.expires_at_ms("nik/a", T0 + MINUTE) == T0 + 2 * MINUTE


def test_counters_are_independent_and_can_be_cleared(database):
    rate_counts.increment("nik/a", MINUTE, 2, T0)
    rate_counts.increment("nik/b", MINUTE, 1, T0)
    assert (rate_counts.count("nik/a", T0), rate_counts.count("nik/b", T0)) == (2, 1)
    assert rate_counts.clear("nik/a") == 1
    assert (rate_counts.count("nik/a", T0), rate_counts.count("nik/b", T0)) == (0, 1)
    assert rate_counts.clear() == 1
    assert RateCounter.select().count() == 0


def test_ended_windows_are_swept(database, monkeypatch):
    monkeypatch.setattr(rate_counts, "SWEEP_EVERY", 3)
    monkeypatch.setattr(rate_counts, "_increments", 0)
    rate_counts.increment("old/1", MINUTE, 1, T0)
    rate_counts.increment("old/2", MINUTE, 1, T0)
    rate_counts.increment("new", MINUTE, 1, T0 + 2 * MINUTE)  # third: sweeps what has ended
    assert [row.name for row in RateCounter.select()] == ["new"]


def test_concurrent_increments_from_separate_connections_lose_nothing(database, settings):
    """Workers are separate processes with their own connections; every hit must count."""

    def hit(_: int) -> int:
        own = open_database(settings.database_url)  # a connection of this thread's own
        try:
            return rate_counts.increment("nik/shared", MINUTE, 1, T0)
        finally:
            own.close()

    with ThreadPoolExecutor(max_workers=4) as pool:
        counts = sorted(pool.map(hit, range(40)))
    assert counts == list(range(1, 41))

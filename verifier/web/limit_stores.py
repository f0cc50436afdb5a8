"""The two ``limits`` storage backends of our own: counters in a worker's memory, or in the
service's database for every worker and host to share. Storage only: no Flask, no policy
(which limit counts where is :class:`verifier.web.limits.RateLimiter`'s business).
"""

from __future__ import annotations

import hashlib
import threading
import time

from limits.storage import Storage

from verifier.store import rate_counts
from verifier.store.db import STORAGE_FAILURES


class WorkerMemoryStorage(Storage):
    """Fixed-window counters in this worker's memory, expired lazily; no background thread.

    ``limits``' own ``memory://`` storage (re)starts a timer thread to expire keys whenever its
    previous one has finished, which under load is a thread start every few requests: it cost
    Flask-Limiter a third of our verify throughput in benchmarks/bench_http.py.
    """

    STORAGE_SCHEME = ["skk-memory"]  # noqa: RUF012 (limits' Storage declares a list)
    SWEEP_EVERY = 4096  # increments between sweeps of expired keys, so memory stays bounded

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options: str):
        self._counts: dict[str, tuple[int, float]] = {}  # key -> (count, expires at)
        self._lock = threading.Lock()
        self._since_sweep = 0
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)

    @property
    def base_exceptions(self) -> type[Exception]:
        """Nothing here fails by itself."""
        return RuntimeError

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        """Add ``amount`` to ``key``'s window, starting a new window when the last expired."""
        now = time.time()
        with self._lock:
            count, expires = self._counts.get(key, (0, 0.0))
            if expires <= now:
                count, expires = 0, now + expiry
            count += amount
            self._counts[key] = (count, expires)
            self._since_sweep += 1
            if self._since_sweep >= self.SWEEP_EVERY:
                self._sweep(now)
        return count

    def get(self, key: str) -> int:
        """The count in ``key``'s current window (0 when expired)."""
        count, expires = self._counts.get(key, (0, 0.0))
        return count if expires > time.time() else 0

    def get_expiry(self, key: str) -> float:
        """When ``key``'s window ends."""
        return self._counts.get(key, (0, time.time()))[1]

    def check(self) -> bool:
        """Memory is always there."""
        return True

    def reset(self) -> int:
        """Forget every counter."""
        with self._lock:
            forgotten = len(self._counts)
            self._counts.clear()
        return forgotten

    def clear(self, key: str) -> None:
        """Forget one counter."""
        with self._lock:
            self._counts.pop(key, None)

    def _sweep(self, now: float) -> None:
        self._since_sweep = 0
        self._counts = {key: value for key, value in self._counts.items() if value[1] > now}


class DatabaseStorage(Storage):
    """Fixed-window counters in the service's own database, shared by every worker and host."""

    STORAGE_SCHEME = ["skk-database"]  # noqa: RUF012 (limits' Storage declares a list)

    @property
    def base_exceptions(self) -> tuple[type[Exception], ...]:
        """What a failing database raises (turned into 503 by the view's storage_errors)."""
        return STORAGE_FAILURES

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        """Count ``amount`` more in ``key``'s window of ``expiry`` seconds."""
        return rate_counts.increment(_row_name(key), int(expiry * 1000), amount, _now_ms())

    def get(self, key: str) -> int:
        """The count in ``key``'s current window."""
        return rate_counts.count(_row_name(key), _now_ms())

    def get_expiry(self, key: str) -> float:
        """When ``key``'s window ends, in seconds."""
        return rate_counts.expires_at_ms(_row_name(key), _now_ms()) / 1000

    def check(self) -> bool:
        """The database answers."""
        return True

    def reset(self) -> int:
        """Forget every counter."""
        return rate_counts.clear()

    def clear(self, key: str) -> None:
        """Forget one counter."""
        rate_counts.clear(_row_name(key))


def _row_name(key: str) -> str:
    # Fixed length whatever the client address looks like (it comes from X-Forwarded-For behind
    # proxies), and no address stored in the clear.
    return hashlib.sha256(key.encode()).hexdigest()


def _now_ms() -> int:
    return int(time.time() * 1000)

"""Per-client rate limits on verification, NIK questions, manual checks and failed logins.

Counting is done by the ``limits`` library (the engine under Flask-Limiter), fixed window, called
from the views. Counters are kept in each worker's memory (``skk-memory://``, below), except the
per-client NIK limit, which every worker and host must share so that a guesser gains nothing from
the number of workers: it is counted in the database (``skk-database://``, verifier.rate_counts).
``SKK_RATELIMIT_STORAGE_URI`` (``redis://...``, ``memcached://...``) moves all of them to a
shared store instead. The per-credential NIK-miss
lock does not depend on any of this: it lives in the database (``verifier.nik_match``), so
rotating addresses does not help a guesser.

Each limit can be changed with an environment variable (``SKK_RATELIMIT_VERIFY`` and so on, in
the ``limits`` notation: ``"300 per minute"``, ``"10 per minute;50 per day"``).
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
from collections.abc import Callable, Mapping
from functools import wraps
from typing import Any, TypeVar

import peewee
from flask import Flask, current_app, request
from limits import RateLimitItem, parse_many
from limits.errors import ConfigurationError as LimitsConfigurationError
from limits.errors import StorageError
from limits.storage import Storage, storage_from_string
from limits.strategies import FixedWindowRateLimiter

from verifier import rate_counts
from verifier.errors import ConfigurationError, StorageUnavailable, TooManyAttempts

VERIFY = "verify"
NIK_MATCH = "nik-match"
MANUAL_CHECK = "manual-check"
FAILED_AUTH = "failed-auth"

#: Limits whose counters every worker shares even without SKK_RATELIMIT_STORAGE_URI.
SHARED_BY_DEFAULT = frozenset({NIK_MATCH})

#: Per client address. Verify is generous: one mobile carrier's NAT puts many honest site
#: checkers behind one address. NIK questions are also stopped per credential in the database.
DEFAULT_LIMITS: dict[str, str] = {
    VERIFY: "300 per minute",
    NIK_MATCH: "60 per hour",
    MANUAL_CHECK: "10 per minute;50 per day",
    FAILED_AUTH: "20 per minute",
}
ENVIRONMENT_NAMES = {
    name: "SKK_RATELIMIT_" + name.upper().replace("-", "_") for name in DEFAULT_LIMITS
}
_EXTENSION_KEY = "skk.limits"

View = TypeVar("View", bound=Callable[..., Any])


class WorkerMemoryStorage(Storage):
    """Fixed-window counters in this worker's memory, expired lazily; no background thread.

    ``limits``' own ``memory://`` storage (re)starts a timer thread to expire keys whenever its
    previous one has finished, which under load is a thread start every few requests: it cost
    Flask-Limiter a third of our verify throughput in benchmarks/bench_http.py.
    """

    STORAGE_SCHEME = ["skk-memory"]
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

    STORAGE_SCHEME = ["skk-database"]

    @property
    def base_exceptions(self) -> type[Exception]:
        """What a failing database raises (turned into 503 by the view's storage_errors)."""
        return peewee.PeeweeException

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


class RateLimiter:
    """Named per-client limits over one ``limits`` storage."""

    def __init__(self, limits: Mapping[str, str], storage_uri: str | None = None) -> None:
        """``storage_uri`` holds every counter; None: memory, and the database for the shared."""
        # wrap_exceptions: a shared store that fails raises limits' StorageError, answered 503.
        try:
            store = storage_from_string(storage_uri or "skk-memory://", wrap_exceptions=True)
        except LimitsConfigurationError as exc:  # unknown scheme, client package not installed
            raise ConfigurationError(f"SKK_RATELIMIT_STORAGE_URI: {exc}") from None
        chosen = FixedWindowRateLimiter(store)
        database = (
            FixedWindowRateLimiter(storage_from_string("skk-database://"))
            if storage_uri is None else chosen
        )
        self._strategies = {
            name: database if name in SHARED_BY_DEFAULT else chosen for name in limits
        }
        self._limits: dict[str, list[RateLimitItem]] = {}
        for name, text in limits.items():
            try:
                self._limits[name] = parse_many(text)
            except ValueError as exc:
                raise ConfigurationError(
                    f"{ENVIRONMENT_NAMES.get(name, name)}: not a rate limit: {text!r}"
                ) from exc

    def hit(self, name: str, client: str, cost: int = 1) -> None:
        """Count ``cost`` requests of ``client`` against limit ``name``; TooManyAttempts when
        they do not fit (then, for a cost above one, nothing is counted)."""
        if cost > 1:
            self.check(name, client, cost)
        self._apply(self._strategies[name].hit, name, client, cost)

    def check(self, name: str, client: str, cost: int = 1) -> None:
        """TooManyAttempts when ``cost`` more requests of ``client`` would not fit in limit
        ``name``; counts nothing."""
        self._apply(self._strategies[name].test, name, client, cost)

    def _apply(self, allows: Callable[..., bool], name: str, client: str, cost: int) -> None:
        try:
            for item in self._limits[name]:
                if not allows(item, name, client, cost=cost):
                    raise self._refusal(item, name, client)
        except StorageError as exc:  # on every verify: a plain try, not a context manager
            raise _store_unavailable(exc) from None

    def _refusal(self, item: RateLimitItem, name: str, client: str) -> TooManyAttempts:
        reset_at = self._strategies[name].get_window_stats(item, name, client).reset_time
        return TooManyAttempts(f"rate limit exceeded: {item}",
                               retry_after=max(1, math.ceil(reset_at - time.time())))


def _store_unavailable(error: StorageError) -> StorageUnavailable:
    """A shared store that fails (Redis down, say) is storage unavailable: a 503 like a database
    that does not answer, never an unlimited pass. The database store maps its own errors."""
    return StorageUnavailable(
        f"rate-limit store unavailable: {type(error.storage_error).__name__}"
    )


def init_app(app: Flask, environ: Mapping[str, str]) -> None:
    """Build this app's limiter from ``SKK_RATELIMIT_*``; refusals are TooManyAttempts (429)."""
    limits = {
        name: environ.get(ENVIRONMENT_NAMES[name], text) for name, text in DEFAULT_LIMITS.items()
    }
    storage_uri = environ.get("SKK_RATELIMIT_STORAGE_URI") or None
    app.extensions[_EXTENSION_KEY] = RateLimiter(limits, storage_uri)


def current_limiter() -> RateLimiter:
    """The limiter of the app handling this request."""
    limiter: RateLimiter = current_app.extensions[_EXTENSION_KEY]
    return limiter


def client_address() -> str:
    """Who is counted: the peer address (the proxy's X-Forwarded-For when ProxyFix is on)."""
    return request.remote_addr or "unknown"


def hit(name: str, cost: int = 1) -> None:
    """Count this request against limit ``name`` for its client, as ``cost`` requests."""
    current_limiter().hit(name, client_address(), cost)


def limited(name: str) -> Callable[[View], View]:
    """Decorate a view so that each request to it counts against limit ``name``."""

    def decorate(view: View) -> View:
        @wraps(view)
        def counted(*args: Any, **kwargs: Any) -> Any:
            hit(name)
            return view(*args, **kwargs)

        return counted  # type: ignore[return-value]

    return decorate

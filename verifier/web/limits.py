"""Per-client rate limits on verification, NIK questions, manual checks, failed logins and failed
console sign-ins.

Counting is done by the ``limits`` library (the engine under Flask-Limiter), fixed window, called
from the views. The limits themselves are settings (``SKK_RATELIMIT_*``, parsed into
:attr:`verifier.config.Settings.rate_limits`). Counters are kept in each worker's memory, except
the per-client NIK limit and the console sign-in limits, which every worker and host must share
so that a guesser gains nothing from the number of workers: they are counted in the database.
``SKK_RATELIMIT_STORAGE_URI`` (``redis://...``, ``memcached://...``) moves all of them to a
shared store instead; both of our own stores are in :mod:`verifier.web.limit_stores`. The
per-credential NIK-miss lock does not depend on any of this: it lives in the database
(``verifier.store.nik_match``), so rotating addresses does not help a guesser.

A spent limit raises :class:`verifier.core.errors.TooManyAttempts`, answered 429 with
``Retry-After``; a shared store that fails raises StorageUnavailable, answered 503.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from functools import wraps
from typing import Any, TypeVar

from flask import Flask, current_app, request
from limits import RateLimitItem
from limits.errors import ConfigurationError as LimitsConfigurationError
from limits.errors import StorageError
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter

from verifier.config import RateLimit, Settings
from verifier.core.errors import ConfigurationError, StorageUnavailable, TooManyAttempts
from verifier.web.limit_stores import DatabaseStorage, WorkerMemoryStorage

#: Limits whose counters every worker shares even without SKK_RATELIMIT_STORAGE_URI: a guesser
#: (of NIKs, of console passwords) must gain nothing from the number of workers or hosts.
SHARED_BY_DEFAULT = frozenset(
    {RateLimit.NIK_MATCH, RateLimit.CONSOLE_LOGIN_ACCOUNT, RateLimit.CONSOLE_LOGIN_CLIENT}
)
_EXTENSION_KEY = "skk.limits"

View = TypeVar("View", bound=Callable[..., Any])


class RateLimiter:
    """Named per-client limits, each counted in the store it belongs in."""

    def __init__(
        self, limits: Mapping[RateLimit, Sequence[RateLimitItem]], storage_uri: str | None = None
    ) -> None:
        """``storage_uri`` holds every counter; None: memory, and the database for the shared."""
        if storage_uri is None:
            chosen = FixedWindowRateLimiter(WorkerMemoryStorage())
            shared = FixedWindowRateLimiter(DatabaseStorage())
        else:
            # wrap_exceptions: a shared store that fails raises limits' StorageError, then 503.
            try:
                store = storage_from_string(storage_uri, wrap_exceptions=True)
            except LimitsConfigurationError as exc:  # unknown scheme, client not installed
                raise ConfigurationError(f"SKK_RATELIMIT_STORAGE_URI: {exc}") from None
            chosen = shared = FixedWindowRateLimiter(store)
        self._strategies = {
            name: shared if name in SHARED_BY_DEFAULT else chosen for name in limits
        }
        self._limits = dict(limits)

    def hit(self, name: RateLimit, client: str, cost: int = 1) -> None:
        """Count ``cost`` requests of ``client`` against limit ``name``; TooManyAttempts when
        they do not fit (then, for a cost above one, nothing is counted)."""
        if cost > 1:
            # Counting would add the cost even where it does not fit: see first that it does.
            self.check(name, client, cost)
        self._apply(self._strategies[name].hit, name, client, cost)

    def check(self, name: RateLimit, client: str, cost: int = 1) -> None:
        """TooManyAttempts when ``cost`` more requests of ``client`` would not fit in limit
        ``name``; counts nothing."""
        self._apply(self._strategies[name].test, name, client, cost)

    def charge(self, name: RateLimit, client: str, cost: int) -> None:
        """Count ``cost`` requests of ``client`` against every window of limit ``name``, even
        beyond it (what was done is counted); TooManyAttempts when they did not fit."""
        over = self._count(name, client, cost)
        if over:
            raise self._refusal(over[0], name, client)

    def count(self, name: RateLimit, client: str, cost: int = 1) -> None:
        """Count ``cost`` requests of ``client`` against every window of limit ``name``, and
        never refuse: for what another counter decides on but this one must still see."""
        self._count(name, client, cost)

    def _count(self, name: RateLimit, client: str, cost: int) -> list[RateLimitItem]:
        """Count in every window; the windows the count did not fit in."""
        if cost < 1:
            return []
        strategy = self._strategies[name]
        try:
            return [
                item
                for item in self._limits[name]
                if not strategy.hit(item, name, client, cost=cost)
            ]
        except StorageError as exc:
            raise _store_unavailable(exc) from None

    def _apply(self, allows: Callable[..., bool], name: RateLimit, client: str, cost: int) -> None:
        try:
            for item in self._limits[name]:
                if not allows(item, name, client, cost=cost):
                    raise self._refusal(item, name, client)
        except StorageError as exc:  # on every verify: a plain try, not a context manager
            raise _store_unavailable(exc) from None

    def _refusal(self, item: RateLimitItem, name: RateLimit, client: str) -> TooManyAttempts:
        reset_at = self._strategies[name].get_window_stats(item, name, client).reset_time
        return TooManyAttempts(
            f"rate limit exceeded: {item}", retry_after=max(1, math.ceil(reset_at - time.time()))
        )


def _store_unavailable(error: StorageError) -> StorageUnavailable:
    """A shared store that fails (Redis down, say) is storage unavailable: a 503 like a database
    that does not answer, never an unlimited pass. The database store maps its own errors."""
    return StorageUnavailable(f"rate-limit store unavailable: {type(error.storage_error).__name__}")


def init_app(app: Flask, settings: Settings) -> None:
    """Build this app's limiter from the settings; refusals are TooManyAttempts (429)."""
    app.extensions[_EXTENSION_KEY] = RateLimiter(
        settings.rate_limits, settings.rate_limit_storage_uri
    )


def current_limiter() -> RateLimiter:
    """The limiter of the app handling this request."""
    limiter: RateLimiter = current_app.extensions[_EXTENSION_KEY]
    return limiter


def client_address() -> str:
    """Who is counted: the peer address (the proxy's X-Forwarded-For when ProxyFix is on)."""
    return request.remote_addr or "unknown"


def hit(name: RateLimit, cost: int = 1) -> None:
    """Count this request against limit ``name`` for its client, as ``cost`` requests."""
    current_limiter().hit(name, client_address(), cost)


def check(name: RateLimit) -> None:
    """TooManyAttempts when this request's client has no request left under limit ``name``;
    counts nothing."""
    current_limiter().check(name, client_address())


def manual_checks_open() -> None:
    """TooManyAttempts when this client has no manual check left, missed or matched.

    Asked before anything is looked up, so that a refusal never depends on the answer: were
    matches still answered once the misses are spent, a 429 would itself say "miss".
    """
    check(RateLimit.MANUAL_CHECK)
    check(RateLimit.MANUAL_CHECK_MATCH)


def count_manual_checks(*, matched: int, missed: int) -> None:
    """Count this client's answered manual checks by outcome (/cek: one; a crew list: one per
    row given by number): misses against the strict limit that keeps guessing slow, matches
    against the generous one that lets a site office behind one NAT check its crew.
    TooManyAttempts when either did not fit (both are counted first)."""
    limiter, client = current_limiter(), client_address()
    refusals = []
    for name, cost in ((RateLimit.MANUAL_CHECK, missed), (RateLimit.MANUAL_CHECK_MATCH, matched)):
        try:
            limiter.charge(name, client, cost)
        except TooManyAttempts as refused:
            refusals.append(refused)
    if refusals:
        raise refusals[0]


def limited(name: RateLimit) -> Callable[[View], View]:
    """Decorate a view so that each request to it counts against limit ``name``."""

    def decorate(view: View) -> View:
        @wraps(view)
        def counted(*args: Any, **kwargs: Any) -> Any:
            hit(name)
            return view(*args, **kwargs)

        return counted  # type: ignore[return-value]

    return decorate

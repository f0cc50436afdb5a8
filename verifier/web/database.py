"""Database connection per worker thread, reused across requests, dropped after any failure.

Peewee's documented pattern opens and closes a connection per request; on the verify hot path the
reconnect (and SQLite's pragmas) cost more than the whole lookup, so each worker keeps its
connection and closes it only when the database failed, which makes the next request reconnect:
the service recovers by itself when the database comes back.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Flask

from verifier.core.errors import StorageUnavailable
from verifier.store.db import closed_by_server, connect, disconnect
from verifier.web.state import current_state


def init_app(app: Flask) -> None:
    """Register the connect hook."""
    app.before_request(_connect)


def _connect() -> None:
    connect(current_state().database)


def drop_connection() -> None:
    """Close this thread's connection after a failure so the next request starts afresh."""
    disconnect(current_state().database)


View = TypeVar("View", bound=Callable[..., Any])


def reconnecting(view: View) -> View:
    """Run a reading view once more on a new connection when the server had closed ours.

    A PostgreSQL restart or fail-over, or a firewall dropping idle sessions, closes every
    worker's kept connection; the first statement on it fails. Without this, each worker's next
    request would answer 503 before reconnecting. Only for views whose statements may run twice:
    verification and lookups (a NIK question's per-client counter may then count one extra).
    A database that still does not answer gives the 503 as before.
    """

    @wraps(view)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return view(*args, **kwargs)
        except StorageUnavailable:
            if not closed_by_server(current_state().database):
                raise
            drop_connection()
            _connect()
            return view(*args, **kwargs)

    return run  # type: ignore[return-value]

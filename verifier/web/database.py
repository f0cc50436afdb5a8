"""Database connection per worker thread, reused across requests, dropped after any failure.

Peewee's documented pattern opens and closes a connection per request; on the verify hot path the
reconnect (and SQLite's pragmas) cost more than the whole lookup, so each worker keeps its
connection and closes it only when the database failed, which makes the next request reconnect:
the service recovers by itself when the database comes back.
"""

from __future__ import annotations

import peewee
from flask import Flask

from verifier.errors import StorageUnavailable
from verifier.web.state import current_state


def init_app(app: Flask) -> None:
    """Register the connect hook."""
    app.before_request(_connect)


def _connect() -> None:
    database = current_state().database
    try:
        database.connect(reuse_if_open=True)
    except (peewee.OperationalError, peewee.InterfaceError) as exc:
        raise StorageUnavailable("database unavailable") from exc


def drop_connection() -> None:
    """Close this thread's connection after a failure so the next request starts afresh."""
    database = current_state().database
    try:
        if not database.is_closed():
            database.close()
    except peewee.PeeweeException:
        pass  # the connection is already broken; forgetting it is all that is left to do

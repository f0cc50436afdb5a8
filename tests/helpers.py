"""What tests share besides fixtures: the instant every test lives at, and the database kinds.

Tests import these from here, never from ``conftest`` (pytest loads conftest itself; importing it
as a module as well would run it twice under two names).
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit, urlunsplit

#: 2026-01-15T00:00:00Z: the instant every test lives at unless it says otherwise.
NOW = 1_768_435_200
DAY = 86_400
#: The pytest-xdist worker running this process (``gw0``, ``gw1``...), or None without ``-n``.
XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER")
#: The PostgreSQL server named by SKK_TEST_POSTGRES_URL, exactly as given.
GIVEN_POSTGRES_URL = os.environ.get("SKK_TEST_POSTGRES_URL")


def worker_database_url(url: str, worker: str | None) -> str:
    """The database a test process uses on the server of ``url``: the given one itself, or under
    pytest-xdist ``<db>_<worker>`` (``test_gw0``), so that workers never drop each other's tables.
    conftest creates it on demand."""
    if worker is None:
        return url
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{parts.path.lstrip('/')}_{worker}"))


#: A PostgreSQL server to run the storage, CLI and server tests against as well (optional);
#: this process's own database on it.
POSTGRES_URL = worker_database_url(GIVEN_POSTGRES_URL, XDIST_WORKER) if GIVEN_POSTGRES_URL else None
DATABASE_KINDS = ["sqlite"] + (["postgres"] if POSTGRES_URL else [])

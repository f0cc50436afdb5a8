"""What tests share besides fixtures: the instant every test lives at, and the database kinds.

Tests import these from here, never from ``conftest`` (pytest loads conftest itself; importing it
as a module as well would run it twice under two names).
"""

from __future__ import annotations

import os

#: 2026-01-15T00:00:00Z: the instant every test lives at unless it says otherwise.
NOW = 1_768_435_200
DAY = 86_400
#: A PostgreSQL server to run the storage, CLI and server tests against as well (optional).
POSTGRES_URL = os.environ.get("SKK_TEST_POSTGRES_URL")
DATABASE_KINDS = ["sqlite"] + (["postgres"] if POSTGRES_URL else [])

"""Storage: schema creation and checks, SQLite pragmas, database failures as StorageUnavailable."""

from __future__ import annotations

from pathlib import Path

import pytest

from verifier.core.errors import ConfigurationError, StorageUnavailable
from verifier.store import db
from verifier.store.models import SkkMeta


def test_init_is_idempotent_and_versioned(database) -> None:
    assert db.init_schema(database) == db.SCHEMA_VERSION
    assert db.init_schema(database) == db.SCHEMA_VERSION
    db.require_schema(database)


def test_missing_sqlite_file_is_not_created(tmp_path: Path) -> None:
    path = tmp_path / "absent.sqlite3"
    with pytest.raises(ConfigurationError, match="skk init"):
        db.open_database(f"sqlite:///{path}")
    assert not path.exists()


def test_empty_database_refused_until_init(tmp_path: Path) -> None:
    database = db.open_database(f"sqlite:///{tmp_path / 'new.sqlite3'}", create=True)
    with pytest.raises(ConfigurationError, match="no SKK schema"):
        db.require_schema(database)


def test_outdated_schema_refused(database) -> None:
    SkkMeta.update(value=0).where(SkkMeta.name == "schema_version").execute()
    with pytest.raises(ConfigurationError, match="upgrade"):
        db.require_schema(database)


def test_sqlite_pragmas(tmp_path: Path) -> None:
    database = db.open_database(f"sqlite:///{tmp_path / 'p.sqlite3'}", create=True)
    pragma = lambda name: database.execute_sql(f"PRAGMA {name}").fetchone()[0]  # noqa: E731
    assert pragma("journal_mode") == "wal"
    assert pragma("foreign_keys") == 1
    assert pragma("busy_timeout") == 5000


def test_unreachable_postgres_is_storage_unavailable() -> None:
    database = db.open_database("postgresql://postgres@127.0.0.1:9/none")
    with pytest.raises(StorageUnavailable, match="database unavailable"):
        db.require_schema(database)


def test_read_only_sqlite_write_is_storage_unavailable(database, settings) -> None:
    if not settings.database_url.startswith("sqlite"):
        database.execute_sql("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
    else:
        database.execute_sql("PRAGMA query_only = ON")
    with pytest.raises(StorageUnavailable), db.storage_errors():
        db.bump_registry_version()


def test_bad_url_is_configuration_error() -> None:
    with pytest.raises(ConfigurationError):
        db.open_database("nosuchdb://x")

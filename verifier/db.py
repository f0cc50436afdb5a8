"""Opening the database by URL, creating and upgrading its schema, and mapping its failures.

``skk init`` is the only thing that creates a database; every other entry point refuses to run on
a missing or outdated schema instead of silently making an empty one.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path

import peewee
from playhouse import db_url

from verifier.errors import ConfigurationError, StorageUnavailable
from verifier.models import ALL_TABLES, SkkMeta, database_proxy

SCHEMA_VERSION = 1
SQLITE_PRAGMAS = {
    "journal_mode": "wal",  # readers never wait for the writer
    "foreign_keys": 1,
    "busy_timeout": 5000,  # ms: concurrent writers queue instead of failing
    "synchronous": "normal",  # with WAL: durable at checkpoints, no fsync per commit
}

#: Upgrade steps: MIGRATIONS[n] takes a database from schema version n to n + 1.
MIGRATIONS: dict[int, Callable[[peewee.Database], None]] = {}


def open_database(url: str, *, create: bool = False) -> peewee.Database:
    """Connect to ``url`` and bind the models; a missing SQLite file is created only on init."""
    sqlite_path = _sqlite_path(url)
    if sqlite_path is not None:
        if create:
            sqlite_path.parent.mkdir(parents=True, exist_ok=True)
        elif not sqlite_path.exists():
            raise ConfigurationError(f"no database at {sqlite_path}; run `skk init` first")
    try:
        options = {"pragmas": SQLITE_PRAGMAS} if sqlite_path is not None else {}
        database = db_url.connect(url, **options)
    except (ValueError, RuntimeError, peewee.ImproperlyConfigured) as exc:
        raise ConfigurationError(f"cannot use SKK_DATABASE_URL: {exc}") from None
    database_proxy.initialize(database)
    return database


def _sqlite_path(url: str) -> Path | None:
    scheme, _, rest = url.partition("://")
    if not scheme.startswith("sqlite") or not rest.startswith("/"):
        return None
    path = rest[1:].split("?", 1)[0]
    return None if path in ("", ":memory:") else Path(path)


def init_schema(database: peewee.Database) -> int:
    """Create missing tables and run pending upgrades; idempotent. Returns the schema version."""
    with storage_errors(), database.atomic():
        database.create_tables(ALL_TABLES, safe=True)
        current = _meta_value("schema_version")
        if current is None:
            SkkMeta.create(name="schema_version", value=SCHEMA_VERSION)
            SkkMeta.create(name="registry_version", value=1)
            return SCHEMA_VERSION
        for version in range(current, SCHEMA_VERSION):
            MIGRATIONS[version](database)
        SkkMeta.update(value=SCHEMA_VERSION).where(SkkMeta.name == "schema_version").execute()
        return SCHEMA_VERSION


def require_schema(database: peewee.Database) -> None:
    """Refuse to work on a database that `skk init` has not created or upgraded."""
    with storage_errors():
        if not database.table_exists(SkkMeta._meta.table_name):
            raise ConfigurationError("the database has no SKK schema; run `skk init` first")
        version = _meta_value("schema_version")
    if version != SCHEMA_VERSION:
        raise ConfigurationError(
            f"database schema is version {version}, this program needs {SCHEMA_VERSION}; "
            "run `skk init` to upgrade"
        )


def _meta_value(name: str) -> int | None:
    row = SkkMeta.get_or_none(SkkMeta.name == name)
    return None if row is None else int(row.value)


def bump_registry_version(database: peewee.Database) -> None:
    """Tell every process's trust cache to reload; call inside the transaction that changed it."""
    database.execute_sql(
        f"UPDATE skk_meta SET value = value + 1 WHERE name = {database.param}",
        ("registry_version",),
    )


@contextlib.contextmanager
def storage_errors() -> Iterator[None]:
    """Turn a database that does not answer (or refuses writes) into StorageUnavailable."""
    try:
        yield
    except (peewee.OperationalError, peewee.InterfaceError) as exc:
        raise StorageUnavailable(f"database unavailable: {_first_line(exc)}") from exc
    except peewee.IntegrityError:
        raise
    except peewee.DatabaseError as exc:
        raise StorageUnavailable(f"database error: {_first_line(exc)}") from exc


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__

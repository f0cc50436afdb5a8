"""Opening the database by URL, creating and upgrading its schema, and mapping its failures.

One database per process: :func:`open_database` binds the models to it, and every store function
acts on that bound database (:func:`bound_database` where a transaction or plain SQL needs the
object). Only what concerns a database itself (opening it, creating, upgrading or checking its
schema) takes the database as an argument.

``skk init`` is the only thing that creates a database or upgrades its schema (the steps are in
:mod:`verifier.store.migrations`); every other entry point refuses to run on a missing, outdated
or newer schema instead of silently making an empty one or misreading a changed one.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import peewee
from playhouse import db_url
from playhouse.migrate import SchemaMigrator

from verifier.core.errors import ConfigurationError, StorageUnavailable
from verifier.store import migrations, offline_changes
from verifier.store.migrations import SCHEMA_VERSION
from verifier.store.models import ALL_TABLES, SkkMeta, database_proxy

SQLITE_PRAGMAS = {
    "journal_mode": "wal",  # readers never wait for the writer
    "foreign_keys": 1,
    "busy_timeout": 5000,  # ms: concurrent writers queue instead of failing
    "synchronous": "normal",  # with WAL: durable at checkpoints, no fsync per commit
}
#: PostgreSQL advisory lock that makes concurrent `skk init` runs take turns ("SKK" in ASCII).
SCHEMA_LOCK_KEY = 0x534B4B
#: An open database, for the annotations of code that holds one (it is Peewee's, but only the
#: store needs to know that).
Database = peewee.Database
#: What a database that fails raises (OperationalError is a DatabaseError).
STORAGE_FAILURES: tuple[type[Exception], ...] = (peewee.DatabaseError, peewee.InterfaceError)


class WriteFirstSqliteDatabase(peewee.SqliteDatabase):
    """SQLite whose transactions take the write lock at BEGIN (``BEGIN IMMEDIATE``).

    A deferred transaction that has read cannot wait for another writer: SQLite refuses the
    upgrade to a write lock at once ("database is locked") without calling the busy handler, so
    two workers revoking at the same moment made one of them fail. Taking the lock first makes
    the second wait up to the busy timeout instead (tests/test_faults.py, tests/test_load.py).
    """

    def atomic(self, *args: Any, **kwargs: Any) -> Any:
        """A transaction (or savepoint, when nested) that starts by taking the write lock."""
        kwargs.setdefault("lock_type", "IMMEDIATE")
        return super().atomic(*args, **kwargs)


def open_database(url: str, *, create: bool = False) -> peewee.Database:
    """Connect to ``url`` and bind the models; a missing SQLite file is created only on init."""
    sqlite_path = _sqlite_path(url)
    if sqlite_path is not None:
        if create:
            sqlite_path.parent.mkdir(parents=True, exist_ok=True)
        elif not sqlite_path.exists():
            raise ConfigurationError(f"no database at {sqlite_path}; run `skk init` first")
    try:
        if sqlite_path is not None:
            database = WriteFirstSqliteDatabase(**db_url.parse(url), pragmas=SQLITE_PRAGMAS)
        else:
            database = db_url.connect(url)
    # The messages name what is wrong but never echo the URL or the parser's words: those
    # can hold part of a password (a "/" or "?" in it makes the parser read the rest as a port).
    except RuntimeError:  # peewee: no database class for this scheme
        raise ConfigurationError(
            "cannot use SKK_DATABASE_URL: its scheme is not one it knows (postgresql://, sqlite:///)"
        ) from None
    except peewee.ImproperlyConfigured:  # the scheme's driver is not installed
        raise ConfigurationError(
            "cannot use SKK_DATABASE_URL: the driver for its database is not installed"
        ) from None
    except ValueError:
        raise ConfigurationError(
            "cannot use SKK_DATABASE_URL: it is not a well-formed URL (a bad port or host, or "
            "a password holding / ? # @ or : that is not percent-encoded)"
        ) from None
    database_proxy.initialize(database)
    return database


def bound_database() -> peewee.Database:
    """The database :func:`open_database` bound the models to: the one store functions act on."""
    database: peewee.Database | None = database_proxy.obj
    if database is None:
        raise ConfigurationError("no database is open")
    return database


def take_turns(database: peewee.Database, name: str) -> None:
    """Inside a transaction: wait until no other transaction holds turn ``name``, then hold it
    until this one ends. PostgreSQL: an advisory transaction lock; SQLite: nothing more is
    needed, every write transaction already holds the database's write lock from its BEGIN."""
    if isinstance(database, peewee.PostgresqlDatabase):
        database.execute_sql("SELECT pg_advisory_xact_lock(hashtext(%s))", (name,))


@contextlib.contextmanager
def transaction() -> Iterator[None]:
    """One transaction (a savepoint inside another) around several store calls, for a service
    whose changes must be stored together or not at all (a credential and its audit row)."""
    with bound_database().atomic():
        yield


def _sqlite_path(url: str) -> Path | None:
    scheme, _, rest = url.partition("://")
    if not scheme.startswith("sqlite") or not rest.startswith("/"):
        return None
    path = rest[1:].split("?", 1)[0]
    return None if path in ("", ":memory:") else Path(path)


def connect(database: peewee.Database) -> None:
    """Open this thread's connection unless it is open; StorageUnavailable when the database
    does not answer."""
    try:
        database.connect(reuse_if_open=True)
    # DatabaseError too: SQLite reports a damaged file ("file is not a database") that way.
    except STORAGE_FAILURES as exc:
        raise StorageUnavailable("database unavailable") from exc


def disconnect(database: peewee.Database) -> None:
    """Close this thread's connection, so that the next use opens a fresh one; never raises."""
    try:
        if not database.is_closed():
            database.close()
    except peewee.PeeweeException:
        pass  # the connection is already broken; forgetting it is all that is left to do


def closed_by_server(database: peewee.Database) -> bool:
    """True when the server closed this thread's open connection (a restart, a fail-over)."""
    if database.is_closed():
        return False
    # psycopg2 marks a connection the server closed (closed == 2); SQLite's never is.
    return bool(getattr(database.connection(), "closed", 0))


@dataclass(frozen=True)
class SchemaChange:
    """What `skk init` did: ``before`` is None for a new database, ``after`` when nothing ran."""

    before: int | None
    after: int


def init_schema(database: peewee.Database) -> int:
    """Create the schema, or upgrade it in place; idempotent. Returns the schema version."""
    return upgrade_schema(database).after


def upgrade_schema(database: peewee.Database) -> SchemaChange:
    """Create the schema or run the pending :mod:`verifier.store.migrations` steps, in order.

    One lock and one transaction: concurrent runs (several hosts) take turns, and a step that
    fails leaves the database at the version it had. A database newer than this program is
    refused, never touched.
    """
    with storage_errors(), _schema_transaction(database):
        current = _recorded_version(database)
        if current is None:
            _create_schema(database)
            return SchemaChange(None, SCHEMA_VERSION)
        _refuse_newer(current)
        for step in migrations.pending(current):
            step.apply(SchemaMigrator.from_database(database))
            _set_schema_version(database, step.version)
        return SchemaChange(current, SCHEMA_VERSION)


@contextlib.contextmanager
def _schema_transaction(database: peewee.Database) -> Iterator[None]:
    if isinstance(database, peewee.SqliteDatabase):
        # BEGIN IMMEDIATE takes the write lock before reading the version: a second init waits
        # (busy_timeout) and then finds the work done, instead of failing on a lock upgrade.
        with database.atomic(lock_type="IMMEDIATE"):
            yield
        return
    with database.atomic():
        if isinstance(database, peewee.PostgresqlDatabase):
            # Released at commit or rollback; DDL is transactional on PostgreSQL.
            database.execute_sql("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK_KEY,))
        yield


def _recorded_version(database: peewee.Database) -> int | None:
    """The stored schema version; None for a database without SKK tables."""
    if not database.table_exists(SkkMeta._meta.table_name):
        return None
    version = _meta_value("schema_version")
    if version is None:
        raise ConfigurationError(
            "the database has an skk_meta table but no schema version; "
            "it is damaged: restore it from a backup"
        )
    return version


def _create_schema(database: peewee.Database) -> None:
    ours = {model._meta.table_name for model in ALL_TABLES}
    found = sorted(ours & set(database.get_tables()))
    if found:
        # Tables without a version: a half-restored backup or another program's tables.
        # Guessing their version could run the wrong steps, so refuse.
        raise ConfigurationError(
            f"the database has SKK tables ({', '.join(found)}) but no schema version; "
            "restore a complete backup or use an empty database"
        )
    database.create_tables(ALL_TABLES, safe=False)
    SkkMeta.create(name="schema_version", value=SCHEMA_VERSION)
    SkkMeta.create(name="registry_version", value=1)


def _set_schema_version(database: peewee.Database, version: int) -> None:
    database.execute_sql(
        f"UPDATE skk_meta SET value = {database.param} WHERE name = {database.param}",  # noqa: S608
        (version, "schema_version"),
    )


def _refuse_newer(version: int) -> None:
    if version > SCHEMA_VERSION:
        raise ConfigurationError(_newer_than_program(version))


def _newer_than_program(version: int) -> str:
    return (
        f"database schema is version {version}, newer than this program "
        f"(version {SCHEMA_VERSION}); install the newer program, do not downgrade the database"
    )


def _schema_problem(version: int | None, *, newer_ok: bool) -> str | None:
    """Why this program cannot use a database at schema ``version`` (None: not recorded)."""
    if version is None:
        return "the database has no schema version; run `skk init`"
    if version > SCHEMA_VERSION and not newer_ok:
        return _newer_than_program(version)
    if version < SCHEMA_VERSION:
        return (
            f"database schema is version {version}, this program needs {SCHEMA_VERSION}; "
            "run `skk init` to upgrade"
        )
    return None


def outdated_schema(database: peewee.Database) -> str | None:
    """Why this program cannot use the database yet (older or unrecorded schema), else None.

    A database without SKK tables raises StorageUnavailable, like one that does not answer.

    A newer schema is not outdated: migrations are additive, so the previous release keeps
    serving on an upgraded database until its hosts restart (docs/deploy.md §7).
    """
    with storage_errors():  # no skk_meta table at all is an error here too: 503
        row = database.execute_sql(
            f"SELECT value FROM skk_meta WHERE name = {database.param}",  # noqa: S608 (placeholder)
            ("schema_version",),
        ).fetchone()
    return _schema_problem(None if row is None else int(row[0]), newer_ok=True)


def require_schema(database: peewee.Database) -> None:
    """Refuse to work on a database that `skk init` has not created or upgraded."""
    with storage_errors():
        if not database.table_exists(SkkMeta._meta.table_name):
            raise ConfigurationError("the database has no SKK schema; run `skk init` first")
        version = _meta_value("schema_version")
    problem = _schema_problem(version, newer_ok=False)
    if problem is not None:
        raise ConfigurationError(problem)


def _meta_value(name: str) -> int | None:
    row = SkkMeta.get_or_none(SkkMeta.name == name)
    return None if row is None else int(row.value)


def bump_registry_version() -> None:
    """Tell every process's trust cache to reload, and offline bundles that the registry changed;
    call inside the transaction that changed it."""
    database = bound_database()
    database.execute_sql(
        f"UPDATE skk_meta SET value = value + 1 WHERE name = {database.param}",  # noqa: S608
        ("registry_version",),
    )
    offline_changes.record_change(None, None)


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

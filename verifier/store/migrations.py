"""Schema versions and the ordered steps between them, the same code for SQLite and PostgreSQL.

The version lives in the database itself, in the ``skk_meta`` row ``schema_version`` (a plain
table, so both databases record it the same way; SQLite's ``PRAGMA user_version`` has no
PostgreSQL twin). A new database is created straight from the current models and stamped with
:data:`SCHEMA_VERSION`; an older one is brought forward by running, in order, every step whose
version is above the recorded one (``verifier.store.db.upgrade_schema`` holds the lock and the
transaction). A test builds a database from frozen version-1 definitions, upgrades it, and checks
that the result equals a freshly created schema, so a model change without a step here fails.

Writing a step: a small function taking a ``playhouse.migrate.SchemaMigrator`` and running
portable operations (``add_column``, ``add_index``, ``drop_index``, ...) or DDL both databases
accept. Never edit a released step; append a new one. Never import current models in a step:
they describe the newest schema, not the one the step starts from.

Version 1 is the schema of the first release (agencies, keys, credentials, revocations and their
history, API keys, NIK misses, ``skk_meta``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import peewee
from playhouse.migrate import SchemaMigrator, migrate

from verifier.store import schema_v4

#: The schema a database has when ``skk_meta`` says nothing newer: the first release.
BASE_VERSION = 1


@dataclass(frozen=True)
class Migration:
    """One upgrade step: it takes a database from ``version - 1`` to ``version``."""

    version: int
    apply: Callable[[SchemaMigrator], None]


def _index_credential_kid(migrator: SchemaMigrator) -> None:
    # Key compromise (docs/operations.md): after `skk keys revoke KID` everything that key signed
    # fails as key_revoked, and the agency must find those certificates to re-issue them. Without
    # this index that lookup reads every credential the agency ever issued.
    migrate(migrator.add_index("credential", ("agency_id", "kid"), False))


def _create_rate_counter(migrator: SchemaMigrator) -> None:
    # Per-client limits that every worker must share (NIK questions): counted in the database.

    class RateCounter(peewee.Model):  # frozen: the table exactly as version 3 creates it
        name = peewee.CharField(max_length=200, primary_key=True)
        hits = peewee.IntegerField()
        expires_at_ms = peewee.BigIntegerField()

        class Meta:
            database = migrator.database
            table_name = "rate_counter"

    RateCounter.create_table(safe=False)


def _add_watched_projects(migrator: SchemaMigrator) -> None:
    # Crew checks for project owners (verifier.crew): owners, their projects and crews, webhook
    # subscriptions and their outbox, expiry warnings sent. Owners get API keys in the agencies'
    # table, so api_key.agency_id becomes optional and api_key.owner_id is added.
    database = migrator.database
    tables = schema_v4.tables(database)  # frozen: the tables exactly as version 4 creates them
    owner: Any = tables[0]
    owner.create_table(safe=False)
    migrate(
        migrator.add_column("api_key", "owner_id", peewee.ForeignKeyField(
            owner, field=owner.id, null=True, on_delete="RESTRICT")),
        migrator.drop_not_null("api_key", "agency_id"),
    )
    database.create_tables(tables[1:], safe=False)


#: Every step, oldest first; versions are consecutive from BASE_VERSION + 1.
MIGRATIONS: tuple[Migration, ...] = (
    Migration(2, _index_credential_kid),
    Migration(3, _create_rate_counter),
    Migration(4, _add_watched_projects),
)

#: The schema version this program creates and needs.
SCHEMA_VERSION = MIGRATIONS[-1].version if MIGRATIONS else BASE_VERSION


def pending(current: int) -> tuple[Migration, ...]:
    """The steps that take a database at version ``current`` to :data:`SCHEMA_VERSION`."""
    return tuple(step for step in MIGRATIONS if step.version > current)

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
history, API keys, NIK misses, ``skk_meta``); 2 indexes credentials by key, 3 adds the shared rate
counters, 4 the offline bundle tables, 5 the audit log and the agency console's tables, 6 watched
projects, 7 idempotency records, imported jabatan kerja masters and credentials' ``number_key``
(the number as it compares, unique per agency), 8 the console's remembered devices.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import peewee
from playhouse.migrate import SchemaMigrator, migrate

from verifier.core.credential import number_key
from verifier.store import schema_v6

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


def _create_offline_tables(migrator: SchemaMigrator) -> None:
    # Offline trust bundles (docs/offline.md): the service keys that sign them, and the change
    # log their deltas are cut from. Both start empty: a bundle built after this step carries
    # the whole state, and only later changes go through the log.

    class BundleKey(peewee.Model):  # frozen: the tables exactly as version 4 creates them
        kid = peewee.CharField(primary_key=True, max_length=16)
        public_jwk = peewee.TextField()
        created_at = peewee.BigIntegerField()
        retired_at = peewee.BigIntegerField(null=True)

        class Meta:
            database = migrator.database
            table_name = "bundle_key"

    class OfflineChange(peewee.Model):
        seq = peewee.BigIntegerField(primary_key=True)
        agency = peewee.CharField(max_length=40, null=True)
        number = peewee.CharField(max_length=40, null=True)

        class Meta:
            database = migrator.database
            table_name = "offline_change"

    BundleKey.create_table(safe=False)
    OfflineChange.create_table(safe=False)


def _create_console_tables(migrator: SchemaMigrator) -> None:
    # The agency console (issue 12): the audit log of every action, staff accounts and their
    # server-side sessions, four-eyes policy and approvals, and console cohort imports. The
    # audit log starts with the revocation history so far, so it is complete from day one.
    database = migrator.database

    class Frozen(peewee.Model):
        class Meta:
            legacy_table_names = False

    class Agency(Frozen):  # only the target of foreign keys here; it exists already
        id = peewee.CharField(primary_key=True, max_length=40)

        class Meta:
            table_name = "agency"

    class AuditEvent(Frozen):
        id = peewee.AutoField()
        agency = peewee.ForeignKeyField(Agency, null=True, on_delete="RESTRICT")
        at = peewee.BigIntegerField()
        actor = peewee.CharField(max_length=80)
        action = peewee.CharField(max_length=24)
        number = peewee.CharField(max_length=40, null=True)
        status = peewee.CharField(max_length=10, null=True)
        reason = peewee.CharField(max_length=20, null=True)
        note = peewee.TextField(null=True)
        subject = peewee.CharField(max_length=80, null=True)

        class Meta:
            table_name = "audit_event"
            indexes = ((("agency", "at"), False), (("agency", "number"), False))

    class StaffUser(Frozen):
        id = peewee.AutoField()
        agency = peewee.ForeignKeyField(Agency, on_delete="RESTRICT")
        username = peewee.CharField(max_length=32, unique=True)
        role = peewee.CharField(max_length=10)
        password_hash = peewee.CharField(max_length=200)
        must_change_password = peewee.BooleanField()
        totp_secret = peewee.CharField(max_length=64, null=True)
        totp_enrolled_at = peewee.BigIntegerField(null=True)
        totp_last_step = peewee.BigIntegerField(null=True)
        created_at = peewee.BigIntegerField()
        disabled_at = peewee.BigIntegerField(null=True)

        class Meta:
            table_name = "staff_user"

    class StaffSession(Frozen):
        id_hash = peewee.CharField(primary_key=True, max_length=64)
        user = peewee.ForeignKeyField(StaffUser, null=True, on_delete="RESTRICT")
        stage = peewee.CharField(max_length=10)
        data = peewee.TextField()
        created_at = peewee.BigIntegerField()
        last_seen_at = peewee.BigIntegerField()
        expires_at = peewee.BigIntegerField()

        class Meta:
            table_name = "staff_session"
            indexes = ((("expires_at",), False),)

    class AgencyPolicy(Frozen):
        agency = peewee.ForeignKeyField(Agency, primary_key=True, on_delete="RESTRICT")
        four_eyes_revocation = peewee.BooleanField()
        changed_at = peewee.BigIntegerField()

        class Meta:
            table_name = "agency_policy"

    class PendingApproval(Frozen):
        id = peewee.AutoField()
        agency = peewee.ForeignKeyField(Agency, on_delete="RESTRICT")
        kind = peewee.CharField(max_length=16)
        number = peewee.CharField(max_length=40, null=True)
        reason = peewee.CharField(max_length=20, null=True)
        note = peewee.TextField(null=True)
        requested_by = peewee.CharField(max_length=80)
        requested_at = peewee.BigIntegerField()
        decided_by = peewee.CharField(max_length=80, null=True)
        decided_at = peewee.BigIntegerField(null=True)
        outcome = peewee.CharField(max_length=10, null=True)

        class Meta:
            table_name = "pending_approval"

    class CohortImport(Frozen):
        id = peewee.CharField(primary_key=True, max_length=32)
        agency = peewee.ForeignKeyField(Agency, on_delete="RESTRICT")
        user = peewee.ForeignKeyField(StaffUser, on_delete="RESTRICT")
        kind = peewee.CharField(max_length=4)
        content = peewee.BlobField(null=True)
        uploaded_at = peewee.BigIntegerField()
        issued_at = peewee.BigIntegerField(null=True)
        entries = peewee.TextField(null=True)

        class Meta:
            table_name = "cohort_import"

    created = (AuditEvent, StaffUser, StaffSession, AgencyPolicy, PendingApproval, CohortImport)
    with database.bind_ctx(created):
        database.create_tables(created, safe=False)
    database.execute_sql(
        "INSERT INTO audit_event (agency_id, at, actor, action, number, status, reason, note)"
        " SELECT agency_id, at, actor, action, number, status, reason, note"
        " FROM revocation_event ORDER BY id"
    )


def _add_watched_projects(migrator: SchemaMigrator) -> None:
    # Crew checks for project owners (verifier.crew): owners, their projects and crews, webhook
    # subscriptions and their outbox, expiry warnings sent. Owners get API keys in the agencies'
    # table, so api_key.agency_id becomes optional and api_key.owner_id is added.
    database = migrator.database
    tables = schema_v6.tables(database)  # frozen: the tables exactly as version 6 creates them
    owner: Any = tables[0]
    owner.create_table(safe=False)
    migrate(
        migrator.add_column(
            "api_key",
            "owner_id",
            peewee.ForeignKeyField(owner, field=owner.id, null=True, on_delete="RESTRICT"),
        ),
        migrator.drop_not_null("api_key", "agency_id"),
    )
    database.create_tables(tables[1:], safe=False)


def _add_operations_tables(migrator: SchemaMigrator) -> None:
    # Operations (issue 14): the answers kept for Idempotency-Key retries of issuing requests,
    # and imported versions of the jabatan kerja master.

    class IdempotencyRecord(peewee.Model):  # frozen: the tables exactly as version 7 creates them
        id = peewee.AutoField()
        scope = peewee.CharField(max_length=80)
        key = peewee.CharField(max_length=255)
        fingerprint = peewee.CharField(max_length=64)
        status_code = peewee.IntegerField(null=True)
        response_body = peewee.TextField(null=True)
        created_at = peewee.BigIntegerField(index=True)

        class Meta:
            database = migrator.database
            table_name = "idempotency_record"
            legacy_table_names = False  # index names as the current models make them
            indexes = ((("scope", "key"), True),)

    class JobMasterVersion(peewee.Model):
        version = peewee.IntegerField(primary_key=True)
        imported_at = peewee.BigIntegerField()
        actor = peewee.CharField(max_length=80)
        source = peewee.CharField(max_length=255)
        sha256 = peewee.CharField(max_length=64)
        content = peewee.TextField()

        class Meta:
            database = migrator.database
            table_name = "job_master_version"

    migrator.database.create_tables([IdempotencyRecord, JobMasterVersion], safe=False)
    _add_credential_number_key(migrator)


def _add_credential_number_key(migrator: SchemaMigrator) -> None:
    # Numbers are found however typed (issue 14, item 6): each credential keeps its number in
    # the form numbers compare in, unique per agency, so two certificates can never differ only
    # in case, and a lookup is one indexed query. Filled here in Python, by exactly
    # core.credential.number_key's rule (SQL UPPER follows the database's locale). Case-twins
    # stored before this step (possible then: the old index compares exactly) keep the key on
    # the oldest only; the others keep NULL, which a unique index allows any number of times,
    # and lookups refuse such a number as ambiguous unless typed exactly (store.credentials).
    database = migrator.database
    migrate(
        migrator.add_column("credential", "number_key", peewee.CharField(max_length=40, null=True))
    )
    rows = database.execute_sql("SELECT id, agency_id, number FROM credential ORDER BY id")
    keyed: dict[tuple[str, str], int] = {}
    for row_id, agency_id, number in rows.fetchall():
        keyed.setdefault((agency_id, number_key(number)), row_id)
    update = (
        f"UPDATE credential SET number_key = {database.param} "  # noqa: S608 - placeholders
        f"WHERE id = {database.param}"
    )
    for (_, key), row_id in keyed.items():
        database.execute_sql(update, (key, row_id))
    migrate(migrator.add_index("credential", ("agency_id", "number_key"), True))


def _add_staff_devices(migrator: SchemaMigrator) -> None:
    # The browsers console users signed in from (verifier.store.staff_devices), so that failed
    # sign-ins by others cannot lock a user out of their own browser.

    class StaffUser(peewee.Model):  # only the target of the foreign key; it exists already
        id = peewee.AutoField()

        class Meta:
            database = migrator.database
            table_name = "staff_user"

    class StaffDevice(peewee.Model):  # frozen: the table exactly as version 8 creates it
        id_hash = peewee.CharField(primary_key=True, max_length=64)
        user = peewee.ForeignKeyField(StaffUser, on_delete="CASCADE")
        created_at = peewee.BigIntegerField()
        last_used_at = peewee.BigIntegerField(index=True)

        class Meta:
            database = migrator.database
            table_name = "staff_device"
            legacy_table_names = False  # index names as the current models make them

    StaffDevice.create_table(safe=False)


#: Every step, oldest first; versions are consecutive from BASE_VERSION + 1.
MIGRATIONS: tuple[Migration, ...] = (
    Migration(2, _index_credential_kid),
    Migration(3, _create_rate_counter),
    Migration(4, _create_offline_tables),
    Migration(5, _create_console_tables),
    Migration(6, _add_watched_projects),
    Migration(7, _add_operations_tables),
    Migration(8, _add_staff_devices),
)

#: The schema version this program creates and needs.
SCHEMA_VERSION = MIGRATIONS[-1].version if MIGRATIONS else BASE_VERSION


def pending(current: int) -> tuple[Migration, ...]:
    """The steps that take a database at version ``current`` to :data:`SCHEMA_VERSION`."""
    return tuple(step for step in MIGRATIONS if step.version > current)

"""Schema upgrades: a database made by schema version 1 is upgraded in place by `skk init`.

The version-1 database is built from a frozen copy of the models as released (never from the
current models, which describe the newest schema), filled with agencies, keys, credentials and
revocations the way version 1 wrote them, then upgraded through the real command line on SQLite
and PostgreSQL. The upgraded schema must equal a freshly created one, so a model change without a
migration step fails here.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import peewee
import pytest
from click.testing import CliRunner, Result
from peewee import (
    AutoField,
    BigIntegerField,
    CharField,
    CompositeKey,
    DatabaseProxy,
    ForeignKeyField,
    Model,
    SmallIntegerField,
    TextField,
)

from tests.helpers import DAY, NOW
from verifier.cli import main
from verifier.config import redacted_url
from verifier.core import keys
from verifier.core.credential import number_key
from verifier.core.errors import ConfigurationError, StorageUnavailable
from verifier.core.trust import AgencyInfo
from verifier.issuance import issuer
from verifier.issuance.keystore import PrivateKeyStore
from verifier.store import db, migrations
from verifier.store.migrations import Migration
from verifier.store.models import ALL_TABLES

# --- Schema version 1, frozen: verifier/models.py as of commit f2d1f1f -------------------------

v1_proxy = DatabaseProxy()


class V1Base(Model):
    class Meta:
        database = v1_proxy
        legacy_table_names = False


class V1Meta(V1Base):
    name = CharField(primary_key=True, max_length=40)
    value = BigIntegerField()

    class Meta:
        table_name = "skk_meta"


class V1Agency(V1Base):
    id = CharField(primary_key=True, max_length=40)
    name = CharField(max_length=200)
    kind = CharField(max_length=10)
    level_min = SmallIntegerField()
    level_max = SmallIntegerField()
    created_at = BigIntegerField()

    class Meta:
        table_name = "agency"


class V1SigningKey(V1Base):
    kid = CharField(primary_key=True, max_length=16)
    agency = ForeignKeyField(V1Agency, backref="keys", on_delete="RESTRICT")
    alg = CharField(max_length=8)
    public_jwk = TextField()
    origin = CharField(max_length=10)
    state = CharField(max_length=10)
    not_before = BigIntegerField(null=True)
    retired_at = BigIntegerField(null=True)
    revoked_at = BigIntegerField(null=True)
    created_at = BigIntegerField()

    class Meta:
        table_name = "signing_key"


class V1Credential(V1Base):
    id = AutoField()
    agency = ForeignKeyField(V1Agency, backref="credentials", on_delete="RESTRICT")
    number = CharField(max_length=40)
    holder_name = CharField(max_length=100)
    job_title = CharField(max_length=100)
    job_code = CharField(max_length=8, null=True)
    level = SmallIntegerField()
    nik_hmac = CharField(max_length=64, null=True)
    kid = CharField(max_length=16)
    issued_at = BigIntegerField()
    valid_from = BigIntegerField()
    expires_at = BigIntegerField()
    token = TextField()

    class Meta:
        table_name = "credential"
        indexes = (
            (("agency", "number"), True),
            (("agency", "nik_hmac"), False),
        )


class V1Revocation(V1Base):
    agency = ForeignKeyField(V1Agency, on_delete="RESTRICT")
    number = CharField(max_length=40)
    status = CharField(max_length=10)
    reason = CharField(max_length=20)
    at = BigIntegerField()

    class Meta:
        table_name = "revocation"
        primary_key = CompositeKey("agency", "number")


class V1RevocationEvent(V1Base):
    id = AutoField()
    agency = ForeignKeyField(V1Agency, on_delete="RESTRICT")
    number = CharField(max_length=40)
    action = CharField(max_length=10)
    status = CharField(max_length=10)
    reason = CharField(max_length=20, null=True)
    note = TextField(null=True)
    actor = CharField(max_length=80)
    at = BigIntegerField()

    class Meta:
        table_name = "revocation_event"
        indexes = ((("agency", "number"), False),)


class V1ApiKey(V1Base):
    key_id = CharField(primary_key=True, max_length=32)
    agency = ForeignKeyField(V1Agency, backref="api_keys", on_delete="RESTRICT")
    secret_hash = CharField(max_length=128)
    created_at = BigIntegerField()
    revoked_at = BigIntegerField(null=True)

    class Meta:
        table_name = "api_key"


class V1NikMiss(V1Base):
    id = AutoField()
    agency = ForeignKeyField(V1Agency, on_delete="RESTRICT")
    number = CharField(max_length=40)
    at = BigIntegerField()

    class Meta:
        table_name = "nik_miss"
        indexes = ((("agency", "number", "at"), False),)


V1_TABLES = (
    V1Meta,
    V1Agency,
    V1SigningKey,
    V1Credential,
    V1Revocation,
    V1RevocationEvent,
    V1ApiKey,
    V1NikMiss,
)

# --- Helpers ---------------------------------------------------------------------------------

AGENCY = AgencyInfo("lsp-contoh", "LSP Konstruksi Contoh Nusantara", "lsp", 1, 6)
NUMBERS = {"valid": "MIG 0001 2026", "revoked": "MIG 0002 2026", "suspended": "MIG 0003 2026"}
ACTIONS = {"revoked": "revoke", "suspended": "suspend"}
AT = datetime.fromtimestamp(NOW, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def create_v1_database(url: str) -> peewee.Database:
    """An empty database exactly as version 1's `skk init` left it."""
    database = db.open_database(url, create=True)
    v1_proxy.initialize(database)
    with database.atomic():
        database.create_tables(V1_TABLES, safe=False)
        V1Meta.create(name="schema_version", value=1)
        V1Meta.create(name="registry_version", value=1)
    return database


def fill_v1(store: PrivateKeyStore) -> dict[str, str]:
    """Agency, signing key, three credentials (one revoked, one suspended), their history, an
    API key and a NIK miss, written as version 1 wrote them. Returns token by status."""
    V1Agency.create(
        id=AGENCY.id,
        name=AGENCY.name,
        kind=AGENCY.kind,
        level_min=1,
        level_max=6,
        created_at=NOW - 30 * DAY,
    )
    key = keys.generate_signing_key("EdDSA")
    store.save(key)
    V1SigningKey.create(
        kid=key.kid,
        agency=AGENCY.id,
        alg=key.alg,
        public_jwk=json.dumps(key.verifying_key().jwk),
        origin="generated",
        state="active",
        not_before=NOW - 30 * DAY,
        created_at=NOW - 30 * DAY,
    )
    tokens = {}
    for status, number in NUMBERS.items():
        request = issuer.IssueRequest(
            AGENCY.id, "Rina Marlina", 3, job_code="ME063100", number=number
        )
        signed = issuer.sign_credential(
            issuer.build_credential(request, AGENCY, NOW - DAY), key, None
        )
        cred = signed.credential
        V1Credential.create(
            agency=AGENCY.id,
            number=cred.number,
            holder_name=cred.holder_name,
            job_title=cred.job_title,
            job_code=cred.job_code,
            level=cred.level,
            kid=key.kid,
            issued_at=cred.issued_at,
            valid_from=cred.valid_from,
            expires_at=cred.expires_at,
            token=signed.token,
        )
        tokens[status] = signed.token
        if status != "valid":
            V1Revocation.create(
                agency=AGENCY.id, number=number, status=status, reason="fraud", at=NOW - 3600
            )
            V1RevocationEvent.create(
                agency=AGENCY.id,
                number=number,
                action=ACTIONS[status],
                status=status,
                reason="fraud",
                note="v1 note",
                actor="cli",
                at=NOW - 3600,
            )
    V1ApiKey.create(key_id="k1", agency=AGENCY.id, secret_hash="x" * 64, created_at=NOW)
    V1NikMiss.create(agency=AGENCY.id, number=NUMBERS["valid"], at=NOW - 60)
    V1Meta.update(value=V1Meta.value + 1).where(V1Meta.name == "registry_version").execute()
    return tokens


def all_rows(database: peewee.Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every SKK table, in a stable order."""
    return {
        model._meta.table_name: sorted(
            database.execute_sql(f'SELECT * FROM "{model._meta.table_name}"').fetchall(),
            key=repr,
        )
        for model in ALL_TABLES
        if database.table_exists(model._meta.table_name)  # tables added since version 1 too
    }


def describe_schema(database: peewee.Database) -> dict[str, Any]:
    """Tables, columns, indexes and foreign keys as the database reports them."""
    tables = sorted(model._meta.table_name for model in ALL_TABLES)
    return {
        table: {
            "columns": sorted(
                (c.name, c.data_type.lower(), c.null, c.primary_key)
                for c in database.get_columns(table)
            ),
            "indexes": sorted(
                (i.name, tuple(i.columns), i.unique) for i in database.get_indexes(table)
            ),
            "foreign_keys": sorted(
                (f.column, f.dest_table, f.dest_column) for f in database.get_foreign_keys(table)
            ),
        }
        for table in tables
    }


def recorded_version(database: peewee.Database) -> int:
    row = database.execute_sql("SELECT value FROM skk_meta WHERE name = 'schema_version'")
    return int(row.fetchone()[0])


@pytest.fixture
def skk(env: dict[str, str]) -> Callable[..., Result]:
    """Run `skk ARGS...` with the test settings."""
    runner = CliRunner()
    return lambda *args: runner.invoke(main, list(args), env=env, catch_exceptions=False)


@pytest.fixture
def v1_database(database_url: str) -> Iterator[peewee.Database]:
    """A version-1 database (no data yet) at the test URL."""
    database = create_v1_database(database_url)
    yield database
    database.close()


# --- Tests -----------------------------------------------------------------------------------


def test_migration_steps_are_consecutive_from_version_1() -> None:
    versions = [step.version for step in migrations.MIGRATIONS]
    assert versions == list(range(migrations.BASE_VERSION + 1, migrations.SCHEMA_VERSION + 1))
    assert db.SCHEMA_VERSION == migrations.SCHEMA_VERSION >= 2


def test_v1_database_is_upgraded_in_place_keeping_every_row(v1_database, store, skk) -> None:
    tokens = fill_v1(store)
    before = all_rows(v1_database)
    v1_indexes = describe_schema(v1_database)["credential"]["indexes"]
    assert "credential_agency_id_kid" not in [name for name, *_ in v1_indexes]

    result = skk("init")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"upgraded schema from version 1 to {db.SCHEMA_VERSION}"

    v1_database.close()  # see the state another connection sees
    assert recorded_version(v1_database) == db.SCHEMA_VERSION
    upgraded_schema = describe_schema(v1_database)
    assert ("credential_agency_id_kid", ("agency_id", "kid"), False) in (
        upgraded_schema["credential"]["indexes"]
    )
    added_tables = {model._meta.table_name for model in ALL_TABLES} - set(before)
    assert added_tables == {  # by step 3; offline bundles by 4; the console by 5; projects by 6;
        # idempotency records and imported job masters by 7; the console's devices by 8
        "rate_counter",
        "bundle_key",
        "offline_change",
        "audit_event",
        "staff_user",
        "staff_session",
        "agency_policy",
        "pending_approval",
        "cohort_import",
        "project_owner",
        "project",
        "crew_member",
        "webhook_subscription",
        "webhook_message",
        "expiry_notice",
        "idempotency_record",
        "job_master_version",
        "staff_device",
    }
    # The audit log starts with the revocation history; every other new table starts empty.
    copied = sorted(
        [
            (
                event_id,
                AGENCY.id,
                NOW - 3600,
                "cli",
                ACTIONS[status],
                NUMBERS[status],
                status,
                "fraud",
                "v1 note",
                None,
            )
            for event_id, status in enumerate(("revoked", "suspended"), start=1)
        ],
        key=repr,
    )
    assert all_rows(v1_database) == {
        **before,
        **{table: [] for table in added_tables},
        "audit_event": copied,
        # step 6 gave api_key an owner_id column (NULL for every agency key)
        "api_key": sorted((*row, None) for row in before["api_key"]),
        # step 7 gave credential its number as it compares (column 2 is the number)
        "credential": sorted(
            ((*row, number_key(row[2])) for row in before["credential"]), key=repr
        ),
        "skk_meta": sorted(
            [("registry_version", 2), ("schema_version", db.SCHEMA_VERSION)], key=repr
        ),
    }
    api_key_columns = {c.name: c.null for c in v1_database.get_columns("api_key")}
    assert api_key_columns["agency_id"] and api_key_columns["owner_id"]

    # The upgraded database works: keys verify, revoked stays revoked, suspended stays suspended,
    # and the version-1 key still signs.
    for status, token in tokens.items():
        outcome = json.loads(skk("verify", "--json", "--at", AT, token).stdout)
        assert outcome["status"] == status
    issued = skk(
        "issue",
        "--agency",
        AGENCY.id,
        "--name",
        "Budi Santoso",
        "--job-code",
        "ME063100",
        "--level",
        "3",
        "--json",
    )
    assert issued.exit_code == 0, issued.output
    assert skk("verify", json.loads(issued.stdout)["token"]).exit_code == 0

    # Second run: nothing to do, nothing changed.
    after_first = all_rows(v1_database)
    again = skk("init", "--json")
    assert again.exit_code == 0 and json.loads(again.stdout) == {
        "schema_version": db.SCHEMA_VERSION
    }
    assert skk("init").stdout.strip().endswith("is up to date; nothing to do")
    assert all_rows(v1_database) == after_first
    assert describe_schema(v1_database) == upgraded_schema

    # The upgrade path and a fresh `skk init` end at the same schema.
    v1_database.drop_tables(ALL_TABLES)
    assert skk("init").stdout.strip() == f"created schema version {db.SCHEMA_VERSION}"
    assert describe_schema(v1_database) == upgraded_schema


def test_v1_database_refused_by_other_commands_until_init(v1_database, skk, env) -> None:
    result = skk("agency", "list")
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.strip() == (
        f"skk: database schema is version 1, this program needs {db.SCHEMA_VERSION}; "
        f"run `skk init` to upgrade (database {redacted_url(env['SKK_DATABASE_URL'])})"
    )


def test_database_newer_than_program_is_refused_untouched(v1_database, skk, env) -> None:
    assert skk("init").exit_code == 0
    newer = db.SCHEMA_VERSION + 1
    v1_database.execute_sql(f"UPDATE skk_meta SET value = {newer} WHERE name = 'schema_version'")
    schema = describe_schema(v1_database)

    for args in (("init",), ("init", "--json"), ("agency", "list")):
        result = skk(*args)
        assert result.exit_code == 2, args
        assert result.stdout == ""
        assert result.stderr.strip() == (
            f"skk: database schema is version {newer}, newer than this program (version "
            f"{db.SCHEMA_VERSION}); install the newer program, do not downgrade the database "
            f"(database {redacted_url(env['SKK_DATABASE_URL'])})"
        )
    assert recorded_version(v1_database) == newer
    assert describe_schema(v1_database) == schema


def test_failed_step_leaves_database_at_its_version(
    v1_database, store, monkeypatch: pytest.MonkeyPatch
) -> None:
    fill_v1(store)
    before, schema = all_rows(v1_database), describe_schema(v1_database)

    def broken(migrator: Any) -> None:
        raise peewee.OperationalError("disk I/O error")

    broken_step = Migration(db.SCHEMA_VERSION + 1, broken)
    monkeypatch.setattr(migrations, "MIGRATIONS", (*migrations.MIGRATIONS, broken_step))
    monkeypatch.setattr(db, "SCHEMA_VERSION", broken_step.version)
    with pytest.raises(StorageUnavailable, match="disk I/O error"):
        db.init_schema(v1_database)

    # The real step ran first in the same transaction; all of it was rolled back.
    assert recorded_version(v1_database) == 1
    assert describe_schema(v1_database) == schema
    assert all_rows(v1_database) == before


def test_tables_without_a_version_are_refused(database_url: str, skk) -> None:
    database = db.open_database(database_url, create=True)
    v1_proxy.initialize(database)
    database.create_tables([V1Agency], safe=False)  # e.g. a half-restored backup
    database.close()
    result = skk("init")
    assert result.exit_code == 2 and result.stdout == ""
    assert "SKK tables (agency) but no schema version" in result.stderr
    assert "skk_meta" not in database.get_tables()


def test_credential_lookup_by_key_uses_the_version_2_index(tmp_path: Path) -> None:
    # SQLite's planner shows the index directly; on PostgreSQL a tiny table is scanned anyway.
    database = db.open_database(f"sqlite:///{tmp_path / 'plan.sqlite3'}", create=True)
    db.init_schema(database)
    plan = database.execute_sql(
        "EXPLAIN QUERY PLAN SELECT number FROM credential WHERE agency_id = ? AND kid = ?",
        ("lsp-contoh", "abc"),
    ).fetchall()
    assert any("credential_agency_id_kid" in str(row[-1]) for row in plan), plan


def test_version_7_keys_every_number_but_pre_7_case_twins(v1_database, store, skk) -> None:
    fill_v1(store)
    valid = V1Credential.get(V1Credential.number == NUMBERS["valid"])
    for twin in ("mig 0001 2026", "Mig 0001 2026"):  # possible before 7: the index is exact
        data = {**valid.__data__, "number": twin}
        del data["id"]
        V1Credential.create(**data)
    assert skk("init").exit_code == 0
    v1_database.close()
    keyed = v1_database.execute_sql("SELECT number, number_key FROM credential ORDER BY id")
    assert keyed.fetchall() == [  # the oldest of the twins keeps the key, the others NULL
        (NUMBERS["valid"], NUMBERS["valid"]),
        (NUMBERS["revoked"], NUMBERS["revoked"]),
        (NUMBERS["suspended"], NUMBERS["suspended"]),
        ("mig 0001 2026", None),
        ("Mig 0001 2026", None),
    ]
    # Typed exactly, each twin is found; typed otherwise, the number is ambiguous and refused.
    exact = skk("suspend", "--agency", AGENCY.id, "--reason", "fraud", "Mig 0001 2026")
    assert exact.exit_code == 0, exact.output
    ambiguous = skk("suspend", "--agency", AGENCY.id, "--reason", "fraud", "mIG 0001 2026")
    assert ambiguous.exit_code == 1
    assert "differ from this one only in upper and lower case" in ambiguous.stderr
    # No new twin: the number in any case is taken.
    again = skk(
        "issue",
        "--agency",
        AGENCY.id,
        "--name",
        "Budi Santoso",
        "--job-code",
        "ME063100",
        "--level",
        "3",
        "--number",
        "MIG 0002 2026".lower(),
    )
    assert again.exit_code == 1 and "already exists" in again.stderr


def test_number_lookups_use_the_version_7_index(tmp_path: Path) -> None:
    database = db.open_database(f"sqlite:///{tmp_path / 'plan.sqlite3'}", create=True)
    db.init_schema(database)
    plan = database.execute_sql(
        "EXPLAIN QUERY PLAN SELECT number FROM credential WHERE agency_id = ? "
        "AND number_key IN (?, ?)",
        ("lsp-contoh", "A-1", "B-2"),
    ).fetchall()
    assert any("credential_agency_id_number_key" in str(row[-1]) for row in plan), plan


def test_damaged_meta_table_is_refused(v1_database) -> None:
    v1_database.execute_sql("DELETE FROM skk_meta WHERE name = 'schema_version'")
    with pytest.raises(ConfigurationError, match="no schema version"):
        db.init_schema(v1_database)


def test_healthz_is_503_on_a_schema_older_than_this_release(v1_database, env, caplog) -> None:
    from verifier import create_app

    client = create_app({**env, "TESTING": True}).test_client()
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.headers["Retry-After"]
    assert "skk init" not in response.get_data(as_text=True)  # the operator reads it in the log
    assert f"this program needs {db.SCHEMA_VERSION}" in caplog.text
    newer = db.SCHEMA_VERSION + 1
    v1_database.execute_sql(f"UPDATE skk_meta SET value = {newer} WHERE name = 'schema_version'")
    # The previous release keeps serving on an upgraded (additive) schema until it restarts.
    assert client.get("/healthz").status_code == 200

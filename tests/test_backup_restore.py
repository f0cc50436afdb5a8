"""Backup and restore as docs/operations.md describes them: every revocation survives.

A lost or stale revocation table silently turns revoked certificates valid again, so each test
backs up a live database holding revocations, suspensions, a reinstatement, a key rotation and a
revoked key, restores it somewhere fresh, and verifies every credential against the copy with
`skk verify`. SQLite uses the online backup API (the WAL still holds the latest writes, and a
plain copy of the main file is shown to lose them); PostgreSQL uses pg_dump and pg_restore into a
new database. The key files go through tar and must still sign with the separate passphrase.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import stat
import subprocess
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import peewee
import pytest
from click.testing import CliRunner, Result
from playhouse import db_url

from tests.helpers import DAY, NOW, POSTGRES_URL
from verifier.cli import main
from verifier.store import registry, revocation
from verifier.verification import VerificationService

#: tar, sqlite3, pg_dump and pg_restore as processes.
pytestmark = pytest.mark.system

AT = datetime.fromtimestamp(NOW, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
POSTGRES_ONLY = pytest.mark.parametrize(
    "database_url",
    [
        pytest.param(
            "postgres",
            marks=pytest.mark.skipif(
                POSTGRES_URL is None, reason="SKK_TEST_POSTGRES_URL is not set"
            ),
        )
    ],
    indirect=True,
)
#: Tables whose loss or staleness would change a verdict.
VERDICT_TABLES = ("agency", "signing_key", "revocation", "revocation_event", "skk_meta")


@pytest.fixture
def live(database, contoh, make_agency, make_key, issue) -> dict[str, str]:
    """A live database with a credential in every revocation situation worth losing.

    Returns each token with the status it must keep after a restore."""
    expected: dict[str, str] = {}

    def credential(number: str, status: str, agency_id: str = "lsp-contoh") -> str:
        token = issue(now=NOW - DAY, number=number, agency_id=agency_id).token
        expected[token] = status
        return number

    def act(action: Callable[..., object], number: str, *reason: str, at: int) -> None:
        action("lsp-contoh", number, *reason, note=None, actor="cli", now=at)

    credential("BAK 0001 2026", "valid")
    act(revocation.revoke, credential("BAK 0002 2026", "revoked"), "fraud", at=NOW - 7200)
    act(
        revocation.suspend, credential("BAK 0003 2026", "suspended"), "investigation", at=NOW - 7200
    )
    suspended_then_revoked = credential("BAK 0004 2026", "revoked")
    act(revocation.suspend, suspended_then_revoked, "investigation", at=NOW - 7200)
    act(revocation.revoke, suspended_then_revoked, "misuse", at=NOW - 3600)
    reinstated = credential("BAK 0005 2026", "valid")
    act(revocation.suspend, reinstated, "data_error", at=NOW - 7200)
    act(revocation.reinstate, reinstated, at=NOW - 3600)
    make_key(at=NOW - DAY // 2)  # rotation: the first key retires, its credentials stay valid
    expected[issue(now=NOW - 3600, number="BAK 0006 2026").token] = "valid"
    make_agency("dinas-contoh", levels=(1, 9), name="Dinas PUPR Contoh")
    compromised = make_key("dinas-contoh")
    credential("BAK 0007 2026", "key_revoked", agency_id="dinas-contoh")
    registry.revoke_key(compromised.kid, NOW - 1800)

    service = VerificationService(leeway=60)
    assert {t: service.verify(t, at=NOW).status.value for t in expected} == expected
    return expected


def verdict_rows(database: peewee.Database) -> dict[str, list[tuple[object, ...]]]:
    """The rows every verdict depends on, in a stable order."""
    return {
        table: sorted(database.execute_sql(f'SELECT * FROM "{table}"').fetchall(), key=repr)
        for table in VERDICT_TABLES
    }


def run_skk(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def assert_restored(expected: dict[str, str], env: dict[str, str]) -> None:
    """Against the restored database: schema ready, every token keeps its status."""
    init = run_skk(env, "init", "--json")
    assert init.exit_code == 0, init.output
    for token, status in expected.items():
        result = run_skk(env, "verify", "--json", "--at", AT, token)
        assert json.loads(result.stdout)["status"] == status, result.output


def backup_keys(keys_dir: Path, archive: Path, restored: Path) -> None:
    """docs/operations.md: tar the key folder, then extract it keeping modes."""
    subprocess.run(
        ["tar", "--create", "--gzip", f"--file={archive}", "-C", str(keys_dir), "."],
        check=True,
        timeout=30,
    )
    restored.mkdir(mode=0o700)
    subprocess.run(
        [
            "tar",
            "--extract",
            "--gzip",
            "--same-permissions",
            f"--file={archive}",
            "-C",
            str(restored),
        ],
        check=True,
        timeout=30,
    )


def assert_keys_sign(env: dict[str, str], keys_dir: Path) -> None:
    """Restored key files sign with the passphrase, and are useless without it."""
    files = sorted(keys_dir.glob("*.pem"))
    assert len(files) == 3
    assert all(stat.S_IMODE(path.stat().st_mode) == 0o600 for path in files)
    assert all(b"ENCRYPTED PRIVATE KEY" in path.read_bytes() for path in files)

    restored_env = {**env, "SKK_KEYS_DIR": str(keys_dir)}
    args = (
        "issue",
        "--agency",
        "lsp-contoh",
        "--name",
        "Budi Santoso",
        "--job-code",
        "ME063100",
        "--level",
        "3",
        "--json",
    )
    without_passphrase = run_skk({**restored_env, "SKK_KEY_PASSPHRASE": ""}, *args)
    assert without_passphrase.exit_code == 2 and without_passphrase.stdout == ""
    issued = run_skk(restored_env, *args)
    assert issued.exit_code == 0, issued.output
    assert run_skk(restored_env, "verify", json.loads(issued.stdout)["token"]).exit_code == 0


# --- SQLite ----------------------------------------------------------------------------------


def sqlite_backup(source: Path, target: Path) -> None:
    """docs/operations.md: the online backup API, safe while the service writes (WAL)."""
    src = sqlite3.connect(source)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


def sqlite_cli_backup(source: Path, target: Path) -> None:
    """docs/operations.md, alternative: the sqlite3 shell's .backup (the same API)."""
    subprocess.run(["sqlite3", str(source), f".backup '{target}'"], check=True, timeout=30)


@pytest.fixture
def sqlite_path(settings) -> Path:
    """The SQLite file of the test database."""
    return Path(settings.database_url.removeprefix("sqlite:///"))


@SQLITE_ONLY
@pytest.mark.parametrize("method", ["python", "sqlite3-shell"])
def test_sqlite_backup_restores_every_revocation(
    sqlite_path: Path, live: dict[str, str], method: str, database, env, settings, tmp_path: Path
) -> None:
    if method == "sqlite3-shell" and shutil.which("sqlite3") is None:
        pytest.skip("the sqlite3 shell is not installed; the Python procedure is tested above")
    backup = tmp_path / "backup" / "skk.sqlite3"
    backup.parent.mkdir()
    # Taken while the service's connection is open and the latest writes sit in the WAL.
    (sqlite_backup if method == "python" else sqlite_cli_backup)(sqlite_path, backup)
    with sqlite3.connect(backup) as check:
        assert check.execute("PRAGMA integrity_check").fetchone() == ("ok",)

    restored = tmp_path / "restored" / "skk.sqlite3"
    restored.parent.mkdir()
    shutil.copyfile(backup, restored)
    restored_env = {**env, "SKK_DATABASE_URL": f"sqlite:///{restored}"}
    assert_restored(live, restored_env)
    restored_db = peewee.SqliteDatabase(str(restored))
    assert verdict_rows(restored_db) == verdict_rows(database)
    restored_db.close()

    keys_copy = tmp_path / "restored-keys"
    backup_keys(settings.keys_dir, tmp_path / "keys.tar.gz", keys_copy)
    assert_keys_sign(restored_env, keys_copy)


@SQLITE_ONLY
def test_plain_copy_of_a_live_sqlite_file_loses_revocations(
    sqlite_path: Path, live: dict[str, str], database, tmp_path: Path
) -> None:
    # Why the procedure uses the backup API: the newest revocations are still in skk.sqlite3-wal,
    # so copying the main file alone brings back a database where they never happened.
    naive = tmp_path / "naive.sqlite3"
    shutil.copyfile(sqlite_path, naive)
    copy = sqlite3.connect(naive)
    try:
        tables = {row[0] for row in copy.execute("SELECT name FROM sqlite_master")}
        copied = (
            copy.execute("SELECT count(*) FROM revocation").fetchone()[0]
            if ("revocation" in tables)
            else 0
        )
    finally:
        copy.close()
    current = database.execute_sql("SELECT count(*) FROM revocation").fetchone()[0]
    assert current == 3
    assert copied < current


# --- PostgreSQL ------------------------------------------------------------------------------


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def _psql(url: str, sql: str) -> None:
    subprocess.run(
        ["psql", url, "--quiet", "--no-psqlrc", "-v", "ON_ERROR_STOP=1", "-c", sql],
        check=True,
        timeout=60,
        capture_output=True,
    )


@pytest.fixture
def postgres_tools() -> None:
    """pg_dump, pg_restore and psql must be installed."""
    missing = [tool for tool in ("pg_dump", "pg_restore", "psql") if shutil.which(tool) is None]
    if missing:
        # SKK_TEST_POSTGRES_URL is set, so this is CI or a PostgreSQL developer set-up: a skip
        # would hide an untested restore procedure.
        pytest.fail(
            f"{', '.join(missing)} not installed (Debian: apt-get install "
            "postgresql-client); the PostgreSQL restore test needs them"
        )


@pytest.fixture
def restore_url() -> Iterator[str]:
    """A fresh database next to the test database, dropped afterwards."""
    assert POSTGRES_URL is not None
    name = f"{urlsplit(POSTGRES_URL).path.lstrip('/')}_restore"
    _psql(POSTGRES_URL, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _psql(POSTGRES_URL, f'CREATE DATABASE "{name}"')
    yield _with_database(POSTGRES_URL, name)
    _psql(POSTGRES_URL, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@POSTGRES_ONLY
def test_postgres_dump_restores_every_revocation(
    postgres_tools: None,
    live: dict[str, str],
    database,
    env,
    settings,
    restore_url: str,
    tmp_path: Path,
) -> None:
    dump = tmp_path / "skk.dump"
    assert POSTGRES_URL is not None
    subprocess.run(
        ["pg_dump", "--format=custom", f"--file={dump}", POSTGRES_URL], check=True, timeout=60
    )
    subprocess.run(
        [
            "pg_restore",
            "--exit-on-error",
            "--single-transaction",
            "--no-owner",
            f"--dbname={restore_url}",
            str(dump),
        ],
        check=True,
        timeout=60,
    )

    restored_env = {**env, "SKK_DATABASE_URL": restore_url}
    assert_restored(live, restored_env)
    restored_db = db_url.connect(restore_url)
    try:
        assert verdict_rows(restored_db) == verdict_rows(database)
    finally:
        restored_db.close()

    keys_copy = tmp_path / "restored-keys"
    backup_keys(settings.keys_dir, tmp_path / "keys.tar.gz", keys_copy)
    assert_keys_sign(restored_env, keys_copy)

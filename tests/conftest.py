"""Fixtures: a fresh database per test (SQLite file, and PostgreSQL when configured), settings,
and factories for agencies, keys and credentials. Time is always injected, never slept."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import peewee
import psycopg2
import pytest

from tests.helpers import DATABASE_KINDS, DAY, GIVEN_POSTGRES_URL, NOW, POSTGRES_URL
from verifier.config import Settings
from verifier.issuance import issuer, keyring
from verifier.issuance.keystore import PrivateKeyStore
from verifier.issuance.service import IssuingService
from verifier.store import registry
from verifier.store.credentials import SignedCredential
from verifier.store.db import init_schema, open_database
from verifier.store.models import ALL_TABLES
from verifier.verification import VerificationService


@pytest.fixture(scope="session", autouse=True)
def _worker_postgres_database() -> None:
    """Under pytest-xdist, create this worker's own database (``<db>_gw0``; tests/helpers.py)
    through a connection to the given one, if it is not there yet; kept for the next run."""
    if GIVEN_POSTGRES_URL is None or POSTGRES_URL is None or POSTGRES_URL == GIVEN_POSTGRES_URL:
        return
    name = urlsplit(POSTGRES_URL).path.lstrip("/")
    try:
        connection = psycopg2.connect(GIVEN_POSTGRES_URL)
    except psycopg2.OperationalError as exc:
        pytest.fail(f"PostgreSQL at SKK_TEST_POSTGRES_URL does not answer: {exc}")
    try:
        connection.autocommit = True  # CREATE DATABASE runs outside any transaction
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
            if cursor.fetchone() is None:
                cursor.execute(f'CREATE DATABASE "{name}"')
    finally:
        connection.close()


def _fresh_postgres(url: str) -> peewee.Database:
    try:
        database = open_database(url)
        database.connect(reuse_if_open=True)
    except peewee.OperationalError as exc:
        # In CI the server must be there: a silent skip would hide a broken store.
        pytest.fail(f"PostgreSQL at SKK_TEST_POSTGRES_URL does not answer: {exc}")
    database.drop_tables(ALL_TABLES, safe=True, cascade=True)
    return database


@pytest.fixture(params=DATABASE_KINDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """URL of an empty database of each configured kind."""
    if request.param == "postgres":
        assert POSTGRES_URL is not None
        _fresh_postgres(POSTGRES_URL).close()
        return POSTGRES_URL
    return f"sqlite:///{tmp_path / 'skk.sqlite3'}"


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """Test settings: temp keys folder, https base URL, fixed secrets."""
    return Settings(
        database_url=database_url,
        keys_dir=tmp_path / "keys",
        key_passphrase="test passphrase",
        nik_pepper="test pepper",
        base_url="https://sertifikat.example.id",
        leeway_seconds=60,
    )


@pytest.fixture
def database(settings: Settings) -> Iterator[peewee.Database]:
    """An initialised database bound to the models."""
    db = open_database(settings.database_url, create=True)
    init_schema(db)
    yield db
    db.close()


@pytest.fixture
def env(settings: Settings) -> dict[str, str]:
    """The same settings as SKK_* environment variables, for CLI tests."""
    return {
        "SKK_DATABASE_URL": settings.database_url,
        "SKK_KEYS_DIR": str(settings.keys_dir),
        "SKK_KEY_PASSPHRASE": settings.key_passphrase or "",
        "SKK_NIK_PEPPER": settings.nik_pepper or "",
        "SKK_BASE_URL": settings.base_url,
        "SKK_LEEWAY_SECONDS": str(settings.leeway_seconds),
    }


@pytest.fixture
def store(settings: Settings) -> PrivateKeyStore:
    """The private key store of the test settings."""
    return PrivateKeyStore(settings.keys_dir, settings.key_passphrase)


@pytest.fixture
def make_agency(database: peewee.Database) -> Callable[..., registry.AgencyInfo]:
    """Factory: register an agency (default lsp-contoh, levels 1-6)."""

    def make(
        agency_id: str = "lsp-contoh",
        levels: tuple[int, int] = (1, 6),
        name: str = "LSP Konstruksi Contoh Nusantara",
    ) -> registry.AgencyInfo:
        return registry.add_agency(agency_id, name, levels, "lsp", NOW - 30 * DAY)

    return make


@pytest.fixture
def make_key(store: PrivateKeyStore) -> Callable[..., registry.TrustedKey]:
    """Factory: generate an agency signing key at a given instant."""

    def make(agency_id: str = "lsp-contoh", alg: str = "EdDSA", at: int = NOW - 30 * DAY):
        return keyring.generate(store, agency_id, alg, at)

    return make


@pytest.fixture
def issue(settings: Settings, store: PrivateKeyStore) -> Callable[..., SignedCredential]:
    """Factory: issue a credential (reference data by default) at ``now``."""

    def make(now: int = NOW, **fields: Any) -> SignedCredential:
        defaults: dict[str, Any] = {
            "agency_id": "lsp-contoh",
            "holder_name": "Muhammad Rizky Pratama Saputra",
            "level": 3,
            "job_code": "ME063100",
        }
        request = issuer.IssueRequest(**{**defaults, **fields})
        issuing = IssuingService(store, pepper=settings.nik_pepper, base_url=settings.base_url)
        # As the CLI issues: checked, signed, stored and audited.
        return issuing.issue(request, actor="cli", now=now).signed

    return make


@pytest.fixture
def cheap_argon2(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2id with small costs for tests that make many accounts (the real parameters are
    checked by tests/test_staff.py); hashing 64 MiB three times per account adds up."""
    from argon2 import PasswordHasher

    from verifier.staff import accounts

    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    monkeypatch.setattr(accounts, "_hasher", lambda: cheap)


@pytest.fixture
def contoh(make_agency, make_key) -> registry.TrustedKey:
    """The reference agency lsp-contoh (levels 1-6) with an Ed25519 signing key."""
    make_agency()
    return make_key()


@pytest.fixture
def service(database: peewee.Database, settings: Settings) -> VerificationService:
    """A verification service on the test database."""
    return VerificationService(settings.leeway_seconds)


@pytest.fixture
def app(database: peewee.Database, env: dict[str, str]):
    """The Flask app on the test database and settings."""
    from verifier import create_app

    return create_app({**env, "TESTING": True})


@pytest.fixture
def client(app):
    """A Flask test client."""
    return app.test_client()


# -- test tiers ------------------------------------------------------------------------------------

TIERS = ("unit", "system", "browser")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Put every test in exactly one tier (pyproject.toml): ``system`` or ``browser`` as marked,
    ``unit`` otherwise; a test that drives the browser must say so."""
    for item in items:
        tiers = [tier for tier in TIERS if item.get_closest_marker(tier)]
        if "browser" in getattr(item, "fixturenames", ()) and "browser" not in tiers:
            raise pytest.UsageError(f"{item.nodeid} uses the browser: mark it browser")
        if len(tiers) > 1:
            raise pytest.UsageError(f"{item.nodeid} is in more than one tier: {tiers}")
        if not tiers:
            item.add_marker(pytest.mark.unit)


# -- a real browser --------------------------------------------------------------------------------

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Debian Chromium driven by Playwright (never a downloaded browser).

    Without /usr/bin/chromium the test skips saying so, except in CI (``CI=true``), where a
    missing browser must fail rather than pass unnoticed.
    """
    if not CHROMIUM.exists():
        message = "chromium is not installed: apt-get install chromium"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{message} (required in CI)")
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()

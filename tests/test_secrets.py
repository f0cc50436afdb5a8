"""Secrets stay secret: private keys, API key secrets and NIKs, in storage, logs, errors, answers.

One in-process session per database kind (SQLite, and PostgreSQL when configured) runs every
flow that handles a secret: key generation (both algorithms), API keys created, used, misused
and revoked, issuance with a NIK through the API and through a cohort file, NIK questions on
verify and search, numbers and notes that are NIKs typed into the wrong box, refused NIKs. Then
every column of every table, every response (body and headers) and every log record of every
level are searched for the secret values.

Not repeated here (see those files): the key store's file format, modes and refusals one by one
(tests/test_keys.py ``test_store_*``), the NIK HMAC's agency scope (tests/test_issuance.py),
the gunicorn access log and the database after a real server session (tests/test_server.py).
"""

from __future__ import annotations

import hashlib
import logging
import os
import stat
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import peewee
import pytest
from cryptography.hazmat.primitives import serialization

from tests.helpers import NOW
from verifier.config import Settings
from verifier.core.errors import Conflict, InvalidInput, NotFound
from verifier.issuance import cohort, keyring
from verifier.issuance.cohort_file import read_cohort
from verifier.issuance.keystore import PrivateKeyStore
from verifier.store import apikeys, records, registry, revocation

# Fixture NIKs have day 00 in the birth-date block: never a real person's (SPEC §7).
NIK = "3273010001900042"
COHORT_NIK = "3507120001950003"
OTHER_NIK = "3273010001900043"
BAD_PROVINCE_NIK = "9973010001900042"


@dataclass
class Session:
    """What one run of every secret-handling flow left behind."""

    database: peewee.Database
    settings: Settings
    api_secrets: list[str] = field(default_factory=list)
    private_pems: list[bytes] = field(default_factory=list)
    answers: list[str] = field(default_factory=list)
    log: str = ""
    records_seen: int = 0
    errors: list[str] = field(default_factory=list)


def _text(response: Any) -> str:
    headers = "\n".join(f"{k}: {v}" for k, v in response.headers.items())
    return f"{response.status_code}\n{headers}\n{response.get_data(as_text=True)}"


def _private_pems(store: PrivateKeyStore, kids: list[str]) -> list[bytes]:
    """Unencrypted PKCS#8 bodies of the stored keys (what must never leave the key files)."""
    pems = []
    for kid in kids:
        key = store.load(kid)._key  # the test looks inside on purpose
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        pems.append(b"".join(pem.splitlines()[1:-1]))
    return pems


@pytest.fixture
def session(
    database: peewee.Database,
    settings: Settings,
    store: PrivateKeyStore,
    make_agency,
    make_key,
    app,
    caplog: pytest.LogCaptureFixture,
) -> Session:
    """Run every flow that handles a secret; record answers, logs and refusals."""
    caplog.set_level(logging.DEBUG)
    result = Session(database, settings)
    make_agency()
    make_agency("dinas-pe", levels=(1, 9), name="Dinas PUPR Contoh")
    kids = [make_key().kid, make_key("dinas-pe", alg="ES256").kid]
    result.private_pems = _private_pems(store, kids)
    client = app.test_client()
    api_key = apikeys.create("lsp-contoh", NOW)["api_key"]
    spare = apikeys.create("lsp-contoh", NOW)["api_key"]
    result.api_secrets = [key.split("_", 2)[2] for key in (api_key, spare)]  # may hold "_"
    auth = {"Authorization": f"Bearer {api_key}"}
    answers: list[Any] = []

    def post(path: str, body: Any, headers: dict[str, str] | None = None) -> Any:
        answers.append(client.post(path, json=body, headers=headers or auth))
        return answers[-1]

    def get(path: str, headers: dict[str, str] | None = None) -> Any:
        answers.append(client.get(path, headers=headers or auth))
        return answers[-1]

    issued = post(
        "/api/v1/credentials",
        {"holder_name": "Rina Marlina", "job_code": "ME063100", "level": 3, "nik": NIK},
    )
    assert issued.status_code == 201, issued.get_data(as_text=True)
    token, number = issued.get_json()["token"], issued.get_json()["number"]
    assert post("/api/v1/verify", {"token": token, "nik": NIK}).get_json()["nik_match"] is True
    other = post("/api/v1/verify", {"token": token, "nik": OTHER_NIK})
    assert other.get_json()["nik_match"] is False
    assert get(f"/api/v1/credentials?nik={NIK}").status_code == 200
    assert post("/api/v1/credentials/search", {"nik": NIK}).status_code == 200
    # A NIK typed where a number, a note or a NIK of the wrong shape goes.
    assert get(f"/api/v1/credentials/{NIK}").status_code == 404
    assert post(f"/api/v1/credentials/{NIK}/revoke", {"reason": "fraud"}).status_code == 404
    assert (
        post(
            f"/api/v1/credentials/{quote(number)}/suspend",
            {"reason": "investigation", "note": f"NIK {NIK}"},
        ).status_code
        == 422
    )
    assert (
        post(
            "/api/v1/credentials",
            {
                "holder_name": "Rina Marlina",
                "job_code": "ME063100",
                "level": 3,
                "nik": BAD_PROVINCE_NIK,
            },
        ).status_code
        == 422
    )
    assert post("/api/v1/verify", {"token": token, NIK: True}).status_code == 400
    # API keys misused: a wrong secret for a real id, a revoked key, the secret alone.
    wrong = api_key[:-4] + ("AAAA" if not api_key.endswith("AAAA") else "BBBB")
    assert get("/api/v1/audit", {"Authorization": f"Bearer {wrong}"}).status_code == 401
    apikeys.revoke(spare.split("_")[1], NOW)
    assert get("/api/v1/audit", {"Authorization": f"Bearer {spare}"}).status_code == 401
    assert get("/api/v1/audit", {"Authorization": result.api_secrets[0]}).status_code == 401
    revoked = post(f"/api/v1/credentials/{quote(number)}/revoke", {"reason": "fraud"})
    assert revoked.status_code == 200
    _cohort_with_nik(settings, store)
    result.errors = _core_refusals(number)
    result.answers = [_text(answer) for answer in answers]
    result.records_seen = len(caplog.records)
    result.log = "\n".join(
        f"{record.getMessage()} {record.exc_text or ''}"
        for record in caplog.records
        if not (record.name == "peewee" and record.levelno == logging.DEBUG)
    )
    return result


def _cohort_with_nik(settings: Settings, store: PrivateKeyStore) -> None:
    data = (f"nama;nik;kode_jabatan;jenjang\nBudi Santoso;'{COHORT_NIK};ME063100;3\n").encode()
    agency = registry.get_agency("lsp-contoh")
    prepared = cohort.prepare(
        read_cohort(data),
        agency,
        keyring.signer(store, "lsp-contoh"),
        pepper=settings.nik_pepper,
        now=NOW,
    )
    cohort.commit(prepared)
    assert prepared.issued == 1


def _core_refusals(number: str) -> list[str]:
    """Messages of the core's refusals when a NIK lands in a number or a note (CLI paths)."""
    calls: list[Callable[[], Any]] = [
        lambda: records.get_record("lsp-contoh", NIK),
        lambda: records.get_token("lsp-contoh", f" {NIK} "),
        lambda: revocation.revoke("lsp-contoh", NIK, "fraud", note=None, actor="t", now=NOW),
        lambda: revocation.reinstate("lsp-contoh", NIK, note=None, actor="t", now=NOW),
        lambda: revocation.suspend(
            "lsp-contoh", number, "other", note=f"x{NIK}", actor="t", now=NOW
        ),
        lambda: revocation.suspend("lsp-contoh", number, "other", note=None, actor="t", now=NOW),
        lambda: records.find_by_nik("lsp-contoh", BAD_PROVINCE_NIK, "test pepper"),
    ]
    messages = []
    for call in calls:
        with pytest.raises((NotFound, InvalidInput, Conflict)) as refused:
            call()
        messages.append(f"{type(refused.value).__name__}: {refused.value.message}")
    return messages


def _stored_text(database: peewee.Database) -> dict[str, str]:
    """Every value of every column of every table, as text, keyed ``table.column``."""
    values: dict[str, list[str]] = {}
    tables = database.get_tables()
    assert {"credential", "api_key", "revocation_event"} <= set(tables)
    for table in tables:
        columns = [column.name for column in database.get_columns(table)]
        quoted = ", ".join(f'"{name}"' for name in columns)
        for row in database.execute_sql(f'SELECT {quoted} FROM "{table}"').fetchall():
            for name, value in zip(columns, row, strict=True):
                if isinstance(value, bytes | memoryview):
                    value = bytes(value).decode("latin-1")
                values.setdefault(f"{table}.{name}", []).append(str(value))
    return {place: "\n".join(texts) for place, texts in values.items()}


# --- storage -----------------------------------------------------------------------------------


def test_no_table_holds_a_nik_an_api_secret_a_private_key_or_the_passphrase(
    session: Session,
) -> None:
    stored = _stored_text(session.database)
    assert any(NIK not in text and len(text) > 0 for text in stored.values())
    secrets = {
        "NIK": NIK,
        "cohort NIK": COHORT_NIK,
        "other NIK": OTHER_NIK,
        "passphrase": session.settings.key_passphrase or "",
        "pepper": session.settings.nik_pepper or "",
    }
    secrets.update({f"API secret {i}": s for i, s in enumerate(session.api_secrets)})
    secrets.update(
        {f"private key {i}": pem[:40].decode() for i, pem in enumerate(session.private_pems)}
    )
    for place, text in stored.items():
        for name, secret in secrets.items():
            assert secret and secret not in text, f"{place} holds the {name}"


def test_api_secrets_are_stored_as_their_sha256_only(session: Session) -> None:
    stored = _stored_text(session.database)
    hashes = stored["api_key.secret_hash"].splitlines()
    expected = {hashlib.sha256(secret.encode()).hexdigest() for secret in session.api_secrets}
    assert set(hashes) == expected


def test_niks_are_stored_as_hmacs_only(session: Session) -> None:
    stored = _stored_text(session.database)
    digests = {d for d in stored["credential.nik_hmac"].splitlines() if d != "None"}
    assert len(digests) == 2  # the API issue and the cohort row
    assert all(len(digest) == 64 and int(digest, 16) >= 0 for digest in digests)


def test_private_key_files_are_encrypted_pkcs8_0600_in_a_0700_folder(session: Session) -> None:
    keys_dir = session.settings.keys_dir
    files = sorted(keys_dir.iterdir())
    assert len(files) == 2  # one per generated key, nothing else (no temp or plain copy)
    assert stat.S_IMODE(keys_dir.stat().st_mode) == 0o700
    for path in files:
        data = path.read_bytes()
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
        assert data.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----\n"), path
        with pytest.raises(TypeError, match="encrypted"):
            serialization.load_pem_private_key(data, None)
        with pytest.raises(ValueError):
            serialization.load_pem_private_key(data, b"not the passphrase")
        assert not any(pem[:40] in data for pem in session.private_pems)


# --- logs, errors, answers ---------------------------------------------------------------------


def test_logs_hold_no_secret(session: Session) -> None:
    assert session.records_seen > 50  # logging was captured, so the search means something
    for secret in [
        NIK,
        COHORT_NIK,
        OTHER_NIK,
        BAD_PROVINCE_NIK,
        *session.api_secrets,
        session.settings.key_passphrase or "",
        session.settings.nik_pepper or "",
    ]:
        assert secret not in session.log


@pytest.mark.system
def test_query_parameter_log_is_off_in_a_configured_process(database, env: dict[str, str]) -> None:
    """peewee logs every query with its parameters at DEBUG (a number typed into the wrong box
    could be a NIK), which is why the session above leaves those records out: they must never be
    written. In a process set up as gunicorn sets it up, that logger is not enabled for DEBUG."""
    script = (
        "import logging, sys\n"
        "from gunicorn.config import Config\n"
        "from verifier import create_app\n"
        "from verifier.web.accesslog import RedactingLogger\n"
        "create_app(); RedactingLogger(Config())\n"
        "sys.stdout.write(str(logging.getLogger('peewee').isEnabledFor(logging.DEBUG)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "False"


def test_no_answer_holds_a_nik_or_an_api_secret(session: Session) -> None:
    assert len(session.answers) == 14
    for answer in session.answers:
        for secret in [NIK, OTHER_NIK, BAD_PROVINCE_NIK, *session.api_secrets]:
            assert secret not in answer, answer[:200]
        assert not any(pem[:40].decode() in answer for pem in session.private_pems)


def test_core_refusals_never_repeat_the_nik(session: Session) -> None:
    assert len(session.errors) == 7
    assert session.errors[0] == "NotFound: this agency has no such credential"
    assert session.errors[4] == "InvalidInput: note must not contain a NIK or other 16-digit number"
    assert session.errors[5].startswith("Conflict: the credential is revoked")
    for message in session.errors:
        assert NIK not in message and BAD_PROVINCE_NIK not in message

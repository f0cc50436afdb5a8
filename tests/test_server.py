"""The real server: gunicorn with the repository's config and two workers, over loopback HTTP.

One session per database kind prepares a database with the CLI, starts
``gunicorn -c gunicorn.conf.py wsgi:app``, issues a credential with a NIK through the agency API,
verifies it, opens its QR page, revokes it, verifies it concurrently so both workers answer,
sends requests that try to leak the NIK into logs, and stops the server. The tests then check
what came back and what was written: no NIK anywhere (responses, access and error logs, any
column of any table), and no token, payload, certificate number or API key in a log line.
The redacting logger's route shapes are tested on their own at the end.
"""

from __future__ import annotations

import io
import json
import logging
import os
import re
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import quote

import pytest
from gunicorn.config import Config

from tests.serving import (
    BIN,
    ROOT,
    SERVER_KINDS,
    Answer,
    Client,
    Server,
    free_port,
    fresh_database,
    prepare_agency,
    server_environment,
)
from verifier.store.db import open_database
from verifier.web.accesslog import APP_LOGGER, RedactingLogger, route_shape, scrub

#: Real gunicorn servers.
pytestmark = pytest.mark.system

AGENCY = "lsp-uji"
# Fixture NIKs have day 00 in the birth-date block: never a real person's (SPEC §7).
NIK = "3273010001900042"
OTHER_NIK = "3273010001900043"
HOLDER = "Rina Marlina Uji"
PROBES = 40  # concurrent verifications after the revocation, per round
PROBE_ROUNDS = 10  # until both workers have answered one
_PID_RE = re.compile(r"<(\d+)>\s*$")


@dataclass
class Session:
    """Everything one server session produced, for the tests to judge."""

    database_url: str
    api_key: str = ""
    issued: dict[str, Any] = field(default_factory=dict)
    answers: list[Answer] = field(default_factory=list)
    probes: list[Answer] = field(default_factory=list)
    access_log: str = ""
    error_log: str = ""
    pids_before_revocation: set[str] = field(default_factory=set)
    pids_after_revocation: set[str] = field(default_factory=set)


# --- the session -------------------------------------------------------------------------------


@pytest.fixture(scope="module", params=SERVER_KINDS)
def session(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Session:
    """Prepare, serve, exercise and stop one server; what happened is in the returned Session."""
    tmp = tmp_path_factory.mktemp(f"server-{request.param}")
    url = fresh_database(request.param, tmp)
    port = free_port()
    env = server_environment(url, tmp, port)
    result = Session(database_url=url)
    result.api_key = prepare_agency(env, AGENCY, "LSP Uji Server")
    access, errors = tmp / "access.log", tmp / "error.log"
    with Server(env, access, errors) as client:
        _exercise(client, result, access)
    result.access_log = access.read_text(encoding="utf-8", errors="replace")
    result.error_log = errors.read_text(encoding="utf-8", errors="replace")
    _split_pids(result)
    return result


def _exercise(client: Client, result: Session, access: Path) -> None:
    """The whole life of a credential over HTTP, plus attempts to leak the NIK."""
    auth = {"Authorization": f"Bearer {result.api_key}"}
    issued = client.request(
        "POST",
        "/api/v1/credentials",
        {
            "holder_name": HOLDER,
            "job_code": "ME063100",
            "level": 3,
            "nik": NIK,
        },
        auth,
    )
    assert issued.status == 201, issued.body
    result.issued = issued.json()
    token, url = result.issued["token"], result.issued["url"]
    number = quote(result.issued["number"], safe="")
    client.request("POST", "/api/v1/verify", {"token": url, "nik": NIK})
    client.request("POST", "/api/v1/verify", {"token": token, "nik": OTHER_NIK})
    client.request("POST", "/api/v1/verify", {"token": token})
    client.request("GET", "/v/" + _payload(url))
    client.request("GET", f"/api/v1/credentials/{number}", headers=auth)
    # Attempts to get the NIK into a log line or an answer: query, path, header, bad values.
    client.request("GET", f"/api/v1/credentials?nik={NIK}", headers=auth)
    client.request("GET", f"/api/v1/credentials/{NIK}", headers=auth)
    client.request("POST", "/api/v1/verify", {"token": token, "nik": NIK + "0"})
    client.request("POST", "/api/v1/verify", {"token": token, NIK: 1})
    client.request("GET", "/v/" + _payload(url), headers={"Referer": f"http://x/?nik={NIK}"})
    client.request(
        "POST",
        "/api/v1/credentials",
        {
            "holder_name": HOLDER,
            "job_code": "ME063100",
            "level": 3,
            "nik": "99" + NIK[2:],
        },
        auth,
    )
    # Oversized requests: refused by gunicorn while reading, before the app parses anything.
    client.request("GET", "/healthz", headers={"X-Padding": "a" * 10_000})
    client.request("GET", "/v/" + "1" * 6000)
    client.request("POST", f"/api/v1/credentials/{number}/revoke", {"reason": "fraud"}, auth)
    # Probe until both workers have answered since the revoke (the kernel may hand one worker
    # every connection for a while), within a bound; every probe must say revoked.
    for _ in range(PROBE_ROUNDS):
        with ThreadPoolExecutor(max_workers=8) as pool:
            result.probes += pool.map(
                lambda _: client.request("POST", "/api/v1/verify", {"token": url}, record=False),
                range(PROBES),
            )
        time.sleep(0.1)  # gunicorn writes the access log line after the response
        result.access_log = access.read_text(encoding="utf-8", errors="replace")
        _split_pids(result)
        if len(result.pids_after_revocation) == 2:
            break
    result.answers = client.log


def _payload(url: str) -> str:
    return re.split(r"/[vV]/", url)[-1]


def _split_pids(result: Session) -> None:
    """Worker pids of the access-log lines before and after the revoke call."""
    after = False
    for line in result.access_log.splitlines():
        match = _PID_RE.search(line)
        if "/revoke" in line:
            after = True
        elif match and "/api/v1/verify" in line:
            (result.pids_after_revocation if after else result.pids_before_revocation).add(
                match.group(1)
            )


def _answer(result: Session, method: str, path: str) -> Answer:
    return next(a for a in result.answers if a.method == method and a.path.startswith(path))


# --- the flow ----------------------------------------------------------------------------------


def test_issue_answers_number_token_and_url(session: Session) -> None:
    assert set(session.issued) == {"number", "token", "url"}
    assert session.issued["url"].upper().startswith("HTTP://127.0.0.1:")


def test_verify_over_http_is_valid_with_nik_match(session: Session) -> None:
    verified = [a.json() for a in session.answers if a.path == "/api/v1/verify"][:3]
    assert [v["status"] for v in verified] == ["valid", "valid", "valid"]
    assert verified[0]["nik_match"] is True
    assert verified[1]["nik_match"] is False
    assert "nik_match" not in verified[2]
    assert verified[0]["credential"]["holder_name"] == HOLDER


def test_qr_page_opens_and_is_not_stored(session: Session) -> None:
    page = _answer(session, "GET", "/v/")
    assert page.status == 200
    assert page.headers["Content-Type"].startswith("text/html")
    assert page.headers["Cache-Control"] == "no-store"
    assert HOLDER in page.body.decode()


def test_revoke_over_http_changes_state(session: Session) -> None:
    revoked = next(a for a in session.answers if a.path.endswith("/revoke")).json()
    assert (revoked["status"], revoked["reason"], revoked["changed"]) == ("revoked", "fraud", True)


def test_every_worker_sees_the_revocation_at_once(session: Session) -> None:
    assert {a.status for a in session.probes} == {200}
    assert {a.json()["status"] for a in session.probes} == {"revoked"}
    assert not any(a.json()["valid"] for a in session.probes)
    assert len(session.pids_after_revocation) == 2  # both workers answered after the revoke


def test_oversized_requests_are_refused_before_the_app(session: Session) -> None:
    padded = next(a for a in session.answers if a.path == "/healthz")
    too_long = next(a for a in session.answers if len(a.path) > 5000)
    assert (padded.status, too_long.status) == (431, 414)


# --- privacy -----------------------------------------------------------------------------------


def test_no_response_contains_the_nik(session: Session) -> None:
    for answer in session.answers + session.probes:
        text = answer.body.decode("utf-8", "replace") + json.dumps(answer.headers)
        assert NIK not in text, f"{answer.method} {answer.path} echoed the NIK"


def test_refused_nik_is_not_echoed(session: Session) -> None:
    bad = [a for a in session.answers if a.status in (400, 422)]
    assert len(bad) >= 3
    assert all(a.headers["Content-Type"].startswith("application/problem+json") for a in bad)


@pytest.mark.parametrize("log", ["access_log", "error_log"])
def test_logs_hold_no_nik_token_payload_number_or_key(session: Session, log: str) -> None:
    text = getattr(session, log)
    url = session.issued["url"]
    secrets = {
        "NIK": NIK,
        "token": session.issued["token"],
        "token signature": session.issued["token"].rsplit(".", 1)[1],
        "payload": _payload(url),
        "number": session.issued["number"],
        "number in a path": quote(session.issued["number"], safe=""),
        "API key secret": _secret(session.api_key),
    }
    for name, secret in secrets.items():
        assert secret not in text, f"the {log} shows the {name}"


def test_access_log_shows_route_shapes(session: Session) -> None:
    log = session.access_log
    assert '"POST /api/v1/verify HTTP/1.1" 200' in log
    assert '"GET /v/… HTTP/1.1" 200' in log
    assert '"POST /api/v1/credentials/…/revoke HTTP/1.1" 200' in log
    assert '"GET /api/v1/credentials HTTP/1.1"' in log  # the ?nik= query is gone
    assert "?" not in log


def _secret(api_key: str) -> str:
    """The secret of ``skk_<key_id>_<secret>``; it may itself hold "_" (base64url)."""
    return api_key.split("_", 2)[2]


def test_no_database_value_contains_the_nik(session: Session) -> None:
    database = open_database(session.database_url)
    try:
        tables = database.get_tables()
        assert "credential" in tables
        for table in tables:
            columns = [c.name for c in database.get_columns(table)]
            quoted = ", ".join(f'"{c}"' for c in columns)
            for row in database.execute_sql(f'SELECT {quoted} FROM "{table}"').fetchall():
                for column, value in zip(columns, row, strict=True):
                    text = str(value)
                    assert NIK not in text, f"{table}.{column} holds the NIK"
                    assert _secret(session.api_key) not in text, f"{table}.{column}"
    finally:
        database.close()


# --- the redacting logger on its own -----------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "shape"),
    [
        ("/v/0123456789", "/v/…"),
        ("/V/ABC", "/v/…"),
        ("/api/v1/credentials/41011 7112 3 00001234 2025/revoke", "/api/v1/credentials/…/revoke"),
        ("/api/v1/credentials/X 1/qr.png", "/api/v1/credentials/…/qr.png"),
        ("/api/v1/credentials/X 1/anything", "/api/v1/credentials/…"),
        ("/api/v1/credentials/X 1", "/api/v1/credentials/…"),
        ("/api/v1/credentials/search", "/api/v1/credentials/search"),
        ("/api/v1/credentials/batch", "/api/v1/credentials/batch"),
        ("/api/v1/credentials", "/api/v1/credentials"),
        ("/api/v1/verify", "/api/v1/verify"),
        ("/.well-known/jwks.json", "/.well-known/jwks.json"),
        ("/", "/"),
        ("/eyJhbGciOiJFZERTQSJ9.eyJpc3MiOiJ4In0.c2ln", "/…"),
        (f"/cek/{NIK}", "/cek/…"),
        ("/api/v1/Credentials/X", "/api/v1/…"),
    ],
)
def test_route_shape(path: str, shape: str) -> None:
    assert route_shape(path) == shape


@pytest.fixture
def gunicorn_logger() -> Iterator[RedactingLogger]:
    """Our gunicorn logger (stderr), undoing what its setup does to the ``verifier`` logger."""
    app_log = logging.getLogger(APP_LOGGER)
    saved = (list(app_log.handlers), app_log.level, app_log.propagate, logging.raiseExceptions)
    try:
        yield RedactingLogger(Config())
    finally:
        app_log.handlers[:] = saved[0]
        app_log.setLevel(saved[1])
        app_log.propagate = saved[2]
        logging.raiseExceptions = saved[3]


def test_atoms_never_carry_the_url_query_or_credentials(gunicorn_logger: RedactingLogger) -> None:
    logger = gunicorn_logger
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/v/0123456789",
        "QUERY_STRING": f"nik={NIK}",
        "RAW_URI": f"/v/0123456789?nik={NIK}",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_AUTHORIZATION": "Bearer skk_0123456789ab_secret",
        "HTTP_REFERER": "http://x/v/0123456789",
    }
    request = SimpleNamespace(
        headers=[
            ("AUTHORIZATION", "Bearer skk_0123456789ab_secret"),
            ("REFERER", "http://x/v/0123456789"),
            ("USER-AGENT", "test"),
        ]
    )
    response = SimpleNamespace(
        status="200 OK", sent=12, headers=[("Location", "/v/0123456789"), ("Content-Type", "x")]
    )
    atoms = logger.atoms(response, request, environ, timedelta(microseconds=1500))
    text = json.dumps(atoms, default=str)
    for secret in ("0123456789", NIK, "secret", "Bearer"):
        assert secret not in text
    assert atoms["r"] == "GET /v/… HTTP/1.1"
    assert (atoms["s"], atoms["b"], atoms["M"], atoms["{user-agent}i"]) == ("200", "12", 1, "test")


@pytest.mark.parametrize(
    "line",
    [
        "Invalid HTTP request line: 'GET /v/0123456789012345 HTTP/1.1'",
        f"Invalid header value: 'http://x?nik={NIK}'",
        "Authorization: Bearer skk_0123456789ab_c2VjcmV0c2VjcmV0c2VjcmV0",
        "eyJhbGciOiJFZERTQSJ9.eyJpc3MiOiJsc3AtY29udG9oIn0.c2lnbmF0dXJlc2lnbmF0dXJl",
        f"nik {NIK} seen",
    ],
)
def test_scrub_removes_secrets_from_any_line(line: str) -> None:
    scrubbed = scrub(line)
    assert NIK not in scrubbed
    assert "0123456789" not in scrubbed
    assert "eyJ" not in scrubbed
    assert "c2Vj" not in scrubbed


@pytest.mark.parametrize(
    "line",
    [
        '"POST /api/v1/credentials/…/revoke HTTP/1.1" 200',
        '"POST /api/v1/credentials/search HTTP/1.1" 200',
        '"GET /v/… HTTP/1.1" 200',
    ],
)
def test_scrub_keeps_route_shapes(line: str) -> None:
    assert scrub(line) == line


def test_app_log_records_and_tracebacks_are_scrubbed(gunicorn_logger: RedactingLogger) -> None:
    stream = io.StringIO()
    for handler in gunicorn_logger.error_log.handlers:
        assert isinstance(handler, logging.StreamHandler)
        handler.setStream(stream)
    token = "eyJhbGciOiJFZERTQSJ9.eyJpc3MiOiJsc3AtY29udG9oIn0.c2lnbmF0dXJlc2lnbmF0dXJl"
    try:
        raise ValueError(f"cannot use {token} for nik {NIK}")
    except ValueError:
        logging.getLogger("verifier.web.errors").exception("failed on /v/%s", "0123456789")
    gunicorn_logger.error(
        "Error handling request POST /api/v1/credentials/X%%201/revoke?nik=%s", NIK
    )
    err = stream.getvalue()
    assert "ValueError: cannot use … for nik …" in err
    assert "failed on /v/…" in err
    assert "/api/v1/credentials/…" in err
    for secret in (token, NIK, "0123456789", "X%201"):
        assert secret not in err


@pytest.mark.parametrize("workers", ["0", "two", "²", "-1"])
def test_a_bad_worker_count_stops_gunicorn_with_one_clear_line(workers: str) -> None:
    done = subprocess.run(
        [str(BIN / "gunicorn"), "-c", "gunicorn.conf.py", "--check-config", "wsgi:app"],
        cwd=ROOT,
        env={**os.environ, "SKK_WORKERS": workers},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode != 0
    assert "SKK_WORKERS must be a whole number" in done.stderr + done.stdout
    assert "Traceback" not in done.stderr

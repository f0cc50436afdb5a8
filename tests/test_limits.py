"""Oversized requests are refused before anything parses them.

In the app: every POST route answers 413 from the ``Content-Length`` alone, without reading a byte
of the body (the body stream here fails the test if it is read), and a token over
``jws.MAX_TOKEN_LENGTH`` is malformed before any base64 or JSON decoding. Through the real server
(gunicorn with the repository's config): a lying ``Content-Length`` gets its 413 at once instead of
a worker waiting for bytes that never come, a chunked body over the limit is cut off, and request
lines and header fields over gunicorn's limits are refused (414, 431) before the app sees them.
"""

from __future__ import annotations

import re
import select
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.routing import Rule

from tests import serving
from tests.helpers import NOW
from verifier import gunicorn_conf
from verifier.core import jws, qr_payload
from verifier.core.jws import MAX_TOKEN_LENGTH
from verifier.core.qr_payload import MAX_PAYLOAD_DIGITS
from verifier.core.verify import Status
from verifier.store import apikeys, projects

#: Far over every route's limit (the batch upload allows a few MiB, the rest 16 KiB).
HUGE = 2**31
#: Over every route's limit too, yet quick to send over loopback.
LARGEST_BODY = 4 * 1024 * 1024


def _gunicorn_setting(name: str) -> int:
    """A number set in the gunicorn settings, so the boundary tests follow the configuration."""
    value = getattr(gunicorn_conf, name)
    assert type(value) is int, f"verifier/gunicorn_conf.py sets no whole number {name}"
    return value


LIMIT_REQUEST_LINE = _gunicorn_setting("limit_request_line")
LIMIT_FIELD_SIZE = _gunicorn_setting("limit_request_field_size")
LIMIT_FIELDS = _gunicorn_setting("limit_request_fields")
SOCKET_TIMEOUT = 10.0  # seconds; a 413 must come long before gunicorn's 30 s worker timeout


class UnreadableBody:
    """A WSGI input stream that fails the test if anything reads it."""

    read_from = False

    def read(self, *args: Any) -> bytes:
        UnreadableBody.read_from = True
        raise AssertionError("the body was read although Content-Length was over the limit")

    readline = read
    readlines = read

    def __iter__(self) -> Iterator[bytes]:
        self.read()
        return iter(())


def _post_paths(app: Any) -> list[str]:
    """Every POST route of the app, with a certificate number where the route takes one."""
    paths = []
    for rule in app.url_map.iter_rules():
        assert isinstance(rule, Rule)
        if "POST" in (rule.methods or ()):
            paths.append(re.sub(r"<(?:\w+:)?\w+>", "X%201", rule.rule))
    return sorted(paths)


@pytest.fixture
def agency_auth(contoh) -> dict[str, str]:
    """Authorization header of lsp-contoh, so agency routes get past authentication."""
    return {"Authorization": f"Bearer {apikeys.create('lsp-contoh', NOW)['api_key']}"}


@pytest.fixture
def owner_auth(database) -> dict[str, str]:
    """Authorization header of a project owner, so owners' routes get past authentication."""
    projects.add_owner("pupr-batas", "Ditjen Uji Batas", NOW)
    return {"Authorization": f"Bearer {apikeys.create_for_owner('pupr-batas', NOW)['api_key']}"}


def _key_for(path: str, agency: dict[str, str], owner: dict[str, str]) -> dict[str, str]:
    """The key a route takes: a project owner's under /api/v1/projects, else an agency's."""
    return owner if path.startswith("/api/v1/projects") else agency


# --- in the app --------------------------------------------------------------------------------


def test_every_post_route_is_covered(app) -> None:
    paths = _post_paths(app)
    # A new POST route is picked up by the tests below without anyone listing it.
    assert {"/api/v1/verify", "/api/v1/credentials", "/cek"} <= set(paths)
    assert len(paths) >= 7


CONTENT_TYPES = [
    "application/json",
    "text/csv",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x",
]


def test_every_post_route_refuses_an_oversized_body_unread(app, agency_auth, owner_auth) -> None:
    client = app.test_client()
    for path in _post_paths(app):
        statuses = set()
        for content_type in CONTENT_TYPES:
            UnreadableBody.read_from = False
            headers = _key_for(path, agency_auth, owner_auth)
            response = client.post(
                path,
                headers=headers,
                environ_overrides={
                    "wsgi.input": UnreadableBody(),
                    "CONTENT_LENGTH": str(HUGE),
                    "CONTENT_TYPE": content_type,
                },
            )
            assert not UnreadableBody.read_from, f"{path} ({content_type}) read the body"
            statuses.add(response.status_code)
            if path.startswith("/api/"):
                assert response.mimetype == "application/problem+json"
        # A type the route does not take may be refused first (415): also without reading.
        assert 413 in statuses and statuses <= {413, 415}, f"{path}: {statuses}"


def test_body_limit_boundary_on_verify(app) -> None:
    client = app.test_client()
    limit = app.config["MAX_CONTENT_LENGTH"]
    head, tail = b'{"token": "', b'"}'
    fits = head + b"a" * (limit - len(head) - len(tail)) + tail
    assert len(fits) == limit
    answer = client.post("/api/v1/verify", data=fits, content_type="application/json")
    assert answer.status_code == 200
    assert answer.get_json()["status"] == "malformed"
    over = client.post("/api/v1/verify", data=fits + b" ", content_type="application/json")
    assert over.status_code == 413


def test_token_over_the_maximum_is_malformed_without_decoding(service, monkeypatch) -> None:
    def no_decoding(*args: Any) -> Any:
        raise AssertionError("an over-long token was decoded")

    monkeypatch.setattr(jws, "b64url_decode", no_decoding)
    monkeypatch.setattr(jws, "parse_json_object", no_decoding)
    segment = "A" * (MAX_TOKEN_LENGTH // 2)
    for token in (f"{segment}.{segment}.{segment}", "." * (MAX_TOKEN_LENGTH + 1)):
        result = service.verify(token, at=NOW)
        assert result.status is Status.MALFORMED
        assert result.detail == "token is too long"


def test_token_at_the_maximum_is_decoded(service) -> None:
    token = "eyJ9." + "A" * (MAX_TOKEN_LENGTH - 10) + ".AAA"
    assert len(token) <= MAX_TOKEN_LENGTH
    result = service.verify(token, at=NOW)
    assert result.status is Status.MALFORMED
    assert result.detail != "token is too long"  # got past the length check to the decoder


def test_payload_over_the_maximum_is_refused_before_conversion(monkeypatch) -> None:
    def no_conversion(*args: Any) -> Any:
        raise AssertionError("an over-long payload was converted")

    monkeypatch.setattr(qr_payload, "_Unpacker", no_conversion)
    with pytest.raises(jws.MalformedToken, match="longer than"):
        qr_payload.decode_payload("1" * (MAX_PAYLOAD_DIGITS + 1))


def test_over_long_token_through_the_api_is_a_malformed_result(app) -> None:
    answer = app.test_client().post("/api/v1/verify", json={"token": "A" * 15_000})
    assert answer.status_code == 200
    assert answer.get_json()["status"] == "malformed"


# --- through gunicorn --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """gunicorn (repository config, 2 workers) on a fresh SQLite database with one agency."""
    tmp = tmp_path_factory.mktemp("limits")
    port = serving.free_port()
    env = serving.server_environment(serving.fresh_database("sqlite", tmp), tmp, port)
    api_key = serving.prepare_agency(env, "lsp-batas", "LSP Uji Batas")
    serving.skk(env, "owner", "add", "pupr-batas", "--name", "Ditjen Uji Batas")
    owner_key = serving.skk(env, "apikey", "create", "--owner", "pupr-batas")["api_key"]
    access, errors = tmp / "access.log", tmp / "error.log"
    from verifier import create_app

    paths = _post_paths(create_app({**env, "TESTING": True}))
    with serving.Server(env, access, errors):
        yield {
            "port": port,
            "api_key": api_key,
            "owner_key": owner_key,
            "errors": errors,
            "post_paths": paths,
        }


def _exchange(port: int, raw: bytes) -> tuple[int, float]:
    """Send a request as a careful client does (RFC 9112 §9.5: stop sending a body once the
    server has answered) and keep the connection open; the status code and the seconds taken."""
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=SOCKET_TIMEOUT) as sock:
        for offset in range(0, len(raw), 65536):
            if select.select([sock], [], [], 0)[0]:
                break  # an early answer (413, 415, 431): the rest of the body is not wanted
            try:
                sock.sendall(raw[offset : offset + 65536])
            except (BrokenPipeError, ConnectionResetError):
                break
        head = b""
        while b"\r\n" not in head:
            chunk = sock.recv(4096)
            if not chunk:
                break
            head += chunk
    elapsed = time.monotonic() - started
    match = re.match(rb"HTTP/1\.[01] (\d{3}) ", head)
    assert match, f"no HTTP status line in {head[:80]!r}"
    return int(match.group(1)), elapsed


def _request(method: str, path: str, headers: dict[str, str], body: bytes = b"") -> bytes:
    lines = [
        f"{method} {path} HTTP/1.1",
        "Host: 127.0.0.1",
        *(f"{k}: {v}" for k, v in headers.items()),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


@pytest.mark.system
@pytest.mark.parametrize(
    "path", ["/api/v1/verify", "/api/v1/credentials", "/api/v1/credentials/X%201/revoke"]
)
def test_lying_content_length_gets_413_at_once(server: dict[str, Any], path: str) -> None:
    headers = {
        "Content-Type": "application/json",
        "Content-Length": str(10**9),
        "Authorization": f"Bearer {server['api_key']}",
    }
    # Only two bytes follow; a server that read the body would wait 30 s for the rest.
    status, elapsed = _exchange(server["port"], _request("POST", path, headers, b"{}"))
    assert status == 413
    assert elapsed < 5.0


@pytest.mark.system
@pytest.mark.parametrize(
    "content_type", ["application/json", "text/csv", "application/x-www-form-urlencoded"]
)
def test_chunked_body_over_every_limit_is_refused(
    server: dict[str, Any], content_type: str
) -> None:
    """Without Content-Length the size is known only by reading: a body over the limit must
    still be refused, never cut at the limit and parsed (Werkzeug cuts silently)."""
    chunk = b"a," * (LARGEST_BODY // 2 + 1024)
    body = b"%x\r\n%s\r\n0\r\n\r\n" % (len(chunk), chunk)
    for path in server["post_paths"]:
        key = server["owner_key" if path.startswith("/api/v1/projects") else "api_key"]
        headers = {
            "Content-Type": content_type,
            "Transfer-Encoding": "chunked",
            "Authorization": f"Bearer {key}",
        }
        status, _ = _exchange(server["port"], _request("POST", path, headers, body))
        assert status in (413, 415), f"{path} ({content_type}): {status}"


@pytest.mark.system
def test_chunked_body_within_the_limit_is_read_whole(server: dict[str, Any]) -> None:
    chunk = b'{"token": "' + b"a" * 10_000 + b'"}'
    body = b"%x\r\n%s\r\n0\r\n\r\n" % (len(chunk), chunk)
    headers = {"Content-Type": "application/json", "Transfer-Encoding": "chunked"}
    assert _exchange(server["port"], _request("POST", "/api/v1/verify", headers, body))[0] == 200


@pytest.mark.system
def test_header_field_limit_boundary(server: dict[str, Any]) -> None:
    port = server["port"]
    name = "X-Padding"
    # gunicorn counts the whole "Name: value\r\n" line against limit_request_field_size.
    fits = "a" * (LIMIT_FIELD_SIZE - len(name) - 4)
    assert _exchange(port, _request("GET", "/healthz", {name: fits}))[0] == 200
    assert _exchange(port, _request("GET", "/healthz", {name: fits + "a" * 100}))[0] == 431


@pytest.mark.system
def test_oversized_authorization_header_never_reaches_the_app(server: dict[str, Any]) -> None:
    headers = {"Authorization": "Bearer skk_" + "a" * 2 * LIMIT_FIELD_SIZE}
    status, _ = _exchange(server["port"], _request("GET", "/api/v1/credentials?nik=1", headers))
    assert status == 431  # not the app's 401: gunicorn refused the request while reading it


@pytest.mark.system
def test_too_many_header_fields_are_refused(server: dict[str, Any]) -> None:
    port = server["port"]
    few = {f"X-H{i}": "1" for i in range(LIMIT_FIELDS - 2)}  # plus Host
    assert _exchange(port, _request("GET", "/healthz", few))[0] == 200
    many = {f"X-H{i}": "1" for i in range(LIMIT_FIELDS + 5)}
    assert _exchange(port, _request("GET", "/healthz", many))[0] == 431


@pytest.mark.system
def test_request_line_limit_boundary(server: dict[str, Any]) -> None:
    port = server["port"]
    overhead = len("GET /v/ HTTP/1.1")
    fits = "/v/" + "1" * (LIMIT_REQUEST_LINE - overhead - 1)
    assert _exchange(port, _request("GET", fits, {}))[0] == 200  # a (malformed) verdict page
    assert _exchange(port, _request("GET", fits + "1" * 100, {}))[0] == 414


@pytest.mark.system
def test_refusals_leave_no_traceback(server: dict[str, Any]) -> None:
    # Runs last in this module: every refusal above was an answer, never an app error.
    text = Path(server["errors"]).read_text(encoding="utf-8", errors="replace")
    assert "Traceback" not in text

"""Public JSON API through Flask's test client: verify (with NIK match), JWKS, agencies, health.

Verification runs at the wall clock here (the API has no ``--at``), so credentials are issued
relative to ``time.time()`` rather than the fixed NOW.
"""

from __future__ import annotations

import itertools
import json
import logging
import time
from pathlib import Path
from typing import Any

import peewee
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from limits.storage import Storage

from tests.helpers import DAY, NOW
from verifier.config import DEFAULT_RATE_LIMITS, RateLimit
from verifier.core import links, qr_payload
from verifier.core.errors import ConfigurationError
from verifier.store import registry, revocation
from verifier.store.db import init_schema, open_database
from verifier.web.state import EXTENSION_KEY

NIK = "3201000000000017"
OTHER_NIK = "3201000000000025"
PROBLEM = "application/problem+json"


def _now() -> int:
    return int(time.time())


@pytest.fixture
def signed(contoh, issue):
    """A valid credential of lsp-contoh with a NIK on record, issued an hour ago."""
    return issue(now=_now() - 3600, nik=NIK)


def _verify(client, body: Any, **kwargs: Any):
    return client.post("/api/v1/verify", json=body, **kwargs)


def _problem(response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    body = response.get_json(force=True)
    assert body["status"] == status and body["type"] == "about:blank" and body["title"]
    return body


# -- verify: the result ---------------------------------------------------------------------------


@pytest.mark.parametrize("form", ["jws", "payload", "url", "lowercase-url"])
def test_verify_accepts_token_payload_and_url(client, signed, settings, form):
    url = links.credential_url(settings.base_url, signed.token)
    text = {
        "jws": signed.token,
        "payload": qr_payload.encode_payload(signed.token),
        "url": url,
        "lowercase-url": f"https://sertifikat.example.id/v/{qr_payload.encode_payload(signed.token)}?x=1",
    }[form]
    response = _verify(client, {"token": text})
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    result = response.get_json()
    assert result["valid"] is True and result["status"] == "valid"
    assert result["message"] == "Sertifikat sah dan berlaku."
    assert result["credential"]["number"] == signed.credential.number
    assert result["credential"]["agency"] == {
        "id": "lsp-contoh",
        "name": "LSP Konstruksi Contoh Nusantara",
    }
    assert result["revocation"] is None
    assert "nik_match" not in result
    assert response.headers["Cache-Control"] == "no-store"


def test_verify_result_keeps_spec_member_order(client, signed):
    result = json.loads(_verify(client, {"token": signed.token}).get_data(as_text=True))
    assert list(result) == ["valid", "status", "message", "checked_at", "credential", "revocation"]


@pytest.mark.parametrize(
    ("query", "headers", "expected"),
    [
        ("", {}, "Sertifikat sah dan berlaku."),
        ("?lang=en", {}, "The certificate is genuine and valid."),
        ("", {"Accept-Language": "en-US,en;q=0.9"}, "The certificate is genuine and valid."),
        ("?lang=id", {"Accept-Language": "en"}, "Sertifikat sah dan berlaku."),
    ],
)
def test_verify_message_follows_request_language(client, signed, query, headers, expected):
    response = client.post(f"/api/v1/verify{query}", json={"token": signed.token}, headers=headers)
    assert response.get_json()["message"] == expected


@pytest.mark.parametrize(
    "token",
    [
        "",
        " ",
        "x",
        "a.b.c",
        "eyJ.eyJ.",
        "https://evil.example/v/123",
        "\u0000" * 50,
        "9" * 5000,
        "ж" * 1000,
    ],
)
def test_any_string_token_gets_a_result(client, contoh, token):
    response = _verify(client, {"token": token})
    assert response.status_code == 200
    result = response.get_json()
    assert result["status"] == "malformed" and result["valid"] is False
    assert result["credential"] is None


def test_revoked_credential_shows_revocation(client, signed):
    revocation.revoke(
        "lsp-contoh", signed.credential.number, "fraud", note=None, actor="t", now=_now() - 60
    )
    result = _verify(client, {"token": signed.token}).get_json()
    assert result["status"] == "revoked" and result["valid"] is False
    assert result["revocation"]["status"] == "revoked"
    assert result["revocation"]["reason"] == "fraud"
    assert result["credential"]["number"] == signed.credential.number


def test_expired_credential(client, contoh, issue):
    old = issue(now=_now() - DAY, valid_from=_now() - 6 * 366 * DAY, allow_expired=True)
    assert _verify(client, {"token": old.token}).get_json()["status"] == "expired"


def test_key_revoked_shows_no_credential(client, contoh, issue, database):
    token = issue(now=_now() - 60).token
    registry.revoke_key(contoh.kid, _now())
    result = _verify(client, {"token": token}).get_json()
    assert result["status"] == "key_revoked" and result["credential"] is None


# -- verify: bad requests -------------------------------------------------------------------------


@pytest.mark.parametrize("token", [1, 1.5, True, [], {}, ["a.b.c"]])
def test_verify_non_string_token_is_400(client, contoh, token):
    body = _problem(_verify(client, {"token": token}), 400)
    assert body["field"] == "token"


@pytest.mark.parametrize("body", [{}, {"token": None}, {"nik": NIK}])
def test_verify_missing_token_is_400(client, contoh, body):
    assert _problem(_verify(client, body), 400)["field"] == "token"


@pytest.mark.parametrize("member", ["iss", "kid", "iat", "nbf", "exp", "at", "lang"])
def test_verify_unknown_member_is_400_naming_it(client, signed, member):
    body = _problem(_verify(client, {"token": signed.token, member: 1}), 400)
    assert body["field"] == member and member in body["detail"]


def test_unknown_member_that_could_be_a_nik_is_not_echoed(client, signed):
    response = _verify(client, {"token": signed.token, NIK: True})
    body = _problem(response, 400)
    assert "field" not in body
    assert NIK not in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        ('{"token": "x"}', "text/plain"),
        ("token=x", "application/x-www-form-urlencoded"),
        ('{"token": "x"}', None),
    ],
)
def test_verify_wrong_content_type_is_415(client, contoh, data, content_type):
    response = client.post("/api/v1/verify", data=data, content_type=content_type)
    _problem(response, 415)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"{",
        b"null",
        b'["token"]',
        b'"token"',
        b'{"token": "a", "token": "b"}',
        b'{"token": NaN}',
        b'{"token": "\xff"}',
        b"\xef\xbb\xbf{}",
        b"[" * 8000 + b"]" * 8000,
    ],
)
def test_verify_unparseable_body_is_400(client, contoh, data):
    response = client.post("/api/v1/verify", data=data, content_type="application/json")
    _problem(response, 400)


def test_verify_body_over_16_kib_is_413_before_parsing(client, contoh):
    big = json.dumps({"token": "x" * 20 * 1024})
    _problem(client.post("/api/v1/verify", data=big, content_type="application/json"), 413)


def test_verify_body_just_under_the_limit_gets_a_result(client, contoh):
    body = json.dumps({"token": "x" * (16 * 1024 - 20)})
    response = client.post("/api/v1/verify", data=body, content_type="application/json")
    assert response.status_code == 200
    assert response.get_json()["status"] == "malformed"


@pytest.mark.parametrize("method", ["get", "put", "delete", "patch"])
def test_verify_other_methods_are_405_with_allow(client, contoh, method):
    response = getattr(client, method)("/api/v1/verify")
    _problem(response, 405)
    assert "POST" in response.headers["Allow"]


@pytest.mark.parametrize("path", ["/api/v1/nothing", "/api/v2/verify", "/.well-known/other"])
def test_unknown_api_path_is_404_problem(client, contoh, path):
    _problem(client.get(path), 404)


# -- verify: NIK match ----------------------------------------------------------------------------


def test_nik_match_true_and_false(client, signed):
    assert _verify(client, {"token": signed.token, "nik": NIK}).get_json()["nik_match"] is True
    result = _verify(client, {"token": signed.token, "nik": OTHER_NIK}).get_json()
    assert result["nik_match"] is False and result["valid"] is True


def test_nik_match_is_null_without_nik_on_record(client, contoh, issue):
    token = issue(now=_now() - 60).token
    assert _verify(client, {"token": token, "nik": NIK}).get_json()["nik_match"] is None


def test_nik_match_is_null_unless_valid(client, signed):
    revocation.suspend(
        "lsp-contoh", signed.credential.number, "investigation", note=None, actor="t", now=_now()
    )
    result = _verify(client, {"token": signed.token, "nik": NIK}).get_json()
    assert result["status"] == "suspended" and result["nik_match"] is None


def test_nik_match_is_null_for_a_malformed_token(client, contoh):
    assert _verify(client, {"token": "x", "nik": NIK}).get_json()["nik_match"] is None


def test_nik_null_means_not_asked(client, signed):
    assert "nik_match" not in _verify(client, {"token": signed.token, "nik": None}).get_json()


@pytest.mark.parametrize(
    "nik",
    [
        "123",
        "3201 0000 0000 0017",
        "0001000000000017",
        "32010000000000a7",
        "٣٢٠١٠٠٠٠٠٠٠٠٠٠١٧",
        "32010000000000170",
    ],
)
def test_invalid_nik_is_422_and_never_echoed(client, signed, nik):
    response = _verify(client, {"token": signed.token, "nik": nik})
    body = _problem(response, 422)
    assert body["field"] == "nik"
    assert nik not in response.get_data(as_text=True)


@pytest.mark.parametrize("nik", [3201000000000017, True, ["3201000000000017"]])
def test_non_string_nik_is_400(client, signed, nik):
    response = _verify(client, {"token": signed.token, "nik": nik})
    assert _problem(response, 400)["field"] == "nik"
    assert "3201000000000017" not in response.get_data(as_text=True)


def test_wrong_niks_lock_the_credential_then_429(client, signed, caplog):
    caplog.set_level(logging.DEBUG)
    guesses = [f"32010000000001{n:02d}" for n in range(6)]
    for guess in guesses[:5]:
        result = _verify(client, {"token": signed.token, "nik": guess}).get_json()
        assert result["nik_match"] is False
    response = _verify(client, {"token": signed.token, "nik": NIK})
    body = _problem(response, 429)
    assert "NIK" in body["detail"]
    # The lock is about the NIK question only: plain verification still answers.
    assert _verify(client, {"token": signed.token}).get_json()["status"] == "valid"
    for nik in [*guesses, NIK]:
        assert nik not in caplog.text
        assert nik not in response.get_data(as_text=True)


def test_nik_lock_is_per_credential_not_per_address(client, contoh, issue):
    first = issue(now=_now() - 60, nik=NIK)
    second = issue(now=_now() - 60, nik=NIK)
    for n in range(5):
        _verify(
            client,
            {"token": first.token, "nik": f"32010000000001{n:02d}"},
            environ_base={"REMOTE_ADDR": f"10.0.0.{n}"},
        )
    _problem(
        _verify(
            client, {"token": first.token, "nik": NIK}, environ_base={"REMOTE_ADDR": "10.9.9.9"}
        ),
        429,
    )
    assert _verify(client, {"token": second.token, "nik": NIK}).get_json()["nik_match"] is True


def test_per_client_nik_limit_counts_only_requests_with_a_nik(client, contoh):
    for _ in range(60):
        assert _verify(client, {"token": "x", "nik": NIK}).status_code == 200
    body = _problem(_verify(client, {"token": "x", "nik": NIK}), 429)
    assert "60 per 1 hour" in body["detail"]
    assert _verify(client, {"token": "x"}).status_code == 200
    # Another address (another phone, not behind the same NAT) is not affected.
    other = _verify(client, {"token": "x", "nik": NIK}, environ_base={"REMOTE_ADDR": "10.1.1.1"})
    assert other.status_code == 200


def test_per_client_nik_limit_is_shared_by_every_worker(app, database, env, contoh):
    """Two app instances stand for two gunicorn workers: the count lives in the database."""
    from verifier import create_app

    other_worker = create_app({**env, "TESTING": True}).test_client()
    first_worker = app.test_client()
    for n in range(60):
        worker = first_worker if n % 2 else other_worker
        assert _verify(worker, {"token": "x", "nik": NIK}).status_code == 200
    _problem(_verify(first_worker, {"token": "x", "nik": NIK}), 429)
    _problem(_verify(other_worker, {"token": "x", "nik": NIK}), 429)


def test_verify_rate_limit_is_per_client(client, contoh):
    amount = int(DEFAULT_RATE_LIMITS[RateLimit.VERIFY].split()[0])
    for _ in range(amount):
        assert _verify(client, {"token": "x"}).status_code == 200
    response = _verify(client, {"token": "x"})
    _problem(response, 429)
    assert "Retry-After" in response.headers
    elsewhere = _verify(client, {"token": "x"}, environ_base={"REMOTE_ADDR": "10.2.2.2"})
    assert elsewhere.status_code == 200
    assert 1 <= int(response.headers["Retry-After"]) <= 60


def test_verify_limit_is_set_by_the_environment(database, env):
    from verifier import create_app

    client = create_app(
        {**env, "SKK_RATELIMIT_VERIFY": "2 per hour", "TESTING": True}
    ).test_client()
    assert [_verify(client, {"token": "x"}).status_code for _ in range(3)] == [200, 200, 429]
    assert "2 per 1 hour" in _verify(client, {"token": "x"}).get_json()["detail"]


def test_behind_a_trusted_proxy_limits_count_the_forwarded_client(database, env):
    from verifier import create_app

    client = create_app(
        {**env, "SKK_RATELIMIT_VERIFY": "1 per hour", "SKK_PROXY_HOPS": "1", "TESTING": True}
    ).test_client()

    def from_phone(address: str) -> int:
        return _verify(client, {"token": "x"}, headers={"X-Forwarded-For": address}).status_code

    assert [from_phone("10.0.0.1"), from_phone("10.0.0.2"), from_phone("10.0.0.1")] == [
        200,
        200,
        429,
    ]


def test_without_trusted_proxies_forwarded_headers_are_ignored(client, contoh):
    amount = int(DEFAULT_RATE_LIMITS[RateLimit.VERIFY].split()[0])
    for n in range(amount):
        forged = {"X-Forwarded-For": f"10.5.{n >> 8}.{n & 255}"}
        assert _verify(client, {"token": "x"}, headers=forged).status_code == 200
    _problem(_verify(client, {"token": "x"}, headers={"X-Forwarded-For": "10.9.9.9"}), 429)


@pytest.mark.parametrize("hops", ["-1", "one", "99"])
def test_an_unreadable_proxy_count_is_a_configuration_error(database, env, hops):
    from verifier import create_app

    with pytest.raises(ConfigurationError, match="SKK_PROXY_HOPS"):
        create_app({**env, "SKK_PROXY_HOPS": hops})


class _BrokenStore(Storage):
    """A shared rate-limit store that does not answer (as Redis down would)."""

    STORAGE_SCHEME = ["skk-test-broken"]  # noqa: RUF012 (limits' Storage declares a list)

    @property
    def base_exceptions(self) -> type[Exception]:
        return ConnectionError

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        raise ConnectionError("connection refused")

    def get(self, key: str) -> int:
        raise ConnectionError("connection refused")

    def get_expiry(self, key: str) -> float:
        raise ConnectionError("connection refused")

    def check(self) -> bool:
        return False

    def reset(self) -> int:
        return 0

    def clear(self, key: str) -> None:
        pass


def test_a_rate_limit_store_that_fails_is_a_503_never_a_pass(database, env, contoh, signed):
    from verifier import create_app

    client = create_app(
        {**env, "SKK_RATELIMIT_STORAGE_URI": "skk-test-broken://", "TESTING": True}
    ).test_client()
    body = _problem(_verify(client, {"token": signed.token}), 503)
    assert "valid" not in body and "status" in body
    assert client.get("/v/1", headers={}).status_code == 503


def test_an_unusable_rate_limit_store_is_a_configuration_error(database, env):
    from verifier import create_app

    with pytest.raises(ConfigurationError, match="SKK_RATELIMIT_STORAGE_URI"):
        create_app({**env, "SKK_RATELIMIT_STORAGE_URI": "nosuchstore://x"})


def test_an_unreadable_limit_is_a_configuration_error_naming_the_variable(database, env):
    from verifier import create_app

    with pytest.raises(ConfigurationError, match="SKK_RATELIMIT_MANUAL_CHECK"):
        create_app({**env, "SKK_RATELIMIT_MANUAL_CHECK": "often"})


# -- JWKS, agencies, health, OpenAPI ---------------------------------------------------------------


def test_jwks_lists_keys_that_verify_with_open_cors(client, contoh, make_key, database):
    retired = contoh
    active = make_key()  # retires the first
    revoked = make_key(alg="ES256")
    registry.revoke_key(revoked.kid, NOW)
    response = client.get("/.well-known/jwks.json")
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    keys = response.get_json()["keys"]
    assert {key["kid"] for key in keys} == {retired.kid, active.kid}
    for key in keys:
        assert key["use"] == "sig" and key["alg"] == "EdDSA" and key["kty"] == "OKP"
        assert "d" not in key


def test_jwks_empty_registry(client, database):
    assert client.get("/.well-known/jwks.json").get_json() == {"keys": []}


def test_agencies_list_levels_and_key_ids(client, contoh, make_agency, make_key, database):
    make_agency("dinas-pupr-jabar", levels=(1, 3), name="Dinas PUPR Jawa Barat")
    revoked = make_key("dinas-pupr-jabar")
    registry.revoke_key(revoked.kid, NOW)
    response = client.get("/api/v1/agencies")
    assert response.status_code == 200
    assert response.get_json() == [
        {
            "id": "dinas-pupr-jabar",
            "name": "Dinas PUPR Jawa Barat",
            "kind": "lsp",
            "levels": {"min": 1, "max": 3},
            "keys": [],
        },
        {
            "id": "lsp-contoh",
            "name": "LSP Konstruksi Contoh Nusantara",
            "kind": "lsp",
            "levels": {"min": 1, "max": 6},
            "keys": [contoh.kid],
        },
    ]


def test_healthz_ok(client, database):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}
    assert response.headers["Cache-Control"] == "no-store"


def test_openapi_is_served(client, database):
    response = client.get("/openapi.json")
    assert response.status_code == 200
    document = response.get_json()
    assert document["openapi"] == "3.1.0"
    assert document["servers"] == [{"url": "https://sertifikat.example.id"}]


# -- the database does not answer: 503, never a verdict --------------------------------------------


@pytest.fixture
def broken_database(app, monkeypatch):
    """Every statement on the app's database fails as a lost connection would."""
    database = app.extensions[EXTENSION_KEY].database

    def fail(*args: Any, **kwargs: Any):
        raise peewee.OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(database, "execute_sql", fail)
    return database


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("get", "/healthz", None),
        ("post", "/api/v1/verify", {"token": "eyJ.eyJ.x"}),
        ("get", "/.well-known/jwks.json", None),
        ("get", "/api/v1/agencies", None),
    ],
)
def test_database_down_is_503(client, signed, broken_database, method, path, body):
    response = getattr(client, method)(path, json=body)
    problem = _problem(response, 503)
    assert "valid" not in problem and "status" in problem


def test_database_refusing_connections_is_503(client, signed, app, monkeypatch):
    database = app.extensions[EXTENSION_KEY].database
    database.close()

    def refuse(*args: Any, **kwargs: Any):
        raise peewee.OperationalError("connection refused")

    monkeypatch.setattr(database, "connect", refuse)
    _problem(client.get("/healthz"), 503)
    _problem(_verify(client, {"token": signed.token}), 503)


# -- never a 5xx for bad input ---------------------------------------------------------------------

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=8,
)
FUZZ = hsettings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


class FreshAddressClient:
    """Posts each request from a new client address, so per-client limits never cut a fuzz run."""

    def __init__(self, client) -> None:
        self._client = client
        self._addresses = itertools.count(1)

    def get(self, *args: Any, **kwargs: Any):
        """GET from a new address."""
        return self._client.get(*args, environ_base=self._new_address(), **kwargs)

    def post(self, *args: Any, **kwargs: Any):
        """POST from a new address."""
        return self._client.post(*args, environ_base=self._new_address(), **kwargs)

    def _new_address(self) -> dict[str, str]:
        n = next(self._addresses)
        return {"REMOTE_ADDR": f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}"}


@pytest.fixture
def unlimited_client(client):
    """A client whose requests never hit a per-client limit, so every example reaches the view."""
    return FreshAddressClient(client)


@FUZZ
@given(token=st.text(max_size=300))
def test_fuzz_any_text_token_gets_a_result(unlimited_client, signed, token):
    response = _verify(unlimited_client, {"token": token})
    assert response.status_code == 200
    assert response.get_json()["status"] in {"malformed", "valid"}


@FUZZ
@given(
    data=st.binary(max_size=300),
    content_type=st.sampled_from(["application/json", "text/plain", "application/ld+json"]),
)
def test_fuzz_binary_body_is_never_5xx(unlimited_client, signed, data, content_type):
    response = unlimited_client.post("/api/v1/verify", data=data, content_type=content_type)
    assert response.status_code < 500


@FUZZ
@given(body=st.dictionaries(st.sampled_from(["token", "nik", "other"]), JSON_VALUES) | JSON_VALUES)
def test_fuzz_json_values_are_never_5xx(unlimited_client, signed, body):
    response = _verify(unlimited_client, body)
    assert response.status_code < 500
    if response.status_code != 200:
        assert response.mimetype == PROBLEM


@FUZZ
@given(nik=st.text(alphabet="0123456789", min_size=16, max_size=16) | st.text(max_size=20))
def test_fuzz_nik_is_never_5xx_nor_echoed(unlimited_client, signed, nik):
    response = _verify(unlimited_client, {"token": signed.token, "nik": nik})
    assert response.status_code in (200, 422, 429)
    if len(nik) == 16 and nik.isdigit():
        assert nik not in response.get_data(as_text=True)


@pytest.mark.parametrize("token", ["\\ud800", "a\\udfff.b.c", "HTTPS://X/V/1\\ud800"])
def test_a_token_with_a_lone_surrogate_still_gets_a_result(client, contoh, token):
    """SPEC §6: any string token within the body limit gets a result, malformed at worst."""
    response = client.post(
        "/api/v1/verify", data=f'{{"token": "{token}"}}', content_type="application/json"
    )
    assert response.status_code == 200
    assert response.get_json()["status"] == "malformed"


def test_a_damaged_sqlite_file_is_503_not_500(tmp_path: Path) -> None:
    from verifier import create_app

    path = tmp_path / "skk.sqlite3"
    init_schema(open_database(f"sqlite:///{path}", create=True))
    app = create_app(
        {
            "SKK_DATABASE_URL": f"sqlite:///{path}",
            "SKK_KEYS_DIR": str(tmp_path),
            "SKK_BASE_URL": "https://sertifikat.example.id",
            "TESTING": True,
        }
    )
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    path.write_bytes(b"this is not a database" * 200)  # SQLite: "file is not a database"
    client = app.test_client()
    _problem(client.get("/healthz"), 503)
    _problem(_verify(client, {"token": "x"}), 503)
    page = client.get("/v/x")
    assert page.status_code == 503 and page.headers["Retry-After"]

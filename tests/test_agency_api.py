"""Agency API through Flask's test client: API keys, issuance, records, QR, revocation, audit."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, event, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from tests.helpers import DAY, NOW
from verifier import create_app
from verifier.config import DEFAULT_RATE_LIMITS, RateLimit
from verifier.core import links
from verifier.qr import scan
from verifier.store import apikeys
from verifier.store.models import CredentialRecord

from .test_api import FreshAddressClient

NIK = "3201000000000017"
PROBLEM = "application/problem+json"
OTHER = "dinas-pupr-jabar"


@pytest.fixture
def api_key(contoh) -> str:
    """An API key of lsp-contoh."""
    return apikeys.create("lsp-contoh", NOW)["api_key"]


@pytest.fixture
def auth(api_key) -> dict[str, str]:
    """Authorization header of lsp-contoh."""
    return {"Authorization": f"Bearer {api_key}"}


@pytest.fixture
def other_auth(contoh, make_agency, make_key) -> dict[str, str]:
    """Authorization header of a second agency with its own signing key."""
    make_agency(OTHER, levels=(1, 6), name="Dinas PUPR Jawa Barat")
    make_key(OTHER)
    return {"Authorization": f"Bearer {apikeys.create(OTHER, NOW)['api_key']}"}


def _issue(client, headers, **fields: Any):
    body = {"holder_name": "Rina Marlina", "job_code": "ME063100", "level": 3, **fields}
    return client.post("/api/v1/credentials", json=body, headers=headers)


@pytest.fixture
def issued(client, auth) -> dict[str, str]:
    """A credential issued through the API, with a NIK on record."""
    response = _issue(client, auth, nik=NIK)
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()


def _path(number: str, suffix: str = "") -> str:
    return f"/api/v1/credentials/{quote(number)}{suffix}"


def _problem(response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    body = response.get_json(force=True)
    assert body["status"] == status
    return body


# -- authentication ---------------------------------------------------------------------------

ROUTES = [
    ("post", "/api/v1/credentials"),
    ("get", "/api/v1/credentials?nik=" + NIK),
    ("post", "/api/v1/credentials/search"),
    ("get", "/api/v1/credentials/ME063100%203%2000000001%202026"),
    ("get", "/api/v1/credentials/ME063100%203%2000000001%202026/qr.svg"),
    ("get", "/api/v1/credentials/ME063100%203%2000000001%202026/qr.png"),
    ("post", "/api/v1/credentials/ME063100%203%2000000001%202026/revoke"),
    ("post", "/api/v1/credentials/ME063100%203%2000000001%202026/suspend"),
    ("post", "/api/v1/credentials/ME063100%203%2000000001%202026/reinstate"),
    ("get", "/api/v1/audit"),
]


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_every_agency_route_requires_an_api_key(client, contoh, method, path):
    response = getattr(client, method)(path, json={"nik": NIK})
    body = _problem(response, 401)
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="skk"'
    assert NIK not in response.get_data(as_text=True)
    assert "required" in body["detail"]


@pytest.mark.parametrize(
    "header",
    [
        "Basic dXNlcjpwYXNz",
        "Bearer",
        "Bearer ",
        "Bearer skk_nothex000000_" + "a" * 43,
        "Bearer skk_0123456789ab_" + "a" * 43,  # well-formed, unknown id
        "Bearer skk_0123456789ab_short",
        "Bearer " + "x" * 5000,
        "Token skk_0123456789ab_" + "a" * 43,
    ],
)
def test_bad_api_keys_are_401(client, contoh, header):
    response = client.get("/api/v1/audit", headers={"Authorization": header})
    _problem(response, 401)
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="skk", error="invalid_token"'


def test_wrong_secret_for_a_real_key_id_is_401(client, api_key):
    key_id = api_key.split("_")[1]
    forged = f"skk_{key_id}_{'A' * 43}"
    _problem(client.get("/api/v1/audit", headers={"Authorization": f"Bearer {forged}"}), 401)


def test_revoked_api_key_is_401(client, api_key, auth):
    assert client.get("/api/v1/audit", headers=auth).status_code == 200
    apikeys.revoke(api_key.split("_")[1], NOW)
    _problem(client.get("/api/v1/audit", headers=auth), 401)


def test_bearer_scheme_is_case_insensitive(client, api_key):
    assert (
        client.get("/api/v1/audit", headers={"Authorization": f"bearer {api_key}"}).status_code
        == 200
    )


def test_failed_authentication_is_rate_limited_per_client(client, auth):
    amount = int(DEFAULT_RATE_LIMITS[RateLimit.FAILED_AUTH].split()[0])
    bad = {"Authorization": "Bearer skk_0123456789ab_" + "a" * 43}
    for _ in range(amount):
        assert client.get("/api/v1/audit", headers=bad).status_code == 401
    # Once the limit is spent even a correct key waits: the client is not checked any more.
    _problem(client.get("/api/v1/audit", headers=auth), 429)
    _problem(client.post("/api/v1/credentials", headers=auth, json={}), 429)
    other_client = client.get(
        "/api/v1/audit", headers=auth, environ_base={"REMOTE_ADDR": "10.3.3.3"}
    )
    assert other_client.status_code == 200


def test_successful_requests_do_not_use_up_the_auth_limit(client, auth):
    amount = int(DEFAULT_RATE_LIMITS[RateLimit.FAILED_AUTH].split()[0])
    for _ in range(amount + 5):
        assert client.get("/api/v1/audit", headers=auth).status_code == 200


# -- issuance ---------------------------------------------------------------------------------


def test_issue_returns_number_token_and_qr_url(client, issued, settings):
    assert set(issued) == {"number", "token", "url"}
    assert issued["url"] == links.credential_url(settings.base_url, issued["token"])
    assert issued["url"].startswith("HTTPS://SERTIFIKAT.EXAMPLE.ID/V/")
    result = client.post("/api/v1/verify", json={"token": issued["url"], "nik": NIK}).get_json()
    assert result["status"] == "valid" and result["nik_match"] is True
    assert result["credential"]["number"] == issued["number"]
    assert result["credential"]["holder_name"] == "Rina Marlina"


def test_issue_sets_location_of_the_record(client, auth):
    response = _issue(client, auth, number="41011 7112 3 00001234 2025")
    assert response.status_code == 201
    assert response.headers["Location"] == "/api/v1/credentials/41011%207112%203%2000001234%202025"
    assert client.get(response.headers["Location"], headers=auth).status_code == 200


def test_issue_by_job_title_with_number_and_valid_from(client, auth):
    response = _issue(
        client,
        auth,
        job_code=None,
        job_title="operator wheel excavator",
        number="  41011  7112 3 00001234 2025 ",
        valid_from="2026-02-01",
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.get_json()["number"] == "41011 7112 3 00001234 2025"
    record = client.get(_path("41011 7112 3 00001234 2025"), headers=auth).get_json()
    assert record["job_code"] == "ME063100"
    assert record["valid_from"] == "2026-02-01T00:00:00Z"
    assert record["expires_at"] == "2031-02-01T00:00:00Z"


@pytest.mark.parametrize("member", ["iss", "kid", "iat", "nbf", "exp", "jti", "agency", "lvl"])
def test_issue_never_takes_claims_from_the_client(client, auth, member):
    body = _problem(_issue(client, auth, **{member: "x"}), 400)
    assert body["field"] == member


@pytest.mark.parametrize(
    ("member", "value"),
    [
        ("level", "3"),
        ("level", True),
        ("level", 3.0),
        ("level", None),
        ("holder_name", 1),
        ("holder_name", None),
        ("holder_name", ["Rina"]),
        ("job_code", 63100),
        ("nik", int(NIK)),
        ("number", 1234),
        ("valid_from", NOW),
    ],
)
def test_issue_wrong_types_are_400_naming_the_member(client, auth, member, value):
    response = _issue(client, auth, **{member: value})
    assert _problem(response, 400)["field"] == member
    assert NIK not in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"level": 7, "job_code": None, "job_title": "Ahli Muda Teknik Jalan"}, "level"),
        ({"level": 0}, "level"),
        ({"level": 4}, "level"),  # contradicts ME063100 (level 3)
        ({"job_code": "XX000000"}, "job_code"),
        ({"job_code": None}, "job_code"),
        ({"job_title": "Operator Wheel Excavator"}, "job_code"),  # both given
        ({"job_code": None, "job_title": "Penyelam"}, "job_title"),
        ({"holder_name": "   "}, "holder_name"),
        ({"holder_name": "R" * 101}, "holder_name"),
        ({"holder_name": "Rina\u202eMarlina"}, "holder_name"),
        ({"holder_name": "Ani 3575040003930001"}, "holder_name"),  # a NIK in the name
        ({"number": "no/slash"}, "number"),
        ({"number": "x" * 41}, "number"),
        ({"valid_from": "next tuesday"}, "valid_from"),
        ({"valid_from": "99999-01-01"}, "valid_from"),
        ({"nik": "1234"}, "nik"),
        ({"nik": "0001000000000017"}, "nik"),
    ],
)
def test_issue_domain_rules_are_422(client, auth, fields, field):
    response = _issue(client, auth, **fields)
    assert _problem(response, 422)["field"] == field


def test_issue_invalid_nik_is_not_echoed(client, auth):
    response = _issue(client, auth, nik="9901000000000017")
    _problem(response, 422)
    assert "9901000000000017" not in response.get_data(as_text=True)


def test_issue_duplicate_number_is_409(client, auth):
    assert _issue(client, auth, number="A-1").status_code == 201
    assert _problem(_issue(client, auth, number="A-1"), 409)["field"] == "number"


def test_same_number_at_another_agency_is_fine(client, auth, other_auth):
    assert _issue(client, auth, number="A-1").status_code == 201
    assert _issue(client, other_auth, number="A-1").status_code == 201


def test_issue_without_a_signing_key_is_409(client, contoh, make_agency):
    make_agency(OTHER)
    headers = {"Authorization": f"Bearer {apikeys.create(OTHER, NOW)['api_key']}"}
    _problem(_issue(client, headers), 409)


def test_issue_on_a_host_without_passphrase_is_503(database, env, api_key):
    client = create_app({**env, "SKK_KEY_PASSPHRASE": "", "TESTING": True}).test_client()
    response = _issue(client, {"Authorization": f"Bearer {api_key}"})
    assert "SKK_KEY_PASSPHRASE" not in _problem(response, 503).get("detail", "")


@pytest.mark.parametrize(
    ("data", "content_type", "status"),
    [
        ('{"holder_name": "x"}', "text/plain", 415),
        ("holder_name=x", "application/x-www-form-urlencoded", 415),
        ("{", "application/json", 400),
        ("[]", "application/json", 400),
        ('{"level": 3, "level": 4}', "application/json", 400),
        ('{"holder_name": "\\udc00", "level": 3, "job_code": "ME063100"}', "application/json", 400),
        ('{"holder_name": "' + "x" * 17000 + '"}', "application/json", 413),
    ],
)
def test_issue_body_errors(client, auth, data, content_type, status):
    response = client.post(
        "/api/v1/credentials", data=data, content_type=content_type, headers=auth
    )
    _problem(response, status)


def test_method_not_allowed_is_405_problem(client, auth):
    response = client.delete("/api/v1/credentials", headers=auth)
    _problem(response, 405)
    assert set(response.headers["Allow"].split(", ")) >= {"GET", "POST"}


# -- records, search, QR ----------------------------------------------------------------------


def test_get_own_record(client, auth, issued):
    response = client.get(_path(issued["number"]), headers=auth)
    assert response.status_code == 200
    record = response.get_json()
    assert record["number"] == issued["number"] and record["agency"] == "lsp-contoh"
    assert record["status"] == "active" and record["revocation"] is None
    assert "nik" not in response.get_data(as_text=True).lower().replace("nik_", "")
    assert response.headers["Cache-Control"] == "no-store"


def test_another_agencys_record_is_404(client, issued, other_auth):
    for suffix in ("", "/qr.svg", "/qr.png"):
        _problem(client.get(_path(issued["number"], suffix), headers=other_auth), 404)
    for action in ("revoke", "suspend"):
        response = client.post(
            _path(issued["number"], f"/{action}"), headers=other_auth, json={"reason": "fraud"}
        )
        _problem(response, 404)
    _problem(client.post(_path(issued["number"], "/reinstate"), headers=other_auth), 404)


@pytest.mark.parametrize("number", ["NOPE 1", "\x00", "a\x00b", "x" * 41, "-a", "é"])
def test_unknown_or_impossible_record_is_404(client, auth, number):
    for suffix in ("", "/qr.svg", "/qr.png"):
        _problem(client.get(_path(number, suffix), headers=auth), 404)


def test_404_never_repeats_the_number_asked_for(client, auth):
    for response in (
        client.get(_path(NIK), headers=auth),
        client.get(_path(NIK, "/qr.png"), headers=auth),
        client.post(_path(NIK, "/revoke"), headers=auth, json={"reason": "fraud"}),
        client.post(_path(NIK, "/reinstate"), headers=auth),
    ):
        assert _problem(response, 404)["field"] == "number"
        assert NIK not in response.get_data(as_text=True)


def test_number_with_extra_spaces_finds_the_record(client, auth, issued):
    spaced = "  " + issued["number"].replace(" ", "   ") + " "
    assert client.get(_path(spaced), headers=auth).get_json()["number"] == issued["number"]


def test_impossible_numbers_in_state_changes_and_audit_are_422(client, auth):
    for action in ("revoke", "suspend"):
        response = client.post(
            _path("a\x00b", f"/{action}"), headers=auth, json={"reason": "fraud"}
        )
        assert _problem(response, 422)["field"] == "number"
    _problem(client.post(_path("a\x00b", "/reinstate"), headers=auth), 422)
    assert _problem(client.get("/api/v1/audit?number=a%00b", headers=auth), 422)["field"] == (
        "number"
    )


def test_find_by_nik_returns_only_own_records(client, auth, other_auth, issued):
    assert _issue(client, other_auth, nik=NIK).status_code == 201
    assert _issue(client, auth).status_code == 201  # no NIK
    for response in (
        client.get(f"/api/v1/credentials?nik={NIK}", headers=auth),
        client.post("/api/v1/credentials/search", json={"nik": NIK}, headers=auth),
    ):
        assert response.status_code == 200
        records = response.get_json()
        assert [r["number"] for r in records] == [issued["number"]]
        assert NIK not in response.get_data(as_text=True)
    assert client.get("/api/v1/credentials?nik=3201000000000025", headers=auth).get_json() == []


def test_find_by_nik_errors(client, auth):
    # Without nik the same route lists every credential (tests/test_credential_list.py).
    mixed = client.get("/api/v1/credentials?nik=3201000000000025&level=3", headers=auth)
    assert _problem(mixed, 400)["field"] == "nik"
    assert "3201000000000025" not in mixed.get_data(as_text=True)
    assert _problem(client.get("/api/v1/credentials?nick=1", headers=auth), 400)["field"] == "nick"
    response = client.get("/api/v1/credentials?nik=12345678", headers=auth)
    assert _problem(response, 422)["field"] == "nik"
    assert "12345678" not in response.get_data(as_text=True)
    search = "/api/v1/credentials/search"
    assert _problem(client.post(search, json={}, headers=auth), 400)["field"] == "nik"
    assert _problem(client.post(search, json={"nik": 1}, headers=auth), 400)["field"] == "nik"
    _problem(client.post(search, data="nik=1", headers=auth), 415)


def test_nik_never_logged(client, auth, caplog):
    caplog.set_level(logging.DEBUG)
    _issue(client, auth, nik=NIK)
    client.post("/api/v1/credentials/search", json={"nik": NIK}, headers=auth)
    client.get(f"/api/v1/credentials?nik={NIK}", headers=auth)
    assert NIK not in caplog.text


def test_qr_svg_and_png(client, auth, issued, tmp_path: Path):
    svg = client.get(_path(issued["number"], "/qr.svg"), headers=auth)
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml"
    assert svg.get_data(as_text=True).startswith("<?xml")
    png = client.get(_path(issued["number"], "/qr.png"), headers=auth)
    assert png.status_code == 200 and png.mimetype == "image/png"
    image = tmp_path / "qr.png"
    image.write_bytes(png.data)
    assert scan.read_qr_image(image) == issued["url"]


# -- revoke, suspend, reinstate, audit ----------------------------------------------------------


def test_suspend_reinstate_revoke_round(client, auth, api_key, issued):
    number = issued["number"]
    response = client.post(
        _path(number, "/suspend"),
        headers=auth,
        json={"reason": "investigation", "note": "laporan lapangan"},
    )
    assert response.status_code == 200
    change = response.get_json()
    assert change["status"] == "suspended" and change["changed"] is True
    assert set(change) == {"agency", "number", "status", "at", "reason", "changed"}
    verdict = client.post("/api/v1/verify", json={"token": issued["token"]}).get_json()
    assert verdict["status"] == "suspended"
    assert client.post(_path(number, "/reinstate"), headers=auth).get_json()["status"] == "active"
    revoked = client.post(_path(number, "/revoke"), headers=auth, json={"reason": "fraud"})
    assert revoked.get_json()["status"] == "revoked"
    again = client.post(_path(number, "/revoke"), headers=auth, json={"reason": "misuse"})
    assert again.get_json()["changed"] is False and again.get_json()["reason"] == "fraud"
    events = client.get("/api/v1/audit", headers=auth).get_json()["events"]
    assert [e["action"] for e in events] == ["issue", "suspend", "reinstate", "revoke"]
    assert {e["actor"] for e in events} == {f"apikey:{api_key.split('_')[1]}"}
    assert {e["number"] for e in events} == {number}
    assert [e["status"] for e in events] == ["active", "suspended", "active", "revoked"]
    assert events[1]["note"] == "laporan lapangan"
    assert events[0]["note"] is None and events[0]["reason"] is None


def test_refused_changes_are_409(client, auth, issued):
    number = issued["number"]
    client.post(_path(number, "/revoke"), headers=auth, json={"reason": "fraud"})
    _problem(client.post(_path(number, "/suspend"), headers=auth, json={"reason": "other"}), 409)
    _problem(client.post(_path(number, "/reinstate"), headers=auth, json={}), 409)


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({}, 400, "reason"),
        ({"reason": 1}, 400, "reason"),
        ({"reason": "because"}, 422, "reason"),
        ({"reason": "fraud", "note": 5}, 400, "note"),
        ({"reason": "fraud", "note": "NIK " + NIK}, 422, "note"),
        ({"reason": "fraud", "note": "x" * 1001}, 422, "note"),
        ({"reason": "fraud", "note": "a\x00b"}, 422, "note"),
        ({"reason": "fraud", "public": True}, 400, "public"),
    ],
)
def test_revoke_body_errors(client, auth, issued, body, status, field):
    response = client.post(_path(issued["number"], "/revoke"), headers=auth, json=body)
    assert _problem(response, status)["field"] == field
    assert NIK not in response.get_data(as_text=True)


def test_revoke_requires_a_body_reinstate_does_not(client, auth, issued):
    _problem(client.post(_path(issued["number"], "/revoke"), headers=auth), 415)
    response = client.post(_path(issued["number"], "/reinstate"), headers=auth, json={"note": "ok"})
    assert response.status_code == 200 and response.get_json()["changed"] is False


def test_audit_shows_only_own_history_and_filters_by_number(client, auth, other_auth, issued):
    other = _issue(client, auth).get_json()["number"]
    client.post(_path(issued["number"], "/suspend"), headers=auth, json={"reason": "other"})
    client.post(_path(other, "/revoke"), headers=auth, json={"reason": "superseded"})
    events = client.get("/api/v1/audit", headers=auth).get_json()["events"]
    assert [e["action"] for e in events] == ["issue", "issue", "suspend", "revoke"]
    only = client.get(f"/api/v1/audit?number={quote(other)}", headers=auth).get_json()["events"]
    assert [(e["number"], e["action"]) for e in only] == [(other, "issue"), (other, "revoke")]
    assert client.get("/api/v1/audit", headers=other_auth).get_json() == {
        "events": [],
        "next": None,
    }


# -- never a 5xx for bad input ------------------------------------------------------------------

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=50),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)
PLAUSIBLE = {
    "holder_name": st.text(max_size=120),
    "job_code": st.sampled_from(["ME063100", "me063100", "XX000000", ""]) | st.text(max_size=9),
    "job_title": st.sampled_from(["Operator Wheel Excavator", ""]) | st.text(max_size=30),
    "level": st.integers(min_value=-2, max_value=12),
    "nik": st.sampled_from([NIK, "9901000000000017"]) | st.text("0123456789", max_size=17),
    "number": st.text(max_size=45),
    "valid_from": st.sampled_from(["2026-01-01", "0001-01-01", "9999-12-31T23:59:59Z"])
    | st.text(max_size=25),
}


@pytest.fixture
def unlimited(client, auth):
    """A client that never hits a per-client limit, and lsp-contoh's Authorization header."""
    return FreshAddressClient(client), auth


VALID = {"holder_name": "Rina Marlina", "job_code": "ME063100", "level": 3}
#: A valid body with one member (known or not) set to any JSON value.
MUTATED = st.sampled_from([*PLAUSIBLE, "iss"]).flatmap(
    lambda name: JSON_VALUES.map(lambda value: {**VALID, name: value})
)
#: A valid body plus plausible optional members: reaches signing and storing.
NEAR_VALID = st.fixed_dictionaries(
    {name: st.just(value) for name, value in VALID.items()},
    optional={name: PLAUSIBLE[name] for name in ("nik", "number", "valid_from")},
)
ISSUE_BODIES = MUTATED | NEAR_VALID | st.fixed_dictionaries({}, optional=PLAUSIBLE) | JSON_VALUES


@hsettings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=ISSUE_BODIES)
def test_fuzz_issue_is_never_5xx(unlimited, body):
    client, headers = unlimited
    response = client.post("/api/v1/credentials", json=body, headers=headers)
    event(f"status {response.status_code}")
    assert response.status_code < 500, response.get_data(as_text=True)
    assert response.status_code in (201, 400, 409, 415, 422)  # 415: json=None sends no body


@hsettings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    number=st.text(max_size=50).filter(lambda s: "/" not in s and s not in (".", "..")),
    body=JSON_VALUES
    | st.fixed_dictionaries(
        {"reason": st.sampled_from(["fraud", "other"]) | st.text(max_size=10)},
        optional={"note": st.text(max_size=30) | JSON_VALUES},
    ),
)
def test_fuzz_record_routes_are_never_5xx(unlimited, number, body):
    client, headers = unlimited
    path = _path(number) if number else "/api/v1/credentials/x"
    assert client.get(path, headers=headers).status_code < 500
    for action in ("revoke", "suspend", "reinstate"):
        response = client.post(f"{path}/{action}", json=body, headers=headers)
        assert response.status_code < 500, response.get_data(as_text=True)


def test_time_is_the_servers(client, auth):
    before = int(time.time())
    issued = _issue(client, auth).get_json()
    record = client.get(_path(issued["number"]), headers=auth).get_json()
    assert record["issued_at"] >= time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(before - 1))
    assert record["issued_at"] < time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(before + DAY))


def test_a_lone_surrogate_in_issued_text_is_refused(client, auth):
    response = client.post(
        "/api/v1/credentials",
        headers=auth,
        content_type="application/json",
        data='{"holder_name": "Rina \\ud800", "job_code": "ME063100", "level": 3}',
    )
    _problem(response, 400)
    assert CredentialRecord.select().count() == 0

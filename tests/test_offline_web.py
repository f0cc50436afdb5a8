"""Offline checks over HTTP (Flask test client): the bundle endpoint and its deltas, the pinned
key set, /periksa, the service worker and modules with the narrowest CSP that works, the page
pack, and the server's own pages left exactly as they were."""

from __future__ import annotations

import gzip
import json
import re

import pytest

from tests.helpers import DAY, NOW
from verifier.core import bundle
from verifier.issuance import bundles
from verifier.store import bundle_keys, revocation
from verifier.web.security import CONTENT_SECURITY_POLICY

SCRIPT_POLICY = re.compile(r"script-src 'self'; worker-src 'self'; connect-src 'self'")


@pytest.fixture
def signer(store):
    """The bundle key this host signs with."""
    return bundles.new_key(store, NOW - DAY)


def pinned() -> dict[str, bundle.BundleKey]:
    return bundle.read_key_set(bundle_keys.key_set(NOW, 7 * DAY))


def test_the_bundle_is_a_signed_gzipped_jwt_no_one_stores(client, contoh, issue, signer) -> None:
    number = issue().credential.number
    revocation.revoke("lsp-contoh", number, "fraud", note=None, actor="t", now=NOW)
    answer = client.get("/api/v1/offline/bundle", headers={"Accept-Encoding": "gzip, br"})
    assert answer.status_code == 200 and answer.mimetype == "application/jwt"
    assert answer.headers["Content-Encoding"] == "gzip"
    assert answer.headers["Vary"] == "Accept-Encoding"
    assert answer.headers["Cache-Control"] == "no-store"
    text = gzip.decompress(answer.data).decode()
    read = bundle.read(text, pinned())
    assert read.kind == "full" and read.lookup("lsp-contoh", number).status == "revoked"
    assert read.exp - read.iat == 7 * DAY and read.iss == "https://sertifikat.example.id"
    plain = client.get("/api/v1/offline/bundle")
    assert "Content-Encoding" not in plain.headers
    assert bundle.read(plain.get_data(as_text=True), pinned()).seq == read.seq
    assert "Muhammad" not in text and "Muhammad" not in json.dumps(read.revocations, default=str)


def test_since_gives_a_delta_or_says_a_full_bundle_is_needed(client, contoh, issue, signer) -> None:
    seq = bundle.read(client.get("/api/v1/offline/bundle").get_data(as_text=True), pinned()).seq
    number = issue().credential.number
    revocation.suspend("lsp-contoh", number, "investigation", note=None, actor="t", now=NOW)
    answer = client.get(f"/api/v1/offline/bundle?since={seq}")
    delta = bundle.read(answer.get_data(as_text=True), pinned())
    assert delta.kind == "delta" and delta.since == seq and delta.seq == seq + 1
    assert delta.lookup("lsp-contoh", number).status == "suspended"
    gone = client.get(f"/api/v1/offline/bundle?since={seq + 5}")
    assert gone.status_code == 410 and gone.mimetype == "application/problem+json"
    assert "full bundle" in gone.get_json()["detail"]
    for bad in ("-1", "x", "1.5", "12345678901234567", "١"):
        refused = client.get(f"/api/v1/offline/bundle?since={bad}")
        assert refused.status_code == 400 and refused.get_json()["field"] == "since", bad


def test_a_host_without_the_bundle_key_says_so_with_503(client, contoh) -> None:
    answer = client.get("/api/v1/offline/bundle")
    assert answer.status_code == 503
    assert answer.get_json()["detail"] == "this host is not configured for this request"


def test_the_key_set_is_public_and_pinnable(client, signer) -> None:
    answer = client.get("/.well-known/skk-bundle-keys.json")
    assert answer.status_code == 200
    assert answer.headers["Access-Control-Allow-Origin"] == "*"
    assert answer.headers["Cache-Control"] == "public, max-age=300"
    document = answer.get_json()
    assert set(bundle.read_key_set(document)) == {signer.kid}
    assert document["keys"][0]["alg"] == "EdDSA" and "d" not in document["keys"][0]


def test_periksa_and_its_scripts_get_the_narrowest_csp_that_works(client) -> None:
    for path, kind in (
        ("/periksa", "text/html"),
        ("/sw.js", "text/javascript"),
        ("/offline/verify.js", "text/javascript"),
        ("/offline/pack.json", "application/json"),
    ):
        answer = client.get(path)
        assert answer.status_code == 200 and answer.mimetype == kind, path
        policy = answer.headers["Content-Security-Policy"]
        assert SCRIPT_POLICY.search(policy), path
        directives = {
            name: sources for name, *sources in (part.split() for part in policy.split(";"))
        }
        for name in ("script-src", "worker-src", "connect-src"):
            assert directives[name] == ["'self'"], (path, name)  # no inline, no eval, no CDN
        assert not any(
            "://" in source or source == "*"
            for sources in directives.values()
            for source in sources
        ), path
        assert answer.headers["X-Content-Type-Options"] == "nosniff"
    worker = client.get("/sw.js")
    assert worker.headers["Service-Worker-Allowed"] == "/"
    assert worker.headers["Cache-Control"] == "no-cache"
    # Revalidation of an unchanged script is a 304 without the body.
    again = client.get("/sw.js", headers={"If-None-Match": worker.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""
    page = client.get("/periksa?lang=en").get_data(as_text=True)
    assert '<script type="module" src="/offline/periksa.js"></script>' in page
    assert "Check certificates without signal" in page
    assert client.get("/offline/../verifier/config.py").status_code == 404
    assert client.get("/offline/unknown.js").status_code == 404


def test_the_server_pages_stay_script_free(client, contoh, issue) -> None:
    token = issue().token
    for path in (f"/v/{token}", "/", "/cek", "/privasi"):
        answer = client.get(path)
        policy = answer.headers["Content-Security-Policy"]
        assert policy.startswith(CONTENT_SECURITY_POLICY.split("{")[0]), path
        assert "script-src" not in policy and "<script" not in answer.get_data(as_text=True)
    assert 'data-status="valid"' in client.get(f"/v/{token}").get_data(as_text=True)
    assert "data-offline" not in client.get(f"/v/{token}").get_data(as_text=True)


def test_the_pack_has_the_verify_page_shell_and_every_translation(client) -> None:
    pack = client.get("/offline/pack.json").get_json()
    assert pack["official_domain"] == "sertifikat.example.id"
    assert pack["csp"].startswith("default-src 'none'; style-src 'sha256-")
    for language, ready in (
        ("id", "Siap untuk pemeriksaan offline"),
        ("en", "Ready for offline checks"),
    ):
        texts = pack["languages"][language]
        assert texts["shell"].count("@@verdict@@") == 1
        assert f'<html lang="{language}">' in texts["shell"]
        assert "/cek@@lang-query@@" in texts["shell"]
        assert any(ready in message for message in texts["messages"].values())
        assert texts["status_messages"]["stale_data"]
        assert "@@date@@" in texts["notes"]["fresh"] and 'role="alert"' in texts["notes"]["old"]
        assert 'data-status="no_offline_data"' in texts["missing"]
        assert len(texts["dates"]["months"]) == 12
    assert pack["languages"]["id"]["messages"]["DATA TOO OLD"] == "DATA TERLALU LAMA"
    assert pack["languages"]["id"]["dates"]["time"] == "HH.mm"

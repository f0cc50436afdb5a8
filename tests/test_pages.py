"""Pages for people through Flask's test client: the QR landing page, manual check, privacy,
error pages, the DEMO banner, and the translation catalogs behind them.

The verify page checks at the wall clock, so credentials here are issued relative to
``time.time()`` rather than the fixed NOW.
"""

from __future__ import annotations

import base64
import hashlib
import io
import re
import time
import unicodedata
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po
from flask import render_template

from tests.helpers import DAY
from verifier import create_app
from verifier.config import PROJECT_ROOT
from verifier.core import jws, links, qr_payload
from verifier.core.credential import add_years
from verifier.core.jobs import level_group
from verifier.core.links import verify_domain
from verifier.store import revocation
from verifier.store.credentials import SignedCredential
from verifier.web.page_model import moment
from verifier.web.state import EXTENSION_KEY

NIK = "3201000000000017"
HOLDER = "Muhammad Rizky Pratama Saputra"
AGENCY_NAME = "LSP Konstruksi Contoh Nusantara"
MAX_PAGE_BYTES = 50 * 1024
TRANSLATIONS = PROJECT_ROOT / "verifier" / "translations"
LANGUAGES = ("id", "en")

#: The verdict word each state shows, per language.
WORDS = {
    "valid": {"id": "SAH / BERLAKU", "en": "VALID"},
    "revoked": {"id": "DICABUT", "en": "REVOKED"},
    "suspended": {"id": "DIBEKUKAN", "en": "SUSPENDED"},
    "expired": {"id": "KEDALUWARSA", "en": "EXPIRED"},
    "not_yet_valid": {"id": "BELUM BERLAKU", "en": "NOT YET VALID"},
    "invalid": {"id": "TIDAK SAH", "en": "NOT VALID"},
}
ALL_VERDICT_WORDS = {word for words in WORDS.values() for word in words.values()}
FORGED = {"id": "PALSU ATAU TIDAK DIKENAL", "en": "FORGED OR UNKNOWN"}
UNAVAILABLE = {"id": "TIDAK DAPAT MEMERIKSA SEKARANG", "en": "CANNOT CHECK RIGHT NOW"}
NO_MATCH = {"id": "Tidak ada sertifikat yang cocok", "en": "No certificate matches"}
_VERDICT_WORD = re.compile(r'<h[12] class="word" id="verdict-word">([^<]*)</h[12]>')
_URL_ATTRIBUTE = re.compile(
    r'\b(?:src|href|action|srcset|poster|data)\s*=\s*"([^"]*)"', re.IGNORECASE
)


def _now() -> int:
    return int(time.time())


def _utc(*fields: int) -> int:
    return int(datetime(*fields, tzinfo=UTC).timestamp())


def _path(token: str, mark: str = "V") -> str:
    return f"/{mark}/{qr_payload.encode_payload(token)}"


def _body(response) -> str:
    return response.get_data(as_text=True)


def verdict_word(response) -> str:
    """The big verdict word of a page; fails when the page has none."""
    found = _VERDICT_WORD.findall(_body(response))
    assert len(found) == 1, _body(response)
    return found[0]


def has_verdict(body: str) -> bool:
    """True when any verdict word is on the page."""
    return bool(_VERDICT_WORD.search(body)) and any(w in body for w in ALL_VERDICT_WORDS)


def _language_kwargs(language: str, how: str) -> dict[str, Any]:
    if how == "query":
        return {"query_string": {"lang": language}}
    return {"headers": {"Accept-Language": "en-US,en;q=0.9" if language == "en" else "id"}}


@pytest.fixture
def credential_in(contoh, issue) -> Callable[[str], SignedCredential]:
    """Factory: a credential of lsp-contoh in the given state at the wall clock."""

    def make(state: str) -> SignedCredential:
        now = _now()
        if state == "expired":
            return issue(
                now=now - 3600, valid_from=add_years(now - 30 * DAY, -5), allow_expired=True
            )
        if state == "not_yet_valid":
            return issue(now=now - 3600, valid_from=now + 10 * DAY)
        signed = issue(now=now - 3600, nik=NIK)
        number = signed.credential.number
        if state == "revoked":
            revocation.revoke("lsp-contoh", number, "misuse", note=None, actor="t", now=now - 60)
        elif state == "suspended":
            revocation.suspend(
                "lsp-contoh", number, "investigation", note=None, actor="t", now=now - 60
            )
        return signed

    return make


@pytest.fixture
def signed(credential_in) -> SignedCredential:
    """A valid credential with a NIK on record."""
    return credential_in("valid")


# -- the verify page: one verdict per state, in both languages ------------------------------------

STATES = ["valid", "revoked", "suspended", "expired", "not_yet_valid"]


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize(
    ("language", "how"), [("id", "default"), ("en", "query"), ("en", "header"), ("id", "query")]
)
def test_each_state_shows_its_verdict_word(client, credential_in, state, language, how):
    signed = credential_in(state)
    kwargs = {} if how == "default" else _language_kwargs(language, how)
    response = client.get(_path(signed.token), **kwargs)
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert verdict_word(response) == WORDS[state][language]
    body = _body(response)
    assert f'<html lang="{language}">' in body
    other = "en" if language == "id" else "id"
    assert WORDS[state][other] not in body
    for shown in (
        HOLDER,
        "Operator Wheel Excavator",
        "ME063100",
        AGENCY_NAME,
        signed.credential.number,
        "WIB",
    ):
        assert shown in body


def test_valid_page_details_in_indonesian(client, contoh, issue):
    signed = issue(now=_now() - 3600, valid_from=_utc(2025, 5, 15))
    body = _body(client.get(_path(signed.token)))
    assert "Nama pemegang" in body and "Jabatan kerja" in body
    assert "Jenjang 3 KKNI · Operator" in body
    # Midnight UTC is 07.00 in Jakarta, printed the Indonesian way.
    assert "Berlaku sejak</dt>" in body and "15 Mei 2025 07.00 WIB" in body
    assert "Berlaku sampai</dt>" in body and "15 Mei 2030 07.00 WIB" in body
    assert "Diperiksa pada" in body
    assert "KTP" in body and "sertifikat.example.id" in body


def test_english_dates_and_level_words(client, signed):
    body = _body(client.get(_path(signed.token), query_string={"lang": "en"}))
    assert "KKNI level 3 · Operator" in body
    assert re.search(r"\d{1,2}:\d\d\s(AM|PM) WIB", body)  # CLDR puts U+202F before AM
    assert "Checked at" in body


def test_revoked_and_suspended_pages_give_the_public_reason(client, credential_in):
    revoked = _body(client.get(_path(credential_in("revoked").token)))
    assert "dipinjamkan atau disewakan" in revoked and "Jangan izinkan pekerja" in revoked
    suspended = _body(
        client.get(_path(credential_in("suspended").token), query_string={"lang": "en"})
    )
    assert "under investigation" in suspended and "suspension is lifted" in suspended


@pytest.mark.parametrize(
    "form",
    ["upper", "lower", "jws", "query", "full-url", "lower-full-url", "lang-and-query"],
)
def test_verify_page_accepts_every_url_form(client, signed, settings, form):
    payload = qr_payload.encode_payload(signed.token)
    url = links.credential_url(settings.base_url, signed.token)
    path = {
        "upper": f"/V/{payload}",
        "lower": f"/v/{payload}",
        "jws": f"/v/{signed.token}",
        "query": f"/V/{payload}?utm_source=whatsapp&x=%2Fv%2Fgarbage",
        "full-url": f"/v/{url}",
        "lower-full-url": f"/v/https://sertifikat.example.id/v/{payload}#frag",
        "lang-and-query": f"/V/{payload}?foo=1&lang=id",
    }[form]
    response = client.get(path, follow_redirects=True)
    assert response.status_code == 200
    assert verdict_word(response) == "SAH / BERLAKU"


@pytest.mark.parametrize("payload", ["garbage", "123456789", "eyJ.eyJ.x", "a.b.c", "%00", "V"])
def test_garbage_payload_is_a_not_valid_page(client, database, payload):
    response = client.get(f"/v/{payload}")
    assert response.status_code == 200
    assert verdict_word(response) == "TIDAK SAH"
    body = _body(response)
    assert FORGED["id"] in body
    assert "Nama pemegang" not in body
    assert 'href="/cek' in body  # the way out for a damaged QR


def test_forged_name_is_never_shown(client, signed):
    header, _, signature = signed.token.split(".")
    claims = signed.credential.to_claims() | {"name": "Pemalsu Nama Palsu"}
    forged = f"{header}.{jws.b64url_encode(jws.canonical_json(claims))}.{signature}"
    response = client.get(f"/v/{forged}", query_string={"lang": "en"})
    assert verdict_word(response) == "NOT VALID"
    body = _body(response)
    assert "Pemalsu" not in body and HOLDER not in body
    assert "forged, or changed" in body


def test_unknown_key_is_not_valid(client, signed, database):
    database.execute_sql("UPDATE skk_meta SET value = value + 1 WHERE name = 'registry_version'")
    database.execute_sql("DELETE FROM signing_key")
    response = client.get(_path(signed.token))
    assert verdict_word(response) == "TIDAK SAH"
    assert HOLDER not in _body(response)


# -- weight, assets, headers, privacy of the page -------------------------------------------------


@pytest.mark.parametrize("state", STATES)
def test_page_is_small_self_contained_and_scriptless(client, credential_in, state):
    response = client.get(_path(credential_in(state).token))
    page = response.get_data()
    assert len(page) < MAX_PAGE_BYTES
    body = page.decode("utf-8")
    assert "<script" not in body.lower()
    assert not re.search(r"<[^>]+\son[a-z]+\s*=", body, re.IGNORECASE)  # no inline event handlers
    for url in _URL_ATTRIBUTE.findall(body):
        assert url.startswith(("/", "?", "#", "data:")) and not url.startswith("//"), url
    assert "url(" not in body and "@import" not in body
    headers = response.headers
    assert headers["Cache-Control"] == "no-store"
    assert "noindex" in headers["X-Robots-Tag"]
    assert "script-src" not in headers["Content-Security-Policy"]
    assert headers["Content-Security-Policy"].startswith("default-src 'none'")


@pytest.mark.parametrize("path", ["/", "/cek", "/privasi", "/no-such-page", "/v/garbage"])
def test_inline_style_is_allowed_by_its_hash_not_unsafe_inline(client, database, path):
    response = client.get(path)
    policy = dict(
        directive.strip().split(" ", 1)
        for directive in response.headers["Content-Security-Policy"].split(";")
    )
    assert "'unsafe-inline'" not in response.headers["Content-Security-Policy"]
    styles = re.findall(r"<style>(.*?)</style>", response.get_data(as_text=True), re.DOTALL)
    assert len(styles) == 1 and "verdict" in styles[0]  # the whole stylesheet, inlined
    digest = base64.b64encode(hashlib.sha256(styles[0].encode("utf-8")).digest()).decode()
    assert policy["style-src"] == f"'sha256-{digest}'"


@pytest.mark.parametrize("mark", ["v", "V"])
def test_both_path_marks_are_not_cached(client, signed, mark):
    response = client.get(_path(signed.token, mark))
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("path", ["/", "/cek", "/privasi", "/privacy", "/nope"])
def test_other_pages_are_small_and_scriptless(client, database, path):
    response = client.get(path)
    page = response.get_data()
    assert len(page) < MAX_PAGE_BYTES
    assert b"<script" not in page.lower()
    for url in _URL_ATTRIBUTE.findall(page.decode("utf-8")):
        assert url.startswith(("/", "?", "#", "data:")) and not url.startswith("//"), url


def test_no_nik_no_token_no_payload_in_the_page(client, signed):
    payload = qr_payload.encode_payload(signed.token)
    for path in (f"/V/{payload}", f"/v/{signed.token}"):
        for language in LANGUAGES:
            body = _body(client.get(path, query_string={"lang": language}))
            assert NIK not in body
            assert signed.token not in body
            assert payload not in body
            assert signed.token.split(".")[2] not in body  # not even the signature


def test_garbage_is_not_echoed(client, database):
    body = _body(client.get("/v/QQQZZZ<b>injected</b>"))
    assert "QQQZZZ" not in body and "injected" not in body


# -- expiry warning -------------------------------------------------------------------------------


def _expiring_in(issue, days: int) -> SignedCredential:
    now = _now()
    return issue(now=now - 3600, valid_from=add_years(now + days * DAY, -5))


def test_expiry_warning_below_90_days(client, contoh, issue):
    signed = _expiring_in(issue, 60)
    left = (signed.credential.expires_at - _now()) / DAY
    response = client.get(_path(signed.token))
    assert verdict_word(response) == "SAH / BERLAKU"
    match = re.search(r"Masa berlaku sertifikat ini habis dalam (\d+) hari", _body(response))
    assert match is not None
    assert abs(int(match.group(1)) - left) <= 1
    english = _body(client.get(_path(signed.token), query_string={"lang": "en"}))
    assert re.search(r"This certificate expires in \d+ days, on ", english)


@pytest.mark.parametrize("days", [120, 91, 5 * 365])
def test_no_expiry_warning_from_90_days(client, contoh, issue, days):
    response = client.get(_path(_expiring_in(issue, days).token))
    assert verdict_word(response) == "SAH / BERLAKU"
    assert "habis dalam" not in _body(response)
    assert 'class="box alert"' not in _body(response)


def test_expired_credential_has_no_expiry_warning(client, credential_in):
    body = _body(client.get(_path(credential_in("expired").token)))
    assert 'class="box alert"' not in body
    assert "Berlaku sampai" in body


def test_one_day_left_uses_the_singular(client, contoh, issue):
    now = _now()
    signed = issue(now=now - 3600, valid_from=add_years(now + 12 * 3600, -5))
    body = _body(client.get(_path(signed.token), query_string={"lang": "en"}))
    assert "expires in 1 day, on" in body


# -- manual check ---------------------------------------------------------------------------------


def _check(client, agency: str, number: str, name: str, address: str = "10.0.0.1", **kwargs: Any):
    return client.post(
        "/cek",
        data={"agency": agency, "number": number, "name": name},
        environ_base={"REMOTE_ADDR": address},
        **kwargs,
    )


def test_manual_check_form_lists_agencies(client, contoh):
    response = client.get("/cek")
    assert response.status_code == 200
    body = _body(response)
    assert '<option value="lsp-contoh">LSP Konstruksi Contoh Nusantara</option>' in body
    assert 'method="post"' in body and 'action="/cek"' in body
    assert not has_verdict(body)
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    "typed",
    [HOLDER, HOLDER.upper(), f"  {HOLDER.lower()}  ", HOLDER.replace(" ", "   ")],
)
def test_manual_check_match_shows_verdict(client, signed, typed):
    number = signed.credential.number
    response = _check(client, "lsp-contoh", f" {number.replace(' ', '  ')} ", typed)
    assert response.status_code == 200
    assert verdict_word(response) == "SAH / BERLAKU"
    assert HOLDER in _body(response)


def test_manual_check_accepts_a_number_typed_in_lower_case(client, signed):
    number = signed.credential.number
    assert number != number.lower()
    response = _check(client, "lsp-contoh", number.lower(), HOLDER)
    assert verdict_word(response) == "SAH / BERLAKU"


def test_manual_check_folds_unicode_forms(client, contoh, issue):
    name = "Nguyễn Văn Đức"
    signed = issue(now=_now() - 3600, holder_name=name)
    typed = unicodedata.normalize("NFD", name.upper())
    response = _check(client, "lsp-contoh", signed.credential.number, typed)
    assert verdict_word(response) == "SAH / BERLAKU"


@pytest.mark.parametrize("state", ["revoked", "suspended", "expired"])
def test_manual_check_shows_other_states(client, credential_in, state):
    signed = credential_in(state)
    response = _check(
        client, "lsp-contoh", signed.credential.number, HOLDER, query_string={"lang": "en"}
    )
    assert verdict_word(response) == WORDS[state]["en"]


def test_manual_check_does_not_fill_a_typed_nik_back_in(client, signed):
    nik = "3575040003930001"
    for number, name in ((nik, HOLDER), (signed.credential.number, nik)):
        response = _check(client, "lsp-contoh", number, name)
        assert NO_MATCH["id"] in _body(response)
        assert nik not in _body(response)
    typed = signed.credential.number  # anything else typed is still filled back in
    assert f'value="{typed}"' in _body(_check(client, "lsp-contoh", typed, "Budi Santoso"))


def _neutral(response, number: str, name: str) -> str:
    """The body with what the checker typed taken out: what is left must not depend on it."""
    assert response.status_code == 200
    body = _body(response)
    assert NO_MATCH["id"] in body
    assert not has_verdict(body)
    return body.replace(f'value="{number}"', 'value="#"').replace(f'value="{name}"', 'value="#"')


def test_wrong_name_and_wrong_number_look_the_same(client, signed):
    number = signed.credential.number
    wrong_number = number[:-4] + ("2000" if not number.endswith("2000") else "2001")
    wrong_name = "Budi Santoso"
    by_name = _check(client, "lsp-contoh", number, wrong_name)
    by_number = _check(client, "lsp-contoh", wrong_number, HOLDER)
    neither = _check(client, "lsp-contoh", wrong_number, wrong_name)
    by_name_body = _neutral(by_name, number, wrong_name)
    by_number_body = _neutral(by_number, wrong_number, HOLDER)
    neither_body = _neutral(neither, wrong_number, wrong_name)
    assert by_name_body == by_number_body == neither_body
    assert HOLDER not in _body(by_name)  # the real name never leaks on a wrong guess
    assert by_name.headers["Content-Type"] == by_number.headers["Content-Type"]
    assert by_name.headers["Content-Length"] != "" and len(by_name_body) == len(by_number_body)


@pytest.mark.parametrize(
    ("agency", "number"),
    [
        ("lsp-lain", None),
        ("", None),
        ("lsp-contoh", "not a number!"),
        ("lsp-contoh", "x" * 200),
        ("lsp-\x00contoh", None),
        ("lsp-contoh\x00", "\x00"),
        ("L" * 500, None),
    ],
)
def test_manual_check_other_misses_are_neutral_or_incomplete(client, signed, agency, number):
    response = _check(client, agency, number or signed.credential.number, HOLDER)
    body = _body(response)
    assert not has_verdict(body)
    if agency:
        assert response.status_code == 200 and NO_MATCH["id"] in body
    else:
        assert response.status_code == 400 and "Harap isi ketiga kolom" in body


def test_manual_check_is_rate_limited(client, signed):
    number = signed.credential.number
    for _ in range(10):
        response = _check(client, "lsp-contoh", number, "Tebakan", address="10.7.7.7")
        assert response.status_code == 200
    response = _check(client, "lsp-contoh", number, HOLDER, address="10.7.7.7")
    assert response.status_code == 429
    body = _body(response)
    assert "Terlalu banyak pemeriksaan" in body and not has_verdict(body)
    # Another client is not affected, and the form itself (GET) is never limited.
    assert _check(client, "lsp-contoh", number, HOLDER, address="10.7.7.8").status_code == 200
    assert client.get("/cek", environ_base={"REMOTE_ADDR": "10.7.7.7"}).status_code == 200


def test_forty_exact_matches_from_one_address_all_succeed(client, signed):
    # A site office behind one NAT checks its crew: matches spend the generous limit only.
    for _ in range(40):
        response = _check(
            client, "lsp-contoh", signed.credential.number, HOLDER, address="10.7.7.20"
        )
        assert response.status_code == 200 and has_verdict(_body(response))
    # The strict miss limit is untouched: ten misses are still answered.
    for _ in range(10):
        assert (
            _check(client, "lsp-contoh", "TEBAK 1", "Tebakan", address="10.7.7.20").status_code
            == 200
        )


def test_a_miss_enumeration_run_is_stopped(client, signed):
    answered = [
        _check(
            client, "lsp-contoh", f"SI013013 1 {index:08d} 2026", HOLDER, address="10.7.7.21"
        ).status_code
        for index in range(30)
    ]
    assert answered == [200] * 10 + [429] * 20
    # Once the misses are spent, a true match is refused too: a 429 must never mean "miss".
    refused = _check(client, "lsp-contoh", signed.credential.number, HOLDER, address="10.7.7.21")
    assert refused.status_code == 429 and not has_verdict(_body(refused))


def test_the_manual_check_limits_reset(database, env, signed, monkeypatch):
    from verifier.web import limit_stores

    clock = {"now": time.time()}
    monkeypatch.setattr(
        limit_stores, "time", type("Clock", (), {"time": staticmethod(lambda: clock["now"])})
    )
    client = create_app(
        {
            **env,
            "TESTING": True,
            "SKK_RATELIMIT_MANUAL_CHECK": "2 per minute",
            "SKK_RATELIMIT_MANUAL_CHECK_MATCH": "3 per minute",
        }
    ).test_client()
    number = signed.credential.number
    assert [_check(client, "lsp-contoh", "TEBAK", "X").status_code for _ in range(3)] == [
        200,
        200,
        429,
    ]
    clock["now"] += 61
    assert [_check(client, "lsp-contoh", number, HOLDER).status_code for _ in range(4)] == [
        200,
        200,
        200,
        429,
    ]
    clock["now"] += 61
    assert _check(client, "lsp-contoh", number, HOLDER).status_code == 200
    assert _check(client, "lsp-contoh", "TEBAK", "X").status_code == 200


def test_manual_check_keeps_the_chosen_language(client, signed):
    response = _check(
        client, "lsp-contoh", signed.credential.number, HOLDER, query_string={"lang": "en"}
    )
    body = _body(response)
    assert '<html lang="en">' in body and 'action="/cek?lang=en"' in body


# -- home, privacy, language switch ---------------------------------------------------------------


def test_home_explains_and_links(client, database):
    body = _body(client.get("/"))
    assert "Periksa sertifikat SKK" in body
    assert 'href="/cek"' in body and 'href="/privasi"' in body
    assert "sertifikat.example.id" in body
    assert 'href="?lang=en"' in body


@pytest.mark.parametrize(
    ("path", "kwargs", "language"),
    [
        ("/privasi", {}, "id"),
        ("/privacy", {}, "id"),
        ("/privasi", {"query_string": {"lang": "en"}}, "en"),
        ("/privacy", {"headers": {"Accept-Language": "en"}}, "en"),
    ],
)
def test_privacy_notice_in_both_languages(client, database, path, kwargs, language):
    response = client.get(path, **kwargs)
    assert response.status_code == 200
    body = _body(response)
    assert f'<html lang="{language}">' in body
    assert "27/2022" in body and "NIK" in body and "30" in body
    expected = {
        "id": [
            "Pelindungan Data Pribadi",
            "Berapa lama",
            "Siapa yang dapat dihubungi",
            "catatan gerbang",  # the offline check's gate log stays on the phone
        ],
        "en": ["Personal Data Protection", "For how long", "Whom to contact", "gate log"],
    }[language]
    for text in expected:
        assert text in body


def test_privacy_notice_names_the_configured_contact(database, env):
    from verifier import create_app

    contact = "pdp@sertifikat.example.id"
    client = create_app({**env, "SKK_PRIVACY_CONTACT": contact, "TESTING": True}).test_client()
    assert contact in _body(client.get("/privasi"))
    assert contact in _body(client.get("/privacy", query_string={"lang": "en"}))


def test_query_language_beats_accept_language(client, signed):
    response = client.get(
        _path(signed.token), query_string={"lang": "id"}, headers={"Accept-Language": "en"}
    )
    assert verdict_word(response) == "SAH / BERLAKU"
    assert 'href="?lang=en"' in _body(response)


def test_unknown_language_falls_back_to_indonesian(client, signed):
    response = client.get(
        _path(signed.token), query_string={"lang": "fr"}, headers={"Accept-Language": "fr, de"}
    )
    assert verdict_word(response) == "SAH / BERLAKU"


# -- DEMO banner ----------------------------------------------------------------------------------


def _demo_app(env: dict[str, str], base_url: str):
    return create_app({**env, "SKK_BASE_URL": base_url, "TESTING": True})


@pytest.mark.parametrize("base_url", ["http://127.0.0.1:8000", "http://localhost:5000"])
def test_demo_banner_on_a_loopback_instance(env, signed, base_url):
    client = _demo_app(env, base_url).test_client()
    for path in ("/", _path(signed.token), "/cek", "/privasi", "/nope"):
        body = _body(client.get(path))
        assert 'class="demo"' in body and "DEMO" in body, path
    valid = _body(client.get(_path(signed.token)))
    assert verify_domain(base_url) in valid


def test_no_demo_banner_on_the_official_domain(client, signed):
    for path in ("/", _path(signed.token), "/cek", "/privasi", "/nope"):
        body = _body(client.get(path))
        assert 'class="demo"' not in body and "DEMO" not in body, path


# -- the database does not answer: 503, never a verdict -------------------------------------------


def _assert_unavailable(response, language: str = "id") -> None:
    assert response.status_code == 503
    assert response.mimetype == "text/html"
    body = _body(response)
    assert UNAVAILABLE[language] in body
    for word in ALL_VERDICT_WORDS | set(FORGED.values()):
        assert word not in body, word
    assert HOLDER not in body


@pytest.fixture
def unreachable_postgres_app(env):
    """An app whose PostgreSQL server refuses connections (nothing listens on port 9)."""
    return create_app(
        {**env, "SKK_DATABASE_URL": "postgresql://skk:x@127.0.0.1:9/skk", "TESTING": True}
    )


@pytest.mark.parametrize("language", LANGUAGES)
def test_unreachable_database_gives_the_unavailable_page(
    unreachable_postgres_app, signed, language
):
    client = unreachable_postgres_app.test_client()
    query = {"lang": language}
    _assert_unavailable(client.get(_path(signed.token), query_string=query), language)
    _assert_unavailable(client.get("/v/garbage", query_string=query), language)
    _assert_unavailable(client.get("/cek", query_string=query), language)
    response = _check(client, "lsp-contoh", signed.credential.number, HOLDER, query_string=query)
    _assert_unavailable(response, language)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # a file that can vanish
def test_database_file_gone_under_a_running_app(app, client, signed, settings):
    """The SQLite file disappears (volume unmounted, file deleted) while the app runs."""
    assert verdict_word(client.get(_path(signed.token))) == "SAH / BERLAKU"
    database = app.extensions[EXTENSION_KEY].database
    database.close()
    path = Path(settings.database_url.removeprefix("sqlite:///"))
    assert path.exists()
    for leftover in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        leftover.unlink(missing_ok=True)
    _assert_unavailable(client.get(_path(signed.token)))
    _assert_unavailable(_check(client, "lsp-contoh", signed.credential.number, HOLDER))


# -- error pages ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status", "title"),
    [
        ("get", "/nope", {}, 404, "Halaman tidak ditemukan"),
        ("post", "/privasi", {}, 405, "Tindakan ini tidak diizinkan"),
        ("post", "/cek", {"data": {"name": "x" * 20_000}}, 413, "Data yang dikirim terlalu besar"),
    ],
)
def test_error_pages_are_translated_html(client, database, method, path, kwargs, status, title):
    response = getattr(client, method)(path, **kwargs)
    assert response.status_code == status
    assert response.mimetype == "text/html"
    assert title in _body(response)
    english = getattr(client, method)(path, query_string={"lang": "en"}, **kwargs)
    assert '<html lang="en">' in _body(english)


@pytest.mark.parametrize("status", [400, 404, 405, 413, 429, 500, 503])
@pytest.mark.parametrize("language", LANGUAGES)
def test_error_template_covers_every_status(app, status, language):
    with app.test_request_context("/", query_string={"lang": language}):
        page = render_template("error.html", status=status)
    assert f'<html lang="{language}">' in page
    assert "<script" not in page and "{{" not in page
    if status == 503:
        assert UNAVAILABLE[language] in page
    else:
        assert str(status) in page and 'href="/cek' in page
    assert not has_verdict(page)


# -- page model -----------------------------------------------------------------------------------


def test_moment_beyond_year_9999_falls_back_to_iso(app):
    with app.test_request_context("/"):
        far = moment(2**53)
        near = moment(_utc(2030, 5, 15, 17, 30))
    assert not far.in_wib and far.iso.endswith("Z") and far.date == ""
    assert near.in_wib and near.date == "16 Mei 2030" and near.time == "00.30"
    assert near.iso == "2030-05-15T17:30:00Z"


@pytest.mark.parametrize(
    ("level", "group"),
    [
        (1, "operator"),
        (3, "operator"),
        (4, "technician"),
        (6, "technician"),
        (7, "expert"),
        (9, "expert"),
    ],
)
def test_level_groups(level, group):
    assert level_group(level) == group


# -- translation catalogs -------------------------------------------------------------------------


def _po(language: str):
    with (TRANSLATIONS / language / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        return read_po(handle, locale=language)


def _messages(catalog) -> dict[Any, Any]:
    """msgid -> msgstr; plural entries as tuples (read_mo gives lists)."""

    def frozen(value: Any) -> Any:
        return value if isinstance(value, str) else tuple(value)

    return {frozen(message.id): frozen(message.string) for message in catalog if message.id}


def test_indonesian_catalog_is_complete():
    catalog = _po("id")
    untranslated = [
        message.id
        for message in catalog
        if message.id
        and (
            "fuzzy" in message.flags
            or not message.string
            or (isinstance(message.string, tuple) and not all(message.string))
        )
    ]
    assert untranslated == []
    assert len(catalog) > 100


@pytest.mark.parametrize("language", LANGUAGES)
def test_catalog_has_no_fuzzy_and_consistent_placeholders(language):
    catalog = _po(language)
    assert not catalog.fuzzy
    assert [m.id for m in catalog if m.id and "fuzzy" in m.flags] == []
    problems = [(message.id, errors) for message, errors in catalog.check() if errors]
    assert problems == []


def test_catalogs_hold_every_string_of_the_templates():
    """A string added to a template without `pybabel extract` + `update` fails here."""
    with (PROJECT_ROOT / "babel.cfg").open() as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    extracted = {
        message
        for _, _, message, _, _ in extract_from_dir(str(PROJECT_ROOT), method_map, options_map)
    }
    extracted = {m if isinstance(m, str) else tuple(m) for m in extracted}
    assert len(extracted) > 100
    for language in LANGUAGES:
        assert extracted - set(_messages(_po(language))) == set(), language
    with (TRANSLATIONS / "messages.pot").open("rb") as handle:
        assert extracted - set(_messages(read_po(handle))) == set()


@pytest.mark.parametrize("language", LANGUAGES)
def test_compiled_catalogs_are_up_to_date(language):
    compiled = io.BytesIO()
    write_mo(compiled, _po(language), use_fuzzy=False)
    compiled.seek(0)
    fresh = _messages(read_mo(compiled))
    with (TRANSLATIONS / language / "LC_MESSAGES" / "messages.mo").open("rb") as handle:
        committed = _messages(read_mo(handle))
    assert committed == fresh

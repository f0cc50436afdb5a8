"""QR payload codec, verify URLs and QR images (SPEC §4, docs/qr-payload.md)."""

from __future__ import annotations

import hashlib
import json
import random
import re
import struct
import unicodedata
import zlib
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from verifier.core import credential, jws, links, qr_payload
from verifier.core.credential import Credential
from verifier.core.errors import InvalidInput, UnreadableInput
from verifier.core.jws import MalformedToken
from verifier.qr import render, scan

BASE_URL = "https://sertifikat.example.id"
REFERENCE_START = 1747267200  # 2025-05-15T00:00:00Z
DOC = Path(__file__).resolve().parent.parent / "docs" / "qr-payload.md"
KID = "Xy7-_0aBcDeFgHiJ"
FAKE_SIGNATURE = bytes(range(64))


def make_credential(**changes: Any) -> Credential:
    """The SPEC §4 reference credential, with any field replaced."""
    fields: dict[str, Any] = {
        "agency_id": "lsp-contoh",
        "number": "41011 7112 3 00001234 2025",
        "holder_name": "Muhammad Rizky Pratama Saputra",
        "job_title": "Operator Wheel Excavator",
        "job_code": "ME063100",
        "level": 3,
        "issued_at": REFERENCE_START,
        "valid_from": REFERENCE_START,
        "expires_at": credential.add_years(REFERENCE_START),
    }
    fields.update(changes)
    return Credential(**fields)


def make_token(
    cred: Credential | None = None, alg: str = "EdDSA", signature: bytes | None = None
) -> str:
    """A canonical token as our issuer writes it; Ed25519-signed unless a signature is given."""
    header = {"alg": alg, "kid": KID, "typ": "skk+jwt"}
    claims = (cred or make_credential()).to_claims()
    if signature is None:
        signature = Ed25519PrivateKey.generate().sign(jws.signing_input(header, claims))
    return jws.serialize(header, claims, signature)


def raw_token(header_json: str, claims_json: str, signature: bytes = FAKE_SIGNATURE) -> str:
    """A token with exactly the JSON text given (any member order or whitespace)."""
    parts = [header_json.encode(), claims_json.encode(), signature]
    return ".".join(jws.b64url_encode(part) for part in parts)


def assert_compact_round_trip(token: str) -> str:
    payload = qr_payload.encode_payload(token)
    assert re.fullmatch(r"1[1-9][0-9]*", payload), payload
    assert qr_payload.decode_payload(payload) == token
    return payload


# --- compact round trips ---------------------------------------------------------------------


def test_reference_credential_round_trips_compact() -> None:
    payload = assert_compact_round_trip(make_token())
    assert len(payload) < 400


def test_es256_token_round_trips_compact() -> None:
    assert_compact_round_trip(make_token(alg="ES256", signature=bytes(range(100, 164))))


@pytest.mark.parametrize(
    "changes",
    [
        {"holder_name": "Ni Luh Putu Ayu Sukmawatí"},
        {"holder_name": "Ma'ruf O'Neil"},
        {"holder_name": "NI LUH PUTU AYU"},
        {"holder_name": "ahmad bin abdullah"},
        {"holder_name": "Ahmad bin Abdullah"},
        {"holder_name": "Jean-Pierre (J.P.) d’Arc & Co/Tbk, 2"},
        {"holder_name": "王小明 😀 Ñandú"},
        {"holder_name": 'I Gusti "Ngurah" \\ Rai'},
        {"holder_name": "x" * 100, "job_title": "É" * 100},
        {"job_title": "Ahli K3 Konstruksi"},
        {"job_code": None},
        {"valid_from": REFERENCE_START + 86400, "expires_at": REFERENCE_START + 86400 * 1000},
        {"expires_at": credential.add_years(REFERENCE_START) - 1},
        {"issued_at": 0, "valid_from": 0, "expires_at": credential.add_years(0)},
        {"issued_at": 2**53, "valid_from": 2**53 - 10, "expires_at": 2**53},
        {"issued_at": 951782400, "valid_from": 951782400, "expires_at": 1109548800},  # 29 Feb
        {"number": "SKK-01.2025 ab"},
        {"number": "7"},
        {"agency_id": "dinas-pupr-jawa-barat-0123456789-abcdefg"},
        {"level": 9},
        {"level": 1, "job_code": "ZZ000000"},
    ],
)
def test_compact_round_trip(changes: dict[str, Any]) -> None:
    assert_compact_round_trip(make_token(make_credential(**changes), signature=FAKE_SIGNATURE))


def test_extreme_signature_values_round_trip() -> None:
    assert_compact_round_trip(make_token(signature=bytes(64)))
    assert_compact_round_trip(make_token(signature=b"\xff" * 64))


def test_largest_payload_stays_under_the_bound() -> None:
    worst = make_credential(
        agency_id="-" * 40,
        number="." * 40,
        holder_name=chr(0x10FFFF) * 100,
        job_title=chr(0x10FFFF) * 100,
        issued_at=2**53,
        valid_from=2**53 - 1,
        expires_at=2**53 - 2,
    )
    payload = assert_compact_round_trip(make_token(worst, signature=b"\xff" * 64))
    assert len(payload) < qr_payload.MAX_PAYLOAD_DIGITS < 4300


# --- plain-JWS fallback -----------------------------------------------------------------------

CLAIMS_JSON = (
    '{"iss":"lsp-contoh","jti":"1","iat":1747267200,"nbf":1747267200,'
    '"exp":1905033600,"name":"A","job":"B","lvl":3}'
)
HEADER_JSON = '{"alg":"EdDSA","kid":"Xy7-_0aBcDeFgHiJ","typ":"skk+jwt"}'


@pytest.mark.parametrize(
    "token",
    [
        raw_token(
            HEADER_JSON,
            CLAIMS_JSON.replace('"iss":"lsp-contoh","jti":"1"', '"jti":"1","iss":"lsp-contoh"'),
        ),
        raw_token(HEADER_JSON, CLAIMS_JSON[:-1] + ',"org":"x"}'),
        raw_token(HEADER_JSON, CLAIMS_JSON.replace(",", ", ")),
        raw_token('{"kid":"Xy7-_0aBcDeFgHiJ","alg":"EdDSA","typ":"skk+jwt"}', CLAIMS_JSON),
        raw_token('{"alg":"none","kid":"Xy7-_0aBcDeFgHiJ","typ":"skk+jwt"}', CLAIMS_JSON),
        raw_token('{"alg":"EdDSA","kid":"Xy7-_0aBcDeFgHi","typ":"skk+jwt"}', CLAIMS_JSON),
        raw_token('{"alg":"EdDSA","kid":"Xy7-_0aBcDeFgHiJ","typ":"JWT"}', CLAIMS_JSON),
        raw_token(HEADER_JSON, CLAIMS_JSON.replace('"lvl":3', '"lvl":10')),
        raw_token(HEADER_JSON, CLAIMS_JSON.replace('"lvl":3', '"lvl":true')),
        raw_token(HEADER_JSON, CLAIMS_JSON.replace('"iat":1747267200', '"iat":1747267200.0')),
        raw_token(HEADER_JSON, CLAIMS_JSON.replace('"iat":1747267200', '"iat":-1')),
        raw_token(HEADER_JSON, CLAIMS_JSON.replace('"iss":"lsp-contoh"', '"iss":"LSP"')),
        raw_token(HEADER_JSON, CLAIMS_JSON.replace('"jti":"1"', '"jti":"1/2"')),
        raw_token(HEADER_JSON, CLAIMS_JSON.replace('"jti":"1"', f'"jti":"{"1" * 41}"')),
        raw_token(HEADER_JSON, CLAIMS_JSON.replace('"jti":"1"', '"jti":1')),
        raw_token(HEADER_JSON, CLAIMS_JSON.replace('"iss":"lsp-contoh"', '"iss":""')),
        raw_token(HEADER_JSON, CLAIMS_JSON.replace('"name":"A"', '"name":null')),
        raw_token(HEADER_JSON, CLAIMS_JSON.replace('"job":"B"', '"job":"B\\u0041"')),
        raw_token(HEADER_JSON, CLAIMS_JSON.replace('"name":"A"', '"name":"\\u00e9"')),
        raw_token(HEADER_JSON, CLAIMS_JSON.replace('"name":"A"', f'"name":"{"a" * 101}"')),
        raw_token(HEADER_JSON, CLAIMS_JSON[:-1] + ',"jkc":"me063100"}'),
        raw_token(HEADER_JSON, CLAIMS_JSON, signature=bytes(32)),
        raw_token(HEADER_JSON, CLAIMS_JSON) + "=",
        "not a token at all",
    ],
)
def test_other_tokens_fall_back_to_the_plain_jws(token: str) -> None:
    assert qr_payload.encode_payload(token) == token
    assert qr_payload.decode_payload(token) == token


def test_canonical_version_of_a_fallback_case_is_compact() -> None:
    # Guards the fallback test above: the same claims in canonical form do take the compact path.
    assert_compact_round_trip(raw_token(HEADER_JSON, CLAIMS_JSON))


# --- strict decoding --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def reference_payload() -> str:
    return qr_payload.encode_payload(make_token(signature=FAKE_SIGNATURE))


@pytest.mark.parametrize(
    ("garbage", "message"),
    [
        ("1", "no data"),
        ("10", "canonical|damaged"),
        ("2" + "1" * 300, "version 2"),
        ("0" + "1" * 300, "version 0"),
        ("9", "version 9"),
        ("1" + "9" * 5000, "longer"),
        ("1" * 4001, "longer"),
        ("1" * 100_000, "longer"),
    ],
)
def test_garbage_payload_is_malformed(garbage: str, message: str) -> None:
    with pytest.raises(MalformedToken, match=message):
        qr_payload.decode_payload(garbage)


def test_leading_zero_after_version_is_malformed(reference_payload: str) -> None:
    with pytest.raises(MalformedToken, match="leading zero"):
        qr_payload.decode_payload("10" + reference_payload[1:])


@pytest.mark.parametrize("cut", [1, 2, 5, 50, 200, 349])
def test_truncated_payload_is_malformed(reference_payload: str, cut: int) -> None:
    with pytest.raises(MalformedToken):
        qr_payload.decode_payload(reference_payload[:-cut])


@pytest.mark.parametrize("extra", ["0", "7", "123"])
def test_appended_digits_are_malformed(reference_payload: str, extra: str) -> None:
    with pytest.raises(MalformedToken):
        qr_payload.decode_payload(reference_payload + extra)


def test_value_after_the_last_field_is_malformed() -> None:
    fields = qr_payload._pack_fields(make_token(signature=FAKE_SIGNATURE))
    decoded = qr_payload.decode_payload("1" + str(fields.to_int()))
    assert decoded == make_token(signature=FAKE_SIGNATURE)
    with pytest.raises(MalformedToken, match="after its last field"):
        qr_payload.decode_payload("1" + str(fields.to_int() + fields.capacity()))


def test_flipped_digit_is_malformed(reference_payload: str) -> None:
    for position in range(1, len(reference_payload), 7):
        digit = str((int(reference_payload[position]) + 1) % 10)
        damaged = reference_payload[:position] + digit + reference_payload[position + 1 :]
        with pytest.raises(MalformedToken):
            qr_payload.decode_payload(damaged)


def test_random_digit_strings_are_malformed() -> None:
    rng = random.Random(20250515)
    for _ in range(300):
        garbage = "1" + "".join(rng.choice("0123456789") for _ in range(rng.randint(1, 600)))
        garbage = re.sub(r"^10+", "1", garbage) or "1"
        with pytest.raises(MalformedToken):
            qr_payload.decode_payload(garbage)


@given(st.text(max_size=5000) | st.text(alphabet="0123456789", max_size=5000))
@settings(max_examples=300, deadline=None)
def test_decode_raises_only_malformed_token(text: str) -> None:
    try:
        result = qr_payload.decode_payload(text)
    except MalformedToken:
        return
    assert isinstance(result, str)


def test_non_digit_payload_is_returned_for_verification_to_judge() -> None:
    for payload in ["12a4", "١٢٣", "123 ", "eyJ.eyJ.sig"]:
        assert qr_payload.decode_payload(payload) == payload
    with pytest.raises(MalformedToken):
        jws.parse(qr_payload.decode_payload("12a4"))
    with pytest.raises(MalformedToken, match="empty"):
        qr_payload.decode_payload("")


# --- an independent encoder written from docs/qr-payload.md ----------------------------------

DOC_TEXT = " abcdefghijklmnopqrstuvwxyz0123456789.,'-/()&"
DOC_MIXED = DOC_TEXT + "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
DOC_JTI = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz .-"
EPOCH = 1577836800


def doc_instant(t: int, long_form: bool = False) -> list[tuple[int, int]]:
    if EPOCH <= t < EPOCH + 2**32 and not long_form:
        return [(0, 2), (t - EPOCH, 2**32)]
    return [(1, 2), (t, 2**53 + 1)]


def doc_word(word: str, alphabet: str) -> list[tuple[int, int]]:
    return [(len(word) - 1, 40)] + [(alphabet.index(ch), len(alphabet)) for ch in word]


def doc_text(text: str, rule: int, escape: str = "") -> list[tuple[int, int]]:
    alphabet = DOC_MIXED if rule == 3 else DOC_TEXT
    fields = [(rule, 4), (len(text), 101)]
    folded = "".join(ch.lower() if "A" <= ch <= "Z" else ch for ch in text)
    for ch in text if rule == 3 else folded:
        if ch in alphabet and ch not in escape:
            fields.append((alphabet.index(ch), len(alphabet) + 1))
        else:
            fields += [(len(alphabet), len(alphabet) + 1), (ord(ch), 0x110000)]
    return fields


def doc_encode(token: str, **tweaks: Any) -> str:
    """Version 1 straight from the document; tweaks make deliberately non-canonical choices."""
    header_b64, claims_b64, signature_b64 = token.split(".")
    header = json.loads(jws.b64url_decode(header_b64))
    c = json.loads(jws.b64url_decode(claims_b64))
    digits_only = set(c["jti"]) <= set("0123456789 ") and not tweaks.get("jti_full")
    fields = [(["EdDSA", "ES256"].index(header["alg"]), 2)]
    fields.append((int.from_bytes(jws.b64url_decode(header["kid"]), "big"), 2**96))
    fields += doc_word(c["iss"], "abcdefghijklmnopqrstuvwxyz0123456789-")
    fields += [(0 if digits_only else 1, 2)]
    fields += doc_word(c["jti"], "0123456789 " if digits_only else DOC_JTI)
    fields += doc_instant(c["iat"], tweaks.get("long_iat", False))
    fields += [(0, 2)] if c["nbf"] == c["iat"] else [(1, 2), *doc_instant(c["nbf"])]
    try:
        five_years = credential.add_years(c["nbf"])
    except (ValueError, OverflowError, OSError):  # past year 9999
        five_years = None
    derived = c["exp"] == five_years and not tweaks.get("explicit_exp")
    derived = derived or tweaks.get("derived_exp", False)
    fields += [(0, 2)] if derived else [(1, 2), *doc_instant(c["exp"])]
    name_fields = doc_text(c["name"], tweaks.get("name_rule", 0), tweaks.get("escape", ""))
    fields += tweaks.get("name_fields", name_fields)
    fields += doc_text(c["job"], 0)
    fields.append((c["lvl"] - 1, 9))
    code = c.get("jkc")
    if code is None:
        fields.append((0, 2))
    else:
        fields += [(1, 2), ((ord(code[0]) - 65) * 26 + ord(code[1]) - 65, 676)]
        fields.append((int(code[2:]), 10**6))
    fields.append((int.from_bytes(jws.b64url_decode(signature_b64), "big"), 2**512))
    digest = hashlib.sha256(token.encode()).digest()
    fields.append((tweaks.get("check", (digest[0] * 256 + digest[1]) >> 6), 1024))
    number = 0
    for value, radix in reversed(fields):
        number = number * radix + value
    return "1" + str(number)


def test_document_encoder_agrees_with_the_code() -> None:
    for changes in [
        {},
        {"holder_name": "Ni Luh Putu Ayu Sukmawatí", "job_code": None},
        {"holder_name": "Jean-Pierre (J.P.) Ani/Budi Ma'ruf"},
        {"number": "SKK-7", "valid_from": REFERENCE_START + 1, "job_code": "AZ000001"},
    ]:
        token = make_token(make_credential(**changes))
        assert doc_encode(token) == qr_payload.encode_payload(token)


@pytest.mark.parametrize(
    ("tweak", "message"),
    [
        ({"long_iat": True}, "not in canonical form"),
        ({"explicit_exp": True}, "not in canonical form"),
        ({"jti_full": True}, "not in canonical form"),
        ({"name_rule": 3}, "canonical case rule"),
        ({"escape": "a"}, "needs no escape"),
        ({"check": 0}, "damaged"),
    ],
)
def test_non_canonical_payload_is_malformed(tweak: dict[str, Any], message: str) -> None:
    token = make_token(signature=FAKE_SIGNATURE)
    assert qr_payload.decode_payload(doc_encode(token)) == token
    if tweak == {"check": 0}:
        tweak = {"check": 1 if qr_payload.check_value(token) == 0 else 0}
    with pytest.raises(MalformedToken, match=message):
        qr_payload.decode_payload(doc_encode(token, **tweak))


@pytest.mark.parametrize(("code_point", "message"), [(0xD800, "surrogate"), (0x41, "no escape")])
def test_needless_or_impossible_escape_is_malformed(code_point: int, message: str) -> None:
    token = make_token(signature=FAKE_SIGNATURE)
    escaped = [(0, 4), (1, 101), (len(DOC_TEXT), len(DOC_TEXT) + 1), (code_point, 0x110000)]
    with pytest.raises(MalformedToken, match=message):
        qr_payload.decode_payload(doc_encode(token, name_fields=escaped))


def test_exp_derived_past_the_calendar_is_malformed() -> None:
    late = make_credential(issued_at=2**53 - 9, valid_from=2**53 - 9, expires_at=2**53)
    token = make_token(late, signature=FAKE_SIGNATURE)
    assert qr_payload.decode_payload(doc_encode(token)) == token
    with pytest.raises(MalformedToken, match="exp"):
        qr_payload.decode_payload(doc_encode(token, derived_exp=True))


def test_document_test_vector_matches() -> None:
    token = make_token(signature=FAKE_SIGNATURE)
    doc = re.sub(r"\s+", "", DOC.read_text(encoding="utf-8"))
    assert token in doc
    assert qr_payload.encode_payload(token) in doc


# --- property: every valid credential round-trips ----------------------------------------------

FORBIDDEN = ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp")
LATIN = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ '.-,éíñüÉ"


def valid_text(value: str) -> bool:
    try:
        credential.check_text(value, "text")
    except ValueError:
        return False
    return True


def valid_number(value: str) -> bool:
    try:
        credential.check_number(value)
    except ValueError:
        return False
    return True


texts = (
    (
        st.text(alphabet=LATIN, min_size=1, max_size=100)
        | st.text(st.characters(blacklist_categories=FORBIDDEN), min_size=1, max_size=100)
    )
    .map(lambda s: unicodedata.normalize("NFC", s))
    .filter(valid_text)
)


@st.composite
def credentials(draw: st.DrawFn) -> Credential:
    iat = draw(st.integers(0, 2**53 - 1) | st.integers(EPOCH - 10, EPOCH + 2**32 + 10))
    nbf = draw(st.just(iat) | st.integers(0, 2**53 - 1))
    derived = qr_payload._five_years_after(nbf)
    exp_choices = st.integers(nbf + 1, min(nbf + credential.MAX_VALIDITY_SECONDS, 2**53))
    exp = draw(exp_choices if derived is None else st.just(derived) | exp_choices)
    number = st.from_regex(credential.NUMBER_RE, fullmatch=True).map(credential.canonical_number)
    return Credential(
        agency_id=draw(st.from_regex(credential.AGENCY_ID_RE, fullmatch=True)),
        number=draw(number.filter(valid_number)),
        holder_name=draw(texts),
        job_title=draw(texts),
        job_code=draw(st.none() | st.from_regex(credential.JOB_CODE_RE, fullmatch=True)),
        level=draw(st.integers(1, 9)),
        issued_at=iat,
        valid_from=nbf,
        expires_at=exp,
    )


@given(
    cred=credentials(),
    alg=st.sampled_from(credential.ALGORITHMS),
    signature=st.binary(min_size=64, max_size=64),
)
@settings(max_examples=200, deadline=None)
def test_every_valid_credential_round_trips_compact(
    cred: Credential, alg: str, signature: bytes
) -> None:
    assert_compact_round_trip(make_token(cred, alg=alg, signature=signature))


# --- URLs ----------------------------------------------------------------------------------


def test_credential_url_upper_cases_scheme_and_host_only() -> None:
    token = make_token()
    payload = qr_payload.encode_payload(token)
    assert links.credential_url(BASE_URL, token) == f"HTTPS://SERTIFIKAT.EXAMPLE.ID/V/{payload}"
    assert (
        links.credential_url("http://127.0.0.1:8000", token) == f"HTTP://127.0.0.1:8000/V/{payload}"
    )
    assert links.credential_url("https://x.id/skk/", token) == f"HTTPS://X.ID/skk/V/{payload}"


def test_credential_url_carries_a_fallback_jws_unchanged() -> None:
    token = raw_token(HEADER_JSON, CLAIMS_JSON[:-1] + ',"org":"x"}')
    assert links.credential_url(BASE_URL, token) == f"HTTPS://SERTIFIKAT.EXAMPLE.ID/V/{token}"


@pytest.mark.parametrize("base", ["sertifikat.example.id", "https://", "https://x.id?a=1", ""])
def test_credential_url_refuses_a_base_without_scheme_and_host(base: str) -> None:
    with pytest.raises(InvalidInput, match="base URL"):
        links.credential_url(base, make_token())


@pytest.fixture(scope="module")
def token_and_payload() -> tuple[str, str]:
    token = make_token(signature=FAKE_SIGNATURE)
    return token, qr_payload.encode_payload(token)


@pytest.mark.parametrize(
    "template",
    [
        "{token}",
        "{payload}",
        "  {payload}\n",
        "https://sertifikat.example.id/v/{payload}",
        "HTTPS://SERTIFIKAT.EXAMPLE.ID/V/{payload}",
        "http://127.0.0.1:8000/v/{token}",
        "https://other.example/skk/v/{payload}?utm_source=wa#top",
        "https://other.example/v/old/V/{payload}#x",
        "https://other.example/v/v/{payload}",
        "\thttp://localhost/V/{token}?lang=en ",
    ],
)
def test_extract_token(template: str, token_and_payload: tuple[str, str]) -> None:
    token, payload = token_and_payload
    assert links.extract_token(template.format(token=token, payload=payload)) == token


def test_extract_token_refuses_a_damaged_payload(token_and_payload: tuple[str, str]) -> None:
    with pytest.raises(MalformedToken):
        links.extract_token(f"https://x.id/v/{token_and_payload[1][:-3]}")
    with pytest.raises(MalformedToken):
        links.extract_token("https://x.id/v/")


# --- QR symbols and images ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def reference_url() -> str:
    return links.credential_url(BASE_URL, make_token())


def test_reference_credential_qr_is_level_q_and_small(reference_url: str) -> None:
    symbol = render.make_qr(reference_url)
    assert symbol.error == "Q"
    assert symbol.version == render.qr_version(reference_url) <= 13
    plain = f"{BASE_URL}/v/{make_token()}"
    assert render.qr_version(plain) > render.qr_version(reference_url) + 5


def test_qr_error_level_is_never_boosted() -> None:
    # These leave room for H in the same version; with boost_error segno would raise the level.
    assert render.make_qr("HTTPS://X.ID/ABCD").designator == "2-Q"
    assert render.make_qr("HTTPS://X.ID/V/ABCD").designator == "2-Q"


def test_qr_url_too_long_is_invalid_input() -> None:
    with pytest.raises(InvalidInput, match="too long"):
        render.make_qr("https://x.id/v/" + "a" * 3000)


URLS = [
    "reference",
    "HTTP://127.0.0.1:8000/V/123456789",
    "HTTPS://X.ID/skk/V/1234",
    f"HTTPS://X.ID/V/{raw_token(HEADER_JSON, CLAIMS_JSON)}",
    "https://x.id/v/ünïcödé",
    "no verify path at all",
]


@pytest.mark.parametrize("url", URLS)
def test_png_decodes_to_the_exact_url(url: str, reference_url: str, tmp_path: Path) -> None:
    url = reference_url if url == "reference" else url
    path = tmp_path / "qr.png"
    path.write_bytes(render.qr_png(url))
    assert scan.read_qr_image(path) == url
    small = tmp_path / "small.png"
    small.write_bytes(render.qr_png(url, scale=3))
    assert scan.read_qr_image(small) == url


@pytest.mark.parametrize("name", ["qr.png", "QR.PNG"])
def test_write_qr_png_decodes_to_the_exact_url(
    name: str, reference_url: str, tmp_path: Path
) -> None:
    path = tmp_path / name
    render.write_qr(reference_url, path)
    assert path.read_bytes().startswith(b"\x89PNG")
    assert scan.read_qr_image(path) == reference_url


def test_write_qr_svg_is_an_svg_document(reference_url: str, tmp_path: Path) -> None:
    svg = render.qr_svg(reference_url)
    assert svg.startswith("<?xml")
    assert re.search(r"<svg[^>]*xmlns=\"http://www.w3.org/2000/svg\"", svg)
    assert svg.rstrip().endswith("</svg>")
    path = tmp_path / "qr.svg"
    render.write_qr(reference_url, path)
    assert path.read_text(encoding="utf-8") == svg


@pytest.mark.parametrize("name", ["qr.jpg", "qr", "qr.svg.txt"])
def test_write_qr_refuses_other_suffixes(name: str, tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match=re.escape(Path(name).suffix or "no suffix")):
        render.write_qr("HTTPS://X.ID/V/1", tmp_path / name)
    assert not (tmp_path / name).exists()


def test_write_qr_to_a_missing_folder_is_unreadable_input(tmp_path: Path) -> None:
    with pytest.raises(UnreadableInput, match="cannot write"):
        render.write_qr("HTTPS://X.ID/V/1", tmp_path / "missing" / "qr.png")


def test_transparent_png_is_read(reference_url: str, tmp_path: Path) -> None:
    path = tmp_path / "transparent.png"
    render.make_qr(reference_url).save(str(path), kind="png", scale=6, border=4, light=None)
    assert scan.read_qr_image(path) == reference_url


def test_png_without_qr_is_unreadable(tmp_path: Path) -> None:
    path = tmp_path / "blank.png"
    Image.new("RGB", (300, 300), "white").save(path)
    with pytest.raises(UnreadableInput, match="no QR code"):
        scan.read_qr_image(path)


@pytest.mark.parametrize(
    "content", [b"", b"hello, not an image\n", b"\x89PNG\r\n\x1a\n" + b"\x00" * 40]
)
def test_non_image_is_unreadable(content: bytes, tmp_path: Path) -> None:
    path = tmp_path / "file.png"
    path.write_bytes(content)
    with pytest.raises(UnreadableInput, match="not a readable image"):
        scan.read_qr_image(path)


def png_header(width: int, height: int) -> bytes:
    """The start of a PNG claiming the given size; enough for Image.open to judge it."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0"))


@pytest.mark.parametrize("side", [8000, 12000, 20000])
def test_decompression_bomb_is_refused(side: int, tmp_path: Path) -> None:
    path = tmp_path / "bomb.png"
    path.write_bytes(png_header(side, side))
    with pytest.raises(UnreadableInput, match="too large"):
        scan.read_qr_image(path)


def test_svg_file_is_unreadable(reference_url: str, tmp_path: Path) -> None:
    path = tmp_path / "qr.svg"
    render.write_qr(reference_url, path)
    with pytest.raises(UnreadableInput):
        scan.read_qr_image(path)


def test_missing_file_and_folder_are_unreadable(tmp_path: Path) -> None:
    with pytest.raises(UnreadableInput, match="not found"):
        scan.read_qr_image(tmp_path / "missing.png")
    with pytest.raises(UnreadableInput, match="cannot read"):
        scan.read_qr_image(tmp_path)


def test_verify_link_is_preferred_over_another_qr(reference_url: str, tmp_path: Path) -> None:
    other = Image.open(qr_png_file(tmp_path / "other.png", "https://example.com/about"))
    ours = Image.open(qr_png_file(tmp_path / "ours.png", reference_url))
    sheet = Image.new("RGB", (other.width + ours.width, max(other.height, ours.height)), "white")
    sheet.paste(other.convert("RGB"), (0, 0))
    sheet.paste(ours.convert("RGB"), (other.width, 0))
    sheet.save(tmp_path / "sheet.png")
    assert scan.read_qr_image(tmp_path / "sheet.png") == reference_url


def qr_png_file(path: Path, url: str) -> Path:
    path.write_bytes(render.qr_png(url, scale=6))
    return path

"""verifier.core.jws alone: strict base64url, strict JSON objects, compact parsing, serialising."""

from __future__ import annotations

import base64
import binascii

import pytest

from verifier.core import jws
from verifier.core.jws import MalformedToken

HEADER = {"alg": "EdDSA", "kid": "AAAAAAAAAAAAAAAA", "typ": "skk+jwt"}
PAYLOAD = {"iss": "lsp-contoh", "jti": "SKK 1", "iat": 1_768_435_200, "name": "Rina Marlina"}
SIGNATURE = bytes(range(64))


# --- b64url_decode -------------------------------------------------------------------------


@pytest.mark.parametrize("data", [b"", b"A", b"AB", b"ABC", b"\xff\xfe\xfd\xfc", SIGNATURE])
def test_b64url_round_trip(data: bytes) -> None:
    encoded = jws.b64url_encode(data)
    assert "=" not in encoded
    assert jws.b64url_decode(encoded) == data


@pytest.mark.parametrize(
    "segment",
    [
        pytest.param("QQ==", id="padding-two"),
        pytest.param("QUI=", id="padding-one"),
        pytest.param("QQ=", id="padding-short"),
        pytest.param("====", id="only-padding"),
        pytest.param("+/8", id="standard-alphabet-plus-slash"),
        pytest.param("a+b", id="plus"),
        pytest.param("a/b", id="slash"),
        pytest.param("QUJD" + "Q", id="length-mod-4-is-1"),
        pytest.param("Q", id="single-char"),
        pytest.param("QR", id="non-canonical-bits-4"),
        pytest.param("QUJ", id="non-canonical-bits-2"),
        pytest.param("QQ\n", id="newline"),
        pytest.param(" QQ", id="leading-space"),
        pytest.param("Q Q", id="inner-space"),
        pytest.param("QQ.", id="dot"),
        pytest.param("ＱＱ", id="fullwidth-letters"),
        pytest.param("QQ\x00", id="nul"),
    ],
)
def test_b64url_decode_refuses(segment: str) -> None:
    with pytest.raises(MalformedToken):
        jws.b64url_decode(segment)


def test_b64url_canonical_twin_is_accepted() -> None:
    # "QR" is the non-canonical twin of "QQ" (both decode to b"A"); only "QQ" is accepted.
    assert jws.b64url_decode("QQ") == b"A"
    assert jws.b64url_decode("QUI") == b"AB"


@pytest.mark.parametrize("length", range(1, 9))
def test_b64url_accepts_exactly_the_strings_its_decoding_encodes_back_to(length: int) -> None:
    # Every possible last character after every shape of prefix: accepted iff canonical.
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    for last in alphabet:
        segment = "Qm9v"[: length - 1] + "Zm9vYmFy"[: max(0, length - 5)] + last
        padded = segment + "=" * (-len(segment) % 4)
        try:
            canonical = jws.b64url_encode(base64.urlsafe_b64decode(padded)) == segment
        except binascii.Error:
            canonical = False  # length 1 mod 4: no bytes have that length
        try:
            accepted = jws.b64url_decode(segment) is not None
        except MalformedToken:
            accepted = False
        assert accepted is canonical, segment


def test_b64url_decode_names_the_segment() -> None:
    with pytest.raises(MalformedToken, match="payload"):
        jws.b64url_decode("QQ==", "payload")


# --- parse_json_object ---------------------------------------------------------------------


def test_parse_json_object_accepts_plain_object() -> None:
    data = '{"a": 1, "b": [true, null, "é"], "c": {"d": -9007199254740992}}'.encode()
    assert jws.parse_json_object(data, "payload") == {
        "a": 1,
        "b": [True, None, "é"],
        "c": {"d": -(2**53)},
    }


def test_parse_json_object_accepts_surrogate_pair_escape() -> None:
    assert jws.parse_json_object(b'{"a": "\\ud83d\\ude00"}', "payload") == {"a": "\U0001f600"}


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b'{"a": 1, "a": 1}', id="duplicate-same-value"),
        pytest.param(b'{"a": 1, "a": 2}', id="duplicate-other-value"),
        pytest.param(b'{"a": {"b": 1, "b": 2}}', id="duplicate-nested"),
        pytest.param(b'{"a": [{"b": 1, "b": 2}]}', id="duplicate-in-list"),
        pytest.param(b'{"a": NaN}', id="nan"),
        pytest.param(b'{"a": Infinity}', id="infinity"),
        pytest.param(b'{"a": -Infinity}', id="minus-infinity"),
        pytest.param(b'{"a": [NaN]}', id="nan-nested"),
        pytest.param(b'\xef\xbb\xbf{"a": 1}', id="utf8-bom"),
        pytest.param('{"a": 1}'.encode("utf-16"), id="utf16-with-bom"),
        pytest.param('{"a": 1}'.encode("utf-16-le"), id="utf16-le"),
        pytest.param('{"a": 1}'.encode("utf-32"), id="utf32"),
        pytest.param(b'{"a": "\xff"}', id="invalid-utf8"),
        pytest.param(b'{"a": "\xc0\xaf"}', id="overlong-utf8"),
        pytest.param(b'{"a": "\xed\xa0\x80"}', id="cesu8-surrogate"),
        pytest.param(b'{"\\ud800": 1}', id="lone-surrogate-key"),
        pytest.param(b'{"a": "\\ud800"}', id="lone-surrogate-value"),
        pytest.param(b'{"a": "x\\udc00y"}', id="lone-low-surrogate-value"),
        pytest.param(b'{"a": ["\\ud800"]}', id="lone-surrogate-in-list"),
        pytest.param(b'{"a": {"\\udfff": 1}}', id="lone-surrogate-nested-key"),
        pytest.param(b'{"a": 12345678901234567}', id="int-17-digits"),
        pytest.param(b'{"a": -12345678901234567}', id="negative-int-17-digits"),
        pytest.param(b'{"a": ' + b"9" * 5000 + b"}", id="int-5000-digits"),
        pytest.param(b'{"a": 1', id="truncated"),
        pytest.param(b'{"a": 1,}', id="trailing-comma"),
        pytest.param(b"{'a': 1}", id="single-quotes"),
        pytest.param(b"", id="empty"),
        pytest.param(b"[]", id="top-level-array"),
        pytest.param(b"1", id="top-level-number"),
        pytest.param(b'"a"', id="top-level-string"),
        pytest.param(b"null", id="top-level-null"),
        pytest.param(b"true", id="top-level-bool"),
        pytest.param(b"[" * 5000 + b"]" * 5000, id="deep-array-5000"),
        pytest.param(b'{"a":' * 5000 + b"1" + b"}" * 5000, id="deep-object-5000"),
        pytest.param(b'{"a":' + b"[" * 100_000 + b"]" * 100_000 + b"}", id="deep-array-100000"),
    ],
)
def test_parse_json_object_refuses(data: bytes) -> None:
    with pytest.raises(MalformedToken):
        jws.parse_json_object(data, "payload")


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b'{"a": 1e400}', id="plus"),
        pytest.param(b'{"a": -1e400}', id="minus"),
    ],
)
def test_parse_json_object_refuses_float_overflowing_to_infinity(data: bytes) -> None:
    """1e400 is Infinity in Python: the same value rule 1 refuses when spelled ``Infinity``."""
    with pytest.raises(MalformedToken):
        jws.parse_json_object(data, "payload")


def test_parse_json_object_bounds_int_digits() -> None:
    assert jws.parse_json_object(b'{"a": 9999999999999999}', "payload") == {"a": 10**16 - 1}
    assert jws.parse_json_object(b'{"a": -9999999999999999}', "payload") == {"a": 1 - 10**16}


def test_parse_json_object_error_names_the_part() -> None:
    with pytest.raises(MalformedToken, match="header"):
        jws.parse_json_object(b"[]", "header")


# --- parse -----------------------------------------------------------------------------------


def _token(header: dict | None = None, payload: dict | None = None) -> str:
    return jws.serialize(header or HEADER, payload or PAYLOAD, SIGNATURE)


def test_parse_returns_parts() -> None:
    token = _token()
    parsed = jws.parse(token)
    assert parsed.header == HEADER
    assert parsed.payload == PAYLOAD
    assert parsed.signature == SIGNATURE
    assert parsed.signing_input == token.rsplit(".", 1)[0].encode("ascii")


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda t: "", id="empty"),
        pytest.param(lambda t: t.rsplit(".", 1)[0], id="two-segments"),
        pytest.param(lambda t: t + ".", id="four-segments"),
        pytest.param(lambda t: t + "." + t, id="six-segments"),
        pytest.param(lambda t: t.replace(".", ""), id="one-segment"),
        pytest.param(lambda t: "..", id="three-empty-segments"),
        pytest.param(lambda t: t + "=", id="padded-signature"),
        pytest.param(lambda t: " " + t, id="leading-space"),
        pytest.param(lambda t: t + "\n", id="trailing-newline"),
    ],
)
def test_parse_refuses_bad_shape(make) -> None:
    with pytest.raises(MalformedToken):
        jws.parse(make(_token()))


def test_parse_accepts_empty_signature() -> None:
    # An empty third segment is well formed; rule 4 rejects it (64-byte signatures only).
    signing_input = _token().rsplit(".", 1)[0]
    assert jws.parse(signing_input + ".").signature == b""


def _token_of_length(length: int) -> str:
    for filler in range(length):
        token = _token(payload={**PAYLOAD, "x": "a" * filler})
        if len(token) >= length - 2:
            break
    signing_input = token.rsplit(".", 1)[0]
    for size in range(64, 80):
        candidate = f"{signing_input}.{jws.b64url_encode(bytes(size))}"
        if len(candidate) == length:
            return candidate
    raise AssertionError(f"no token of length {length}")


def test_parse_max_token_length_boundary() -> None:
    longest = _token_of_length(jws.MAX_TOKEN_LENGTH)
    assert jws.parse(longest).payload["iss"] == "lsp-contoh"
    with pytest.raises(MalformedToken, match="too long"):
        jws.parse(_token_of_length(jws.MAX_TOKEN_LENGTH + 1))


def test_parse_refuses_megabyte_token_before_splitting() -> None:
    with pytest.raises(MalformedToken, match="too long"):
        jws.parse("." * 1_000_000)


# --- canonical_json / serialize -------------------------------------------------------------


def test_canonical_json_is_compact_utf8_in_insertion_order() -> None:
    data = jws.canonical_json({"z": 1, "a": "Zoë", "m": [1, 2]})
    assert data == '{"z":1,"a":"Zoë","m":[1,2]}'.encode()


def test_canonical_json_refuses_nan() -> None:
    with pytest.raises(ValueError):
        jws.canonical_json({"a": float("nan")})


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param(PAYLOAD, id="reference"),
        pytest.param({**PAYLOAD, "name": "Ñoño Çağrı 王小明"}, id="non-ascii"),
        pytest.param({"b": 1, "a": 2}, id="unsorted"),
        pytest.param({}, id="empty"),
    ],
)
def test_serialize_parse_round_trip(payload: dict) -> None:
    token = jws.serialize(HEADER, payload, SIGNATURE)
    parsed = jws.parse(token)
    assert (parsed.header, parsed.payload, parsed.signature) == (HEADER, payload, SIGNATURE)
    assert list(parsed.payload) == list(payload)
    assert parsed.signing_input == jws.signing_input(HEADER, payload)
    assert jws.serialize(parsed.header, parsed.payload, parsed.signature) == token

"""Attack regressions: RFC 8725 (JWT BCP), PyJWT's CVE history and its parsing laxness.

Every hostile token is built by hand from a genuine credential. Where an attack needs a valid
signature over the altered bytes, the token is re-signed with the agency's own private key (loaded
from the store), so the only fault left is the one under test.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.x509.oid import NameOID

from tests.helpers import DAY, NOW
from verifier.core import keys
from verifier.core.jws import b64url_decode, b64url_encode
from verifier.core.keys import ED25519_ORDER, P256_ORDER, SigningKey
from verifier.issuance.keystore import PrivateKeyStore
from verifier.store import revocation
from verifier.verification import VerificationService

B64_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


@dataclass
class Genuine:
    """A genuine credential of lsp-contoh, split into its parts, with the key that signed it."""

    token: str
    header_b64: str
    payload_b64: str
    signature_b64: str
    header: dict[str, Any]
    claims: dict[str, Any]
    key: SigningKey

    @property
    def kid(self) -> str:
        return self.header["kid"]

    @property
    def signature(self) -> bytes:
        return b64url_decode(self.signature_b64)


def split(token: str, key: SigningKey) -> Genuine:
    header_b64, payload_b64, signature_b64 = token.split(".")
    header = json.loads(b64url_decode(header_b64))
    claims = json.loads(b64url_decode(payload_b64))
    return Genuine(token, header_b64, payload_b64, signature_b64, header, claims, key)


@pytest.fixture
def genuine(contoh, issue, store: PrivateKeyStore) -> Genuine:
    return split(issue().token, store.load(contoh.kid))


@pytest.fixture
def status(service: VerificationService) -> Callable[[str], str]:
    """The status of a token verified at NOW."""
    return lambda token: service.verify(token, at=NOW).status.value


def b64json(value: Any) -> str:
    """base64url of a JSON value, or of bytes given as they are."""
    data = value if isinstance(value, bytes) else json.dumps(value).encode()
    return b64url_encode(data)


def signed(header_b64: str, payload_b64: str, key: SigningKey) -> str:
    """A token whose signature is genuinely ``key``'s over exactly these two segments."""
    signature = key.sign(f"{header_b64}.{payload_b64}".encode("ascii"))
    return f"{header_b64}.{payload_b64}.{b64url_encode(signature)}"


def with_literal(claims: dict[str, Any], name: str, literal: str) -> bytes:
    """The claims as JSON with one member's value replaced by a raw JSON literal."""
    return json.dumps({**claims, name: "@@"}).replace('"@@"', literal).encode()


def public_raw(key: SigningKey) -> bytes:
    return b64url_decode(key.verifying_key().jwk["x"])


def public_pem(key: SigningKey) -> bytes:
    public = ed25519.Ed25519PublicKey.from_public_bytes(public_raw(key))
    return public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def test_genuine_token_is_valid(genuine: Genuine, status) -> None:
    assert status(genuine.token) == "valid"


def test_resigned_control_is_valid(genuine: Genuine, status) -> None:
    """The re-signing helpers add no fault: reordered, spaced, extra-claim JSON verifies."""
    claims = {**dict(reversed(genuine.claims.items())), "x-note": "ignored"}
    header = dict(reversed(genuine.header.items()))
    token = signed(
        b64json(header), b64url_encode(json.dumps(claims, indent=2).encode()), genuine.key
    )
    assert token != genuine.token
    assert status(token) == "valid"


# --- RFC 8725 §2.1 / §3.1: algorithm confusion ----------------------------------------------


@pytest.mark.parametrize("alg", ["none", "None", "NONE", "nOnE"])
@pytest.mark.parametrize("signature", ["empty", "original"])
def test_alg_none_rejected(genuine: Genuine, status, alg: str, signature: str) -> None:
    header = b64json({"alg": alg, "kid": genuine.kid, "typ": "skk+jwt"})
    sig = "" if signature == "empty" else genuine.signature_b64
    assert status(f"{header}.{genuine.payload_b64}.{sig}") == "malformed"


@pytest.mark.parametrize(
    "secret",
    [
        pytest.param(public_raw, id="raw-public-key"),
        pytest.param(public_pem, id="pem-public-key"),
        pytest.param(
            lambda key: json.dumps(key.verifying_key().jwk).encode(), id="jwk-json-public-key"
        ),
    ],
)
def test_alg_hs256_keyed_with_public_key_rejected(genuine: Genuine, status, secret) -> None:
    """CVE-2017-11424 / CVE-2022-29217: HMAC keyed with the published public key."""
    header_b64 = b64json({"alg": "HS256", "kid": genuine.kid, "typ": "skk+jwt"})
    signing_input = f"{header_b64}.{genuine.payload_b64}".encode("ascii")
    mac = hmac.new(secret(genuine.key), signing_input, hashlib.sha256).digest()
    assert status(f"{signing_input.decode()}.{b64url_encode(mac)}") == "malformed"


@pytest.mark.parametrize("alg", ["Ed25519", "EDDSA", "eddsa", "EdDSA ", "Ed448"])
def test_alg_eddsa_spelled_ed25519_rejected(genuine: Genuine, status, alg: str) -> None:
    header_b64 = b64json({"alg": alg, "kid": genuine.kid, "typ": "skk+jwt"})
    assert status(signed(header_b64, genuine.payload_b64, genuine.key)) == "malformed"


@pytest.mark.parametrize(
    "alg", ["HS512", "RS256", "PS256", "ES384", "ES512", "ES256K", "", None, ["EdDSA"]]
)
def test_alg_outside_allowlist_rejected(genuine: Genuine, status, alg: Any) -> None:
    header_b64 = b64json({"alg": alg, "kid": genuine.kid, "typ": "skk+jwt"})
    assert status(signed(header_b64, genuine.payload_b64, genuine.key)) == "malformed"


# --- RFC 8725 §3.10 / RFC 7515 §4.1: keys and URLs embedded in the header ----------------


def self_signed_certificate(private: ed25519.Ed25519PrivateKey) -> str:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "lsp-contoh")])
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(private.public_key())
        .serial_number(1)
        .not_valid_before(datetime(2025, 1, 1, tzinfo=UTC))
        .not_valid_after(datetime(2035, 1, 1, tzinfo=UTC))
        .sign(private, None)
    )
    der = certificate.public_bytes(serialization.Encoding.DER)
    return base64.b64encode(der).decode("ascii")  # x5c is standard base64 (RFC 7515 §4.1.6)


@pytest.mark.parametrize("member", ["jwk", "jku", "x5u", "x5c"])
@pytest.mark.parametrize("with_kid", [True, False], ids=["with-kid", "instead-of-kid"])
def test_embedded_key_header_rejected(
    genuine: Genuine, status, member: str, with_kid: bool
) -> None:
    """The attacker signs with their own key and points the header at it (CVE-2018-0114)."""
    private = ed25519.Ed25519PrivateKey.generate()
    attacker = SigningKey(private)
    values = {
        "jwk": attacker.verifying_key().jwk,
        "jku": "https://evil.example/.well-known/jwks.json",
        "x5u": "https://evil.example/cert.pem",
        "x5c": [self_signed_certificate(private)],
    }
    header: dict[str, Any] = {"alg": "EdDSA", "typ": "skk+jwt", member: values[member]}
    if with_kid:
        header["kid"] = genuine.kid
    assert status(signed(b64json(header), genuine.payload_b64, attacker)) == "malformed"


@pytest.mark.parametrize(
    "extra",
    [
        pytest.param({"crit": ["exp"]}, id="crit"),
        pytest.param({"crit": ["x-skk"], "x-skk": True}, id="crit-with-member"),
        pytest.param({"crit": []}, id="crit-empty"),
        pytest.param({"b64": False, "crit": ["b64"]}, id="crit-b64-unencoded"),
        pytest.param({"zip": "DEF"}, id="zip"),
        pytest.param({"cty": "JWT"}, id="cty-nested"),
    ],
)
def test_crit_header_rejected(genuine: Genuine, status, extra: dict[str, Any]) -> None:
    header_b64 = b64json({**genuine.header, **extra})
    assert status(signed(header_b64, genuine.payload_b64, genuine.key)) == "malformed"


# --- kid injection ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kid",
    [
        pytest.param("../../../../etc/passwd", id="traversal"),
        pytest.param("../../etc/passwd", id="traversal-16-chars"),
        pytest.param("/dev/null", id="absolute-path"),
        pytest.param("..\\..\\..\\win.ini", id="traversal-backslash"),
        pytest.param("AAAAAAAAAAAAAAA\x00", id="nul-16-chars"),
        pytest.param("' OR '1'='1", id="sql-or"),
        pytest.param("' OR '1'='1' -- ", id="sql-or-16-chars"),
        pytest.param("x'; DROP TABLE k", id="sql-drop-16-chars"),
        pytest.param("AAAAAAAAAAAAAAA", id="15-chars"),
        pytest.param("AAAAAAAAAAAAAAAAA", id="17-chars"),
        pytest.param("AAAAAAAAAAAAAAA=", id="padding-16-chars"),
        pytest.param("", id="empty"),
        pytest.param(None, id="null"),
        pytest.param(1234567890123456, id="number"),
    ],
)
def test_kid_injection_rejected(genuine: Genuine, status, kid: Any) -> None:
    header_b64 = b64json({"alg": "EdDSA", "kid": kid, "typ": "skk+jwt"})
    assert status(signed(header_b64, genuine.payload_b64, genuine.key)) == "malformed"


def test_kid_injection_cases_of_16_chars_are_16_chars() -> None:
    for kid in ("../../etc/passwd", "' OR '1'='1' -- ", "x'; DROP TABLE k", "AAAAAAAAAAAAAAA="):
        assert len(kid) == 16


@pytest.mark.parametrize("kid", ["AAAAAAAAAAAAAAAA", "etc-passwd_0123-", "ORDER-BY-1-----_"])
def test_unknown_kid_rejected(genuine: Genuine, status, kid: str) -> None:
    header_b64 = b64json({"alg": "EdDSA", "kid": kid, "typ": "skk+jwt"})
    assert status(signed(header_b64, genuine.payload_b64, genuine.key)) == "unknown_key"


def test_kid_case_changed_rejected(genuine: Genuine, status) -> None:
    kid = genuine.kid.swapcase()
    if kid == genuine.kid:
        pytest.skip("kid has no letters")
    header_b64 = b64json({"alg": "EdDSA", "kid": kid, "typ": "skk+jwt"})
    assert status(signed(header_b64, genuine.payload_b64, genuine.key)) == "unknown_key"


# --- signature forgeries ---------------------------------------------------------------------


@pytest.fixture
def es256_genuine(make_agency, make_key, issue, store: PrivateKeyStore) -> Genuine:
    make_agency("lsp-es", name="LSP ES")
    key = make_key("lsp-es", alg="ES256")
    return split(issue(agency_id="lsp-es").token, store.load(key.kid))


@pytest.mark.parametrize(
    ("r", "s"),
    [
        pytest.param(0, 0, id="r=s=0"),
        pytest.param(0, None, id="r=0"),
        pytest.param(None, 0, id="s=0"),
        pytest.param(P256_ORDER, P256_ORDER, id="r=s=n"),
        pytest.param(None, P256_ORDER, id="s=n"),
        pytest.param(1, 1, id="r=s=1"),
    ],
)
def test_ecdsa_psychic_signature_rejected(es256_genuine: Genuine, status, r, s) -> None:
    """CVE-2022-21449: (r, s) = (0, 0) verified anything in Java 15-18; and r or s = n."""
    assert status(es256_genuine.token) == "valid"
    signature = es256_genuine.signature
    r_bytes = signature[:32] if r is None else r.to_bytes(32, "big")
    s_bytes = signature[32:] if s is None else s.to_bytes(32, "big")
    forged = f"{es256_genuine.header_b64}.{es256_genuine.payload_b64}."
    assert status(forged + b64url_encode(r_bytes + s_bytes)) == "bad_signature"


def test_ecdsa_high_s_twin_is_a_second_spelling(es256_genuine: Genuine, status) -> None:
    """(r, n - s) is also a valid ECDSA signature; it verifies, and revocation still applies."""
    signature = es256_genuine.signature
    s = int.from_bytes(signature[32:], "big")
    twin = signature[:32] + (P256_ORDER - s).to_bytes(32, "big")
    token = f"{es256_genuine.header_b64}.{es256_genuine.payload_b64}.{b64url_encode(twin)}"
    assert status(token) == "valid"
    number = es256_genuine.claims["jti"]
    revocation.revoke("lsp-es", number, "fraud", note=None, actor="t", now=NOW)
    assert status(token) == "revoked"


def test_ed25519_signature_malleability_rejected(genuine: Genuine, status) -> None:
    """RFC 8032 §5.1.7: S + L verifies in lax implementations; S must be < L."""
    signature = genuine.signature
    s = int.from_bytes(signature[32:], "little") + ED25519_ORDER
    assert s < 2**256  # S < L < 2**253, so S + L always fits 32 bytes
    malleated = signature[:32] + s.to_bytes(32, "little")
    token = f"{genuine.header_b64}.{genuine.payload_b64}.{b64url_encode(malleated)}"
    assert status(token) == "bad_signature"


@pytest.mark.parametrize(
    ("strip", "expected"),
    [
        # "h.p." has three segments; the empty third is valid base64url of zero bytes, so rule 1
        # passes and rule 4 fails: no 64-byte signature verifies.
        pytest.param(lambda g: f"{g.header_b64}.{g.payload_b64}.", "bad_signature", id="empty"),
        # "h.p" has two segments: not a compact JWS at all (RFC 7515 §7.1), rule 1.
        pytest.param(lambda g: f"{g.header_b64}.{g.payload_b64}", "malformed", id="dot-removed"),
        pytest.param(
            lambda g: f"{g.header_b64}.{g.payload_b64}.{b64url_encode(bytes(64))}",
            "bad_signature",
            id="zeroed",
        ),
        pytest.param(
            lambda g: f"{g.header_b64}.{g.payload_b64}.{b64url_encode(g.signature[:-1])}",
            "bad_signature",
            id="truncated",
        ),
        pytest.param(
            lambda g: f"{g.header_b64}.{g.payload_b64}.{b64url_encode(g.signature + bytes(1))}",
            "bad_signature",
            id="extended",
        ),
    ],
)
def test_signature_stripped_rejected(genuine: Genuine, status, strip, expected: str) -> None:
    assert status(strip(genuine)) == expected


# --- revocation cannot be dodged by re-serialising -----------------------------------------


@pytest.mark.parametrize("signer", ["same-key", "newer-key"])
def test_revoked_credential_reserialised(
    genuine: Genuine, status, make_key, store: PrivateKeyStore, signer: str
) -> None:
    """Revocation is keyed by (iss, jti), not by token bytes: every genuine spelling fails."""
    key = genuine.key
    if signer == "newer-key":
        key = store.load(make_key(at=NOW).kid)  # rotation; the old key is retired at NOW
    header = {"typ": "skk+jwt", "kid": key.kid, "alg": key.alg}
    claims = dict(sorted(genuine.claims.items(), reverse=True))
    payload_b64 = b64url_encode(json.dumps(claims, indent="\t").encode())
    token = signed(b64url_encode(json.dumps(header, indent=1).encode()), payload_b64, key)
    assert token != genuine.token
    assert status(token) == "valid"
    number = genuine.claims["jti"]
    revocation.revoke("lsp-contoh", number, "misuse", note=None, actor="t", now=NOW)
    assert status(genuine.token) == "revoked"
    assert status(token) == "revoked"


def test_revoked_credential_number_respelled_rejected(genuine: Genuine, status) -> None:
    """A jti with other spacing is refused outright, so it cannot name a second record."""
    revocation.revoke("lsp-contoh", genuine.claims["jti"], "fraud", note=None, actor="t", now=NOW)
    respelled = {**genuine.claims, "jti": genuine.claims["jti"].replace(" ", "  ", 1)}
    token = signed(genuine.header_b64, b64json(respelled), genuine.key)
    assert status(token) == "malformed"


# --- key of another agency -------------------------------------------------------------------


def test_cross_agency_key_rejected(
    genuine: Genuine, status, make_agency, make_key, store: PrivateKeyStore
) -> None:
    """Agency B signs a token that claims to come from agency A, with B's own kid."""
    make_agency("lsp-nakal", name="LSP Nakal", levels=(1, 9))
    other = store.load(make_key("lsp-nakal").kid)
    header_b64 = b64json({"alg": "EdDSA", "kid": other.kid, "typ": "skk+jwt"})
    assert status(signed(header_b64, genuine.payload_b64, other)) == "unknown_key"
    # ... and the reverse: B's claims under A's kid, signed by A's key.
    claims_b = b64json({**genuine.claims, "iss": "lsp-nakal"})
    assert status(signed(genuine.header_b64, claims_b, genuine.key)) == "unknown_key"


# --- header shape ----------------------------------------------------------------------------


@pytest.mark.parametrize("typ", ["JWT", "jwt", "at+jwt", "SKK+JWT", "skk+jwt ", None, 1])
def test_typ_jwt_rejected(genuine: Genuine, status, typ: Any) -> None:
    header_b64 = b64json({**genuine.header, "typ": typ})
    assert status(signed(header_b64, genuine.payload_b64, genuine.key)) == "malformed"


@pytest.mark.parametrize("missing", ["alg", "kid", "typ"])
def test_header_member_missing_rejected(genuine: Genuine, status, missing: str) -> None:
    header = {name: value for name, value in genuine.header.items() if name != missing}
    assert status(signed(b64json(header), genuine.payload_b64, genuine.key)) == "malformed"


@pytest.mark.parametrize("order", ["none-last", "none-first", "same-twice"])
def test_duplicate_alg_member_rejected(genuine: Genuine, status, order: str) -> None:
    """Parsers disagree on which duplicate wins (PyJWT: the last); refuse them all."""
    first, last = {
        "none-last": ("EdDSA", "none"),
        "none-first": ("none", "EdDSA"),
        "same-twice": ("EdDSA", "EdDSA"),
    }[order]
    raw = f'{{"alg":"{first}","kid":"{genuine.kid}","typ":"skk+jwt","alg":"{last}"}}'
    token = signed(b64url_encode(raw.encode()), genuine.payload_b64, genuine.key)
    assert status(token) == "malformed"


# --- PyJWT laxness: base64url ----------------------------------------------------------------


def resign_segments(genuine: Genuine, header_b64: str, payload_b64: str, sig: str | None) -> str:
    """Signature ``sig`` as given, or (None) a genuine signature over the altered segments."""
    if sig is None:
        return signed(header_b64, payload_b64, genuine.key)
    return f"{header_b64}.{payload_b64}.{sig}"


@pytest.mark.parametrize("segment", [0, 1, 2], ids=["header", "payload", "signature"])
@pytest.mark.parametrize("padding", ["canonical", "extra"])
def test_padded_segment_rejected(genuine: Genuine, status, segment: int, padding: str) -> None:
    parts = [genuine.header_b64, genuine.payload_b64, genuine.signature_b64]
    pad = "=" * (-len(parts[segment]) % 4)
    parts[segment] += pad if padding == "canonical" and pad else "=="
    token = resign_segments(genuine, parts[0], parts[1], None if segment < 2 else parts[2])
    assert status(token) == "malformed"


def tweak_unused_bits(segment: str) -> str:
    """The same bytes spelled with non-zero unused bits in the final character."""
    assert len(segment) % 4 in (2, 3)
    return segment[:-1] + B64_ALPHABET[B64_ALPHABET.index(segment[-1]) + 1]


def spaced_to_leave_unused_bits(value: dict[str, Any]) -> str:
    """base64url of the JSON with trailing spaces added until its last character has spare bits."""
    data = json.dumps(value).encode()
    while len(data) % 3 == 0:
        data += b" "
    return b64url_encode(data)


@pytest.mark.parametrize("segment", [0, 1, 2], ids=["header", "payload", "signature"])
def test_non_canonical_base64_rejected(genuine: Genuine, status, segment: int) -> None:
    parts = [
        spaced_to_leave_unused_bits(genuine.header),
        spaced_to_leave_unused_bits(genuine.claims),
    ]
    control = signed(parts[0], parts[1], genuine.key)
    assert status(control) == "valid"
    sig = control.rsplit(".", 1)[1]
    if segment < 2:
        parts[segment] = tweak_unused_bits(parts[segment])
        token = resign_segments(genuine, parts[0], parts[1], None)
    else:
        token = resign_segments(genuine, parts[0], parts[1], tweak_unused_bits(sig))
    altered = token.split(".")[segment]
    same_bytes = base64.urlsafe_b64decode(altered + "=" * (-len(altered) % 4))
    assert same_bytes == b64url_decode(control.split(".")[segment])  # only the spelling differs
    assert status(token) == "malformed"


@pytest.mark.parametrize(
    "alter",
    [
        pytest.param(lambda s: s.replace("-", "+").replace("_", "/"), id="standard-alphabet"),
        pytest.param(lambda s: s[:10] + "\n" + s[10:], id="newline"),
        pytest.param(lambda s: s[:10] + " " + s[10:], id="space"),
        pytest.param(lambda s: s + "AAA", id="length-mod-4-is-1"),
    ],
)
def test_lax_base64_signature_rejected(genuine: Genuine, status, alter) -> None:
    altered = alter(genuine.signature_b64)
    if altered == genuine.signature_b64:
        altered = "+" + altered[1:]
    assert status(f"{genuine.header_b64}.{genuine.payload_b64}.{altered}") == "malformed"


# --- PyJWT laxness: JSON and claims ------------------------------------------------------------

LAX_PAYLOADS = [
    pytest.param(lambda c: json.dumps(c)[:-1].encode() + b', "iss": "lsp-contoh"}', id="dup-iss"),
    pytest.param(lambda c: json.dumps(c)[:-1].encode() + b', "lvl": 9}', id="dup-lvl"),
    pytest.param(lambda c: json.dumps(c).encode("utf-16"), id="utf16-bom"),
    pytest.param(lambda c: json.dumps(c).encode("utf-16-le"), id="utf16-le"),
    pytest.param(lambda c: json.dumps(c).encode("utf-16-be"), id="utf16-be"),
    pytest.param(lambda c: b"\xef\xbb\xbf" + json.dumps(c).encode(), id="utf8-bom"),
    pytest.param(
        lambda c: json.dumps({**c, "name": "Rina \ud800 Marlina"}).encode(), id="lone-sur"
    ),
    pytest.param(lambda c: with_literal(c, "name", '"Rina \\udfff"'), id="lone-low-sur"),
    pytest.param(
        lambda c: with_literal(c, "name", '"@"').replace(b"@", b"Rina \xed\xa0\x80"), id="cesu8-sur"
    ),
    pytest.param(lambda c: with_literal(c, "exp", "NaN"), id="exp-NaN"),
    pytest.param(lambda c: with_literal(c, "exp", "Infinity"), id="exp-Infinity"),
    pytest.param(lambda c: with_literal(c, "exp", "-Infinity"), id="exp--Infinity"),
    pytest.param(lambda c: with_literal(c, "exp", "1e400"), id="exp-1e400"),
    pytest.param(lambda c: with_literal(c, "exp", '"1900000000"'), id="exp-numeric-string"),
    pytest.param(lambda c: with_literal(c, "lvl", "true"), id="lvl-true"),
    pytest.param(lambda c: with_literal(c, "iat", "true"), id="iat-true"),
    pytest.param(lambda c: with_literal(c, "iat", "false"), id="iat-false"),
    pytest.param(lambda c: with_literal(c, "exp", "1.9e9"), id="exp-1.9e9"),
    pytest.param(lambda c: with_literal(c, "exp", "1900000000.0"), id="exp-float"),
    pytest.param(lambda c: with_literal(c, "lvl", "3.0"), id="lvl-float"),
    pytest.param(lambda c: with_literal(c, "exp", str(10**30)), id="exp-10**30"),
    pytest.param(lambda c: with_literal(c, "exp", "9" * 5000), id="exp-5000-digits"),
    pytest.param(lambda c: with_literal(c, "exp", str(2**53 + 1)), id="exp-2**53+1"),
    pytest.param(lambda c: with_literal(c, "iat", "-1"), id="iat-negative"),
    pytest.param(lambda c: with_literal(c, "exp", "null"), id="exp-null"),
    pytest.param(lambda c: {**c, "exp": c["nbf"] + 5 * 366 * DAY + 1}, id="exp-nbf>5x366d"),
    pytest.param(lambda c: {**c, "exp": c["nbf"]}, id="exp=nbf"),
    pytest.param(lambda c: {**c, "name": "Rina \u202eanilraM"}, id="name-bidi-override"),
    pytest.param(lambda c: {**c, "name": "Rina\u200bMarlina"}, id="name-zero-width-space"),
    pytest.param(lambda c: {**c, "name": "Rina\x07Marlina"}, id="name-control-char"),
    pytest.param(lambda c: {**c, "name": "Rina\nMarlina"}, id="name-newline"),
    pytest.param(lambda c: {**c, "name": "Rene\u0301 Marlina"}, id="name-non-nfc"),
    pytest.param(lambda c: {**c, "name": "\ufeffRina"}, id="name-bom"),
    pytest.param(lambda c: {**c, "name": "R" * 101}, id="name-101-chars"),
    pytest.param(lambda c: {**c, "name": ""}, id="name-empty"),
    pytest.param(lambda c: {**c, "name": ["Rina"]}, id="name-list"),
    pytest.param(lambda c: {**c, "jti": c["jti"].replace(" ", "  ", 1)}, id="jti-double-space"),
    pytest.param(lambda c: {**c, "jti": c["jti"] + " "}, id="jti-trailing-space"),
    pytest.param(lambda c: {**c, "jti": " " + c["jti"]}, id="jti-leading-space"),
    pytest.param(lambda c: {**c, "jti": "A" * 41}, id="jti-41-chars"),
    pytest.param(lambda c: {**c, "jti": 1234}, id="jti-number"),
    pytest.param(lambda c: {**c, "lvl": 0}, id="lvl-0"),
    pytest.param(lambda c: {**c, "lvl": 10}, id="lvl-10"),
    pytest.param(lambda c: {**c, "lvl": "3"}, id="lvl-string"),
    pytest.param(lambda c: {**c, "iss": "LSP-contoh"}, id="iss-uppercase"),
    pytest.param(lambda c: {**c, "iss": "lsp-contoh\n"}, id="iss-newline"),
    pytest.param(lambda c: {**c, "iss": ["lsp-contoh"]}, id="iss-list"),
    pytest.param(lambda c: {**c, "jkc": "me063100"}, id="jkc-lowercase"),
    pytest.param(lambda c: {k: v for k, v in c.items() if k != "exp"}, id="exp-missing"),
    pytest.param(lambda c: {k: v for k, v in c.items() if k != "name"}, id="name-missing"),
    pytest.param(lambda c: [c], id="array-payload"),
]


@pytest.mark.parametrize("alter", LAX_PAYLOADS)
def test_lax_payload_rejected(genuine: Genuine, status, alter) -> None:
    """Each PyJWT-accepted deviation, genuinely re-signed, is still malformed (rule 1)."""
    token = signed(genuine.header_b64, b64json(alter(genuine.claims)), genuine.key)
    assert status(token) == "malformed"


def test_exp_nbf_exactly_5x366_days_is_valid(genuine: Genuine, status) -> None:
    claims = {**genuine.claims, "exp": genuine.claims["nbf"] + 5 * 366 * DAY}
    assert status(signed(genuine.header_b64, b64json(claims), genuine.key)) == "valid"


def test_unknown_claims_are_ignored(genuine: Genuine, status) -> None:
    claims = {**genuine.claims, "nik": None, "x": {"nested": [1, 2.5, "é"]}}
    assert status(signed(genuine.header_b64, b64json(claims), genuine.key)) == "valid"


def test_alg_none_through_service_url(genuine: Genuine, service: VerificationService) -> None:
    """The same forgery wrapped in a verify URL gets the same verdict."""
    header = b64json({"alg": "none", "kid": genuine.kid, "typ": "skk+jwt"})
    url = f"https://sertifikat.example.id/v/{header}.{genuine.payload_b64}."
    assert service.verify(url, at=NOW).status == "malformed"


def test_signed_by_unregistered_key_with_genuine_kid(genuine: Genuine, status) -> None:
    """The attacker copies the agency's kid into a token signed with their own key."""
    attacker = keys.generate_signing_key()
    assert status(signed(genuine.header_b64, genuine.payload_b64, attacker)) == "bad_signature"

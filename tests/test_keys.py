"""verifier.core.keys and verifier.issuance.keystore: kids, signatures, key import, key files."""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa, x448, x25519
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from hypothesis import given, settings
from hypothesis import strategies as st

from verifier.core import keys
from verifier.core.credential import KID_RE
from verifier.core.errors import ConfigurationError, Conflict, InvalidInput
from verifier.core.jws import b64url_decode, b64url_encode
from verifier.issuance.keystore import PrivateKeyStore

# RFC 8037 Appendix A.1/A.2 key, A.3 thumbprint and A.4 signature.
RFC8037_D = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"
RFC8037_JWK = {"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}
RFC8037_THUMBPRINT = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
RFC8037_SIGNING_INPUT = b"eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc"
RFC8037_SIGNATURE = (
    "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg"
)
MESSAGE = b"eyJhbGciOiJFZERTQSIsImtpZCI6IngiLCJ0eXAiOiJza2srand0In0.eyJpc3MiOiJsc3AtY29udG9oIn0"
PASSPHRASE = "correct horse battery staple"
DSA_PUBLIC_PEM = (Path(__file__).parent / "data" / "dsa_public.pem").read_bytes()
PEM = serialization.Encoding.PEM
SPKI = serialization.PublicFormat.SubjectPublicKeyInfo
PKCS8 = serialization.PrivateFormat.PKCS8
P256_FIELD = 2**256 - 2**224 + 2**192 + 2**96 - 1


def _new_private(alg: str) -> keys.PrivateKey:
    if alg == "EdDSA":
        return ed25519.Ed25519PrivateKey.generate()
    return ec.generate_private_key(ec.SECP256R1())


def _spki(private: Any) -> bytes:
    return bytes(private.public_key().public_bytes(PEM, SPKI))


def _json(obj: object) -> bytes:
    return json.dumps(obj).encode()


@pytest.fixture(scope="module", params=keys.ALGORITHMS)
def signing_key(request: pytest.FixtureRequest) -> keys.SigningKey:
    return keys.generate_signing_key(request.param)


@pytest.fixture(scope="module")
def ed_key() -> keys.SigningKey:
    return keys.generate_signing_key("EdDSA")


@pytest.fixture(scope="module")
def es_key() -> keys.SigningKey:
    return keys.generate_signing_key("ES256")


# --- kid (RFC 7638 thumbprint, RFC 8037 §A.3) --------------------------------------------------


def test_thumbprint_and_kid_match_rfc8037_example() -> None:
    assert keys.jwk_thumbprint(RFC8037_JWK) == RFC8037_THUMBPRINT
    assert keys.compute_kid(RFC8037_JWK) == RFC8037_THUMBPRINT[:16]
    # Non-required members and member order do not change the thumbprint (RFC 7638 §3.2).
    shuffled = {"x": RFC8037_JWK["x"], "kid": "other", "use": "sig", "crv": "Ed25519", "kty": "OKP"}
    assert keys.compute_kid(shuffled) == RFC8037_THUMBPRINT[:16]
    assert keys.verifying_key_from_jwk(shuffled).kid == RFC8037_THUMBPRINT[:16]


def test_rfc8037_signature_known_answer() -> None:
    private = ed25519.Ed25519PrivateKey.from_private_bytes(b64url_decode(RFC8037_D))
    key = keys.SigningKey(private)
    assert key.kid == RFC8037_THUMBPRINT[:16]
    assert key.verifying_key().jwk == RFC8037_JWK
    assert b64url_encode(key.sign(RFC8037_SIGNING_INPUT)) == RFC8037_SIGNATURE
    public = keys.verifying_key_from_jwk(RFC8037_JWK)
    assert public.verify(RFC8037_SIGNING_INPUT, b64url_decode(RFC8037_SIGNATURE))


@pytest.mark.parametrize("alg", keys.ALGORITHMS)
def test_kid_stable_across_pem_and_jwk_import(alg: str) -> None:
    private = _new_private(alg)
    generated = keys.SigningKey(private)
    from_pem = keys.import_public_key(_spki(private))
    jwk = {**generated.verifying_key().jwk, "kid": "ignored-kid-value"}
    from_jwk = keys.import_public_key(json.dumps(jwk, indent=2).encode())
    assert KID_RE.fullmatch(generated.kid)
    assert from_pem.kid == from_jwk.kid == generated.kid
    assert from_pem.jwk == from_jwk.jwk == generated.verifying_key().jwk
    assert from_pem.alg == from_jwk.alg == alg


@pytest.mark.parametrize("scalar", [43, 379], ids=["y-below-2^248", "x-below-2^248"])
def test_es256_jwk_keeps_leading_zero_bytes(scalar: int) -> None:
    """RFC 7518 §6.2.1.2: coordinates are always 32 bytes; these two keys have a short one."""
    private = ec.derive_private_key(scalar, ec.SECP256R1())
    vk = keys.SigningKey(private).verifying_key()
    assert len(b64url_decode(vk.jwk["x"])) == len(b64url_decode(vk.jwk["y"])) == 32
    assert keys.import_public_key(_spki(private)) == vk == keys.verifying_key_from_jwk(vk.jwk)


def test_public_jwk_for_jwks(signing_key: keys.SigningKey) -> None:
    vk = signing_key.verifying_key()
    published = vk.public_jwk()
    assert published == {**vk.jwk, "kid": vk.kid, "alg": vk.alg, "use": "sig"}
    assert "d" not in published
    assert keys.verifying_key_from_jwk(published) == vk


# --- signatures ---------------------------------------------------------------------------


def test_sign_verify_round_trip(signing_key: keys.SigningKey) -> None:
    signature = signing_key.sign(MESSAGE)
    assert len(signature) == 64
    assert signing_key.verifying_key().verify(MESSAGE, signature)
    rebuilt = keys.verifying_key_from_jwk(signing_key.verifying_key().jwk)
    assert rebuilt.verify(MESSAGE, signature)


def test_tampered_message_rejected(signing_key: keys.SigningKey) -> None:
    signature = signing_key.sign(MESSAGE)
    assert not signing_key.verifying_key().verify(MESSAGE + b"x", signature)
    assert not signing_key.verifying_key().verify(MESSAGE[:-1] + b"A", signature)


@pytest.mark.parametrize("position", [0, 31, 32, 63])
def test_tampered_signature_rejected(signing_key: keys.SigningKey, position: int) -> None:
    signature = bytearray(signing_key.sign(MESSAGE))
    signature[position] ^= 0x01
    assert not signing_key.verifying_key().verify(MESSAGE, bytes(signature))


@pytest.mark.parametrize("length", [0, 1, 32, 63, 65, 72, 128])
def test_wrong_length_signature_rejected(signing_key: keys.SigningKey, length: int) -> None:
    signature = signing_key.sign(MESSAGE)
    wrong = (signature * 3)[:length]
    assert not signing_key.verifying_key().verify(MESSAGE, wrong)


def test_es256_signature_is_fixed_width(es_key: keys.SigningKey) -> None:
    """RFC 7518 §3.4: r and s are 32 bytes each even when a value has leading zero bytes."""
    vk = es_key.verifying_key()
    short = 0
    for index in range(2000):  # each signature has a short r or s with probability ~1/128
        message = MESSAGE + str(index).encode()
        signature = es_key.sign(message)
        assert len(signature) == 64 and vk.verify(message, signature)
        short += signature[0] == 0 or signature[32] == 0
    assert short  # P(no short value in 2000 signatures) ~ 1.6e-7


def test_es256_der_signature_rejected(es_key: keys.SigningKey) -> None:
    """RFC 7518 §3.4: JWS carries raw r || s; the DER form OpenSSL speaks is not a JWS signature."""
    raw = es_key.sign(MESSAGE)
    r, s = int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big")
    assert not es_key.verifying_key().verify(MESSAGE, encode_dss_signature(r, s))


def test_es256_zero_signature_rejected(es_key: keys.SigningKey) -> None:
    """r = s = 0 verifies everything in broken ECDSA code (CVE-2022-21449, psychic signatures)."""
    assert not es_key.verifying_key().verify(MESSAGE, bytes(64))


@pytest.mark.parametrize("part", ["r", "s"])
@pytest.mark.parametrize("value", [0, keys.P256_ORDER, 2**256 - 1])
def test_es256_r_or_s_out_of_range_rejected(es_key: keys.SigningKey, part: str, value: int) -> None:
    signature = es_key.sign(MESSAGE)
    forged = value.to_bytes(32, "big")
    bad = forged + signature[32:] if part == "r" else signature[:32] + forged
    assert not es_key.verifying_key().verify(MESSAGE, bad)


def test_ed25519_s_plus_l_rejected(ed_key: keys.SigningKey) -> None:
    """RFC 8032 §5.1.7: S must be below L; S + L is the classic malleated twin of a signature."""
    signature = ed_key.sign(MESSAGE)
    assert ed_key.verifying_key().verify(MESSAGE, signature)
    s = int.from_bytes(signature[32:], "little")
    malleated = signature[:32] + (s + keys.ED25519_ORDER).to_bytes(32, "little")
    assert not ed_key.verifying_key().verify(MESSAGE, malleated)


#: The neutral point's encoding: a public key for which [S]B = R + [h]A holds whenever R = [S]B.
ED25519_IDENTITY = bytes([1]) + bytes(31)


def _forgery_for_identity_key() -> bytes:
    """R || S with R = [S]B, built from nothing but a seed: under the neutral point as the
    public key, it satisfies the verification equation for every message."""
    seed = bytes(range(32))
    scalar = bytearray(hashlib.sha512(seed).digest()[:32])
    scalar[0] &= 248  # RFC 8032 §5.1.5 step 2: the clamped scalar whose multiple of B is A
    scalar[31] = (scalar[31] & 127) | 64
    s = int.from_bytes(scalar, "little") % keys.ED25519_ORDER
    r = ed25519.Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes_raw()
    return r + s.to_bytes(32, "little")


def test_ed25519_small_order_key_proves_nothing() -> None:
    """OpenSSL (through cryptography) accepts this forgery under the neutral point; libsodium,
    which checks Ed25519 signatures here, refuses small-order keys."""
    forged = keys.verifying_key_from_jwk(
        {"kty": "OKP", "crv": "Ed25519", "x": b64url_encode(ED25519_IDENTITY)}
    )
    assert not forged.verify(MESSAGE, _forgery_for_identity_key())
    assert not forged.verify(b"any other message", _forgery_for_identity_key())


@pytest.mark.parametrize(
    "point",
    [
        pytest.param(ED25519_IDENTITY, id="neutral-point"),
        pytest.param(bytes(32), id="order-4-point"),
        pytest.param(bytes([0xEC]) + b"\xff" * 30 + bytes([0x7F]), id="order-2-point"),
    ],
)
def test_import_refuses_small_order_ed25519_key(point: bytes) -> None:
    jwk = {"kty": "OKP", "crv": "Ed25519", "x": b64url_encode(point)}
    with pytest.raises(InvalidInput, match="small-order"):
        keys.import_public_key(_json(jwk))


def test_signature_of_other_algorithm_rejected(
    ed_key: keys.SigningKey, es_key: keys.SigningKey
) -> None:
    assert not es_key.verifying_key().verify(MESSAGE, ed_key.sign(MESSAGE))
    assert not ed_key.verifying_key().verify(MESSAGE, es_key.sign(MESSAGE))


def test_signature_of_other_key_rejected(signing_key: keys.SigningKey) -> None:
    other = keys.generate_signing_key(signing_key.alg)
    assert not signing_key.verifying_key().verify(MESSAGE, other.sign(MESSAGE))


@settings(deadline=None)
@given(signature=st.binary(max_size=130))
def test_verify_never_raises_on_garbage(
    ed_key: keys.SigningKey, es_key: keys.SigningKey, signature: bytes
) -> None:
    assert ed_key.verifying_key().verify(MESSAGE, signature) is False
    assert es_key.verifying_key().verify(MESSAGE, signature) is False


@pytest.mark.parametrize("alg", ["RS256", "HS256", "none", "Ed25519", "ES384", ""])
def test_generate_refuses_other_algorithms(alg: str) -> None:
    with pytest.raises(InvalidInput, match=repr(alg)):
        keys.generate_signing_key(alg)


def test_signing_key_repr_hides_key_material(ed_key: keys.SigningKey) -> None:
    assert repr(ed_key) == f"SigningKey(alg='EdDSA', kid={ed_key.kid!r})"


# --- public key import (skk keys import) --------------------------------------------------

Builder = Callable[[dict[str, Any]], bytes]


@pytest.fixture(scope="module")
def material() -> dict[str, Any]:
    """One private key of each kind the import meets; RSA is generated once per module."""
    return {
        "ed25519": ed25519.Ed25519PrivateKey.generate(),
        "p256": ec.generate_private_key(ec.SECP256R1()),
        "ed448": ed448.Ed448PrivateKey.generate(),
        "x25519": x25519.X25519PrivateKey.generate(),
        "x448": x448.X448PrivateKey.generate(),
        "p384": ec.generate_private_key(ec.SECP384R1()),
        "secp256k1": ec.generate_private_key(ec.SECP256K1()),
        "rsa": rsa.generate_private_key(public_exponent=65537, key_size=2048),
    }


def _okp_jwk(private: Any, crv: str) -> dict[str, Any]:
    raw = private.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    return {"kty": "OKP", "crv": crv, "x": b64url_encode(raw)}


def _ec_jwk(private: Any, crv: str, size: int) -> dict[str, Any]:
    numbers = private.public_key().public_numbers()
    x, y = (b64url_encode(n.to_bytes(size, "big")) for n in (numbers.x, numbers.y))
    return {"kty": "EC", "crv": crv, "x": x, "y": y}


def _rsa_jwk(private: Any) -> dict[str, Any]:
    numbers = private.public_key().public_numbers()
    n = b64url_encode(numbers.n.to_bytes(256, "big"))
    return {"kty": "RSA", "n": n, "e": b64url_encode(numbers.e.to_bytes(3, "big"))}


def _p256_jwk(m: dict[str, Any], **changes: Any) -> bytes:
    jwk = _ec_jwk(m["p256"], "P-256", 32)
    jwk.update(changes)
    return _json({k: v for k, v in jwk.items() if v is not None})


def _ed_jwk(**changes: Any) -> bytes:
    jwk = {**RFC8037_JWK, **changes}
    return _json({k: v for k, v in jwk.items() if v is not None})


def _private_pem(name: str, fmt: Any, encryption: Any = None) -> Builder:
    def build(m: dict[str, Any]) -> bytes:
        enc = encryption or serialization.NoEncryption()
        return bytes(m[name].private_bytes(PEM, fmt, enc))

    return build


def _not_on_curve(m: dict[str, Any]) -> bytes:
    y = m["p256"].public_key().public_numbers().y
    return _p256_jwk(m, y=b64url_encode(((y + 1) % P256_FIELD).to_bytes(32, "big")))


def _certificate(m: dict[str, Any]) -> bytes:
    name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "lsp-contoh")])
    now = datetime.datetime(2025, 1, 1, tzinfo=datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(m["ed25519"].public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(m["ed25519"], None)
    )
    return cert.public_bytes(PEM)


def _der(m: dict[str, Any]) -> bytes:
    return bytes(m["ed25519"].public_key().public_bytes(serialization.Encoding.DER, SPKI))


_TRADITIONAL = serialization.PrivateFormat.TraditionalOpenSSL
_ED_X = RFC8037_JWK["x"]
REFUSED: list[tuple[str, Builder, str]] = [
    ("ed448-pem", lambda m: _spki(m["ed448"]), "Ed448"),
    ("ed448-jwk", lambda m: _json(_okp_jwk(m["ed448"], "Ed448")), "Ed448"),
    ("x25519-pem", lambda m: _spki(m["x25519"]), "X25519"),
    ("x25519-jwk", lambda m: _json(_okp_jwk(m["x25519"], "X25519")), "X25519"),
    ("x448-pem", lambda m: _spki(m["x448"]), "X448"),
    ("x448-jwk", lambda m: _json(_okp_jwk(m["x448"], "X448")), "X448"),
    ("p384-pem", lambda m: _spki(m["p384"]), "P-384"),
    ("p384-jwk", lambda m: _json(_ec_jwk(m["p384"], "P-384", 48)), "P-384"),
    ("secp256k1-pem", lambda m: _spki(m["secp256k1"]), "secp256k1"),
    ("secp256k1-jwk", lambda m: _json(_ec_jwk(m["secp256k1"], "secp256k1", 32)), "secp256k1"),
    ("rsa-pem", lambda m: _spki(m["rsa"]), "RSA"),
    (
        "rsa-pkcs1-pem",
        lambda m: m["rsa"].public_key().public_bytes(PEM, serialization.PublicFormat.PKCS1),
        "RSA",
    ),
    ("rsa-jwk", lambda m: _json(_rsa_jwk(m["rsa"])), "RSA"),
    # A fixed key: cryptography deprecates DSA, and import must refuse it without loading it.
    ("dsa-pem", lambda m: DSA_PUBLIC_PEM, "DSA"),
    ("ed25519-private-pkcs8", _private_pem("ed25519", PKCS8), "private key"),
    (
        "ed25519-private-encrypted",
        _private_pem("ed25519", PKCS8, serialization.BestAvailableEncryption(b"pw")),
        "private key",
    ),
    (
        "ed25519-private-openssh",
        _private_pem("ed25519", serialization.PrivateFormat.OpenSSH),
        "private key",
    ),
    ("p256-private-sec1", _private_pem("p256", _TRADITIONAL), "private key"),
    ("p256-private-pkcs8", _private_pem("p256", PKCS8), "private key"),
    ("rsa-private-pkcs1", _private_pem("rsa", _TRADITIONAL), "private key"),
    ("ed448-private-pkcs8", _private_pem("ed448", PKCS8), "private key"),
    (
        "public-then-private-pem",
        lambda m: _spki(m["ed25519"]) + _private_pem("ed25519", PKCS8)(m),
        "private key",
    ),
    ("ed25519-jwk-with-d", lambda m: _ed_jwk(d=RFC8037_D), "private key material"),
    ("p256-jwk-with-d", lambda m: _p256_jwk(m, d=b64url_encode(bytes(32))), "private key material"),
    (
        "rsa-jwk-with-d",
        lambda m: _json({**_rsa_jwk(m["rsa"]), "d": "AQAB"}),
        "private key material",
    ),
    ("oct-jwk", lambda m: _json({"kty": "oct", "k": "c2VjcmV0LXNlY3JldA"}), "symmetric"),
    ("p256-point-not-on-curve", _not_on_curve, "not on the P-256 curve"),
    (
        "p256-x-not-below-field-prime",
        lambda m: _p256_jwk(m, x=b64url_encode(P256_FIELD.to_bytes(32, "big"))),
        "not on the P-256 curve",
    ),
    ("p256-x-31-bytes", lambda m: _p256_jwk(m, x=b64url_encode(bytes(31))), "32 bytes"),
    ("p256-y-33-bytes", lambda m: _p256_jwk(m, y=b64url_encode(bytes(33))), "32 bytes"),
    ("p256-y-missing", lambda m: _p256_jwk(m, y=None), "y is missing"),
    ("ed25519-x-33-bytes", lambda m: _ed_jwk(x=b64url_encode(bytes(33))), "32 bytes"),
    ("ed25519-x-padded", lambda m: _ed_jwk(x=_ED_X + "="), "base64url"),
    ("ed25519-x-standard-base64", lambda m: _ed_jwk(x=_ED_X.replace("_", "/")), "base64url"),
    # Last character "o" carries 4 data bits and 2 zero bits; "p" is a second spelling.
    ("ed25519-x-non-canonical", lambda m: _ed_jwk(x=_ED_X[:-1] + "p"), "canonical"),
    ("ed25519-x-not-string", lambda m: _ed_jwk(x=12345), "not a string"),
    ("ed25519-x-missing", lambda m: _ed_jwk(x=None), "x is missing"),
    ("jwk-alg-mismatch", lambda m: _ed_jwk(alg="ES256"), "does not match the key"),
    ("jwk-use-enc", lambda m: _ed_jwk(use="enc"), "not sig"),
    ("jwk-ec-with-okp-curve", lambda m: _ed_jwk(kty="EC"), "EC curve Ed25519"),
    ("jwk-without-kty", lambda m: _ed_jwk(kty=None), "no kty"),
    ("jwk-unknown-kty", lambda m: _ed_jwk(kty="XYZ"), "kty 'XYZ'"),
    ("jwks", lambda m: _json({"keys": [RFC8037_JWK]}), "one key per file"),
    ("json-array", lambda m: _json([RFC8037_JWK]), "one JWK"),
    ("two-pem-public-keys", lambda m: _spki(m["ed25519"]) + _spki(m["p256"]), "one key per file"),
    ("certificate", _certificate, "openssl x509 -pubkey"),
    (
        "pem-garbage",
        lambda m: b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
        "cannot be decoded",
    ),
    ("der", _der, "neither"),
    ("text", lambda m: b"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI", "neither"),
    ("empty", lambda m: b"", "neither"),
    ("invalid-json", lambda m: b'{"kty": "OKP",', "not valid JSON"),
    ("duplicate-member", lambda m: b'{"kty":"OKP","kty":"EC","crv":"Ed25519"}', "duplicate"),
    ("too-large", lambda m: b"{" + b" " * keys.MAX_PUBLIC_KEY_BYTES + b"}", "too large"),
]


@pytest.mark.parametrize(
    ("builder", "message"), [c[1:] for c in REFUSED], ids=[c[0] for c in REFUSED]
)
def test_import_refuses(material: dict[str, Any], builder: Builder, message: str) -> None:
    data = builder(material)
    with pytest.raises(InvalidInput) as refused:
        keys.import_public_key(data)
    assert message in refused.value.message


@pytest.mark.parametrize(
    "wrap",
    [
        pytest.param(lambda pem: pem, id="plain"),
        pytest.param(lambda pem: b"\xef\xbb\xbf" + pem.replace(b"\n", b"\r\n"), id="bom-crlf"),
        pytest.param(lambda pem: b"Public key of LSP Contoh\n" + pem, id="leading-text"),
    ],
)
@pytest.mark.parametrize("alg", keys.ALGORITHMS)
def test_import_accepts_pem_variants(alg: str, wrap: Callable[[bytes], bytes]) -> None:
    private = _new_private(alg)
    assert keys.import_public_key(wrap(_spki(private))).kid == keys.SigningKey(private).kid


def test_import_accepts_jwk_with_optional_members() -> None:
    jwk = {**RFC8037_JWK, "kid": "their-own-kid", "alg": "EdDSA", "use": "sig", "key_ops": []}
    imported = keys.import_public_key(_json(jwk))
    assert imported.kid == RFC8037_THUMBPRINT[:16]
    assert imported.jwk == RFC8037_JWK


def test_verifying_key_from_jwk_refuses_non_object() -> None:
    with pytest.raises(InvalidInput, match="JSON object"):
        keys.verifying_key_from_jwk([RFC8037_JWK])  # type: ignore[arg-type]


def _mutate(base: bytes, index: int, value: int, cut: int) -> bytes:
    der = bytearray(base[: max(1, len(base) - cut)])
    der[index % len(der)] = value
    return (
        b"-----BEGIN PUBLIC KEY-----\n"
        + base64.encodebytes(bytes(der))
        + b"-----END PUBLIC KEY-----\n"
    )


_BASE_DERS = [
    _new_private(alg).public_key().public_bytes(serialization.Encoding.DER, SPKI)
    for alg in keys.ALGORITHMS
]
_B64_VALUES = st.one_of(
    st.binary(max_size=40).map(b64url_encode), st.text(max_size=50), st.integers(), st.none()
)
_JWK_INPUTS = st.fixed_dictionaries(
    {},
    optional={
        "kty": st.sampled_from(["OKP", "EC", "RSA", "oct", ""]) | st.integers(),
        "crv": st.sampled_from(["Ed25519", "P-256", "Ed448", "X25519", "P-384"])
        | st.text(max_size=5),
        "x": _B64_VALUES,
        "y": _B64_VALUES,
        "d": _B64_VALUES,
        "alg": st.sampled_from(["EdDSA", "ES256", "none"]) | st.integers(),
        "use": st.sampled_from(["sig", "enc"]) | st.lists(st.integers(), max_size=1),
        "keys": st.lists(st.integers(), max_size=1),
    },
).map(_json)
_PEM_INPUTS = st.builds(
    _mutate,
    st.sampled_from(_BASE_DERS),
    st.integers(0, 100),
    st.integers(0, 255),
    st.integers(0, 8),
)


@settings(deadline=None, max_examples=300)
@given(data=st.one_of(st.binary(max_size=300), _JWK_INPUTS, _PEM_INPUTS))
def test_import_never_raises_anything_but_invalid_input(data: bytes) -> None:
    try:
        imported = keys.import_public_key(data)
    except InvalidInput as refused:
        assert refused.message
    else:
        assert KID_RE.fullmatch(imported.kid)
        assert keys.verifying_key_from_jwk(imported.jwk) == imported


# --- private key store (SKK_KEYS_DIR, SKK_KEY_PASSPHRASE) ---------------------------------


@pytest.fixture
def keys_dir(tmp_path: Path) -> Path:
    return tmp_path / "keys"


@pytest.fixture
def store(keys_dir: Path) -> PrivateKeyStore:
    return PrivateKeyStore(keys_dir, PASSPHRASE)


def _saved(store: PrivateKeyStore, alg: str = "EdDSA") -> tuple[keys.SigningKey, Path]:
    key = keys.generate_signing_key(alg)
    return key, store.save(key)


@pytest.mark.parametrize("alg", keys.ALGORITHMS)
def test_store_saves_encrypted_0600_file(store: PrivateKeyStore, keys_dir: Path, alg: str) -> None:
    key, path = _saved(store, alg)
    assert path == keys_dir / f"{key.kid}.pem"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(keys_dir.stat().st_mode) == 0o700
    assert sorted(p.name for p in keys_dir.iterdir()) == [path.name]  # no temp file left
    data = path.read_bytes()
    assert data.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----\n")
    with pytest.raises(TypeError, match="encrypted"):  # unreadable without the passphrase
        serialization.load_pem_private_key(data, None)
    loaded = PrivateKeyStore(keys_dir, PASSPHRASE).load(key.kid)
    assert loaded.kid == key.kid and loaded.alg == alg
    assert key.verifying_key().verify(MESSAGE, loaded.sign(MESSAGE))


def test_store_refuses_overwrite(store: PrivateKeyStore, keys_dir: Path) -> None:
    key, path = _saved(store)
    before = path.read_bytes()
    with pytest.raises(Conflict, match="already exists"):
        PrivateKeyStore(keys_dir, PASSPHRASE).save(key)
    assert path.read_bytes() == before


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660, 0o601])
def test_store_refuses_file_open_to_others(
    store: PrivateKeyStore, keys_dir: Path, mode: int
) -> None:
    key, path = _saved(store)
    path.chmod(mode)
    with pytest.raises(ConfigurationError) as refused:
        PrivateKeyStore(keys_dir, PASSPHRASE).load(key.kid)
    assert str(path) in refused.value.message
    assert "chmod 600" in refused.value.message


def test_store_refuses_wrong_passphrase(store: PrivateKeyStore, keys_dir: Path) -> None:
    key, _ = _saved(store)
    with pytest.raises(ConfigurationError, match="cannot decrypt"):
        PrivateKeyStore(keys_dir, "not the passphrase").load(key.kid)


@pytest.mark.parametrize("passphrase", [None, ""])
def test_store_requires_passphrase(
    store: PrivateKeyStore, keys_dir: Path, passphrase: str | None
) -> None:
    key, _ = _saved(store)
    bare = PrivateKeyStore(keys_dir, passphrase)
    message = "SKK_KEY_PASSPHRASE is required to create or use private keys"
    with pytest.raises(ConfigurationError, match=message):
        bare.load(key.kid)
    with pytest.raises(ConfigurationError, match=message):
        bare.save(keys.generate_signing_key())
    assert bare.has(key.kid)  # knowing a key exists needs no secret


@pytest.mark.parametrize(
    "kid", ["../../etc/passwd", "../keys/abcdefghijklmn", "/etc/passwd", "abcdefghijklmnop/..", ""]
)
def test_store_refuses_path_traversal(store: PrivateKeyStore, kid: str) -> None:
    with pytest.raises(InvalidInput, match="not a key id"):
        store.load(kid)
    assert not store.has(kid)


def test_store_missing_key(store: PrivateKeyStore, keys_dir: Path) -> None:
    kid = "AAAAAAAAAAAAAAAA"
    with pytest.raises(ConfigurationError) as refused:
        store.load(kid)
    assert refused.value.message == f"no private key for {kid} in {keys_dir}"
    assert not store.has(kid)


def test_store_refuses_unencrypted_file(keys_dir: Path) -> None:
    key_object = ed25519.Ed25519PrivateKey.generate()
    kid = keys.SigningKey(key_object).kid
    keys_dir.mkdir()
    path = keys_dir / f"{kid}.pem"
    path.write_bytes(key_object.private_bytes(PEM, PKCS8, serialization.NoEncryption()))
    path.chmod(0o600)
    with pytest.raises(ConfigurationError, match="not encrypted"):
        PrivateKeyStore(keys_dir, PASSPHRASE).load(kid)


def test_store_refuses_file_holding_another_key(store: PrivateKeyStore, keys_dir: Path) -> None:
    key, path = _saved(store)
    other = keys.generate_signing_key()
    path.replace(keys_dir / f"{other.kid}.pem")
    with pytest.raises(ConfigurationError, match=f"holds the key {key.kid}, not {other.kid}"):
        PrivateKeyStore(keys_dir, PASSPHRASE).load(other.kid)


def test_store_decrypts_each_key_once(store: PrivateKeyStore, keys_dir: Path) -> None:
    key, path = _saved(store)
    reader = PrivateKeyStore(keys_dir, PASSPHRASE)
    first = reader.load(key.kid)
    path.unlink()  # a second load that touched the file would now fail
    assert reader.load(key.kid) is first
    assert store.load(key.kid) is key  # save() fills the cache too
    assert reader.has(key.kid)


def test_store_repr_hides_passphrase(store: PrivateKeyStore) -> None:
    assert PASSPHRASE not in repr(store)

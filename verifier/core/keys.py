"""Signing and verifying keys, kids and JWKs: the only module that touches cryptography's hazmat.

SPEC §2: credentials are signed with Ed25519 (``EdDSA``, RFC 8037) or P-256 (``ES256``, RFC 7518
§3.4), and a key's ``kid`` is computed from its public key (RFC 7638 thumbprint), never typed by
hand or taken from input. Verification receives key and algorithm from the registry, never from
the token (RFC 8725 §3.1). Private keys leave this module only as encrypted PKCS#8 PEM; the
files holding them are :mod:`verifier.issuance.keystore`'s business.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any, TypeAlias

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
from nacl.bindings import crypto_core_ed25519_is_valid_point, crypto_sign_open
from nacl.exceptions import CryptoError

from verifier.core.errors import ConfigurationError, InvalidInput
from verifier.core.jws import MalformedToken, b64url_decode, b64url_encode, parse_json_object

ALGORITHMS = ("EdDSA", "ES256")
#: A kid is this many leading characters of the RFC 7638 thumbprint (96 bits, SPEC §2).
KID_LENGTH = 16
#: Largest input import_public_key reads; a PEM or JWK public key is well under 1 KiB.
MAX_PUBLIC_KEY_BYTES = 64 * 1024
#: Order n of the P-256 group (SEC 2 §2.4.2); ECDSA r and s must lie in [1, n - 1].
P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
#: Order L of the Ed25519 base point (RFC 8032 §5.1).
ED25519_ORDER = 2**252 + 27742317777372353535851937790883648493
SIGNATURE_LENGTH = 64  # both algorithms: Ed25519 R || S, ES256 r || s (RFC 7518 §3.4)

_SUPPORTED = "only Ed25519 (EdDSA) and P-256 (ES256) public keys are accepted"
_ECDSA_SHA256 = ec.ECDSA(hashes.SHA256())
# RFC 7638 §3.2: the thumbprint hashes the required members only.
_THUMBPRINT_MEMBERS = {"OKP": ("crv", "kty", "x"), "EC": ("crv", "kty", "x", "y")}
# Private members of EC/OKP (d) and RSA (RFC 7518 §6.3.2) JWKs.
_PRIVATE_JWK_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth"})
_PEM_LABEL = re.compile(rb"-----BEGIN ([A-Z0-9 ]{1,40})-----")
_PEM_BODY = re.compile(rb"-----BEGIN [A-Z0-9 ]{1,40}-----(.*?)-----END ", re.DOTALL)
# SubjectPublicKeyInfo algorithm OIDs (DER contents, RFC 5480, RFC 8410, RFC 3279): only the two
# we support are handed to cryptography; every other kind is named and refused unparsed, so that
# deprecated algorithms (DSA warns since cryptography 47) are never loaded at all.
_SPKI_ED25519 = bytes.fromhex("2b6570")  # 1.3.101.112
_SPKI_EC = bytes.fromhex("2a8648ce3d0201")  # 1.2.840.10045.2.1 (the curve is checked after)
_SPKI_REFUSED = {
    bytes.fromhex("2b6571"): "Ed448",
    bytes.fromhex("2b656e"): "X25519 (key agreement, not signing)",
    bytes.fromhex("2b656f"): "X448 (key agreement, not signing)",
    bytes.fromhex("2a864886f70d010101"): "RSA",
    bytes.fromhex("2a864886f70d01010a"): "RSA-PSS",
    bytes.fromhex("2a8648ce380401"): "DSA",
}
_JOSE_CURVE_NAMES = {"secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521"}

PublicKey: TypeAlias = ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey
PrivateKey: TypeAlias = ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey


@dataclass(frozen=True)
class VerifyingKey:
    """A trusted public key: algorithm, computed kid, public JWK and a ready-built verifier.

    An Ed25519 key is kept as its 32 raw bytes and checked by libsodium (PyNaCl), which verifies
    in half the time OpenSSL takes through cryptography (``make bench``: the signature is most of
    a verification) and refuses small-order keys and R values, with which a signature proves
    nothing (RFC 8032 §5.1.7 leaves that check open). P-256 keys stay cryptography's.
    """

    alg: str
    kid: str
    jwk: dict[str, str]
    _key: ec.EllipticCurvePublicKey | bytes = field(repr=False, compare=False)

    def __hash__(self) -> int:
        return hash((self.alg, self.kid))

    def verify(self, signing_input: bytes, signature: bytes) -> bool:
        """True only for a valid signature; False for anything else, never an exception."""
        if len(signature) != SIGNATURE_LENGTH:
            return False
        key = self._key
        if isinstance(key, bytes):
            # RFC 8032 §5.1.7: S must be < L. libsodium checks it too; checked here as well so
            # that the rule stays written down next to the offline verifier's (keys.js).
            if int.from_bytes(signature[32:], "little") >= ED25519_ORDER:
                return False
            try:
                crypto_sign_open(signature + signing_input, key)
            except CryptoError:
                return False
            return True
        r = int.from_bytes(signature[:32], "big")
        s = int.from_bytes(signature[32:], "big")
        if not (0 < r < P256_ORDER and 0 < s < P256_ORDER):
            return False  # SEC 1 §4.1.4 step 1; r = s = 0 is the CVE-2022-21449 forgery
        try:
            key.verify(encode_dss_signature(r, s), signing_input, _ECDSA_SHA256)
        except InvalidSignature:
            return False
        return True

    def public_jwk(self) -> dict[str, str]:
        """The JWK as published in a JWKS: key members plus ``kid``, ``alg`` and ``use``."""
        return {**self.jwk, "kid": self.kid, "alg": self.alg, "use": "sig"}


class SigningKey:
    """A private signing key; its repr never shows key material."""

    __slots__ = ("_key", "_verifying_key", "alg", "kid")

    def __init__(self, private_key: PrivateKey) -> None:
        self._key = private_key
        self._verifying_key = _verifying_key(private_key.public_key())
        self.alg = self._verifying_key.alg
        self.kid = self._verifying_key.kid

    def __repr__(self) -> str:
        return f"SigningKey(alg={self.alg!r}, kid={self.kid!r})"

    def sign(self, signing_input: bytes) -> bytes:
        """Signature of the JWS signing input: Ed25519 R || S, or ES256 raw r || s."""
        if isinstance(self._key, ed25519.Ed25519PrivateKey):
            return self._key.sign(signing_input)
        r, s = decode_dss_signature(self._key.sign(signing_input, _ECDSA_SHA256))
        # RFC 7518 §3.4: JWS wants fixed-width big-endian r || s, not OpenSSL's DER.
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")

    def verifying_key(self) -> VerifyingKey:
        """The matching public key."""
        return self._verifying_key

    def to_encrypted_pem(self, passphrase: str) -> bytes:
        """Encrypted PKCS#8 PEM (``BEGIN ENCRYPTED PRIVATE KEY``) under ``passphrase``."""
        return self._key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(passphrase.encode("utf-8")),
        )

    @classmethod
    def from_encrypted_pem(cls, data: bytes, passphrase: str, source: str) -> SigningKey:
        """Decrypt :meth:`to_encrypted_pem` output; ConfigurationError naming ``source``."""
        try:
            key = serialization.load_pem_private_key(data, passphrase.encode("utf-8"))
        except TypeError:  # cryptography's signal for an unencrypted key given a password
            raise ConfigurationError(f"{source} is not encrypted; private keys must be") from None
        except (ValueError, UnsupportedAlgorithm):
            raise ConfigurationError(
                f"cannot decrypt {source}: wrong SKK_KEY_PASSPHRASE or a damaged file"
            ) from None
        if isinstance(key, ed25519.Ed25519PrivateKey) or (
            isinstance(key, ec.EllipticCurvePrivateKey) and isinstance(key.curve, ec.SECP256R1)
        ):
            return cls(key)
        raise ConfigurationError(f"{source} is not an Ed25519 or P-256 private key")


def generate_signing_key(alg: str = "EdDSA") -> SigningKey:
    """A new random Ed25519 (``EdDSA``) or P-256 (``ES256``) signing key."""
    if alg == "EdDSA":
        return SigningKey(ed25519.Ed25519PrivateKey.generate())
    if alg == "ES256":
        return SigningKey(ec.generate_private_key(ec.SECP256R1()))
    raise InvalidInput(f"algorithm {str(alg)[:40]!r} is not supported; use EdDSA or ES256")


def jwk_thumbprint(jwk: dict[str, Any]) -> str:
    """RFC 7638 thumbprint: base64url SHA-256 of the required members, sorted, no whitespace."""
    kty = jwk.get("kty")
    members = _THUMBPRINT_MEMBERS.get(kty) if isinstance(kty, str) else None
    if members is None or not all(isinstance(jwk.get(name), str) for name in members):
        raise InvalidInput("JWK has no OKP or EC key members to compute a thumbprint from")
    canonical = json.dumps(
        {name: jwk[name] for name in members}, separators=(",", ":"), ensure_ascii=False
    )
    return b64url_encode(hashlib.sha256(canonical.encode("utf-8")).digest())


def compute_kid(jwk: dict[str, Any]) -> str:
    """The key id: first 16 characters of the RFC 7638 thumbprint (SPEC §2)."""
    return jwk_thumbprint(jwk)[:KID_LENGTH]


def verifying_key_from_jwk(jwk: dict[str, Any]) -> VerifyingKey:
    """Rebuild a public key from its JWK; a ``kid`` member is ignored and the kid recomputed."""
    if not isinstance(jwk, dict):
        raise InvalidInput("a JWK must be a JSON object")
    _refuse_unusable_jwk(jwk)
    kty, crv = jwk.get("kty"), jwk.get("crv")
    if kty == "OKP" and crv == "Ed25519":  # RFC 8037 §2
        key: PublicKey = ed25519.Ed25519PublicKey.from_public_bytes(_jwk_bytes(jwk, "x"))
    elif kty == "EC" and crv == "P-256":  # RFC 7518 §6.2.1
        point = b"\x04" + _jwk_bytes(jwk, "x") + _jwk_bytes(jwk, "y")
        try:
            key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
        except ValueError:
            raise InvalidInput("JWK point (x, y) is not on the P-256 curve") from None
    else:
        raise InvalidInput(f"{_jwk_kind(kty, crv)} keys are not supported; {_SUPPORTED}")
    verifying_key = _verifying_key(key)
    if "alg" in jwk and jwk["alg"] != verifying_key.alg:
        raise InvalidInput(
            f"JWK alg {str(jwk['alg'])[:40]!r} does not match the key, which is {verifying_key.alg}"
        )
    return verifying_key


def import_public_key(data: bytes) -> VerifyingKey:
    """One Ed25519 or P-256 public key from PEM (SubjectPublicKeyInfo) or a JWK JSON object."""
    key = _read_public_key(data)
    # A small-order Ed25519 point (or one outside the main subgroup) is no key: under it, a
    # signature R = [S]B verifies for any message. libsodium refuses such signatures anyway;
    # refused here too, so that the registry and the offline bundles never carry one.
    if key.alg == "EdDSA" and not crypto_core_ed25519_is_valid_point(
        b64url_decode(key.jwk["x"], "x")
    ):
        raise InvalidInput(
            "the Ed25519 public key is a small-order point or outside the main subgroup; "
            "it cannot prove a signature"
        )
    return key


def _read_public_key(data: bytes) -> VerifyingKey:
    if len(data) > MAX_PUBLIC_KEY_BYTES:
        raise InvalidInput("the file is too large to be a public key")
    text = data.removeprefix(b"\xef\xbb\xbf").strip()
    if text.startswith(b"{"):
        try:
            obj = parse_json_object(text, "JWK")
        except MalformedToken as exc:
            raise InvalidInput(str(exc)) from None
        return verifying_key_from_jwk(obj)
    if text.startswith(b"["):
        raise InvalidInput("the file holds a JSON array; import one JWK object per file")
    if b"-----BEGIN " in text:
        return _import_pem(text)
    raise InvalidInput(
        "the file is neither a PEM public key nor a JWK JSON object (for DER, convert it with "
        "`openssl pkey -pubin -inform DER -outform PEM`)"
    )


def _import_pem(text: bytes) -> VerifyingKey:
    labels = [label.decode("ascii") for label in _PEM_LABEL.findall(text)]
    if any("PRIVATE KEY" in label for label in labels):
        raise InvalidInput(
            "the file holds a private key; import only the public key "
            "(`openssl pkey -pubout`) and keep the private key with its owner"
        )
    if len(labels) != 1:
        raise InvalidInput("the file must hold exactly one PEM public key (one key per file)")
    if labels[0] == "CERTIFICATE":
        raise InvalidInput(
            "the file holds a certificate; import its public key (`openssl x509 -pubkey -noout`)"
        )
    if not labels[0].endswith("PUBLIC KEY"):
        raise InvalidInput(f"PEM {labels[0]} is not a public key (expected BEGIN PUBLIC KEY)")
    if labels[0] == "RSA PUBLIC KEY":  # PKCS#1, not SubjectPublicKeyInfo
        raise InvalidInput(f"RSA keys are not supported; {_SUPPORTED}")
    kind = _spki_algorithm(text)
    if kind is None:
        raise InvalidInput("the PEM public key cannot be decoded")
    if kind not in (_SPKI_ED25519, _SPKI_EC):
        if kind in _SPKI_REFUSED:
            raise InvalidInput(f"{_SPKI_REFUSED[kind]} keys are not supported; {_SUPPORTED}")
        raise InvalidInput(f"the PEM public key uses an unsupported algorithm; {_SUPPORTED}")
    try:
        key = serialization.load_pem_public_key(text)
    except UnsupportedAlgorithm:
        raise InvalidInput(
            f"the PEM public key uses an unsupported algorithm; {_SUPPORTED}"
        ) from None
    except ValueError:
        raise InvalidInput("the PEM public key cannot be decoded") from None
    return _verifying_key(key)


def _verifying_key(key: object) -> VerifyingKey:
    """Wrap a supported cryptography public key with its JWK and kid; InvalidInput otherwise."""
    if isinstance(key, ed25519.Ed25519PublicKey):
        raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        jwk = {"kty": "OKP", "crv": "Ed25519", "x": b64url_encode(raw)}  # RFC 8037 §2
        return VerifyingKey("EdDSA", compute_kid(jwk), jwk, raw)
    if isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1):
        numbers = key.public_numbers()
        # RFC 7518 §6.2.1.2: coordinates are full-length (32 bytes), leading zeros kept.
        x, y = (b64url_encode(n.to_bytes(32, "big")) for n in (numbers.x, numbers.y))
        jwk = {"kty": "EC", "crv": "P-256", "x": x, "y": y}
        return VerifyingKey("ES256", compute_kid(jwk), jwk, key)
    raise InvalidInput(f"{_describe(key)} keys are not supported; {_SUPPORTED}")


def _describe(key: object) -> str:
    if isinstance(key, ec.EllipticCurvePublicKey):
        name = key.curve.name
        return f"EC curve {_JOSE_CURVE_NAMES.get(name, name)}"
    return type(key).__name__


def _spki_algorithm(pem: bytes) -> bytes | None:
    """The algorithm OID (DER contents) of a PEM SubjectPublicKeyInfo; None when not decodable.

    Reads only the outer structure, ``SEQUENCE { SEQUENCE { OID, ... }, BIT STRING }`` (RFC 5280
    §4.1.2.7); the key itself is parsed by cryptography once its kind is known to be ours.
    """
    match = _PEM_BODY.search(pem)
    if match is None:
        return None
    try:
        der = base64.b64decode(b"".join(match.group(1).split()), validate=True)
        spki, _ = _der_item(der, 0, 0x30)
        algorithm, _ = _der_item(spki, 0, 0x30)
        oid, _ = _der_item(algorithm, 0, 0x06)
    except (binascii.Error, ValueError):
        return None
    return oid


def _der_item(data: bytes, start: int, tag: int) -> tuple[bytes, int]:
    """The contents of the DER item of ``tag`` at ``start``, and the offset after it."""
    if start + 2 > len(data) or data[start] != tag:
        raise ValueError("unexpected DER tag")
    length, offset = data[start + 1], start + 2
    if length & 0x80:  # long form: the low bits count the length bytes that follow
        count = length & 0x7F
        if not 1 <= count <= 4 or offset + count > len(data):
            raise ValueError("bad DER length")
        length = int.from_bytes(data[offset : offset + count], "big")
        offset += count
    if offset + length > len(data):
        raise ValueError("DER item runs past the end")
    return data[offset : offset + length], offset + length


def _refuse_unusable_jwk(jwk: dict[str, Any]) -> None:
    """Refuse JWK Sets, symmetric keys, private key material and non-signing keys up front."""
    if "keys" in jwk:
        raise InvalidInput('the file holds a JWK Set ("keys"); import one key per file')
    if not isinstance(jwk.get("kty"), str):
        raise InvalidInput("the JWK has no kty (key type) member")
    if jwk["kty"] == "oct":
        raise InvalidInput("a symmetric (oct) JWK is a shared secret, not a public key")
    if "k" in jwk or _PRIVATE_JWK_MEMBERS & jwk.keys():
        raise InvalidInput(
            'the JWK holds private key material ("d"); import only the public key '
            "and keep the private key with its owner"
        )
    if jwk.get("use", "sig") != "sig":
        raise InvalidInput(f"JWK use {str(jwk['use'])[:40]!r} is not sig (signature)")


def _jwk_kind(kty: object, crv: object) -> str:
    if kty == "RSA":
        return "RSA"
    if kty == "EC":
        return f"EC curve {str(crv)[:40]}"
    if kty == "OKP" and crv in ("X25519", "X448"):
        return f"{crv} (key agreement, not signing)"
    if kty == "OKP":
        return str(crv)[:40]
    return f"JWK kty {str(kty)[:40]!r}"


def _jwk_bytes(jwk: dict[str, Any], name: str) -> bytes:
    """A 32-byte coordinate: canonical unpadded base64url of exactly 32 bytes (RFC 7518 §6.2.1)."""
    value = jwk.get(name)
    if not isinstance(value, str):
        raise InvalidInput(f"JWK member {name} is missing or not a string")
    try:
        raw = b64url_decode(value, f"JWK member {name}")
    except MalformedToken as exc:
        raise InvalidInput(str(exc)) from None
    if len(raw) != 32:
        raise InvalidInput(f"JWK member {name} must encode 32 bytes, not {len(raw)}")
    return raw

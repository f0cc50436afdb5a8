"""Every Wycheproof Ed25519 and ECDSA P-256/SHA-256 (raw r || s) vector through verifier.core.keys.

The vectors exercise exactly the layer a JWS verifier gets wrong: key import, signature length
checks, r and s ranges (RFC 7518 §3.4), S < L (RFC 8032 §5.1.7) and edge-case public keys. Each
group's key goes through our own import paths (the JWK when the group has one, and always the
PEM), and each test through :meth:`VerifyingKey.verify`.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from verifier.core import keys
from verifier.core.errors import InvalidInput

VECTORS_DIR = Path(__file__).resolve().parent / "data" / "wycheproof"
#: File, algorithm, number of tests and the sha256 published for the unmodified copy of
#: C2SP/wycheproof testvectors_v1 (tests/data/wycheproof/README.md says which commit).
VECTOR_FILES = {
    "ed25519_test.json": (
        "EdDSA",
        151,
        "752d2ea7d7c6cf4736381b6cbacb61f8182b126ab7cd9b058f00c50084975536",
    ),
    "ecdsa_secp256r1_sha256_p1363_test.json": (
        "ES256",
        262,
        "c60de693930e386c3a5472d08081623ef8504decc54b38ac01ec6b2a2575c986",
    ),
}


def _load(name: str) -> dict[str, Any]:
    """The vector file, failing (never skipping) when it is missing or not the pinned copy."""
    path = VECTORS_DIR / name
    if not path.is_file():
        pytest.fail(f"Wycheproof vectors missing: {path}")
    data = path.read_bytes()
    expected_sha256 = VECTOR_FILES[name][2]
    assert hashlib.sha256(data).hexdigest() == expected_sha256, f"{path} is not the pinned copy"
    vectors: dict[str, Any] = json.loads(data)
    return vectors


def _group_key(group: dict[str, Any], alg: str) -> keys.VerifyingKey | None:
    """The group's key via import_public_key (PEM) and verifying_key_from_jwk; None if refused."""
    try:
        from_pem = keys.import_public_key(group["publicKeyPem"].encode("ascii"))
    except InvalidInput:
        from_pem = None
    if "publicKeyJwk" not in group:
        return from_pem
    try:
        from_jwk = keys.verifying_key_from_jwk(group["publicKeyJwk"])  # its "kid": "none" ignored
    except InvalidInput:
        from_jwk = None
    # Both import paths must agree: same key, same kid, or both refuse.
    assert from_pem == from_jwk, f"PEM and JWK import disagree: {from_pem} / {from_jwk}"
    assert from_jwk is None or from_jwk.alg == alg
    return from_jwk


@pytest.mark.parametrize("name", sorted(VECTOR_FILES))
def test_wycheproof_vectors(name: str, record_property: Any) -> None:
    alg, expected_count, _ = VECTOR_FILES[name]
    vectors = _load(name)
    mismatches: list[str] = []
    acceptable: list[str] = []
    seen = 0
    for group in vectors["testGroups"]:
        key = _group_key(group, alg)
        for case in group["tests"]:
            seen += 1
            label = f"tcId {case['tcId']} ({case['comment'] or ', '.join(case['flags'])})"
            if key is None:  # a refused key can only make every signature invalid
                if case["result"] == "valid":
                    mismatches.append(f"{label}: valid, but its public key was refused")
                continue
            verified = key.verify(bytes.fromhex(case["msg"]), bytes.fromhex(case["sig"]))
            if case["result"] == "acceptable":
                acceptable.append(f"{label}: {verified}")
            elif verified != (case["result"] == "valid"):
                mismatches.append(f"{label}: expected {case['result']}, got {verified}")
    assert seen == vectors["numberOfTests"] == expected_count
    assert not mismatches, f"{len(mismatches)} mismatches in {name}:\n" + "\n".join(mismatches)
    # "acceptable" may go either way; report how ours went (the pinned files have none).
    record_property("acceptable", acceptable)
    print(f"{name}: {seen} tests, no mismatches, {len(acceptable)} acceptable: {acceptable}")

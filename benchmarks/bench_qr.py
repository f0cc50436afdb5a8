"""QR size of the SPEC §4 reference credential: plain URL + JWS versus our compact URL.

Run as ``python benchmarks/bench_qr.py``; exits 1 when the compact QR misses its target version.
"""

from __future__ import annotations

import hashlib
import sys
import time

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from verifier.core import credential, jws, links, qr_payload
from verifier.core.credential import Credential
from verifier.qr import render

BASE_URL = "https://sertifikat.example.id"
VALID_FROM = "2025-05-15T00:00:00Z"
TARGET_VERSION = 13


def reference_token() -> str:
    """The SPEC §4 reference credential, really signed with a fresh Ed25519 key."""
    key = Ed25519PrivateKey.generate()
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    # RFC 7638 thumbprint of the OKP JWK, first 16 characters: the kid SPEC §2 prescribes.
    jwk = f'{{"crv":"Ed25519","kty":"OKP","x":"{jws.b64url_encode(raw)}"}}'
    kid = jws.b64url_encode(hashlib.sha256(jwk.encode()).digest())[:16]
    start = credential.parse_instant(VALID_FROM)
    claims = Credential(
        agency_id="lsp-contoh",
        number="41011 7112 3 00001234 2025",
        holder_name="Muhammad Rizky Pratama Saputra",
        job_title="Operator Wheel Excavator",
        job_code="ME063100",
        level=3,
        issued_at=start,
        valid_from=start,
        expires_at=credential.add_years(start),
    ).to_claims()
    header = {"alg": "EdDSA", "kid": kid, "typ": credential.HEADER_TYPE}
    return jws.serialize(header, claims, key.sign(jws.signing_input(header, claims)))


def main() -> int:
    """Print the measurements; 0 when the target is met, 1 when it is missed."""
    started = time.perf_counter()
    token = reference_token()
    plain_url = f"{BASE_URL}/v/{token}"
    compact_url = links.credential_url(BASE_URL, token)
    payload = qr_payload.encode_payload(token)
    if links.extract_token(compact_url) != token or not payload.isdigit():
        print("compact payload does not round-trip", file=sys.stderr)
        return 1
    version = render.qr_version(compact_url)
    print(f"jws_length={len(token)}")
    print(f"plain_url_length={len(plain_url)} qr_version_plain={render.qr_version(plain_url)}")
    print(f"payload_length={len(payload)} compact_url_length={len(compact_url)}")
    print(f"qr_version_compact={version} ({render.make_qr(compact_url).designator})")
    print(f"qr_version_reference_credential={version} (target <= {TARGET_VERSION})")
    print(f"elapsed_seconds={time.perf_counter() - started:.3f}")
    return 0 if version <= TARGET_VERSION else 1


if __name__ == "__main__":
    sys.exit(main())

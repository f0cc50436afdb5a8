"""Verification end to end (SPEC §2 rules, §3 result): statuses, --at, leeway, caching."""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from tests.helpers import DAY, NOW
from verifier.core import jws, keys, links
from verifier.core.credential import Credential, add_years, to_iso
from verifier.core.verify import SHOWS_CREDENTIAL, Status, VerificationResult, verify_token
from verifier.issuance import issuer, keyring
from verifier.issuance.keystore import PrivateKeyStore
from verifier.store import registry, revocation
from verifier.store.credentials import SignedCredential
from verifier.verification import VerificationService

LEEWAY = 60
ISO_Z = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
RESULT_KEYS = {"valid", "status", "message", "checked_at", "credential", "revocation"}
CREDENTIAL_KEYS = {
    "number",
    "holder_name",
    "job_title",
    "job_code",
    "level",
    "agency",
    "issued_at",
    "valid_from",
    "expires_at",
}


def credential(
    agency_id: str = "lsp-contoh",
    *,
    level: int = 3,
    iat: int = NOW,
    nbf: int | None = None,
    exp: int | None = None,
    job_code: str | None = "ME063100",
    number: str = "41011 7112 3 00001234 2025",
) -> Credential:
    """A credential built by hand, for tokens the issuer would refuse to make."""
    nbf = iat if nbf is None else nbf
    return Credential(
        agency_id=agency_id,
        number=number,
        holder_name="Rina Marlina",
        job_title="Operator Wheel Excavator",
        job_code=job_code,
        level=level,
        issued_at=iat,
        valid_from=nbf,
        expires_at=add_years(nbf) if exp is None else exp,
    )


@dataclass
class World:
    """The fixtures a case builder needs, with lsp-contoh (levels 1-6) and its key set up."""

    issue: Callable[..., SignedCredential]
    make_agency: Callable[..., registry.AgencyInfo]
    make_key: Callable[..., registry.TrustedKey]
    store: PrivateKeyStore
    key: registry.TrustedKey

    def signer(self, kid: str | None = None) -> keys.SigningKey:
        return self.store.load(kid or self.key.kid)

    def revoke(self, number: str, now: int = NOW) -> None:
        revocation.revoke("lsp-contoh", number, "fraud", note=None, actor="test", now=now)

    def suspend(self, number: str, now: int = NOW) -> None:
        revocation.suspend("lsp-contoh", number, "investigation", note=None, actor="test", now=now)


@pytest.fixture
def world(contoh, issue, make_agency, make_key, store) -> World:
    return World(issue, make_agency, make_key, store, contoh)


def flip_signature_byte(token: str) -> str:
    head, _, signature = token.rpartition(".")
    raw = bytearray(jws.b64url_decode(signature))
    raw[0] ^= 0x01
    return f"{head}.{jws.b64url_encode(bytes(raw))}"


def sign_with_header(claims: dict[str, Any], header: dict[str, Any], key: keys.SigningKey) -> str:
    return jws.serialize(header, claims, key.sign(jws.signing_input(header, claims)))


# --- one case per status ---------------------------------------------------------------------
# Each builder returns the token; the test verifies it at NOW.


def case_valid(w: World) -> str:
    return w.issue().token


def case_malformed_truncated(w: World) -> str:
    return w.issue().token[:-1]


def case_unknown_issuer(w: World) -> str:
    return issuer.sign(credential("lsp-tidak-terdaftar"), keys.generate_signing_key())


def case_unknown_key_unregistered(w: World) -> str:
    return issuer.sign(credential(), keys.generate_signing_key())


def case_unknown_key_of_another_agency(w: World) -> str:
    w.make_agency("lsp-lain", name="LSP Lain")
    other = w.make_key("lsp-lain")
    return issuer.sign(credential(), w.signer(other.kid))


def case_bad_signature_flipped_byte(w: World) -> str:
    return flip_signature_byte(w.issue().token)


def case_bad_signature_alg_mismatch(w: World) -> str:
    header = {"alg": "ES256", "kid": w.key.kid, "typ": "skk+jwt"}
    return sign_with_header(credential().to_claims(), header, w.signer())


def case_bad_signature_alg_mismatch_es256_key(w: World) -> str:
    w.make_agency("lsp-es", name="LSP ES")
    es_key = w.make_key("lsp-es", alg="ES256")
    header = {"alg": "EdDSA", "kid": es_key.kid, "typ": "skk+jwt"}
    return sign_with_header(credential("lsp-es").to_claims(), header, w.signer(es_key.kid))


def case_key_revoked(w: World) -> str:
    token = w.issue().token
    registry.revoke_key(w.key.kid, NOW)
    return token


def case_key_revoked_signed_after_retirement(w: World) -> str:
    retired_at = NOW - 10 * DAY
    registry.retire_key(w.key.kid, retired_at)
    return issuer.sign(credential(iat=retired_at + LEEWAY + 1), w.signer())


def case_key_revoked_imported_since_after_iat(w: World) -> str:
    w.make_agency("lsp-luar", name="LSP Luar")
    external = keys.generate_signing_key()
    jwk = json.dumps(external.verifying_key().jwk).encode()
    keyring.import_public("lsp-luar", jwk, since=NOW - DAY, now=NOW)
    return issuer.sign(credential("lsp-luar", iat=NOW - 2 * DAY), external)


def case_level_not_authorized(w: World) -> str:
    assert w.issue(level=3).token  # lsp-contoh (1-6) may issue level 3 ...
    w.make_agency("lsp-kecil", levels=(1, 2), name="LSP Kecil")
    small = w.make_key("lsp-kecil")
    return issuer.sign(credential("lsp-kecil", level=3), w.signer(small.kid))  # ... 1-2 may not


def case_revoked(w: World) -> str:
    signed = w.issue()
    w.revoke(signed.credential.number)
    return signed.token


def case_suspended(w: World) -> str:
    signed = w.issue()
    w.suspend(signed.credential.number)
    return signed.token


def case_not_yet_valid_nbf(w: World) -> str:
    return w.issue(valid_from=NOW + 10 * DAY).token


def case_not_yet_valid_iat(w: World) -> str:
    return w.issue(now=NOW + LEEWAY + 1, valid_from=NOW - DAY).token


def case_expired(w: World) -> str:
    return w.issue(valid_from=NOW - 5 * 366 * DAY - DAY, allow_expired=True).token


def case_revoked_and_expired(w: World) -> str:
    signed = w.issue(valid_from=NOW - 5 * 366 * DAY - DAY, allow_expired=True)
    w.revoke(signed.credential.number)
    return signed.token


def case_suspended_then_reinstated(w: World) -> str:
    signed = w.issue()
    w.suspend(signed.credential.number, now=NOW - 60)
    revocation.reinstate("lsp-contoh", signed.credential.number, note=None, actor="t", now=NOW)
    return signed.token


def case_suspended_and_key_revoked(w: World) -> str:
    signed = w.issue()
    w.suspend(signed.credential.number)
    registry.revoke_key(w.key.kid, NOW)
    return signed.token


def case_revoked_with_bad_signature(w: World) -> str:
    signed = w.issue()
    w.revoke(signed.credential.number)
    return flip_signature_byte(signed.token)


STATUS_CASES = [
    pytest.param(case_valid, "valid", False, id="valid"),
    pytest.param(case_malformed_truncated, "malformed", False, id="malformed"),
    pytest.param(case_unknown_issuer, "unknown_issuer", False, id="unknown_issuer"),
    pytest.param(case_unknown_key_unregistered, "unknown_key", False, id="unknown_key"),
    pytest.param(
        case_unknown_key_of_another_agency, "unknown_key", False, id="unknown_key-other-agency"
    ),
    pytest.param(case_bad_signature_flipped_byte, "bad_signature", False, id="bad_signature"),
    pytest.param(
        case_bad_signature_alg_mismatch, "bad_signature", False, id="bad_signature-alg-es256"
    ),
    pytest.param(
        case_bad_signature_alg_mismatch_es256_key,
        "bad_signature",
        False,
        id="bad_signature-alg-eddsa-on-es256-key",
    ),
    pytest.param(case_key_revoked, "key_revoked", False, id="key_revoked"),
    pytest.param(
        case_key_revoked_signed_after_retirement,
        "key_revoked",
        False,
        id="key_revoked-after-retirement",
    ),
    pytest.param(
        case_key_revoked_imported_since_after_iat,
        "key_revoked",
        False,
        id="key_revoked-before-import-since",
    ),
    pytest.param(
        case_level_not_authorized, "level_not_authorized", False, id="level_not_authorized"
    ),
    pytest.param(case_revoked, "revoked", True, id="revoked"),
    pytest.param(case_suspended, "suspended", True, id="suspended"),
    pytest.param(case_not_yet_valid_nbf, "not_yet_valid", False, id="not_yet_valid-nbf"),
    pytest.param(case_not_yet_valid_iat, "not_yet_valid", False, id="not_yet_valid-iat"),
    pytest.param(case_expired, "expired", False, id="expired"),
    pytest.param(case_revoked_and_expired, "revoked", True, id="revoked-and-expired"),
    pytest.param(case_suspended_then_reinstated, "valid", False, id="suspended-then-reinstated"),
    pytest.param(
        case_suspended_and_key_revoked, "key_revoked", True, id="key_revoked-and-suspended"
    ),
    pytest.param(
        case_revoked_with_bad_signature, "bad_signature", False, id="bad_signature-of-revoked"
    ),
]


@pytest.mark.parametrize(("build", "status", "has_revocation"), STATUS_CASES)
def test_status(world: World, service: VerificationService, build, status, has_revocation) -> None:
    result = service.verify(build(world), at=NOW)
    body = result.to_dict()
    assert result.status == status, result.detail
    assert result.valid is body["valid"] is (status == "valid")
    assert body["status"] == status
    assert (body["credential"] is not None) is (status in SHOWS_CREDENTIAL)
    assert (body["revocation"] is not None) is has_revocation


def test_every_status_has_a_case() -> None:
    statuses = {param.values[1] for param in STATUS_CASES}
    # stale_data is offline only (a bundle past its expiry): tests/test_offline_parity.py.
    assert statuses == {status.value for status in Status} - {"stale_data"}


# --- result object (SPEC §3) -----------------------------------------------------------------


def test_result_shape_valid(world: World, service: VerificationService) -> None:
    signed = world.issue(valid_from=NOW - DAY)
    body = service.verify(signed.token, at=NOW + 3600).to_dict()
    assert body == {
        "valid": True,
        "status": "valid",
        "message": "Sertifikat sah dan berlaku.",
        "checked_at": "2026-01-15T01:00:00Z",
        "credential": {
            "number": signed.credential.number,
            "holder_name": "Muhammad Rizky Pratama Saputra",
            "job_title": "Operator Wheel Excavator",
            "job_code": "ME063100",
            "level": 3,
            "agency": {"id": "lsp-contoh", "name": "LSP Konstruksi Contoh Nusantara"},
            "issued_at": "2026-01-15T00:00:00Z",
            "valid_from": "2026-01-14T00:00:00Z",
            "expires_at": "2031-01-14T00:00:00Z",
        },
        "revocation": None,
    }


def test_result_shape_revoked_in_english(world: World, service: VerificationService) -> None:
    signed = world.issue()
    world.revoke(signed.credential.number, now=NOW + 5)
    body = service.verify(signed.token, at=NOW + 10).to_dict("en")
    assert set(body) == RESULT_KEYS
    assert set(body["credential"]) == CREDENTIAL_KEYS
    assert body["message"] == "The certificate has been revoked and is not valid."
    assert body["revocation"] == {
        "status": "revoked",
        "at": "2026-01-15T00:00:05Z",
        "reason": "fraud",
    }
    for instant in (body["checked_at"], body["revocation"]["at"]):
        assert ISO_Z.fullmatch(instant)
    for name in ("issued_at", "valid_from", "expires_at"):
        assert ISO_Z.fullmatch(body["credential"][name])


def test_result_shape_failure_has_no_credential(service: VerificationService) -> None:
    body = service.verify("not a token", at=NOW).to_dict()
    assert body == {
        "valid": False,
        "status": "malformed",
        "message": body["message"],
        "checked_at": "2026-01-15T00:00:00Z",
        "credential": None,
        "revocation": None,
    }
    assert body["message"] != service.verify("not a token", at=NOW).to_dict("en")["message"]


def test_job_code_null_without_jkc(world: World, service: VerificationService) -> None:
    token = issuer.sign(credential(job_code=None), world.signer())
    assert "jkc" not in jws.parse(token).payload
    body = service.verify(token, at=NOW).to_dict()
    assert body["status"] == "valid"
    assert body["credential"]["job_code"] is None


@pytest.mark.parametrize("status", [s.value for s in Status])
def test_messages_differ_by_language(status: str) -> None:
    result = VerificationResult(Status(status), NOW)
    indonesian, english = result.to_dict()["message"], result.to_dict("en")["message"]
    assert indonesian and english and indonesian != english
    assert result.to_dict("id")["message"] == indonesian


@pytest.mark.parametrize(
    "far",
    [
        pytest.param(credential(nbf=2**53 - 5 * 365 * DAY, exp=2**53), id="nbf-exp-2**53"),
        pytest.param(credential(iat=2**53, nbf=NOW), id="iat-2**53"),
    ],
)
def test_result_of_signed_token_with_far_future_times_serialises(
    world: World, service: VerificationService, far: Credential
) -> None:
    """NumericDates up to 2**53 pass rule 1; the result must still render (no 5xx in the API)."""
    result = service.verify(issuer.sign(far, world.signer()), at=NOW)
    assert result.status == "not_yet_valid"
    body = result.to_dict()
    assert body["status"] == "not_yet_valid"
    assert body["credential"]["number"] == far.number


# --- --at moves only rule 9 ------------------------------------------------------------------


@pytest.fixture
def old_credential(make_agency, make_key, issue) -> SignedCredential:
    """Issued six years before NOW with a key that existed then; expired at NOW."""
    make_agency()
    make_key(at=NOW - 7 * 365 * DAY)
    return issue(now=NOW - 6 * 365 * DAY)


@pytest.mark.parametrize(
    ("offset", "status"),
    [
        pytest.param(-6 * 365 * DAY - LEEWAY - 1, "not_yet_valid", id="before-issue"),
        pytest.param(-6 * 365 * DAY, "valid", id="at-issue"),
        pytest.param(-3 * 365 * DAY, "valid", id="midway"),
        pytest.param(0, "expired", id="now"),
        pytest.param(10 * 365 * DAY, "expired", id="later"),
    ],
)
def test_at_moves_time_window(
    old_credential: SignedCredential, service: VerificationService, offset: int, status
) -> None:
    result = service.verify(old_credential.token, at=NOW + offset)
    assert result.status == status
    assert result.to_dict()["checked_at"] == to_iso(NOW + offset)
    assert result.checked_at == NOW + offset


@pytest.mark.parametrize("offset", [-6 * 365 * DAY - 2 * LEEWAY, -3 * 365 * DAY, 0, 10 * 365 * DAY])
def test_at_does_not_undo_revocation(
    old_credential: SignedCredential, service: VerificationService, offset: int
) -> None:
    revocation.revoke(
        "lsp-contoh", old_credential.credential.number, "misuse", note=None, actor="t", now=NOW
    )
    result = service.verify(old_credential.token, at=NOW + offset)
    assert result.status == "revoked"
    assert result.to_dict()["revocation"]["reason"] == "misuse"


@pytest.mark.parametrize("offset", [-6 * 365 * DAY, -3 * 365 * DAY, 0])
def test_at_does_not_undo_key_revocation(
    old_credential: SignedCredential, service: VerificationService, offset: int
) -> None:
    registry.revoke_key(old_credential.kid, NOW)
    assert service.verify(old_credential.token, at=NOW + offset).status == "key_revoked"


@pytest.mark.parametrize(
    ("at", "status"),
    [
        pytest.param(NOW + DAY - LEEWAY - 1, "not_yet_valid", id="nbf-leeway-1s"),
        pytest.param(NOW + DAY - LEEWAY, "valid", id="nbf-leeway"),
        pytest.param(NOW + DAY, "valid", id="nbf"),
        pytest.param(add_years(NOW + DAY) - 1, "valid", id="exp-1s"),
        pytest.param(add_years(NOW + DAY), "valid", id="exp"),
        pytest.param(add_years(NOW + DAY) + LEEWAY - 1, "valid", id="exp+leeway-1s"),
        pytest.param(add_years(NOW + DAY) + LEEWAY, "expired", id="exp+leeway"),
    ],
)
def test_leeway_boundaries(world: World, service: VerificationService, at: int, status) -> None:
    token = world.issue(valid_from=NOW + DAY).token
    assert service.verify(token, at=at).status == status


@pytest.mark.parametrize(
    ("at", "status"),
    [
        pytest.param(NOW + DAY - 1, "not_yet_valid", id="nbf-1s"),
        pytest.param(NOW + DAY, "valid", id="nbf"),
        pytest.param(add_years(NOW + DAY) - 1, "valid", id="exp-1s"),
        pytest.param(add_years(NOW + DAY), "expired", id="exp"),
    ],
)
def test_zero_leeway_boundaries(world: World, database, at: int, status: str) -> None:
    token = world.issue(valid_from=NOW + DAY).token
    assert VerificationService(leeway=0).verify(token, at=at).status == status


@pytest.mark.parametrize(
    ("iat", "status"),
    [
        pytest.param(NOW + LEEWAY, "valid", id="iat=at+leeway"),
        pytest.param(NOW + LEEWAY + 1, "not_yet_valid", id="iat=at+leeway+1s"),
    ],
)
def test_iat_leeway_boundary(world: World, service: VerificationService, iat: int, status) -> None:
    token = world.issue(now=iat, valid_from=NOW - DAY).token
    assert service.verify(token, at=NOW).status == status


@pytest.mark.parametrize(
    ("issued", "status"),
    [
        pytest.param(NOW - 10 * DAY + LEEWAY, "valid", id="retired+leeway"),
        pytest.param(NOW - 10 * DAY + LEEWAY + 1, "key_revoked", id="retired+leeway+1s"),
    ],
)
def test_retired_key_boundary(world: World, service: VerificationService, issued, status) -> None:
    registry.retire_key(world.key.kid, NOW - 10 * DAY)
    token = issuer.sign(credential(iat=issued), world.signer())
    assert service.verify(token, at=NOW).status == status


@pytest.mark.parametrize(
    ("issued", "status"),
    [
        pytest.param(NOW - DAY - LEEWAY, "valid", id="since-leeway"),
        pytest.param(NOW - DAY - LEEWAY - 1, "key_revoked", id="since-leeway-1s"),
    ],
)
def test_imported_key_since_boundary(
    make_agency, service: VerificationService, issued: int, status: str
) -> None:
    make_agency("lsp-luar", name="LSP Luar")
    external = keys.generate_signing_key("ES256")
    jwk = json.dumps(external.verifying_key().jwk).encode()
    keyring.import_public("lsp-luar", jwk, since=NOW - DAY, now=NOW)
    token = issuer.sign(credential("lsp-luar", iat=issued), external)
    assert service.verify(token, at=NOW).status == status


def test_retired_key_still_verifies_what_it_signed(
    world: World, make_key, service: VerificationService
) -> None:
    token = world.issue(now=NOW - DAY).token
    make_key(at=NOW)  # rotation retires the old key at NOW
    assert registry.get_key(world.key.kid).state == "retired"
    assert service.verify(token, at=NOW).status == "valid"


# --- algorithms, caching ---------------------------------------------------------------------


def test_es256_key_verifies(make_agency, make_key, issue, service: VerificationService) -> None:
    make_agency()
    key = make_key(alg="ES256")
    signed = issue()
    assert jws.parse(signed.token).header["alg"] == "ES256" == key.alg
    result = service.verify(signed.token, at=NOW)
    assert result.status == "valid"


def test_key_revocation_seen_at_once_by_warm_cache(
    world: World, service: VerificationService
) -> None:
    token = world.issue().token
    assert service.verify(token, at=NOW).status == "valid"
    assert service.verify(token, at=NOW).status == "valid"  # served from the warm cache
    registry.revoke_key(world.key.kid, NOW + 1)
    assert service.verify(token, at=NOW).status == "key_revoked"


def test_credential_revocation_seen_at_once(world: World, service: VerificationService) -> None:
    signed = world.issue()
    assert service.verify(signed.token, at=NOW).status == "valid"
    world.suspend(signed.credential.number, now=NOW + 1)
    assert service.verify(signed.token, at=NOW).status == "suspended"
    world.revoke(signed.credential.number, now=NOW + 2)
    assert service.verify(signed.token, at=NOW).status == "revoked"


def test_new_agency_seen_at_once(world: World, service: VerificationService) -> None:
    external = keys.generate_signing_key()
    token = issuer.sign(credential("lsp-baru"), external)
    assert service.verify(token, at=NOW).status == "unknown_issuer"
    world.make_agency("lsp-baru", name="LSP Baru")
    assert service.verify(token, at=NOW).status == "unknown_key"
    jwk = json.dumps(external.verifying_key().jwk).encode()
    keyring.import_public("lsp-baru", jwk, since=None, now=NOW)
    assert service.verify(token, at=NOW).status == "valid"


def test_verify_accepts_url_and_payload(world: World, settings, service) -> None:
    token = world.issue().token
    url = links.credential_url(settings.base_url, token)
    for text in (token, url, url.rpartition("/")[2], f"  {url}?utm=x#frag  "):
        assert service.verify(text, at=NOW).status == "valid"


# --- any input yields a result ---------------------------------------------------------------

_UNICODE = "".join(chr(c) for c in (0x0, 0x7, 0x202E, 0x200B, 0xFEFF, 0xD800, 0x10FFFF, 0x4E2D))


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("", id="empty"),
        pytest.param("   \n\t", id="whitespace"),
        pytest.param("a" * 1_000_000, id="1MB-letters"),
        pytest.param("1" * 1_000_000, id="1MB-digits"),
        pytest.param("." * 1_000_000, id="1MB-dots"),
        pytest.param(_UNICODE, id="random-unicode"),
        pytest.param(f"{_UNICODE}.{_UNICODE}.{_UNICODE}", id="unicode-segments"),
        pytest.param("a.b.c", id="a.b.c"),
        pytest.param("." * 10, id="ten-dots"),
        pytest.param("https://sertifikat.example.id/x/abc", id="url-without-v"),
        pytest.param("https://sertifikat.example.id/v/", id="url-empty-payload"),
        pytest.param("https://sertifikat.example.id/V/?x=1", id="url-query-only"),
        pytest.param("1" + "9" * 300, id="digits-undecodable"),
        pytest.param("2" + "9" * 300, id="digits-unknown-version"),
        pytest.param("1", id="digits-version-only"),
        pytest.param("10" + "0" * 300, id="digits-leading-zero"),
        pytest.param("١٢٣", id="arabic-indic-digits"),
        pytest.param("eyJ.eyJ.", id="short-segments"),
    ],
)
def test_any_text_yields_malformed(service: VerificationService, text: str) -> None:
    result = service.verify(text, at=NOW)
    assert result.status == "malformed"
    assert result.to_dict()["credential"] is None


@pytest.mark.parametrize("seed", range(20))
def test_random_digit_payloads_yield_a_result(service: VerificationService, seed: int) -> None:
    rng = random.Random(seed)
    text = "1" + "".join(rng.choice("0123456789") for _ in range(rng.randrange(1, 1500)))
    assert service.verify(text, at=NOW).status == "malformed"


@pytest.mark.parametrize(
    "token",
    [
        pytest.param(None, id="None"),
        pytest.param(b"eyJ.eyJ.abc", id="bytes"),
        pytest.param(12345, id="int"),
        pytest.param(["a", "b", "c"], id="list"),
    ],
)
def test_verify_token_non_str_is_malformed(database, token: Any) -> None:
    lookup = revocation.lookup
    result = verify_token(token, registry.load_snapshot(), lookup, at=NOW, leeway=LEEWAY)
    assert result.status == "malformed"
    assert result.to_dict()["credential"] is None

"""An idempotent demo instance: one agency and one credential in each interesting state."""

from __future__ import annotations

from dataclasses import dataclass

from verifier.config import Settings
from verifier.core.credential import add_years
from verifier.core.errors import NotFound
from verifier.core.trust import AgencyInfo
from verifier.issuance import bundles, keyring
from verifier.issuance.issuer import IssueRequest
from verifier.issuance.keystore import PrivateKeyStore
from verifier.issuance.service import IssuingService
from verifier.store import records, registry, revocation
from verifier.verification import VerificationService

DEMO_AGENCY_ID = "lsp-demo"
DEMO_AGENCY_NAME = "LSP Demo Konstruksi Nusantara"
_DAY = 86400


@dataclass(frozen=True)
class DemoCredential:
    """One demo certificate: who, and what should happen to it."""

    number: str
    holder_name: str
    job_code: str
    level: int
    state: str  # valid | revoked | suspended | expired


DEMO_CREDENTIALS = (
    DemoCredential("DEMO 0001 2026", "Rina Marlina", "ME063100", 3, "valid"),
    DemoCredential("DEMO 0002 2026", "Budi Santoso", "SI013017", 1, "revoked"),
    DemoCredential("DEMO 0003 2026", "Siti Aminah", "SI033015", 2, "suspended"),
    DemoCredential("DEMO 0004 2020", "Agus Wijaya", "ME063027", 2, "expired"),
)


def ensure_demo(settings: Settings, service: VerificationService, now: int) -> list[dict[str, str]]:
    """Create whatever of the demo is missing; return each credential's number, status, URL."""
    agency = _ensure_agency(now)
    issuing = IssuingService.from_settings(settings)
    key_store = PrivateKeyStore(settings.keys_dir, settings.key_passphrase)
    # Only when there is no signing key at all: one this host cannot open (a wrong passphrase,
    # a file not copied) must stop with its clear error, never be retired for a new one.
    if not any(key.is_signing_key for key in registry.list_keys(agency.id)):
        keyring.generate(key_store, agency.id, "EdDSA", now)
    if not bundles.has_signer(key_store):
        bundles.new_key(key_store, now)  # so that /periksa and offline checks work in the demo too
    listing = []
    for demo in DEMO_CREDENTIALS:
        token = _ensure_credential(demo, issuing, now)
        _apply_state(demo, now)
        url = issuing.verify_url(token)
        result = service.verify(token, at=now)
        listing.append({"number": demo.number, "status": result.status.value, "url": url})
    return listing


def _ensure_agency(now: int) -> AgencyInfo:
    try:
        return registry.get_agency(DEMO_AGENCY_ID)
    except NotFound:
        return registry.add_agency(DEMO_AGENCY_ID, DEMO_AGENCY_NAME, (1, 6), "lsp", now)


def _ensure_credential(demo: DemoCredential, issuing: IssuingService, now: int) -> str:
    try:
        return records.get_token(DEMO_AGENCY_ID, demo.number)
    except NotFound:
        pass
    # The expired one was valid for five years that ended a month ago.
    valid_from = add_years(now - 30 * _DAY, -5) if demo.state == "expired" else now
    request = IssueRequest(
        agency_id=DEMO_AGENCY_ID,
        holder_name=demo.holder_name,
        level=demo.level,
        job_code=demo.job_code,
        number=demo.number,
        valid_from=valid_from,
        allow_expired=demo.state == "expired",  # the demo shows an expired certificate too
    )
    return issuing.issue(request, actor="demo", now=now).signed.token


def _apply_state(demo: DemoCredential, now: int) -> None:
    if demo.state == "revoked":
        revocation.revoke(DEMO_AGENCY_ID, demo.number, "fraud", note="demo", actor="demo", now=now)
    elif demo.state == "suspended":
        revocation.suspend(
            DEMO_AGENCY_ID, demo.number, "investigation", note="demo", actor="demo", now=now
        )

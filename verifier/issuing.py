"""Issuing as every entry point does it (CLI, agency API, batch, console): check the request,
unlock the agency's key, build, sign, store and audit, the last two in one transaction.

The steps themselves live in :mod:`verifier.issuer` and :mod:`verifier.cohort`; this module only
puts them in the one order every caller needs, so that no way of issuing escapes the audit log.
"""

from __future__ import annotations

from verifier import audit, cohort, issuer, keyring, registry
from verifier.keystore import PrivateKeyStore
from verifier.models import database_proxy


def issue_single(
    request: issuer.IssueRequest,
    *,
    key_store: PrivateKeyStore,
    pepper: str | None,
    actor: str,
    now: int,
) -> issuer.SignedCredential:
    """Issue one credential for ``actor``; InvalidInput, Conflict or NotFound say why not."""
    agency = registry.get_agency(request.agency_id)
    # Check everything before unlocking the private key: a typo should not cost a KDF run.
    issuer.build_credential(request, agency, now)
    signer = keyring.signer(key_store, agency.id)
    with database_proxy.obj.atomic():
        signed = issuer.issue_one(request, agency, signer, pepper=pepper, now=now)
        audit.record_issued([signed.credential], actor)
    return signed


def commit_cohort(prepared: cohort.PreparedCohort, *, actor: str) -> None:
    """Store a prepared cohort's new credentials and their ``issue`` rows, all or nothing."""
    if not prepared.signed:
        return
    with database_proxy.obj.atomic():
        cohort.commit(prepared)
        audit.record_issued([signed.credential for signed in prepared.signed], actor)

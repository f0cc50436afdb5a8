"""Signing-key and API-key changes together with their audit rows (CLI and console).

The changes themselves are :mod:`verifier.issuance.keyring`, :mod:`verifier.store.registry`
and :mod:`verifier.store.apikeys`; each function here runs one in a transaction with its audit
row, so the log names who generated, retired or revoked which key, and who made or revoked which
API key.
"""

from __future__ import annotations

from verifier.core.errors import NotFound
from verifier.core.nik import quoted
from verifier.core.trust import TrustedKey
from verifier.issuance import keyring
from verifier.issuance.keystore import PrivateKeyStore
from verifier.store import apikeys, audit, outbox, registry
from verifier.store.db import transaction


def generate_key(
    store: PrivateKeyStore, agency_id: str, alg: str, *, actor: str, now: int
) -> TrustedKey:
    """A new signing key for the agency; the previous active one is retired (a rotation)."""
    with transaction():
        key = keyring.generate(store, agency_id, alg, now)
        audit.record(agency_id, actor, "key_generated", at=now, subject=key.kid)
    return key


def retire_key(kid: str, *, actor: str, now: int) -> TrustedKey:
    """Stop signing with a key."""
    with transaction():
        key = registry.retire_key(kid, now)
        audit.record(key.agency_id, actor, "key_retired", at=now, subject=kid)
    return key


def revoke_key(kid: str, *, actor: str, now: int) -> TrustedKey:
    """A compromised key: everything it signed fails verification, and projects watching a
    credential it signed are told (in the same transaction, as for a revoked credential)."""
    with transaction():
        already = registry.get_key(kid).state == "revoked"
        key = registry.revoke_key(kid, now)
        if not already:  # a repeat changes nothing, so it records and tells nothing either
            audit.record(key.agency_id, actor, "key_revoked", at=now, subject=kid)
            outbox.enqueue_key_revoked(key.agency_id, kid, now)
    return key


def create_api_key(agency_id: str, *, actor: str, now: int) -> dict[str, str]:
    """A new API key; the result holds its secret, shown this once."""
    with transaction():
        created = apikeys.create(agency_id, now)
        audit.record(agency_id, actor, "apikey_created", at=now, subject=created["key_id"])
    return created


def revoke_api_key(
    key_id: str, *, actor: str, now: int, agency_id: str | None = None
) -> apikeys.ApiKeyInfo:
    """Revoke an API key; NotFound also when it belongs to another agency than ``agency_id``."""
    with transaction():
        info = apikeys.revoke(key_id, now)
        if agency_id is not None and info.agency_id != agency_id:
            # Another agency's key: raising rolls the revoke back, and it reads as unknown.
            raise NotFound(f"no API key {quoted(key_id)}", field="key_id")
        audit.record(info.agency_id, actor, "apikey_revoked", at=now, subject=key_id)
    return info

"""Key life cycle across both places keys live: private halves on disk, public in the registry."""

from __future__ import annotations

from verifier.core import keys
from verifier.core.keys import SigningKey
from verifier.core.trust import TrustedKey
from verifier.issuance.keystore import PrivateKeyStore
from verifier.store import registry


def generate(store: PrivateKeyStore, agency_id: str, alg: str, now: int) -> TrustedKey:
    """New signing key for an agency; the previous active one is retired."""
    registry.get_agency(agency_id)
    key = keys.generate_signing_key(alg)
    # The private file is written first: a key the registry trusts must always be usable.
    store.save(key)
    return registry.add_key(
        agency_id, key.verifying_key(), origin="generated", not_before=now, now=now
    )


def import_public(agency_id: str, data: bytes, since: int | None, now: int) -> TrustedKey:
    """Trust an external agency's public key (PEM or JWK); it verifies but never signs here."""
    registry.get_agency(agency_id)
    verifying_key = keys.import_public_key(data)
    return registry.add_key(agency_id, verifying_key, origin="imported", not_before=since, now=now)


def signer(store: PrivateKeyStore, agency_id: str) -> SigningKey:
    """The private key the agency signs with now."""
    return store.load(registry.signing_key_of(agency_id).kid)

"""Key life cycle across both places keys live: private halves on disk, public in the registry."""

from __future__ import annotations

from typing import Any

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


def can_sign(store: PrivateKeyStore, key: TrustedKey) -> bool:
    """True when issuing here would sign with ``key``: the registry's active generated key, and
    its private file on this host opens with the passphrase (a file lost in a move, a wrong
    SKK_KEY_PASSPHRASE or a verify-only host all say False)."""
    return key.is_signing_key and store.opens(key.kid)


def describe(store: PrivateKeyStore, key: TrustedKey) -> dict[str, Any]:
    """The SPEC §5 key object, ``can_sign`` as this host finds it."""
    return key.to_dict(can_sign=can_sign(store, key))


def signer(store: PrivateKeyStore, agency_id: str) -> SigningKey:
    """The private key the agency signs with now."""
    return store.load(registry.signing_key_of(agency_id).kid)

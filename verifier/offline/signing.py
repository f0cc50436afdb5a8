"""Bundle keys: the service's own Ed25519 keys that sign offline trust bundles.

Never an agency key: a bundle key vouches for the whole registry, so it lives apart from them,
in the ``bundle_key`` table (public halves, for every host to publish) and, encrypted like agency
keys, in ``SKK_KEYS_DIR`` on the hosts that sign bundles. ``skk bundle new-key`` makes the first
key or the next one; the previous key is retired then and stays published for one maximum age,
the longest any bundle it signed can be fresh, so phones that pinned it keep their data usable.
"""

from __future__ import annotations

import json

from verifier import keys
from verifier.errors import ConfigurationError
from verifier.keystore import PrivateKeyStore
from verifier.models import BundleKeyRecord, database_proxy
from verifier.offline.bundle import BUNDLE_ALG, BundleKey


def new_key(store: PrivateKeyStore, now: int) -> BundleKey:
    """Create a bundle key (the private file first, then its public half); the previous is
    retired at ``now``."""
    key = keys.generate_signing_key(BUNDLE_ALG)
    store.save(key)  # a key the database publishes must always be able to sign
    with database_proxy.obj.atomic():
        BundleKeyRecord.update(retired_at=now).where(BundleKeyRecord.retired_at.is_null()).execute()
        BundleKeyRecord.create(kid=key.kid, public_jwk=json.dumps(key.verifying_key().jwk),
                               created_at=now)
    return BundleKey(key.verifying_key(), now)


def list_keys() -> list[BundleKey]:
    """Every bundle key, oldest first."""
    query = BundleKeyRecord.select().order_by(BundleKeyRecord.created_at, BundleKeyRecord.kid)
    return [_bundle_key(row) for row in query]


def published(now: int, max_age: int) -> list[BundleKey]:
    """The keys a verifier must pin: the current one, and those retired less than a maximum
    age ago (a bundle they signed may still be fresh)."""
    return [key for key in list_keys() if key.retired is None or key.retired + max_age > now]


def key_set(now: int, max_age: int) -> dict[str, object]:
    """The published key set (``/.well-known/skk-bundle-keys.json``, ``skk bundle keys``)."""
    return {"keys": [key.to_jwk() for key in published(now, max_age)]}


def signer(store: PrivateKeyStore) -> keys.SigningKey:
    """The private key of the current bundle key; ConfigurationError when there is none here."""
    current = [key for key in list_keys() if key.retired is None]
    if not current:
        raise ConfigurationError("there is no bundle key; run `skk bundle new-key`")
    kid = current[-1].kid
    if not store.has(kid):
        raise ConfigurationError(f"bundle key {kid} has no private key file on this host")
    return store.load(kid)


def _bundle_key(row: BundleKeyRecord) -> BundleKey:
    verifying_key = keys.verifying_key_from_jwk(json.loads(row.public_jwk))
    return BundleKey(verifying_key, int(row.created_at),
                     None if row.retired_at is None else int(row.retired_at))

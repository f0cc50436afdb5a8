"""Bundle keys in the database: the public halves of the service's own Ed25519 keys that sign
offline trust bundles, for every host to publish (docs/offline.md §4).

Never an agency key: a bundle key vouches for the whole registry, so it lives apart from them,
in the ``bundle_key`` table; its private half is a file in ``SKK_KEYS_DIR`` on the hosts that
sign bundles (:mod:`verifier.issuance.bundles`). A new key retires the previous one, which stays
published for one maximum age, the longest any bundle it signed can be fresh, so phones that
pinned it keep their data usable.
"""

from __future__ import annotations

import json

from verifier.core import keys
from verifier.core.bundle import BundleKey
from verifier.store.db import bound_database
from verifier.store.models import BundleKeyRecord


def add(verifying_key: keys.VerifyingKey, now: int) -> BundleKey:
    """Record a new current bundle key; the previous one is retired at ``now``."""
    with bound_database().atomic():
        BundleKeyRecord.update(retired_at=now).where(BundleKeyRecord.retired_at.is_null()).execute()
        BundleKeyRecord.create(
            kid=verifying_key.kid, public_jwk=json.dumps(verifying_key.jwk), created_at=now
        )
    return BundleKey(verifying_key, now)


def list_keys() -> list[BundleKey]:
    """Every bundle key, oldest first."""
    # Retired keys first: a key made in the same second as its successor must still come first.
    query = BundleKeyRecord.select().order_by(
        BundleKeyRecord.retired_at.is_null(), BundleKeyRecord.created_at, BundleKeyRecord.kid
    )
    return [_bundle_key(row) for row in query]


def current() -> BundleKey | None:
    """The key that signs bundles now (the newest not retired), or None."""
    unretired = [key for key in list_keys() if key.retired is None]
    return unretired[-1] if unretired else None


def published(now: int, max_age: int) -> list[BundleKey]:
    """The keys a verifier must pin: the current one, and those retired less than a maximum
    age ago (a bundle they signed may still be fresh)."""
    return [key for key in list_keys() if key.retired is None or key.retired + max_age > now]


def key_set(now: int, max_age: int) -> dict[str, object]:
    """The published key set (``/.well-known/skk-bundle-keys.json``, ``skk bundle keys``)."""
    return {"keys": [key.to_jwk() for key in published(now, max_age)]}


def _bundle_key(row: BundleKeyRecord) -> BundleKey:
    verifying_key = keys.verifying_key_from_jwk(json.loads(row.public_jwk))
    return BundleKey(
        verifying_key, int(row.created_at), None if row.retired_at is None else int(row.retired_at)
    )

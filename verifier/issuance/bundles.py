"""Signed trust bundles: the service's bundle keys and the bundles they sign (docs/offline.md).

A bundle key is made like an agency key (:mod:`verifier.issuance.keyring`): the private file
first, encrypted in ``SKK_KEYS_DIR`` on the hosts that sign bundles, then its public half in the
database (:mod:`verifier.store.bundle_keys`), which retires the previous key. Bundles are built
from the database (:mod:`verifier.store.bundle_source`), signed, gzipped, and reused while the
data has not changed, so a thousand phones refreshing cost one build (docs/offline.md §5).
"""

from __future__ import annotations

import gzip
import threading
from dataclasses import dataclass
from typing import Any

from verifier.config import Settings
from verifier.core import bundle, keys
from verifier.core.bundle import BundleKey, BundleSettings
from verifier.core.errors import ConfigurationError
from verifier.issuance.keystore import PrivateKeyStore
from verifier.store import bundle_keys, bundle_source, offline_changes

#: A full bundle is rebuilt at most this often when nothing changed (its iat ages that much).
REUSE_SECONDS = 300


def new_key(store: PrivateKeyStore, now: int) -> BundleKey:
    """Create the first or the next bundle key; the previous one is retired at ``now``."""
    key = keys.generate_signing_key(bundle.BUNDLE_ALG)
    store.save(key)  # a key the database publishes must always be able to sign
    return bundle_keys.add(key.verifying_key(), now)


def signer(store: PrivateKeyStore) -> keys.SigningKey:
    """The private key of the current bundle key; ConfigurationError when there is none here."""
    current = bundle_keys.current()
    if current is None:
        raise ConfigurationError("there is no bundle key; run `skk bundle new-key`")
    if not store.has(current.kid):
        raise ConfigurationError(f"bundle key {current.kid} has no private key file on this host")
    return store.load(current.kid)


def has_signer(store: PrivateKeyStore) -> bool:
    """True when this host holds the private file of the current bundle key."""
    current = bundle_keys.current()
    return current is not None and store.has(current.kid)


@dataclass(frozen=True)
class SignedBundle:
    """One signed bundle or delta: the JWS as sent, and gzipped."""

    seq: int
    iat: int
    text: bytes
    gzipped: bytes


def signed(body: dict[str, Any], store: PrivateKeyStore) -> SignedBundle:
    """Sign a payload with the current bundle key and gzip it (level 6, no timestamp)."""
    text = bundle.sign(body, signer(store)).encode("ascii")
    return SignedBundle(
        body["seq"], body["iat"], text, gzip.compress(text, compresslevel=6, mtime=0)
    )


def bundle_settings(settings: Settings) -> BundleSettings:
    """What this service's bundles state: its base URL, SKK_OFFLINE_MAX_AGE, its leeway."""
    return BundleSettings(settings.base_url, settings.offline_max_age, settings.leeway_seconds)


class BundlePublisher:
    """Full bundles and deltas of the bound database, signed with this host's bundle key."""

    def __init__(self, store: PrivateKeyStore, settings: BundleSettings) -> None:
        self._store = store
        self._settings = settings
        self._full: SignedBundle | None = None
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> BundlePublisher:
        """The publisher of a configured process (keys from SKK_KEYS_DIR, and so on)."""
        return cls(
            PrivateKeyStore(settings.keys_dir, settings.key_passphrase), bundle_settings(settings)
        )

    def full(self, now: int) -> SignedBundle:
        """The current full bundle; the last one built while nothing changed, if recent."""
        seq = offline_changes.read_counter()
        cached = self._full
        if cached is not None and cached.seq == seq and now - cached.iat < REUSE_SECONDS:
            return cached
        with self._lock:  # one build at a time; those who waited take its result
            cached = self._full
            if cached is not None and cached.seq >= seq and now - cached.iat < REUSE_SECONDS:
                return cached
            built = signed(bundle_source.full_payload(self._settings, now), self._store)
            self._full = built
            return built

    def delta(self, since: int, now: int) -> SignedBundle | None:
        """The delta after ``since``, or None when the client needs a full bundle."""
        body = bundle_source.delta_payload(self._settings, since, now)
        return None if body is None else signed(body, self._store)

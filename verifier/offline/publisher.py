"""Signed bundles ready to send: built from the database, signed, gzipped, and reused while the
data has not changed, so a thousand phones refreshing cost one build (docs/offline.md §5)."""

from __future__ import annotations

import gzip
import threading
from dataclasses import dataclass
from typing import Any

import peewee

from verifier.keystore import PrivateKeyStore
from verifier.offline import bundle, changes, signing, source
from verifier.offline.source import BundleSettings

#: A full bundle is rebuilt at most this often when nothing changed (its iat ages that much).
REUSE_SECONDS = 300


@dataclass(frozen=True)
class SignedBundle:
    """One signed bundle or delta: the JWS as sent, and gzipped."""

    seq: int
    iat: int
    text: bytes
    gzipped: bytes


def signed(body: dict[str, Any], store: PrivateKeyStore) -> SignedBundle:
    """Sign a payload with the current bundle key and gzip it (level 6, no timestamp)."""
    text = bundle.sign(body, signing.signer(store)).encode("ascii")
    return SignedBundle(body["seq"], body["iat"], text,
                        gzip.compress(text, compresslevel=6, mtime=0))


class BundlePublisher:
    """Full bundles and deltas of one database, signed with this host's bundle key."""

    def __init__(self, database: peewee.Database, store: PrivateKeyStore,
                 settings: BundleSettings) -> None:
        self._database = database
        self._store = store
        self._settings = settings
        self._full: SignedBundle | None = None
        self._lock = threading.Lock()

    def full(self, now: int) -> SignedBundle:
        """The current full bundle; the last one built while nothing changed, if recent."""
        seq = changes.read_counter(self._database)
        cached = self._full
        if cached is not None and cached.seq == seq and now - cached.iat < REUSE_SECONDS:
            return cached
        with self._lock:  # one build at a time; those who waited take its result
            cached = self._full
            if cached is not None and cached.seq >= seq and now - cached.iat < REUSE_SECONDS:
                return cached
            built = signed(source.full_payload(self._database, self._settings, now), self._store)
            self._full = built
            return built

    def delta(self, since: int, now: int) -> SignedBundle | None:
        """The delta after ``since``, or None when the client needs a full bundle."""
        body = source.delta_payload(self._database, self._settings, since, now)
        return None if body is None else signed(body, self._store)

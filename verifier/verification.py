"""The verification service: what the CLI and the web call to check a token, QR text or URL.

It supplies the I/O that :func:`verifier.core.verify.verify_token` keeps out of the pure pipeline: a
trust snapshot refreshed on registry change, and the read of revocation state. On the common
path that is one query: the revocation read also returns the registry version, which says
whether the snapshot used was current (if not, the token is verified again on a fresh one).
"""

from __future__ import annotations

import functools
import time

import peewee

from verifier.core import links
from verifier.core.jws import MalformedToken
from verifier.core.trust import RevocationStatus
from verifier.core.verify import Status, VerificationResult, verify_token
from verifier.store import registry, revocation
from verifier.store.registry import TrustCache


class VerificationService:
    """Verifies against one database; holds the trust cache for the life of the process."""

    def __init__(self, database: peewee.Database, leeway: int) -> None:
        self._database = database
        self._leeway = leeway
        self._trust = TrustCache()
        self._lookup = functools.partial(revocation.lookup, database)

    def verify(self, text: str, *, at: int | None = None) -> VerificationResult:
        """Verify a JWS, QR payload or verify URL at ``at`` (default: now)."""
        instant = int(time.time()) if at is None else at
        try:
            token = links.extract_token(text)
        except MalformedToken as exc:
            return VerificationResult(Status.MALFORMED, instant, detail=str(exc))
        snapshot = self._trust.latest()
        read = _RevocationRead(self._database)
        result = verify_token(token, snapshot, read, at=instant, leeway=self._leeway)
        if result.status is Status.MALFORMED:
            return result  # rule 1 reads nothing from the registry
        # The pipeline stops before the revocation read for an unknown issuer or key or a bad
        # signature; those answers depend on the registry too, so read its version then.
        version = read.registry_version
        if version is None:
            version = registry.current_version(self._database)
        if version == snapshot.version:
            return result
        fresh = self._trust.get(version)
        return verify_token(token, fresh, self._lookup, at=instant, leeway=self._leeway)


class _RevocationRead:
    """The pipeline's revocation lookup, noting the registry version read with it."""

    def __init__(self, database: peewee.Database) -> None:
        self._database = database
        self.registry_version: int | None = None

    def __call__(self, agency_id: str, number: str) -> RevocationStatus | None:
        status, self.registry_version = revocation.lookup_with_registry_version(
            self._database, agency_id, number
        )
        return status

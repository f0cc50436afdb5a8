"""The verification service: what the CLI and the web call to check a token, QR text or URL.

It supplies the I/O that :func:`verifier.verify.verify_token` keeps out of the pure pipeline: a
trust snapshot refreshed on registry change, and one parametrised read for revocation state.
"""

from __future__ import annotations

import functools
import time

import peewee

from verifier import qr, revocation
from verifier.jws import MalformedToken
from verifier.registry import TrustCache
from verifier.verify import Status, VerificationResult, verify_token


class VerificationService:
    """Verifies against one database; holds the trust cache for the life of the process."""

    def __init__(self, database: peewee.Database, leeway: int) -> None:
        self._leeway = leeway
        self._trust = TrustCache()
        self._lookup = functools.partial(revocation.lookup, database)

    def verify(self, text: str, *, at: int | None = None) -> VerificationResult:
        """Verify a JWS, QR payload or verify URL at ``at`` (default: now)."""
        instant = int(time.time()) if at is None else at
        try:
            token = qr.extract_token(text)
        except MalformedToken as exc:
            return VerificationResult(Status.MALFORMED, instant, detail=str(exc))
        return verify_token(token, self._trust.get(), self._lookup, at=instant, leeway=self._leeway)

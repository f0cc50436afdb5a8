"""The verification service: what the CLI and the web call to check a token, QR text or URL.

It supplies the I/O that the pure rules (:mod:`verifier.core.verify`) keep out, between their
two halves:

1. authenticate the token (rules 1-4) against the trust snapshot loaded last;
2. read the credential's revocation state and the registry version in one statement;
3. if the registry changed since that snapshot, authenticate again on a fresh one (a key or
   agency may have been revoked or added meanwhile);
4. evaluate rules 5-9 with that revocation state.

On the common path that is one query. A token that fails rules 2-4 reads no revocation state,
so only the registry version is read for it, and it is judged again if that version is newer.
"""

from __future__ import annotations

import time

from verifier.core.jws import MalformedToken
from verifier.core.links import extract_token
from verifier.core.trust import TrustSnapshot
from verifier.core.verify import Status, VerificationResult, authenticate, evaluate
from verifier.store import registry, revocation
from verifier.store.registry import TrustCache


class VerificationService:
    """Verifies against the bound database; holds the trust cache for the life of the process."""

    def __init__(self, leeway: int) -> None:
        self._leeway = leeway
        self._trust = TrustCache()

    def verify(self, text: str, *, at: int | None = None) -> VerificationResult:
        """Verify a JWS, QR payload or verify URL at ``at`` (default: now)."""
        instant = int(time.time()) if at is None else at
        try:
            token = extract_token(text)
        except MalformedToken as exc:
            return VerificationResult(Status.MALFORMED, instant, detail=str(exc))
        snapshot = self._trust.latest()
        authentic = authenticate(token, snapshot, at=instant)
        if isinstance(authentic, VerificationResult):
            return self._refused(token, authentic, snapshot, instant)
        credential = authentic.credential
        state, version = revocation.lookup_with_registry_version(
            credential.agency_id, credential.number
        )
        if version != snapshot.version:
            # The state read belongs to this version: judge the token by the same registry.
            authentic = authenticate(token, self._trust.get(version), at=instant)
            if isinstance(authentic, VerificationResult):
                return authentic
        return evaluate(authentic, state, at=instant, leeway=self._leeway)

    def _refused(
        self, token: str, refusal: VerificationResult, snapshot: TrustSnapshot, instant: int
    ) -> VerificationResult:
        """A refusal by rules 1-4, unless the registry changed since ``snapshot`` and a fresh
        one authenticates the token after all."""
        if refusal.status is Status.MALFORMED:
            return refusal  # rule 1 reads nothing from the registry
        version = registry.current_version()
        if version == snapshot.version:
            return refusal
        authentic = authenticate(token, self._trust.get(version), at=instant)
        if isinstance(authentic, VerificationResult):
            return authentic
        credential = authentic.credential
        state = revocation.lookup(credential.agency_id, credential.number)
        return evaluate(authentic, state, at=instant, leeway=self._leeway)

"""Verification against a trust bundle: the server's rules, plus ``stale_data`` (docs/offline.md).

The same pure pipeline as the server runs on the bundle's registry and revocations with the
bundle's leeway: :func:`verifier.core.verify.verify_token`, that is rules 1-4
(:func:`~verifier.core.verify.authenticate`), the bundle's revocation record of an authentic
credential, then rules 5-9 (:func:`~verifier.core.verify.evaluate`). One rule is added after
them: when the bundle is past its expiry, a token that evaluates ``valid`` is ``stale_data``
instead (genuine, but whether it has been revoked since the data was signed cannot be known).
Every other status stands: it is what the data says, and the page shows how old that data is.

``verifier/static/offline/verify.js`` implements the same function; the parity tests feed both
the same vectors.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from verifier.core.bundle import Bundle
from verifier.core.credential import to_iso
from verifier.core.jws import MalformedToken
from verifier.core.links import extract_token
from verifier.core.verify import Status, VerificationResult, verify_token

#: Data older than this is shown with a warning (EU verifier apps refreshed every 24 hours).
WARN_AGE_SECONDS = 86_400


def is_stale(bundle: Bundle, now: int) -> bool:
    """True from the bundle's expiry on."""
    return now >= bundle.exp


class OfflineVerifier:
    """Verifies tokens, QR payloads and verify URLs against one bundle."""

    def __init__(self, bundle: Bundle) -> None:
        self.bundle = bundle
        self._snapshot = bundle.snapshot()

    def verify(self, text: str, *, at: int, now: int) -> VerificationResult:
        """The result at ``at`` (rule 9) with the bundle's data judged fresh or stale at ``now``.

        ``at`` is what ``--at`` moves; staleness is always measured at the real ``now``, since
        it is about the data, not about the certificate.
        """
        try:
            token = extract_token(text)
        except MalformedToken as exc:
            return VerificationResult(Status.MALFORMED, at, detail=str(exc))
        result = verify_token(
            token, self._snapshot, self.bundle.lookup, at=at, leeway=self.bundle.leeway
        )
        if result.status is Status.VALID and is_stale(self.bundle, now):
            return dataclasses.replace(
                result, status=Status.STALE_DATA, detail="the offline data is past its expiry"
            )
        return result


def data_age(bundle: Bundle, now: int) -> dict[str, Any]:
    """What a result says about its data: as of when, until when, how old, whether stale."""
    return {
        "data_as_of": to_iso(bundle.iat),
        "expires_at": to_iso(bundle.exp),
        "age_seconds": max(0, now - bundle.iat),
        "stale": is_stale(bundle, now),
        "seq": bundle.seq,
    }


def describe_age(seconds: int) -> str:
    """A short English age: ``45 minutes``, ``3 hours``, ``2 days``."""
    for unit, size in (("day", 86_400), ("hour", 3_600), ("minute", 60)):
        if seconds >= size:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{seconds} second{'s' if seconds != 1 else ''}"

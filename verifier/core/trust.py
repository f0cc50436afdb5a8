"""What verification trusts and reads, as plain values: agencies, their keys, revocation state.

The store builds these from the database (:mod:`verifier.store.registry`,
:mod:`verifier.store.revocation`); an offline verifier could build the same from a signed bundle.
Verification (:mod:`verifier.core.verify`) reads nothing else about the world.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from verifier.core.credential import to_iso
from verifier.core.keys import VerifyingKey


@dataclass(frozen=True)
class AgencyInfo:
    """An agency as verification and the CLI see it."""

    id: str
    name: str
    kind: str
    level_min: int
    level_max: int

    def authorises(self, level: int) -> bool:
        """True when the agency may certify this KKNI level."""
        return self.level_min <= level <= self.level_max

    def to_dict(self) -> dict[str, Any]:
        """The SPEC §5 agency object."""
        levels = {"min": self.level_min, "max": self.level_max}
        return {"id": self.id, "name": self.name, "kind": self.kind, "levels": levels}


@dataclass(frozen=True)
class TrustedKey:
    """A registered public key with its state and service window."""

    kid: str
    agency_id: str
    alg: str
    state: str  # active | retired | revoked
    origin: str  # generated | imported
    not_before: int | None
    retired_at: int | None
    verifying_key: VerifyingKey

    @property
    def can_sign(self) -> bool:
        """Only an active key generated here (its private half in SKK_KEYS_DIR) signs."""
        return self.origin == "generated" and self.state == "active"

    def to_dict(self) -> dict[str, Any]:
        """The SPEC §5 key object."""
        return {
            "kid": self.kid,
            "agency": self.agency_id,
            "alg": self.alg,
            "state": self.state,
            "can_sign": self.can_sign,
        }


@dataclass(frozen=True)
class TrustSnapshot:
    """Everything verification needs from the registry, as of one ``registry_version``."""

    version: int
    agencies: Mapping[str, AgencyInfo]
    keys: Mapping[str, TrustedKey]


@dataclass(frozen=True)
class RevocationStatus:
    """A credential's current record: revoked or suspended, since when, and the public reason."""

    status: str
    at: int
    reason: str

    def to_dict(self) -> dict[str, Any]:
        """The SPEC §3 ``revocation`` object."""
        return {"status": self.status, "at": to_iso(self.at), "reason": self.reason}

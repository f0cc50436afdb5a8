"""Token -> VerificationResult: the numbered rules of SPEC §2, in order, with no I/O of its own.

Verification is a pure function of the token, a trust snapshot, a revocation lookup and the
instant, so the same code can later run on a phone at a site without connectivity. It comes in
two halves: :func:`authenticate` (rules 1-4: is this a credential its issuer really signed?) and
:func:`evaluate` (rules 5-9: is it in force?); between them a caller reads the revocation state,
which is looked up only for an authentic credential. Each check raises :class:`CheckFailed` with
the status of its rule; each half catches only that type.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from verifier.core import jws
from verifier.core.credential import Credential, check_header, to_iso
from verifier.core.messages import DEFAULT_LANGUAGE, status_message
from verifier.core.trust import AgencyInfo, RevocationStatus, TrustedKey, TrustSnapshot

RevocationLookup = Callable[[str, str], "RevocationStatus | None"]


class Status(StrEnum):
    """Stable verification outcomes (SPEC §3); the first failing rule decides."""

    VALID = "valid"
    MALFORMED = "malformed"
    UNKNOWN_ISSUER = "unknown_issuer"
    UNKNOWN_KEY = "unknown_key"
    BAD_SIGNATURE = "bad_signature"
    KEY_REVOKED = "key_revoked"
    LEVEL_NOT_AUTHORIZED = "level_not_authorized"
    REVOKED = "revoked"
    SUSPENDED = "suspended"
    NOT_YET_VALID = "not_yet_valid"
    EXPIRED = "expired"
    #: Offline only (docs/offline.md, :mod:`verifier.core.offline`): authenticate and evaluate
    #: found it valid, but on a trust bundle past its expiry. Never given by either half.
    STALE_DATA = "stale_data"


#: Statuses whose result may show the credential: the signature verified and the issuer is trusted.
SHOWS_CREDENTIAL = frozenset(
    {
        Status.VALID,
        Status.REVOKED,
        Status.SUSPENDED,
        Status.NOT_YET_VALID,
        Status.EXPIRED,
        Status.STALE_DATA,
    }
)


class CheckFailed(Exception):
    """A rule failed; ``status`` says which."""

    def __init__(self, status: Status, detail: str = "") -> None:
        super().__init__(detail or status.value)
        self.status = status


@dataclass(frozen=True)
class VerificationResult:
    """Outcome of one verification at ``checked_at``."""

    status: Status
    checked_at: int
    credential: Credential | None = None
    agency: AgencyInfo | None = None
    revocation: RevocationStatus | None = None
    detail: str = ""

    @property
    def valid(self) -> bool:
        """True only for status ``valid``."""
        return self.status is Status.VALID

    def to_dict(self, language: str = DEFAULT_LANGUAGE) -> dict[str, Any]:
        """The SPEC §3 result object."""
        return {
            "valid": self.valid,
            "status": self.status.value,
            "message": status_message(self.status.value, language),
            "checked_at": to_iso(self.checked_at),
            "credential": self._credential_dict(),
            "revocation": None if self.revocation is None else self.revocation.to_dict(),
        }

    def _credential_dict(self) -> dict[str, Any] | None:
        if self.status not in SHOWS_CREDENTIAL or self.credential is None or self.agency is None:
            return None
        cred = self.credential
        return {
            "number": cred.number,
            "holder_name": cred.holder_name,
            "job_title": cred.job_title,
            "job_code": cred.job_code,
            "level": cred.level,
            "agency": {"id": self.agency.id, "name": self.agency.name},
            "issued_at": to_iso(cred.issued_at),
            "valid_from": to_iso(cred.valid_from),
            "expires_at": to_iso(cred.expires_at),
        }


@dataclass(frozen=True)
class Authentic:
    """What rules 1-4 establish: a well-formed credential, signed by a registered key of the
    agency that issued it. Only such a credential's revocation state is ever looked up."""

    credential: Credential
    agency: AgencyInfo
    key: TrustedKey


def authenticate(token: str, trust: TrustSnapshot, *, at: int) -> Authentic | VerificationResult:
    """Rules 1-4 against one trust snapshot: the authentic credential, or the verdict of the
    first rule that fails (checked at ``at``). Never raises for any token."""
    try:
        parsed, credential = _rule1_well_formed(token)
    except CheckFailed as failure:
        return VerificationResult(failure.status, at, detail=str(failure))
    agency: AgencyInfo | None = None
    try:
        agency = _rule2_known_issuer(credential, trust)
        key = _rule3_known_key(parsed, credential, trust)
        _rule4_signature(parsed, key)
    except CheckFailed as failure:
        return VerificationResult(failure.status, at, credential, agency, detail=str(failure))
    return Authentic(credential, agency, key)


def evaluate(
    authentic: Authentic, revocation: RevocationStatus | None, *, at: int, leeway: int
) -> VerificationResult:
    """Rules 5-9 on an authentic credential, given its revocation record (None: there is none).

    ``at`` is the instant evaluated (rule 9, ``--at``) and reported as ``checked_at``; key and
    revocation state are always the current ones passed in. Never raises.
    """
    credential, agency = authentic.credential, authentic.agency
    try:
        _rule5_key_in_service(credential, authentic.key, leeway)
        _rule6_level_authorised(credential, agency)
        _rule7_8_not_revoked_or_suspended(revocation)
        _rule9_time_window(credential, at, leeway)
    except CheckFailed as failure:
        return VerificationResult(failure.status, at, credential, agency, revocation, str(failure))
    return VerificationResult(Status.VALID, at, credential, agency, revocation)


def verify_token(
    token: str,
    trust: TrustSnapshot,
    lookup_revocation: RevocationLookup,
    *,
    at: int,
    leeway: int,
) -> VerificationResult:
    """Every rule in order, reading revocation state between the two halves; never raises.

    The whole pipeline for a caller that holds its trust snapshot and revocation state (the
    offline verifier, :mod:`verifier.core.offline`); the service (:mod:`verifier.verification`)
    runs the halves itself, so that it can read the registry version with the revocation state.
    """
    authentic = authenticate(token, trust, at=at)
    if isinstance(authentic, VerificationResult):
        return authentic
    # From here the token is authentic, so its revocation record may be shown.
    revocation = lookup_revocation(authentic.credential.agency_id, authentic.credential.number)
    return evaluate(authentic, revocation, at=at, leeway=leeway)


def _rule1_well_formed(token: str) -> tuple[jws.CompactJws, Credential]:
    """Rule 1: strict compact JWS, exact header, typed claims (RFC 7515 §7.1, RFC 8725 §3.2)."""
    if not isinstance(token, str):
        raise CheckFailed(Status.MALFORMED, "token is not text")
    try:
        parsed = jws.parse(token)
        check_header(parsed.header)
        return parsed, Credential.from_claims(parsed.payload)
    except ValueError as exc:  # MalformedToken is a ValueError, as are the claim checks
        raise CheckFailed(Status.MALFORMED, str(exc)) from None


def _rule2_known_issuer(credential: Credential, trust: TrustSnapshot) -> AgencyInfo:
    """Rule 2: ``iss`` is a registered agency."""
    agency = trust.agencies.get(credential.agency_id)
    if agency is None:
        raise CheckFailed(Status.UNKNOWN_ISSUER)
    return agency


def _rule3_known_key(
    parsed: jws.CompactJws, credential: Credential, trust: TrustSnapshot
) -> TrustedKey:
    """Rule 3: ``kid`` names a key of that very agency; nothing else about the key is read."""
    key = trust.keys.get(parsed.header["kid"])
    if key is None or key.agency_id != credential.agency_id:
        raise CheckFailed(Status.UNKNOWN_KEY)
    return key


def _rule4_signature(parsed: jws.CompactJws, key: TrustedKey) -> None:
    """Rule 4: the registry's algorithm and key decide (RFC 8725 §3.1); the header must agree.

    Letting the token pick the algorithm is the root of the ``alg: none`` and HS256-with-a-public
    -key attacks, so the header's ``alg`` is compared, never used.
    """
    if parsed.header["alg"] != key.alg:
        raise CheckFailed(Status.BAD_SIGNATURE, "header alg differs from the key's algorithm")
    if not key.verifying_key.verify(parsed.signing_input, parsed.signature):
        raise CheckFailed(Status.BAD_SIGNATURE)


def _rule5_key_in_service(credential: Credential, key: TrustedKey, leeway: int) -> None:
    """Rule 5: the key is not revoked and was in service when the credential was issued."""
    if key.state == "revoked":
        raise CheckFailed(Status.KEY_REVOKED)
    if key.not_before is not None and credential.issued_at < key.not_before - leeway:
        raise CheckFailed(Status.KEY_REVOKED, "issued before the key entered service")
    if key.retired_at is not None and credential.issued_at > key.retired_at + leeway:
        raise CheckFailed(Status.KEY_REVOKED, "issued after the key was retired")


def _rule6_level_authorised(credential: Credential, agency: AgencyInfo) -> None:
    """Rule 6: the agency may certify this KKNI level."""
    if not agency.authorises(credential.level):
        raise CheckFailed(Status.LEVEL_NOT_AUTHORIZED)


def _rule7_8_not_revoked_or_suspended(revocation: RevocationStatus | None) -> None:
    """Rules 7 and 8: no revocation, then no suspension, of (iss, jti)."""
    if revocation is not None and revocation.status == "revoked":
        raise CheckFailed(Status.REVOKED)
    if revocation is not None and revocation.status == "suspended":
        raise CheckFailed(Status.SUSPENDED)


def _rule9_time_window(credential: Credential, at: int, leeway: int) -> None:
    """Rule 9: nbf - leeway <= at < exp + leeway and iat <= at + leeway (RFC 7519 §4.1.4-6)."""
    if at < credential.valid_from - leeway or credential.issued_at > at + leeway:
        raise CheckFailed(Status.NOT_YET_VALID)
    if at >= credential.expires_at + leeway:
        raise CheckFailed(Status.EXPIRED)

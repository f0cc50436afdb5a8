"""What the verdict block shows, derived from a VerificationResult; the words live in templates.

Dates are formatted here with Flask-Babel, so they follow the page language and are shown in WIB
(Asia/Jakarta, the time zone configured in ``verifier.web.i18n``). Nothing from a token that did
not verify is ever put in a view: the credential is taken only for the statuses SPEC §3 allows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime

from flask_babel import format_date, format_time

from verifier.core import jobs
from verifier.core.credential import to_iso
from verifier.core.verify import SHOWS_CREDENTIAL, Status, VerificationResult

DAY = 86_400
#: Warn the checker when a valid certificate has less than this long to run.
EXPIRY_WARNING_SECONDS = 90 * DAY
#: The verdicts a page can show; every failing rule of SPEC §2 rules 1-6 is ``invalid``.
KINDS = {
    Status.VALID: "valid",
    Status.REVOKED: "revoked",
    Status.SUSPENDED: "suspended",
    Status.EXPIRED: "expired",
    Status.NOT_YET_VALID: "not_yet_valid",
    Status.STALE_DATA: "stale_data",  # only ever rendered offline (docs/offline.md)
}


@dataclass(frozen=True)
class Moment:
    """An instant as the page prints it: date and time in WIB, and ISO 8601 UTC for <time>."""

    date: str
    time: str
    iso: str

    @property
    def in_wib(self) -> bool:
        """False for instants past year 9999, printed in UTC from ``iso`` instead."""
        return bool(self.date)


@dataclass(frozen=True)
class CredentialView:
    """The verified credential's fields, ready to print."""

    number: str
    holder_name: str
    job_title: str
    job_code: str | None
    level: int
    level_group: str
    agency_name: str
    valid_from: Moment
    expires_at: Moment


@dataclass(frozen=True)
class VerdictView:
    """Everything the verdict block needs."""

    status: str
    kind: str
    checked_at: Moment
    credential: CredentialView | None = None
    revocation_reason: str | None = None
    revocation_at: Moment | None = None
    #: Whole days left (rounded up), set only for a valid credential close to its expiry.
    expires_in_days: int | None = None


def verdict_view(result: VerificationResult) -> VerdictView:
    """The view of one verification result."""
    kind = KINDS.get(result.status, "invalid")
    credential = _credential_view(result)
    revocation = result.revocation if credential is not None else None
    return VerdictView(
        status=result.status.value,
        kind=kind,
        checked_at=moment(result.checked_at),
        credential=credential,
        revocation_reason=revocation.reason if revocation else None,
        revocation_at=moment(revocation.at) if revocation else None,
        expires_in_days=_days_left(result),
    )


def _credential_view(result: VerificationResult) -> CredentialView | None:
    cred, agency = result.credential, result.agency
    if result.status not in SHOWS_CREDENTIAL or cred is None or agency is None:
        return None
    return CredentialView(
        number=cred.number,
        holder_name=cred.holder_name,
        job_title=cred.job_title,
        job_code=cred.job_code,
        level=cred.level,
        level_group=jobs.level_group(cred.level),
        agency_name=agency.name,
        valid_from=moment(cred.valid_from),
        expires_at=moment(cred.expires_at),
    )


def _days_left(result: VerificationResult) -> int | None:
    if result.status is not Status.VALID or result.credential is None:
        return None
    remaining = result.credential.expires_at - result.checked_at
    if remaining >= EXPIRY_WARNING_SECONDS:
        return None
    return max(1, math.ceil(remaining / DAY))


def moment(instant: int) -> Moment:
    """Date and time in WIB in the page language; only the ISO form past year 9999."""
    iso = to_iso(instant)
    try:
        when = datetime.fromtimestamp(instant, UTC)
        return Moment(format_date(when, "long"), format_time(when, "short"), iso)
    except (OverflowError, ValueError, OSError):
        # SPEC §2 allows NumericDates to 2**53; datetime stops at 9999-12-31.
        return Moment("", "", iso)

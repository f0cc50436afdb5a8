"""One issue request -> a checked Credential -> its signed token. Time is injected.

Checking and signing are separate steps (storing is :mod:`verifier.store.credentials`), so that
every request is checked before a private key is unlocked, and a cohort's rows are all checked
before any is signed; :mod:`verifier.issuance.service` puts the steps together.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from verifier.core import jobs, jws
from verifier.core.credential import (
    DAY,
    HEADER_TYPE,
    Credential,
    add_years,
    check_text,
    checked_number,
)
from verifier.core.errors import InvalidInput
from verifier.core.keys import SigningKey
from verifier.core.nik import holds_nik_like
from verifier.core.text import clean_text
from verifier.core.trust import AgencyInfo
from verifier.store.credentials import SignedCredential

#: 9990-01-01T00:00:00Z: five years later must still be a date Python's calendar can hold.
MAX_VALID_FROM = 253_086_768_000
#: A valid_from further ahead than this is refused unless ``allow_future`` (issue 14): a
#: certificate is issued once the competence is assessed, and a quarter of a year covers a
#: validity that starts with a project or the next term; more is a typo (2062 for 2026).
MAX_DAYS_AHEAD = 90


@dataclass(frozen=True)
class IssueRequest:
    """What an agency asks for; ``iss``, ``kid`` and all times except valid_from are ours."""

    agency_id: str
    holder_name: str
    level: int
    job_code: str | None = None
    job_title: str | None = None
    nik: str | None = None
    number: str | None = None
    valid_from: int | None = None
    #: Issue although valid_from is so old that the certificate has expired already.
    allow_expired: bool = False
    #: Issue although valid_from is more than MAX_DAYS_AHEAD days ahead.
    allow_future: bool = False


def build_credential(
    request: IssueRequest, agency: AgencyInfo, now: int, master: jobs.JobMaster | None = None
) -> Credential:
    """Check a request against the agency and the job master; InvalidInput names the field.

    ``master`` is the active jabatan kerja list (``verifier.store.job_masters.active_master``,
    which the issuing service and cohorts pass in); the package's list when None.
    """
    level = request.level
    if type(level) is not int or not 1 <= level <= 9:
        raise InvalidInput("level must be a whole number from 1 to 9", field="level")
    if not agency.authorises(level):
        raise InvalidInput(
            f"level {level} is outside agency {agency.id}'s authorised levels "
            f"{agency.level_min}-{agency.level_max}",
            field="level",
        )
    job = resolve_job(
        request.job_code,
        request.job_title,
        level,
        jobs.package_master() if master is None else master,
    )
    name = clean_text(request.holder_name) if isinstance(request.holder_name, str) else ""
    try:
        check_text(name, "holder name")
    except ValueError as exc:
        raise InvalidInput(str(exc), field="holder_name") from None
    if holds_nik_like(name):
        # The name is signed into the token and shown to everyone who scans it (SPEC §2).
        raise InvalidInput(
            "holder name must not contain a NIK or another 16-digit number", field="holder_name"
        )
    valid_from = now if request.valid_from is None else request.valid_from
    if type(valid_from) is not int or not 0 <= valid_from <= MAX_VALID_FROM:
        raise InvalidInput("valid_from must fall between 1970 and 9990", field="valid_from")
    check_valid_from(
        valid_from, now, allow_expired=request.allow_expired, allow_future=request.allow_future
    )
    if request.number is None:
        number = assign_number(job.code, job.level, now)
    else:
        number = checked_number(request.number)
        if holds_nik_like(number):
            # The number is printed, encoded in the QR and shown to anyone who scans it.
            raise InvalidInput(
                "certificate number must not be a NIK or another 16-digit number", field="number"
            )
    return Credential(
        agency_id=agency.id,
        number=number,
        holder_name=name,
        job_title=job.title,
        job_code=job.code,
        level=level,
        issued_at=now,
        valid_from=valid_from,
        expires_at=add_years(valid_from),
    )


def check_valid_from(valid_from: int, now: int, *, allow_expired: bool, allow_future: bool) -> None:
    """Refuse a valid_from that cannot be meant (issue 14): one so old that the certificate
    has expired at issue, or one more than :data:`MAX_DAYS_AHEAD` days ahead, unless allowed."""
    if not allow_expired and add_years(valid_from) <= now:
        raise InvalidInput(
            "valid_from is more than five years ago: the certificate would have "
            "expired before it is issued (allow it explicitly to issue it anyway)",
            field="valid_from",
        )
    if not allow_future and valid_from > now + MAX_DAYS_AHEAD * DAY:
        raise InvalidInput(
            f"valid_from is more than {MAX_DAYS_AHEAD} days ahead (allow it "
            "explicitly to issue it anyway)",
            field="valid_from",
        )


def resolve_job(
    code: str | None, title: str | None, level: int, master: jobs.JobMaster
) -> jobs.Job:
    """The master-list job for a code or a title at ``level``; InvalidInput when none fits."""
    if (code is None) == (title is None):
        raise InvalidInput("give exactly one of job_code and job_title", field="job_code")
    if code is not None:
        job = master.find_by_code(code)
        if job is None:
            raise InvalidInput(_unknown("job code", code), field="job_code")
        if job.level != level:
            raise InvalidInput(
                f"level {level} contradicts job code {job.code} (level {job.level})",
                field="level",
            )
        return job
    assert title is not None
    job = master.find_by_title(title, level)
    if job is None:
        levels = master.levels_for_title(title)
        if levels:
            raise InvalidInput(
                f"job title {title.strip()!r} exists at level(s) "
                f"{', '.join(map(str, levels))}, not {level}",
                field="level",
            )
        raise InvalidInput(_unknown("job title", title), field="job_title")
    return job


def _unknown(what: str, typed: str) -> str:
    """Repeat what was typed only if it has no digits beyond a job code's six: a NIK pasted
    into the wrong column (cohort files get columns swapped) must not come back (SPEC §7)."""
    shown = typed.strip()
    if sum(ch.isdigit() for ch in shown) > 6:
        return f"unknown {what}"
    return f"unknown {what} {shown!r}"


def assign_number(job_code: str | None, level: int, now: int) -> str:
    """``<job code> <level> <8 random digits> <year>``, e.g. ``ME063100 3 48213377 2026``.

    Random rather than sequential serials: nothing can be learned by counting, and several
    issuing hosts never race for the next value. A collision is retried on insert.
    """
    year = datetime.fromtimestamp(now, UTC).year
    return f"{job_code} {level} {secrets.randbelow(10**8):08d} {year}"


def sign(credential: Credential, key: SigningKey) -> str:
    """Compact JWS of the credential in canonical form (SPEC §2 member order)."""
    header = {"alg": key.alg, "kid": key.kid, "typ": HEADER_TYPE}
    signing_input = jws.signing_input(header, credential.to_claims())
    return f"{signing_input.decode('ascii')}.{jws.b64url_encode(key.sign(signing_input))}"


def sign_credential(
    credential: Credential, key: SigningKey, nik_hmac: str | None
) -> SignedCredential:
    """The credential with its token, ready to store (the NIK only ever as its HMAC)."""
    return SignedCredential(credential, sign(credential, key), key.kid, nik_hmac)


def renumbered(credential: Credential, now: int) -> Credential:
    """The same credential under a newly drawn number, for an assigned one that was taken (its
    job was checked against the master when it was built)."""
    return replace(credential, number=assign_number(credential.job_code, credential.level, now))

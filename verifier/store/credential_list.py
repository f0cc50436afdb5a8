"""An agency's certificates as a paged, filtered list, its counts, and a search by name.

Shared by the agency API (``GET /api/v1/credentials``) and the console. Each page is one query
joining the revocation state, so a page of 50 is not 51 round trips. Statuses, as the filter
understands them:

* ``active``: neither revoked nor suspended (whatever the dates);
* ``valid``: active, and ``valid_from <= now < expires_at``;
* ``expired``: active, and ``expires_at <= now``;
* ``suspended``, ``revoked``: the current revocation record says so.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import peewee

from verifier.core import jobs
from verifier.core.credential import JOB_CODE_RE
from verifier.core.errors import InvalidInput
from verifier.store import job_masters
from verifier.store.models import CredentialRecord, RevocationRecord
from verifier.store.records import joined_record, with_revocation
from verifier.store.registry import get_agency

STATUSES = ("valid", "active", "expired", "suspended", "revoked")
DEFAULT_PER_PAGE = 50
MAX_PER_PAGE = 500
#: Name search: at least this many characters, at most this many results.
MIN_NAME_QUERY = 2
MAX_NAME_RESULTS = 100


@dataclass(frozen=True)
class ListFilter:
    """Which certificates to list; None leaves a field open."""

    status: str | None = None
    job_code: str | None = None
    level: int | None = None
    issued_from: int | None = None  # inclusive
    issued_before: int | None = None  # exclusive

    def checked(self) -> ListFilter:
        """The filter itself; InvalidInput naming the field that cannot match anything."""
        if self.status is not None and self.status not in STATUSES:
            raise InvalidInput(f"status must be one of {', '.join(STATUSES)}", field="status")
        if self.job_code is not None and not JOB_CODE_RE.fullmatch(self.job_code):
            raise InvalidInput("job_code must look like ME063100", field="job_code")
        if self.level is not None and not 1 <= self.level <= 9:
            raise InvalidInput("level must be a whole number from 1 to 9", field="level")
        return self


@dataclass(frozen=True)
class Page:
    """One page of records (the API's record objects), and where it sits in the whole list."""

    records: list[dict[str, Any]]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        """How many pages the whole list has (at least one, even when empty)."""
        return max(1, math.ceil(self.total / self.per_page))


def list_records(
    agency_id: str, filters: ListFilter, *, page: int, per_page: int, now: int
) -> Page:
    """Page ``page`` (from 1) of the agency's certificates, newest first."""
    get_agency(agency_id)
    if page < 1:
        raise InvalidInput("page must be 1 or more", field="page")
    if not 1 <= per_page <= MAX_PER_PAGE:
        raise InvalidInput(f"per_page must be from 1 to {MAX_PER_PAGE}", field="per_page")
    query = _filtered(agency_id, filters.checked(), now)
    total = int(query.count())
    rows = (
        query.order_by(CredentialRecord.issued_at.desc(), CredentialRecord.id.desc())
        .offset((page - 1) * per_page)
        .limit(per_page)
    )
    return Page([joined_record(row) for row in rows], total, page, per_page)


def find_by_name(agency_id: str, text: str) -> list[dict[str, Any]]:
    """The agency's certificates whose holder name contains ``text`` (any case), newest first."""
    wanted = " ".join(text.split())
    if len(wanted) < MIN_NAME_QUERY:
        raise InvalidInput(f"type at least {MIN_NAME_QUERY} letters of the name", field="name")
    query = with_revocation().where(
        (CredentialRecord.agency == agency_id) & CredentialRecord.holder_name.contains(wanted)
    )
    rows = query.order_by(CredentialRecord.issued_at.desc(), CredentialRecord.id.desc())
    return [joined_record(row) for row in rows.limit(MAX_NAME_RESULTS)]


def counts(agency_id: str, now: int) -> dict[str, int]:
    """``issued``, ``valid``, ``suspended``, ``revoked`` and ``expired`` for a dashboard, in one
    query (each status as the list's filter understands it)."""
    names = ("valid", "suspended", "revoked", "expired")
    tallies = [peewee.fn.SUM(peewee.Case(None, [(_has_status(name, now), 1)], 0)) for name in names]
    row = (
        with_revocation()
        .select(peewee.fn.COUNT(CredentialRecord.id), *tallies)
        .where(CredentialRecord.agency == agency_id)
        .scalar(as_tuple=True)
    )
    return {name: int(value or 0) for name, value in zip(("issued", *names), row, strict=True)}


def job_choices(agency_id: str) -> list[jobs.Job]:
    """The active master list's jobs at levels the agency may certify, by title then level."""
    agency = get_agency(agency_id)
    return sorted(
        (job for job in job_masters.active_master().jobs if agency.authorises(job.level)),
        key=lambda job: (job.title.casefold(), job.level),
    )


def _filtered(
    agency_id: str, filters: ListFilter, now: int
) -> peewee.ModelSelect[CredentialRecord]:
    query = with_revocation().where(CredentialRecord.agency == agency_id)
    if filters.status is not None:
        query = query.where(_has_status(filters.status, now))
    if filters.job_code is not None:
        query = query.where(CredentialRecord.job_code == filters.job_code)
    if filters.level is not None:
        query = query.where(CredentialRecord.level == filters.level)
    if filters.issued_from is not None:
        query = query.where(CredentialRecord.issued_at >= filters.issued_from)
    if filters.issued_before is not None:
        query = query.where(CredentialRecord.issued_at < filters.issued_before)
    return query


def _has_status(status: str, now: int) -> peewee.Expression:
    """The condition a row joined by with_revocation meets when it has ``status`` at ``now``."""
    if status in ("suspended", "revoked"):
        return RevocationRecord.status == status
    active = RevocationRecord.status.is_null()
    if status == "valid":
        return active & (CredentialRecord.valid_from <= now) & (CredentialRecord.expires_at > now)
    if status == "expired":
        return active & (CredentialRecord.expires_at <= now)
    return active

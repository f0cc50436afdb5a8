"""Crew check evaluation: each worker's status and findings against the project, and a summary.

Pure: it takes the verification outcomes already made (``verifier.crew.check`` does the I/O)
and the credentials known to be on other owners' overlapping projects, and decides. A worker
counts as a problem when its status is anything but ``valid`` or it has any finding.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

from verifier.core.credential import to_iso
from verifier.core.crew.calendar import day_end
from verifier.core.crew.worker import RosterWorker
from verifier.core.messages import DEFAULT_LANGUAGE
from verifier.core.verify import SHOWS_CREDENTIAL, Status, VerificationResult

#: A row given by number: no credential of that agency has that number with that name.
NOT_FOUND = "not_found"
#: A row given by number: the number exists, the name differs (told only to project owners).
NAME_MISMATCH = "name_mismatch"
#: Every status a worker can have, in the order reports list them: the server's (SPEC §3; a crew
#: is checked against live data, so never the offline ``stale_data``) and the two above.
STATUSES: tuple[str, ...] = (
    *(status.value for status in Status if status is not Status.STALE_DATA),
    NOT_FOUND,
    NAME_MISMATCH,
)

#: A credential: (agency id, certificate number).
Identity = tuple[str, str]


class Finding(StrEnum):
    """Stable codes for what is wrong with a worker's credential for this project."""

    EXPIRES_BEFORE_PROJECT_END = "expires_before_project_end"
    LEVEL_BELOW_REQUIREMENT = "level_below_requirement"
    JOB_NOT_IN_REQUIREMENTS = "job_not_in_requirements"
    DUPLICATE_IN_LIST = "duplicate_in_list"
    ON_OTHER_ACTIVE_PROJECT = "on_other_active_project"


@dataclass(frozen=True)
class Requirement:
    """A job the project needs, at this KKNI level or higher."""

    job_code: str
    min_level: int

    def to_dict(self) -> dict[str, Any]:
        """The API's requirement object."""
        return {"job_code": self.job_code, "min_level": self.min_level}


@dataclass(frozen=True)
class ProjectTerms:
    """What a crew is checked against: the project's period and the jobs it needs."""

    name: str | None = None
    starts: date | None = None
    ends: date | None = None
    requirements: tuple[Requirement, ...] = ()
    project_id: str | None = None

    @property
    def ends_at(self) -> int | None:
        """The instant the project is over: the end of its last day in WIB."""
        return None if self.ends is None else day_end(self.ends)

    def to_dict(self) -> dict[str, Any]:
        """The report's ``project`` object."""
        data: dict[str, Any] = {"id": self.project_id} if self.project_id else {}
        return {
            **data,
            "name": self.name,
            **({"starts": self.starts.isoformat()} if self.starts else {}),
            "ends": self.ends.isoformat() if self.ends else None,
            "requirements": [requirement.to_dict() for requirement in self.requirements],
        }


@dataclass(frozen=True)
class Outcome:
    """What checking one worker gave: a verification result, or why a number row has none."""

    worker: RosterWorker
    result: VerificationResult | None
    status: str

    @property
    def identity(self) -> Identity | None:
        """The credential, when it is authentic and trusted (its details may be shown)."""
        result = self.result
        if result is None or result.credential is None or result.status not in SHOWS_CREDENTIAL:
            return None
        return result.credential.agency_id, result.credential.number


def outcome_of(worker: RosterWorker, result: VerificationResult) -> Outcome:
    """The outcome of a verified worker."""
    return Outcome(worker, result, result.status.value)


@dataclass(frozen=True)
class WorkerReport:
    """One worker's line in the report."""

    outcome: Outcome
    findings: tuple[Finding, ...]

    @property
    def problem(self) -> bool:
        """Anything but a valid credential without findings."""
        return self.outcome.status != Status.VALID.value or bool(self.findings)

    def to_dict(self, language: str = DEFAULT_LANGUAGE) -> dict[str, Any]:
        """``line`` for a file row (and ``ref`` when given); ``ref`` for a JSON row."""
        worker = self.outcome.worker
        where: dict[str, Any] = {} if worker.line is None else {"line": worker.line}
        if worker.line is None or worker.ref is not None:
            where["ref"] = worker.ref
        result = self.outcome.result
        shown = result.to_dict(language) if result is not None else {}
        return {
            **where,
            "status": self.outcome.status,
            "credential": shown.get("credential"),
            "revocation": shown.get("revocation"),
            "findings": [finding.value for finding in self.findings],
        }


@dataclass(frozen=True)
class CrewReport:
    """Every worker in input order, with the project and the instant checked."""

    terms: ProjectTerms
    checked_at: int
    workers: tuple[WorkerReport, ...] = field(default=())

    def summary(self) -> dict[str, Any]:
        """Counts: workers, ok, problems, and by status and by finding (those that occur)."""
        statuses = Counter(report.outcome.status for report in self.workers)
        findings = Counter(finding for report in self.workers for finding in report.findings)
        problems = sum(report.problem for report in self.workers)
        return {
            "workers": len(self.workers),
            "ok": len(self.workers) - problems,
            "problems": problems,
            "by_status": {status: statuses[status] for status in STATUSES if statuses[status]},
            "by_finding": {f.value: findings[f] for f in Finding if findings[f]},
        }

    def problems_first(self) -> list[WorkerReport]:
        """Problems, then the rest, each in input order (how the page lists them)."""
        return sorted(self.workers, key=lambda report: not report.problem)

    def to_dict(self, language: str = DEFAULT_LANGUAGE) -> dict[str, Any]:
        """The report object of the API."""
        return {
            "project": self.terms.to_dict(),
            "checked_at": to_iso(self.checked_at),
            "summary": self.summary(),
            "workers": [report.to_dict(language) for report in self.workers],
        }


def evaluate(
    outcomes: Sequence[Outcome],
    terms: ProjectTerms,
    elsewhere: Collection[Identity],
    checked_at: int,
) -> CrewReport:
    """The findings of every outcome; ``elsewhere`` holds the credentials on other owners'
    projects whose periods overlap this one's."""
    seen = Counter(identity for outcome in outcomes if (identity := outcome.identity))
    required = {requirement.job_code: requirement for requirement in terms.requirements}
    reports = []
    for outcome in outcomes:
        found: set[Finding] = set()
        identity = outcome.identity
        if identity is not None:
            found |= _credential_findings(outcome, terms, required)
            if seen[identity] > 1:
                found.add(Finding.DUPLICATE_IN_LIST)
            if identity in elsewhere:
                found.add(Finding.ON_OTHER_ACTIVE_PROJECT)
        reports.append(WorkerReport(outcome, tuple(f for f in Finding if f in found)))
    return CrewReport(terms, checked_at, tuple(reports))


def _credential_findings(
    outcome: Outcome, terms: ProjectTerms, required: dict[str, Requirement]
) -> set[Finding]:
    assert outcome.result is not None and outcome.result.credential is not None
    credential = outcome.result.credential
    found = set()
    ends_at = terms.ends_at
    # An expired credential says so in its status; the finding is for one still running.
    if (
        ends_at is not None
        and outcome.status != Status.EXPIRED.value
        and credential.expires_at < ends_at
    ):
        found.add(Finding.EXPIRES_BEFORE_PROJECT_END)
    if required:
        requirement = required.get(credential.job_code or "")
        if requirement is None:
            found.add(Finding.JOB_NOT_IN_REQUIREMENTS)
        elif credential.level < requirement.min_level:
            found.add(Finding.LEVEL_BELOW_REQUIREMENT)
    return found

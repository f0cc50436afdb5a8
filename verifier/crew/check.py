"""Checking a crew: verify every worker, match the rows given by number, find the credentials on
other owners' overlapping projects, then evaluate (``verifier.core.crew.evaluation``).

Every worker is verified at one instant, so the report is one consistent picture. A row given by
number gets its credential's status when agency, number and name all match an issued credential
(as the manual check answers); otherwise ``not_found`` — or, for a project owner only,
``name_mismatch`` when the number exists under another name.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from verifier.core.crew.calendar import today
from verifier.core.crew.evaluation import (
    NAME_MISMATCH,
    NOT_FOUND,
    CrewReport,
    Outcome,
    ProjectTerms,
    evaluate,
    outcome_of,
)
from verifier.core.crew.roster import AgencyResolver
from verifier.core.crew.worker import RosterWorker
from verifier.core.text import fold
from verifier.store import projects, records, registry
from verifier.verification import VerificationService


def agency_resolver() -> AgencyResolver:
    """Typed agency -> registered id: the id itself, or the full name (case, spacing ignored)."""
    agencies = registry.list_agencies()
    by_id = {agency.id: agency.id for agency in agencies}
    by_name = {fold(agency.name): agency.id for agency in agencies}
    return lambda typed: by_id.get(typed.strip().lower()) or by_name.get(fold(typed))


def outcomes(
    service: VerificationService,
    workers: Sequence[RosterWorker],
    *,
    owner_id: str | None,
    at: int,
) -> list[Outcome]:
    """Each worker's verification outcome, in order."""
    by_number = [worker for worker in workers if worker.by_number]
    answers = records.match_many(
        [(w.agency or "", w.number or "", w.holder_name or "") for w in by_number]
    )
    matched = {worker.position: answer for worker, answer in zip(by_number, answers, strict=True)}
    found = []
    for worker in workers:
        if worker.credential is not None:
            found.append(outcome_of(worker, service.verify(worker.credential, at=at)))
            continue
        answer = matched[worker.position]
        if answer.token is not None:
            found.append(outcome_of(worker, service.verify(answer.token, at=at)))
        elif answer.number_known and owner_id is not None:
            found.append(Outcome(worker, None, NAME_MISMATCH))
        else:
            found.append(Outcome(worker, None, NOT_FOUND))
    return found


def report(
    found: Sequence[Outcome],
    terms: ProjectTerms,
    period: tuple[date, date],
    *,
    owner_id: str | None,
    at: int,
) -> CrewReport:
    """Evaluate outcomes; ``period`` is when the crew works, for the rented-certificate check."""
    identities = {identity for outcome in found if (identity := outcome.identity)}
    elsewhere = projects.on_other_projects(identities, *period, owner_id) if identities else set()
    return evaluate(found, terms, elsewhere, at)


def one_off_period(terms: ProjectTerms, at: int) -> tuple[date, date]:
    """A one-off check looks from today to the project's end (today alone without one)."""
    start = today(at)
    return start, max(start, terms.ends or start)


def project_period(terms: ProjectTerms) -> tuple[date, date]:
    """A watched project's own period."""
    assert terms.starts is not None and terms.ends is not None
    return terms.starts, terms.ends

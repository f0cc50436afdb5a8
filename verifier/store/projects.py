"""Project owners, their watched projects and crews, in the database.

An owner sees only its own projects: another owner's is NotFound, exactly like one that never
existed. A crew holds what the owner gave (a scanned credential, or agency + number + name;
never a NIK) plus, for an authenticated credential, its agency, number and expiry, by which it
is watched. Deleting a project deletes its crew, subscriptions, outbox and notices (cascade).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from verifier.core.credential import AGENCY_ID_RE, check_text, to_iso
from verifier.core.crew.evaluation import Identity, Outcome, ProjectTerms, Requirement
from verifier.core.crew.worker import RosterWorker
from verifier.core.errors import Conflict, InvalidInput, NotFound
from verifier.core.nik import quoted
from verifier.core.text import clean_text
from verifier.store.credentials import STORE_CHUNK, chunks
from verifier.store.db import bound_database
from verifier.store.models import CrewMember, Project, ProjectOwner

MAX_OWNER_NAME = 200
#: Projects are deleted, with crews and subscriptions, this many days after their end date
#: (the privacy notice).
KEEP_ENDED_DAYS = 90
#: Never repeats the id asked for (it is typed by someone who may not own it).
NO_SUCH_PROJECT = "you have no such project"


@dataclass(frozen=True)
class OwnerInfo:
    """A project owner as the CLI prints it."""

    id: str
    name: str

    def to_dict(self) -> dict[str, Any]:
        """The owner object of ``skk owner``."""
        return {"id": self.id, "name": self.name}


@dataclass(frozen=True)
class ProjectInfo:
    """A watched project: its owner, terms and when it was registered."""

    owner_id: str
    terms: ProjectTerms
    created_at: int

    @property
    def id(self) -> str:
        """The project's id (random, so ids reveal nothing)."""
        assert self.terms.project_id is not None
        return self.terms.project_id

    def to_dict(self) -> dict[str, Any]:
        """The API's project object."""
        return {**self.terms.to_dict(), "created_at": to_iso(self.created_at)}


def add_owner(owner_id: str, name: str, now: int) -> OwnerInfo:
    """Register a project owner; Conflict if the id is taken."""
    if not AGENCY_ID_RE.fullmatch(owner_id):
        raise InvalidInput(
            "owner id must be 2-40 lowercase letters, digits or '-', starting "
            "with a letter or digit",
            field="id",
        )
    name = clean_text(name)
    try:
        check_text(name, "owner name", MAX_OWNER_NAME)
    except ValueError as exc:
        raise InvalidInput(str(exc), field="name") from None
    with bound_database().atomic():
        if ProjectOwner.get_or_none(ProjectOwner.id == owner_id) is not None:
            raise Conflict(f"project owner {owner_id} already exists", field="id")
        ProjectOwner.create(id=owner_id, name=name, created_at=now)
    return OwnerInfo(owner_id, name)


def list_owners() -> list[OwnerInfo]:
    """Every project owner, by id."""
    return [OwnerInfo(row.id, row.name) for row in ProjectOwner.select().order_by(ProjectOwner.id)]


def get_owner(owner_id: str) -> OwnerInfo:
    """One owner; NotFound when there is none."""
    row = ProjectOwner.get_or_none(ProjectOwner.id == owner_id)
    if row is None:
        raise NotFound(f"no project owner {quoted(owner_id)}", field="owner")
    return OwnerInfo(row.id, row.name)


def create_project(owner_id: str, terms: ProjectTerms, now: int) -> ProjectInfo:
    """Register a project of ``owner_id``; its terms were checked by
    :func:`verifier.core.crew.terms.watched`."""
    get_owner(owner_id)
    assert terms.starts is not None and terms.ends is not None and terms.name is not None
    project_id = secrets.token_hex(8)
    Project.create(
        id=project_id,
        owner=owner_id,
        name=terms.name,
        starts_on=terms.starts.isoformat(),
        ends_on=terms.ends.isoformat(),
        created_at=now,
        requirements=json.dumps([requirement.to_dict() for requirement in terms.requirements]),
    )
    return _info(Project.get_by_id(project_id))


def get_project(owner_id: str, project_id: str) -> ProjectInfo:
    """The owner's project; NotFound also when it belongs to another owner."""
    return _info(_row(owner_id, project_id))


def list_projects(owner_id: str) -> list[ProjectInfo]:
    """The owner's projects, latest end first."""
    rows = (
        Project.select()
        .where(Project.owner == owner_id)
        .order_by(Project.ends_on.desc(), Project.id)
    )
    return [_info(row) for row in rows]


def delete_project(owner_id: str, project_id: str) -> None:
    """Delete the owner's project with its crew, subscriptions and their messages."""
    row = _row(owner_id, project_id)
    Project.delete().where(Project.id == row.id).execute()


def _row(owner_id: str, project_id: str) -> Project:
    # Ids are 16 hex digits; anything else cannot name one (and a NUL would upset PostgreSQL).
    if not (len(project_id) == 16 and project_id.isascii() and project_id.isalnum()):
        raise NotFound(NO_SUCH_PROJECT, field="project")
    row = Project.get_or_none((Project.id == project_id) & (Project.owner == owner_id))
    if row is None:
        raise NotFound(NO_SUCH_PROJECT, field="project")
    return row


def _info(row: Project) -> ProjectInfo:
    required = tuple(
        Requirement(item["job_code"], item["min_level"]) for item in json.loads(row.requirements)
    )
    terms = ProjectTerms(
        row.name,
        date.fromisoformat(row.starts_on),
        date.fromisoformat(row.ends_on),
        required,
        row.id,
    )
    return ProjectInfo(row.owner_id, terms, row.created_at)


def replace_crew(project: ProjectInfo, outcomes: Sequence[Outcome]) -> None:
    """Make the project's crew exactly these workers, in one transaction."""
    rows = [_crew_row(project.id, outcome) for outcome in outcomes]
    with bound_database().atomic():
        CrewMember.delete().where(CrewMember.project == project.id).execute()
        for chunk in chunks(rows, STORE_CHUNK):
            CrewMember.insert_many(chunk).execute()


def _crew_row(project_id: str, outcome: Outcome) -> dict[str, Any]:
    worker = outcome.worker
    identity = outcome.identity
    credential = outcome.result.credential if outcome.result is not None else None
    return {
        "project": project_id,
        "position": worker.position,
        "line": worker.line,
        "ref": worker.ref,
        "credential": worker.credential,
        "given_agency": worker.agency,
        "given_number": worker.number,
        "given_name": worker.holder_name,
        "agency_id": identity[0] if identity else None,
        "number": identity[1] if identity else None,
        "expires_at": credential.expires_at if identity and credential else None,
    }


def crew_of(project: ProjectInfo) -> list[RosterWorker]:
    """The project's crew as the owner gave it, in its order."""
    rows = CrewMember.select().where(CrewMember.project == project.id).order_by(CrewMember.position)
    return [
        RosterWorker(
            row.position,
            row.line,
            row.ref,
            row.credential,
            row.given_agency,
            row.given_number,
            row.given_name,
        )
        for row in rows
    ]


def on_other_projects(
    identities: Collection[Identity], starts: date, ends: date, owner_id: str | None
) -> set[Identity]:
    """Which of these credentials are on a crew of another owner's project (any owner's, for
    None) whose period overlaps ``starts``..``ends``."""
    wanted = set(identities)
    numbers = sorted({number for _, number in wanted})
    found: set[Identity] = set()
    for chunk in chunks(numbers, STORE_CHUNK):
        query = (
            CrewMember.select(CrewMember.agency_id, CrewMember.number)
            .join(Project, on=(CrewMember.project == Project.id))
            .where(
                CrewMember.number.in_(chunk)
                & (Project.starts_on <= ends.isoformat())
                & (Project.ends_on >= starts.isoformat())
            )
            .distinct()
        )
        if owner_id is not None:
            query = query.where(Project.owner != owner_id)
        found |= {(str(row.agency_id), str(row.number)) for row in query}
    return found & wanted


def delete_ended(before: date) -> int:
    """Delete projects that ended before ``before`` (retention); how many."""
    return int(Project.delete().where(Project.ends_on < before.isoformat()).execute())

"""Crew checks over HTTP: the public one-off check, and project owners' watched projects.

``POST /api/v1/crew-check`` is public and stores nothing: a roster in (JSON, or a CSV or .xlsx
list as the cohort upload takes it), a report out (JSON, or CSV for ``Accept: text/csv``). Rows
given by number count as manual checks (misses and matches apart, as /cek counts them) unless
the caller sends a project owner's key; rows given by a scanned credential do not count.
``/api/v1/projects...`` needs a project owner's key (``skk apikey create --owner ID``) and shows
only the owner's own projects: another owner's is 404, like one that never existed.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Blueprint, Response, request, url_for

from verifier.core.crew import roster, terms
from verifier.core.crew.evaluation import CrewReport, ProjectTerms, Requirement
from verifier.core.crew.roster import RosterRejected
from verifier.core.crew.worker import RosterWorker
from verifier.core.errors import TooManyAttempts
from verifier.crew import check, roster_file, webhooks
from verifier.printing.crew_report import report_csv
from verifier.store import projects
from verifier.store import webhooks as stored_webhooks
from verifier.store.db import storage_errors
from verifier.web import auth, limits, requests
from verifier.web.auth import current_owner
from verifier.web.i18n import request_language
from verifier.web.problems import problem
from verifier.web.requests import (
    Member,
    accept_body_up_to,
    attachment,
    check_members,
    is_upload,
    json_response,
    read_json_object,
    read_object,
    read_upload,
)
from verifier.web.state import current_state

#: 2,000 workers of scanned tokens (~450 bytes each with JSON) make 0.9 MB: twice that.
MAX_BODY_BYTES = 2 * 1024 * 1024
#: As the cohort upload: what openpyxl reads in a couple of seconds, refused before inflating.
MAX_XLSX_UNPACKED_BYTES = 16 * 1024 * 1024
_TOO_LARGE = (
    f"body over the {MAX_BODY_BYTES // 2**20} MiB limit of this endpoint "
    f"(at most {roster.MAX_WORKERS} workers per check)"
)
_WHAT = "worker list"

WORKER_MEMBERS = {name: Member(str) for name in roster.FIELDS}
REQUIREMENT_MEMBERS = {
    "job_code": Member(str, required=True),
    "min_level": Member(int, required=True),
}
ONE_OFF_PROJECT_MEMBERS = {"name": Member(str), "ends": Member(str), "requirements": Member(list)}
CHECK_MEMBERS = {"project": Member(dict), "workers": Member(list, required=True)}
CREW_MEMBERS = {"workers": Member(list, required=True)}
PROJECT_MEMBERS = {
    "name": Member(str, required=True),
    "starts": Member(str, required=True),
    "ends": Member(str, required=True),
    "requirements": Member(list),
}
WEBHOOK_MEMBERS = {"url": Member(str, required=True)}

bp = Blueprint("crew_api", __name__, url_prefix="/api/v1")
requests.register(bp)
projects_bp = Blueprint("projects_api", __name__, url_prefix="/api/v1/projects")
auth.protect_owner(projects_bp)
requests.register(projects_bp)


def _rejected(error: RosterRejected) -> Response:
    return problem(
        422, error.message, field=error.field, errors=[item.to_dict() for item in error.problems]
    )


bp.register_error_handler(RosterRejected, _rejected)
projects_bp.register_error_handler(RosterRejected, _rejected)


# --- the one-off check -------------------------------------------------------------------------


@bp.post("/crew-check")
@storage_errors()
def crew_check() -> Response:
    """Check a whole roster at once; nothing is stored."""
    accept_body_up_to(MAX_BODY_BYTES, _TOO_LARGE)
    owner = auth.optional_owner()
    if isinstance(owner, Response):
        return owner
    owner_id = owner.owner_id if owner is not None else None
    if is_upload():
        workers = _workers_from_upload()
        fields = request.values
        project_terms = terms.one_off(
            fields.get("name"),
            fields.get("ends"),
            terms.requirements_text(fields.get("requirements")),
        )
    else:
        body = check_members(read_json_object(), CHECK_MEMBERS)
        project = check_members(body.get("project", {}), ONE_OFF_PROJECT_MEMBERS, "project.")
        project_terms = terms.one_off(
            project.get("name"),
            project.get("ends"),
            _requirements(project.get("requirements", []), "project.requirements"),
        )
        workers = _workers_from_json(body["workers"])
    return report_response(one_off_report(workers, project_terms, owner_id))


def one_off_report(
    workers: list[RosterWorker], project_terms: ProjectTerms, owner_id: str | None
) -> CrewReport:
    """The report of a one-off check (also the page's); without a project owner's key, the rows
    given by number count as manual checks (:func:`counted_as_manual_checks`)."""
    at = int(time.time())
    counted = owner_id is None and any(worker.by_number for worker in workers)
    with counted_as_manual_checks(counted):
        found = check.outcomes(current_state().verifier, workers, owner_id=owner_id, at=at)
        if counted:
            by_number = [outcome for outcome in found if outcome.worker.by_number]
            missed = sum(outcome.result is None for outcome in by_number)
            limits.count_manual_checks(matched=len(by_number) - missed, missed=missed)
    return check.report(
        found, project_terms, check.one_off_period(project_terms, at), owner_id=owner_id, at=at
    )


@contextmanager
def counted_as_manual_checks(counted: bool) -> Iterator[None]:
    """Rows given by number count as manual checks, by outcome as /cek counts them: a miss
    against the strict per-client limit, a found certificate against the generous one. The
    list is refused before anything is looked up when either is spent; one that spends more
    than is left is still counted, then refused (its report withheld)."""
    if not counted:
        yield
        return
    try:
        limits.manual_checks_open()
        yield
    except TooManyAttempts as refused:
        raise TooManyAttempts(
            f"{refused.message}: without a project key, each worker given by certificate number "
            "counts as one manual check; give the scanned certificates instead, or use a "
            "project owner's API key",
            field="workers",
            retry_after=refused.retry_after,
        ) from None


def _workers_from_upload() -> list[RosterWorker]:
    return roster_from_upload(*read_upload(_WHAT))


def roster_from_upload(data: bytes, filename: str) -> list[RosterWorker]:
    """The workers of an uploaded CSV or .xlsx list (also the page's)."""
    return roster_file.from_file(
        data, check.agency_resolver(), filename, max_unpacked_bytes=MAX_XLSX_UNPACKED_BYTES
    )


def _workers_from_json(items: list[Any]) -> list[RosterWorker]:
    roster.check_count(len(items))
    checked = [
        check_members(item, WORKER_MEMBERS, f"workers[{index}].")
        for index, item in enumerate(items)
    ]
    return roster.from_members(checked, check.agency_resolver())


def _requirements(items: list[Any], where: str) -> tuple[Requirement, ...]:
    checked = [
        check_members(item, REQUIREMENT_MEMBERS, f"{where}[{index}].")
        for index, item in enumerate(items)
    ]
    return terms.requirements(checked)


def report_response(report: CrewReport) -> Response:
    """The report as JSON, or as CSV when the client prefers ``text/csv``."""
    if request.accept_mimetypes.best_match(["application/json", "text/csv"]) == "text/csv":
        return attachment(report_csv(report), "text/csv", "laporan-kru.csv")
    return json_response(report.to_dict(request_language()))


# --- watched projects (a project owner's key) --------------------------------------------------


@projects_bp.post("")
@storage_errors()
def create_project() -> Response:
    """Register a project to watch: ``{name, starts, ends, requirements}``."""
    body = read_object(PROJECT_MEMBERS)
    project_terms = terms.watched(
        body["name"],
        body["starts"],
        body["ends"],
        _requirements(body.get("requirements", []), "requirements"),
    )
    info = projects.create_project(current_owner().owner_id, project_terms, int(time.time()))
    response = json_response(info.to_dict(), 201)
    response.headers["Location"] = url_for(".get_project", project_id=info.id)
    return response


@projects_bp.get("")
@storage_errors()
def list_projects() -> Response:
    """The owner's projects."""
    found = projects.list_projects(current_owner().owner_id)
    return json_response({"projects": [info.to_dict() for info in found]})


@projects_bp.get("/<project_id>")
@storage_errors()
def get_project(project_id: str) -> Response:
    """One of the owner's projects."""
    return json_response(projects.get_project(current_owner().owner_id, project_id).to_dict())


@projects_bp.delete("/<project_id>")
@storage_errors()
def delete_project(project_id: str) -> Response:
    """Delete a project with its crew and webhook subscriptions."""
    projects.delete_project(current_owner().owner_id, project_id)
    return Response(status=204)


@projects_bp.put("/<project_id>/crew")
@storage_errors()
def put_crew(project_id: str) -> Response:
    """Replace the project's crew (the workers of a crew check); answers its report."""
    accept_body_up_to(MAX_BODY_BYTES, _TOO_LARGE)
    owner_id = current_owner().owner_id
    project = projects.get_project(owner_id, project_id)
    if is_upload():
        workers = _workers_from_upload()
    else:
        workers = _workers_from_json(check_members(read_json_object(), CREW_MEMBERS)["workers"])
    at = int(time.time())
    found = check.outcomes(current_state().verifier, workers, owner_id=owner_id, at=at)
    projects.replace_crew(project, found)
    return report_response(
        check.report(
            found, project.terms, check.project_period(project.terms), owner_id=owner_id, at=at
        )
    )


@projects_bp.get("/<project_id>/report")
@storage_errors()
def project_report(project_id: str) -> Response:
    """The crew checked now, against the project's terms."""
    owner_id = current_owner().owner_id
    project = projects.get_project(owner_id, project_id)
    at = int(time.time())
    found = check.outcomes(
        current_state().verifier, projects.crew_of(project), owner_id=owner_id, at=at
    )
    return report_response(
        check.report(
            found, project.terms, check.project_period(project.terms), owner_id=owner_id, at=at
        )
    )


@projects_bp.post("/<project_id>/webhooks")
@storage_errors()
def subscribe(project_id: str) -> Response:
    """A new webhook subscription; the answer holds its secret, shown this once."""
    url = read_object(WEBHOOK_MEMBERS)["url"]  # the body first: too large is 413 anywhere
    project = projects.get_project(current_owner().owner_id, project_id)
    subscription, secret = webhooks.subscribe(
        project, url, int(time.time()), local_allowed=current_state().is_demo
    )
    return json_response({**subscription.to_dict(), "secret": secret}, 201)


@projects_bp.get("/<project_id>/webhooks")
@storage_errors()
def list_webhooks(project_id: str) -> Response:
    """The project's subscriptions (never their secrets)."""
    project = projects.get_project(current_owner().owner_id, project_id)
    found = stored_webhooks.subscriptions(project)
    return json_response({"webhooks": [subscription.to_dict() for subscription in found]})


@projects_bp.delete("/<project_id>/webhooks/<webhook_id>")
@storage_errors()
def unsubscribe(project_id: str, webhook_id: str) -> Response:
    """Delete a subscription and its undelivered messages."""
    project = projects.get_project(current_owner().owner_id, project_id)
    stored_webhooks.unsubscribe(project, webhook_id)
    return Response(status=204)

"""Cohorts from Excel: upload -> preview (every problem, or every row to be issued) -> confirm
-> result, with the print pack (results.csv, QR SVGs, certificates, card sheets) as a ZIP."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Response, abort, render_template, request
from flask_babel import gettext as _

from verifier.core.errors import Conflict, InvalidInput, NotFound, RowProblem, UnreadableInput
from verifier.issuance.cohort import CohortRejected
from verifier.staff import imports
from verifier.store import cohort_imports
from verifier.store.cohort_imports import IssuedImport
from verifier.web.batch_api import MAX_BODY_BYTES
from verifier.web.console.blueprint import UPLOAD_ENDPOINTS, bp, current_account, now, requires
from verifier.web.console.forms import go, problem
from verifier.web.requests import attachment
from verifier.web.state import current_state

UPLOAD_ENDPOINTS["console.upload_cohort"] = MAX_BODY_BYTES


@bp.get("/cohort")
@requires("operator")
def cohort_form() -> str:
    """The upload form."""
    return render_template("console/cohort.html", error=None)


@bp.post("/cohort")
@requires("operator")
def upload_cohort() -> Response | tuple[str, int]:
    """Keep the file for its preview (nothing is checked or issued yet)."""
    upload = request.files.get("file")
    content = upload.read() if upload is not None else b""
    if upload is None or not content:
        error = {
            "field": "file",
            "summary": _("Choose the participant list (.csv or .xlsx)."),
            "detail": "",
        }
        return render_template("console/cohort.html", error=error), 422
    # Only the name's ending tells .xlsx from CSV; the name itself is never kept or shown.
    kind = "xlsx" if (upload.filename or "").lower().endswith(".xlsx") else "csv"
    account = current_account()
    import_id = imports.save_upload(
        account.agency_id,
        account.id,
        kind,
        content,
        pepper=current_state().settings.nik_pepper,
        now=now(),
    )
    return go("console.cohort_preview", import_id=import_id)


@bp.get("/cohort/<import_id>")
@requires("operator")
def cohort_preview(import_id: str) -> Response | tuple[str, int] | str:
    """Every problem with its line and column, or every row that confirming would issue."""
    agency_id = current_account().agency_id
    try:
        rows = imports.preview(
            agency_id, import_id, pepper=current_state().settings.nik_pepper, now=now()
        )
    except NotFound:
        return _issued_or_gone(agency_id, import_id)
    except CohortRejected as rejected:
        return _refused(import_id, problems=rejected.problems)
    except (InvalidInput, UnreadableInput) as exc:  # the file as a whole: no header, bad .xlsx
        return _refused(import_id, error=problem(exc))
    new = sum(1 for row in rows if row.status == "new")
    return render_template(
        "console/preview.html", import_id=import_id, rows=rows, problems=None, error=None, new=new
    )


def _refused(
    import_id: str,
    *,
    problems: list[RowProblem] | None = None,
    error: dict[str, str] | None = None,
) -> tuple[str, int]:
    """The preview page with the file's problems (every row's) or one error about it, as 422."""
    page = render_template(
        "console/preview.html", import_id=import_id, rows=None, problems=problems, error=error
    )
    return page, 422


def _issued_or_gone(agency_id: str, import_id: str) -> Response:
    try:
        cohort_imports.issued(agency_id, import_id)
    except NotFound:
        abort(404)
    return go("console.cohort_result", import_id=import_id)


@bp.post("/cohort/<import_id>/confirm")
@requires("operator")
def confirm_cohort(import_id: str) -> Response | tuple[str, int]:
    """Issue every row, or none (the rows are checked again first)."""
    account = current_account()
    state = current_state()
    try:
        imports.issue_upload(
            state.issuing,
            account.agency_id,
            import_id,
            pepper=state.settings.nik_pepper,
            actor=account.actor,
            now=now(),
        )
    except NotFound:
        return _issued_or_gone(account.agency_id, import_id)
    except CohortRejected as rejected:
        return _refused(import_id, problems=rejected.problems)
    except (InvalidInput, UnreadableInput, Conflict) as exc:
        return _refused(import_id, error=problem(exc))
    return go("console.cohort_result", import_id=import_id)


@bp.get("/cohort/<import_id>/result")
@requires("operator")
def cohort_result(import_id: str) -> str:
    """What was issued, and the print pack to download."""
    issued = _issued(import_id)
    return render_template("console/result.html", issued=issued, import_id=import_id)


@bp.get("/cohort/<import_id>/prints.zip")
@requires("operator")
def cohort_prints(import_id: str) -> Response:
    """The print pack, built now (a certificate revoked or suspended since is not printed)."""
    issued = _issued(import_id)
    pack = imports.print_pack(issued, base_url=current_state().settings.base_url)
    day = datetime.fromtimestamp(issued.issued_at, UTC).strftime("%Y-%m-%d")
    name = f"sertifikat-{day}-{import_id[:8]}.zip"
    return attachment(pack, "application/zip", name)


def _issued(import_id: str) -> IssuedImport:
    try:
        return cohort_imports.issued(current_account().agency_id, import_id)
    except NotFound:
        abort(404)

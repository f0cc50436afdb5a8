"""``/cek-kru``: the crew check as a page, for project owners with a spreadsheet and no API.

Upload the list (template downloadable), see the report with problems first, print it on A4
landscape, download it as CSV (a ``data:`` link: nothing is stored, no script is needed). The
same check as ``POST /api/v1/crew-check``: rows given by number count as manual checks (misses
and matches apart) unless a project owner's key is typed in.
"""

from __future__ import annotations

import base64
import io
from typing import Any

from flask import Blueprint, Response, make_response, render_template, request

from verifier.core.crew import terms
from verifier.core.crew.evaluation import CrewReport
from verifier.core.crew.roster import COLUMNS, MAX_WORKERS, RosterRejected
from verifier.core.errors import InvalidInput, RowProblem, TooManyAttempts
from verifier.printing.crew_report import report_csv
from verifier.printing.spreadsheet import excel_csv
from verifier.store import registry
from verifier.store.db import storage_errors
from verifier.web import auth, crew_api
from verifier.web.page_model import moment, verdict_view
from verifier.web.requests import XLSX_TYPE, accept_body_up_to, attachment, read_upload

bp = Blueprint("crew_pages", __name__)

#: The template's columns (the first header of each roster column) and two example rows.
TEMPLATE_HEADER = [
    "no",
    *(COLUMNS[c][0] for c in ("ref", "credential", "agency", "number", "holder_name")),
]
TEMPLATE_ROWS = [
    ["1", "KRU-001", "HTTPS://SERTIFIKAT.EXAMPLE.ID/V/…", "", "", ""],
    ["2", "KRU-002", "", "lsp-contoh", "ME063100 3 48213377 2026", "Rina Marlina"],
]
FORM_FIELDS = ("name", "ends", "requirements")


@bp.get("/cek-kru")
def crew_check_form() -> str:
    """The upload form."""
    return _form_page({})


@bp.post("/cek-kru")
@storage_errors()
def crew_check() -> Response:
    """Check the uploaded list and show the report, or say what is wrong with it."""
    accept_body_up_to(crew_api.MAX_BODY_BYTES, "the file is over the 2 MiB limit")
    form = {name: request.form.get(name, "") for name in FORM_FIELDS}
    try:
        owner_id = _owner_of(request.form.get("key", ""))
        project_terms = terms.one_off(
            form["name"], form["ends"], terms.requirements_text(form["requirements"])
        )
        if request.files.get("file") is None or not request.files["file"].filename:
            raise InvalidInput("choose the file with the worker list", field="file")
        workers = crew_api.roster_from_upload(*read_upload("worker list"))
        report = crew_api.one_off_report(workers, project_terms, owner_id)
    except RosterRejected as rejected:
        return make_response(_form_page(form, problems=rejected.problems), 422)
    except TooManyAttempts as refused:
        response = make_response(_form_page(form, error=refused.message, limited=True), 429)
        response.headers["Retry-After"] = str(refused.retry_after or 60)
        return response
    except InvalidInput as invalid:
        return make_response(_form_page(form, error=invalid.message), 422)
    return make_response(
        render_template(
            "crew_report.html",
            report=report,
            rows=_rows(report),
            summary=report.summary(),
            csv_link=_csv_link(report),
            checked_at=moment(report.checked_at),
        )
    )


def _owner_of(key: str) -> str | None:
    if not key.strip():
        return None
    owner = auth.owner_of_key(key)
    if owner is None:
        raise InvalidInput(
            "this project key is not valid; leave the field empty to check without one", field="key"
        )
    return owner.owner_id


def _form_page(
    form: dict[str, str],
    *,
    problems: list[RowProblem] | None = None,
    error: str | None = None,
    limited: bool = False,
) -> str:
    return render_template(
        "crew_check.html",
        form=form,
        problems=problems or [],
        error=error,
        limited=limited,
        max_workers=MAX_WORKERS,
        agencies=registry.list_agencies(),
    )


def _rows(report: CrewReport) -> list[dict[str, Any]]:
    """What each table row shows, problems first."""
    rows = []
    for worker in report.problems_first():
        outcome = worker.outcome
        view = verdict_view(outcome.result) if outcome.result is not None else None
        rows.append(
            {
                "where": outcome.worker.line or outcome.worker.position,
                "ref": outcome.worker.ref,
                "status": outcome.status,
                "problem": worker.problem,
                "findings": [finding.value for finding in worker.findings],
                "credential": view.credential if view is not None else None,
            }
        )
    return rows


def _csv_link(report: CrewReport) -> str:
    """The report's CSV as a ``data:`` URL: downloaded without storing anything anywhere."""
    encoded = base64.b64encode(report_csv(report)).decode("ascii")
    return f"data:text/csv;charset=utf-8;base64,{encoded}"


@bp.get("/cek-kru/template.csv")
def template_csv() -> Response:
    """An empty list to fill in, as Excel in Indonesian opens it."""
    return attachment(excel_csv(TEMPLATE_HEADER, TEMPLATE_ROWS), "text/csv", "daftar-kru.csv")


@bp.get("/cek-kru/template.xlsx")
def template_xlsx() -> Response:
    """The same as an .xlsx workbook, with the number column formatted as text."""
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "kru"
    for row in (TEMPLATE_HEADER, *TEMPLATE_ROWS):
        sheet.append(row)
    for cells in sheet.iter_cols(min_col=2, max_col=6, min_row=1, max_row=500):
        for cell in cells:
            cell.number_format = "@"  # Text: Excel never turns a number into 4,1E+15
    out = io.BytesIO()
    workbook.save(out)
    return attachment(out.getvalue(), XLSX_TYPE, "daftar-kru.xlsx")

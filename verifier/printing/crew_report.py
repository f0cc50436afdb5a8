"""A crew report as CSV: the API's ``Accept: text/csv`` answer and the page's download.

The same ``;``-separated, BOM, formula-safe form as the cohort results (Excel in Indonesian opens
it as it is), one row per worker in input order, findings space-separated.
"""

from __future__ import annotations

from verifier.core.credential import to_iso
from verifier.core.crew.evaluation import CrewReport, WorkerReport
from verifier.printing.spreadsheet import excel_csv

COLUMNS = (
    "line",
    "ref",
    "status",
    "problem",
    "number",
    "holder_name",
    "job_title",
    "job_code",
    "level",
    "agency",
    "expires_at",
    "findings",
)


def report_csv(report: CrewReport) -> bytes:
    """The whole report, one row per worker."""
    return excel_csv(COLUMNS, (_row(worker) for worker in report.workers))


def _row(report: WorkerReport) -> tuple[object, ...]:
    outcome = report.outcome
    shown = outcome.identity is not None and outcome.result is not None
    credential = outcome.result.credential if shown and outcome.result else None
    agency = outcome.result.agency if shown and outcome.result else None
    return (
        outcome.worker.line if outcome.worker.line is not None else outcome.worker.position,
        outcome.worker.ref,
        outcome.status,
        "yes" if report.problem else "no",
        credential.number if credential else None,
        credential.holder_name if credential else None,
        credential.job_title if credential else None,
        credential.job_code if credential else None,
        credential.level if credential else None,
        agency.id if agency else None,
        to_iso(credential.expires_at) if credential else None,
        " ".join(finding.value for finding in report.findings),
    )

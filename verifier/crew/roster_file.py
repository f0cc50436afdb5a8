"""A crew roster from an uploaded file: the cohort reader (``verifier.issuance.cohort_file``,
with its Excel-ID CSV quirks and .xlsx) reading the roster's columns, then the pure row checks
of :mod:`verifier.core.crew.roster`."""

from __future__ import annotations

from verifier.core.crew import roster
from verifier.core.crew.roster import AgencyResolver
from verifier.core.crew.worker import RosterWorker
from verifier.issuance.cohort_file import Layout, read_cohort

#: The roster's columns, and the cells Excel's habits touch, for the file reader.
LAYOUT = Layout(
    columns=roster.COLUMNS,
    missing=roster.missing_columns,
    apostrophe=roster.APOSTROPHE_COLUMNS,
    exact_digits=roster.EXACT_DIGIT_COLUMNS,
    row_noun="worker",
    purpose="check",
)


def from_file(
    data: bytes, agency_of: AgencyResolver, filename: str = "", *, max_unpacked_bytes: int
) -> list[RosterWorker]:
    """Workers from a CSV (as Excel saves it) or .xlsx file; problems name line and column."""
    table = read_cohort(
        data,
        filename=filename,
        max_rows=roster.MAX_WORKERS,
        max_unpacked_bytes=max_unpacked_bytes,
        layout=LAYOUT,
    )
    return roster.from_table(table.rows, table.headers, agency_of)

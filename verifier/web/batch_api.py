"""``POST /api/v1/credentials/batch``: a whole cohort from CSV or .xlsx, all rows or none.

The body is the participant list itself, in one of three forms:

* ``Content-Type: text/csv`` — the CSV as Excel saved it (any separator, BOM, CRLF);
* ``Content-Type: application/vnd.openxmlformats-officedocument.spreadsheetml.sheet`` — the .xlsx;
* ``Content-Type: multipart/form-data`` with the file (either kind) in the part named ``file``,
  as an HTML form or ``curl -F file=@peserta.xlsx`` sends it.

The app refuses bodies over 16 KiB everywhere (SPEC §6); this route alone takes up to
:data:`MAX_BODY_BYTES`, still refused with 413 from ``Content-Length`` before a byte is read.
Every row is checked before anything is signed; a 422 lists every problem with line and column,
and nothing is issued. Signing happens outside the database transaction; the inserts are one
short transaction (``IssuingService.issue_cohort``, which audits it). Messages never hold a NIK.
"""

from __future__ import annotations

import time

from flask import Blueprint, Response

from verifier.issuance.cohort import CohortRejected, PreparedCohort
from verifier.issuance.cohort_file import read_cohort
from verifier.store.db import storage_errors
from verifier.web import auth, idempotency, requests
from verifier.web.auth import Caller, current_caller
from verifier.web.problems import problem
from verifier.web.requests import accept_body_up_to, json_response, read_upload
from verifier.web.state import current_state

bp = Blueprint("batch_api", __name__, url_prefix="/api/v1")
auth.protect(bp)
requests.register(bp)

#: Participant rows per request (issue 4); bigger cohorts go through `skk issue-batch`.
MAX_ROWS = 5000
#: Measured: 5,000 rows of the sample's five columns make 230 KB of CSV; with twelve columns
#: (address, phone, e-mail... as agencies keep them) 1.05 MB: the limit is twice the realistic
#: size.
MAX_BODY_BYTES = 2 * 1024 * 1024
#: Unpacked size of all parts of an .xlsx: 5,000 twelve-column rows unpack to 3.7 MB (openpyxl
#: reads them in ~2 s); the reader refuses more before inflating anything (a zip bomb).
MAX_XLSX_UNPACKED_BYTES = 16 * 1024 * 1024
_TOO_LARGE = (
    f"body over the {MAX_BODY_BYTES // 2**20} MiB limit of this endpoint "
    f"(at most {MAX_ROWS} rows per request; use `skk issue-batch` for more)"
)


@bp.post("/credentials/batch")
@storage_errors()
def issue_batch() -> Response:
    """Issue every row of the uploaded list, or none: ``201 {"issued","existing","results"}``.

    Always 201 as issue 4 specifies, also for a re-sent file where every row already existed
    (``issued`` is then 0): a client tells the two apart by the counts, not the status. With an
    ``Idempotency-Key`` a retry gets the first answer again (verifier.web.idempotency).
    """
    # Only the list uploads read a large body; the app-wide 16 KiB limit stays for the rest.
    accept_body_up_to(MAX_BODY_BYTES, _TOO_LARGE)
    data, filename = read_upload("participant list")
    caller = current_caller()
    # The file's bytes (and kind) make two uploads the same, not the multipart body around them:
    # `curl -F` draws a new boundary for every send.
    content = filename.encode() + b"\0" + data
    return idempotency.answer_once(
        idempotency.agency_scope(caller.agency_id),
        content,
        lambda keep: _issue_list(data, filename, caller, keep),
    )


def _issue_list(data: bytes, filename: str, caller: Caller, keep: idempotency.Keep) -> Response:
    cohort_file = read_cohort(
        data, filename=filename, max_rows=MAX_ROWS, max_unpacked_bytes=MAX_XLSX_UNPACKED_BYTES
    )
    issuing = current_state().issuing
    answered: list[Response] = []

    def summary(prepared: PreparedCohort) -> Response:
        # Made before the commit, URLs included: once stored, nothing is left that could fail.
        urls = [issuing.verify_url(entry.token) for entry in prepared.entries]
        answered.append(json_response(prepared.summary(urls), 201))
        return answered[0]

    def store_with(prepared: PreparedCohort) -> None:
        # In the transaction that stores the rows (also when every row already existed): the
        # answer is kept with them or not at all.
        keep(answered[0])

    try:
        _, response = issuing.issue_cohort(
            cohort_file,
            caller.agency_id,
            actor=caller.actor,
            now=int(time.time()),
            render=summary,
            store_with=store_with,
        )
    except CohortRejected as rejected:
        return problem(
            422, rejected.message, field="file", errors=[p.to_dict() for p in rejected.problems]
        )
    return response

"""Cohort files uploaded in the console, from preview to issue, and their print packs.

The console shows a preview before anything is issued, so the uploaded file has to wait between
two requests: it is kept in the database (:mod:`verifier.store.cohort_imports`), encrypted here
first (it holds NIKs: Fernet, with a key derived from ``SKK_NIK_PEPPER``, so neither the database
nor a statement log ever holds them in the clear), and only until it is issued or for at most a
day, then deleted. Issuing goes through :class:`~verifier.issuance.service.IssuingService` like
every other front door's. Once issued, what stays is the list of its rows' lines, numbers and
statuses, from which the print pack is built on each download: a certificate revoked or
suspended since then is left out of it, as the print pack of ``skk issue-batch`` leaves out one
that was already revoked.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography.fernet import Fernet, InvalidToken

from verifier.core.credential import Credential
from verifier.core.errors import ConfigurationError
from verifier.issuance import cohort
from verifier.issuance.cohort import PreparedCohort
from verifier.issuance.cohort_file import CohortFile, read_cohort
from verifier.issuance.service import IssuingService
from verifier.printing.cohort_folder import render_outputs
from verifier.qr.parallel import QrRenderer
from verifier.store import cohort_imports, registry
from verifier.store.cohort_imports import IssuedImport

#: Rows per console upload, like the batch API: bigger cohorts go through `skk issue-batch`.
MAX_ROWS = 5000
#: Unpacked size of an .xlsx (a zip bomb is refused before anything is inflated).
MAX_XLSX_UNPACKED_BYTES = 16 * 1024 * 1024
_UPLOAD_KEY_LABEL = b"skk-verifier console upload v1"


def _sealer(pepper: str | None) -> Fernet:
    if not pepper:
        raise ConfigurationError("SKK_NIK_PEPPER is needed to keep an uploaded cohort file")
    key = hmac.new(pepper.encode(), _UPLOAD_KEY_LABEL, hashlib.sha256).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def save_upload(
    agency_id: str, user_id: int, kind: str, content: bytes, *, pepper: str | None, now: int
) -> str:
    """Keep an uploaded file, encrypted, for its preview and confirmation; its id (random)."""
    return cohort_imports.save(agency_id, user_id, kind, _sealer(pepper).encrypt(content), now=now)


def read_upload(agency_id: str, import_id: str, *, pepper: str | None, now: int) -> CohortFile:
    """The uploaded file, parsed; NotFound when it is another agency's, issued, or too old."""
    upload = cohort_imports.waiting(agency_id, import_id, now=now)
    try:
        content = _sealer(pepper).decrypt(upload.sealed)
    except InvalidToken:  # the pepper changed since: the file cannot be read any more
        raise cohort_imports.gone() from None
    return read_cohort(
        content,
        filename=f"upload.{upload.kind}",
        max_rows=MAX_ROWS,
        max_unpacked_bytes=MAX_XLSX_UNPACKED_BYTES,
    )


@dataclass(frozen=True)
class PreviewRow:
    """One row as it would be issued: ``new``, or ``existing`` (``revoked``, ``suspended``)."""

    line: int
    holder_name: str
    job_title: str
    job_code: str | None
    level: int
    status: str
    number: str | None  # the row's own or the earlier certificate's; None: assigned on issue


def preview(agency_id: str, import_id: str, *, pepper: str | None, now: int) -> list[PreviewRow]:
    """What confirming would issue, row by row, in file order; signs and stores nothing.
    CohortRejected lists every problem of every row."""
    agency = registry.get_agency(agency_id)
    cohort_file = read_upload(agency_id, import_id, pepper=pepper, now=now)
    fresh, existing = cohort.plan(cohort_file, agency, pepper=pepper, now=now)
    rows = [
        _preview_row(
            c.row.line, c.credential, "new", c.credential.number if c.number_given else None
        )
        for c in fresh
    ]
    rows += [_preview_row(e.line, e.credential, e.status, e.credential.number) for e in existing]
    return sorted(rows, key=lambda row: row.line)


def _preview_row(line: int, credential: Credential, status: str, number: str | None) -> PreviewRow:
    return PreviewRow(
        line,
        credential.holder_name,
        credential.job_title,
        credential.job_code,
        credential.level,
        status,
        number,
    )


def issue_upload(
    issuing: IssuingService,
    agency_id: str,
    import_id: str,
    *,
    pepper: str | None,
    actor: str,
    now: int,
) -> IssuedImport:
    """Check, sign, store and audit every row of a waiting upload, all or nothing (the rows
    are checked again: the database may have changed since the preview). The upload is marked
    issued in the same transaction, so confirming twice at once issues once (Conflict)."""
    cohort_file = read_upload(agency_id, import_id, pepper=pepper, now=now)

    def mark_issued(prepared: PreparedCohort) -> None:
        entries = [
            (entry.line, entry.credential.number, entry.status) for entry in prepared.entries
        ]
        cohort_imports.mark_issued(agency_id, import_id, entries, now=now)

    issuing.issue_cohort(
        cohort_file,
        agency_id,
        actor=actor,
        now=now,
        render=lambda prepared: None,
        store_with=mark_issued,
    )
    return cohort_imports.issued(agency_id, import_id)


def print_pack(issued: IssuedImport, *, base_url: str) -> bytes:
    """A ZIP of exactly the files ``skk issue-batch`` writes for the cohort (results.csv, QR
    SVGs, A4 certificates, card sheets), built now: revoked or suspended ones are not printed."""
    entries = cohort.stored_entries(issued.agency_id, issued.entries)
    agency = registry.get_agency(issued.agency_id)
    with QrRenderer(len(entries)) as renderer:
        files, _ = render_outputs(entries, agency.name, base_url, renderer=renderer)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(
                zipfile.ZipInfo(name, date_time=_zip_time(issued.issued_at)),
                content,
                compress_type=zipfile.ZIP_DEFLATED,
            )
    return buffer.getvalue()


def _zip_time(instant: int) -> tuple[int, int, int, int, int, int]:
    moment = datetime.fromtimestamp(instant, UTC)
    return (moment.year, moment.month, moment.day, moment.hour, moment.minute, moment.second)

"""Cohort files uploaded in the console, from preview to issue, and their print packs.

The console shows a preview before anything is issued, so the uploaded file has to wait between
two requests: it is kept here, encrypted (it holds NIKs: Fernet, with a key derived from
``SKK_NIK_PEPPER``, so neither the database nor a statement log ever holds them in the clear),
and only until it is issued or for at most :data:`KEEP_UPLOAD_SECONDS`, then deleted. Once
issued, what stays is the list of its rows' lines, numbers and statuses, from which the print
pack is built on each download: a certificate revoked or suspended since then is left out of it,
as the print pack of ``skk issue-batch`` leaves out one that was already revoked.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import secrets
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography.fernet import Fernet, InvalidToken

from verifier import cohort, cohort_output, issuing, keyring, registry
from verifier.cohort_file import CohortFile, read_cohort
from verifier.credential import Credential
from verifier.errors import ConfigurationError, Conflict, NotFound
from verifier.keystore import PrivateKeyStore
from verifier.models import CohortImport, database_proxy

#: An upload not issued within a day is deleted (with the NIKs it holds).
KEEP_UPLOAD_SECONDS = 24 * 3600
#: Rows per console upload, like the batch API: bigger cohorts go through `skk issue-batch`.
MAX_ROWS = 5000
#: Unpacked size of an .xlsx (a zip bomb is refused before anything is inflated).
MAX_XLSX_UNPACKED_BYTES = 16 * 1024 * 1024
_UPLOAD_KEY_LABEL = b"skk-verifier console upload v1"


@dataclass(frozen=True)
class IssuedImport:
    """A cohort issued from the console: who, when, and its rows as issued."""

    id: str
    agency_id: str
    issued_at: int
    entries: list[tuple[int, str, str]]  # (line, number, status) in file order

    @property
    def issued(self) -> int:
        """Rows newly issued."""
        return sum(1 for _, _, status in self.entries if status == "issued")

    @property
    def existing(self) -> int:
        """Rows found issued before."""
        return len(self.entries) - self.issued


def _sealer(pepper: str | None) -> Fernet:
    if not pepper:
        raise ConfigurationError("SKK_NIK_PEPPER is needed to keep an uploaded cohort file")
    key = hmac.new(pepper.encode(), _UPLOAD_KEY_LABEL, hashlib.sha256).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def save_upload(agency_id: str, user_id: int, kind: str, content: bytes, *, pepper: str | None,
                now: int) -> str:
    """Keep an uploaded file, encrypted, for its preview and confirmation; its id (random)."""
    sealed = _sealer(pepper).encrypt(content)
    import_id = secrets.token_hex(16)
    with database_proxy.obj.atomic():
        sweep(now)
        CohortImport.create(id=import_id, agency=agency_id, user=user_id, kind=kind,
                            content=sealed, uploaded_at=now)
    return import_id


def read_upload(agency_id: str, import_id: str, *, pepper: str | None, now: int) -> CohortFile:
    """The uploaded file, parsed; NotFound when it is another agency's, issued, or too old."""
    row = _row(agency_id, import_id)
    gone = NotFound("this upload is no longer waiting; upload the file again", field="file")
    if (row.issued_at is not None or row.content is None
            or row.uploaded_at + KEEP_UPLOAD_SECONDS <= now):
        raise gone
    try:
        content = _sealer(pepper).decrypt(bytes(row.content))
    except InvalidToken:  # the pepper changed since: the file cannot be read any more
        raise gone from None
    return read_cohort(content, filename=f"upload.{row.kind}", max_rows=MAX_ROWS,
                       max_unpacked_bytes=MAX_XLSX_UNPACKED_BYTES)


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


def preview(agency_id: str, import_id: str, *, pepper: str | None,
            now: int) -> list[PreviewRow]:
    """What confirming would issue, row by row, in file order; signs and stores nothing.
    CohortRejected lists every problem of every row."""
    agency = registry.get_agency(agency_id)
    cohort_file = read_upload(agency_id, import_id, pepper=pepper, now=now)
    fresh, existing = cohort.plan(cohort_file, agency, pepper=pepper, now=now)
    rows = [_preview_row(c.row.line, c.credential, "new",
                         c.credential.number if c.number_given else None) for c in fresh]
    rows += [_preview_row(e.line, e.credential, e.status, e.credential.number)
             for e in existing]
    return sorted(rows, key=lambda row: row.line)


def _preview_row(line: int, credential: Credential, status: str,
                 number: str | None) -> PreviewRow:
    return PreviewRow(line, credential.holder_name, credential.job_title, credential.job_code,
                      credential.level, status, number)


def issue_upload(agency_id: str, import_id: str, *, key_store: PrivateKeyStore,
                 pepper: str | None, actor: str, now: int) -> IssuedImport:
    """Check, sign, store and audit every row of a waiting upload, all or nothing (the rows
    are checked again: the database may have changed since the preview)."""
    cohort_file = read_upload(agency_id, import_id, pepper=pepper, now=now)
    agency = registry.get_agency(agency_id)
    signer = keyring.signer(key_store, agency_id)
    prepared = cohort.prepare(cohort_file, agency, signer, pepper=pepper, now=now)
    entries = [(entry.line, entry.credential.number, entry.status)
               for entry in prepared.entries]
    with database_proxy.obj.atomic():
        marked = CohortImport.update(
            issued_at=now, content=None, entries=json.dumps(entries)
        ).where((CohortImport.id == import_id) & CohortImport.issued_at.is_null()).execute()
        if not marked:  # confirmed twice at once: the first one issues, this one nothing
            raise Conflict("this upload was issued a moment ago", field="file")
        issuing.commit_cohort(prepared, actor=actor)
    return issued_import(agency_id, import_id)


def issued_import(agency_id: str, import_id: str) -> IssuedImport:
    """An issued upload; NotFound when it is another agency's or not issued."""
    row = _row(agency_id, import_id)
    if row.issued_at is None or row.entries is None:
        raise NotFound("this upload has not been issued", field="file")
    entries = [(int(line), str(number), str(status))
               for line, number, status in json.loads(row.entries)]
    return IssuedImport(row.id, row.agency_id, int(row.issued_at), entries)


def print_pack(issued: IssuedImport, *, base_url: str) -> bytes:
    """A ZIP of exactly the files ``skk issue-batch`` writes for the cohort (results.csv, QR
    SVGs, A4 certificates, card sheets), built now: revoked or suspended ones are not printed."""
    entries = cohort.stored_entries(issued.agency_id, issued.entries)
    agency = registry.get_agency(issued.agency_id)
    with cohort_output.QrRenderer(len(entries)) as renderer:
        files, _ = cohort_output.render_outputs(entries, agency.name, base_url,
                                                renderer=renderer)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(zipfile.ZipInfo(name, date_time=_zip_time(issued.issued_at)),
                             content, compress_type=zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def _zip_time(instant: int) -> tuple[int, int, int, int, int, int]:
    moment = datetime.fromtimestamp(instant, UTC)
    return (moment.year, moment.month, moment.day, moment.hour, moment.minute, moment.second)


def _row(agency_id: str, import_id: str) -> CohortImport:
    row = None
    if len(import_id) == 32 and all(ch in "0123456789abcdef" for ch in import_id):
        row = CohortImport.get_or_none((CohortImport.id == import_id)
                                       & (CohortImport.agency == agency_id))
    if row is None:
        raise NotFound("no such upload", field="file")
    return row


def sweep(now: int) -> int:
    """Delete uploads never issued and older than a day (they hold NIKs); how many went."""
    return int(CohortImport.delete().where(
        CohortImport.issued_at.is_null()
        & (CohortImport.uploaded_at <= now - KEEP_UPLOAD_SECONDS)).execute())

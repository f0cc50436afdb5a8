"""A cohort's files: results.csv for Excel, one QR SVG per certificate, printable HTML pages.

A row whose certificate is revoked or suspended (an earlier one found again) is listed in
results.csv with that status but gets no QR file and no printed page: paper outlives any warning.

Everything is rendered in memory before the database commit and written only after it, first to
a temporary sibling folder that is then renamed into place: a crash before the commit leaves no
signed token on disk, and a crash after it leaves a folder that a re-run fills in completely.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

from verifier.core.errors import InvalidInput, UnreadableInput
from verifier.core.links import verify_domain
from verifier.issuance.cohort import PRINTABLE, CohortEntry, PreparedCohort
from verifier.issuance.cohort_file import CohortFile
from verifier.issuance.service import IssuingService
from verifier.printing import certificates
from verifier.printing.spreadsheet import excel_csv
from verifier.qr.parallel import Progress, QrRenderer

RESULT_COLUMNS = ("line", "number", "name", "job", "level", "status", "url")


def issue_to_folder(
    issuing: IssuingService,
    cohort_file: CohortFile,
    agency_id: str,
    out_dir: Path,
    *,
    actor: str,
    now: int,
    on_progress: Progress | None = None,
) -> tuple[PreparedCohort, list[str]]:
    """``skk issue-batch``: check and sign, render every file in memory, commit and audit as
    ``actor``, then write the folder. Returns the cohort and each entry's verify URL (rendered
    once, for the QR codes)."""
    check_out_dir(out_dir)
    # The workers start now, while the rows are checked and signed: starting them (a fresh
    # interpreter importing segno, about half a second) overlaps with that work.
    with QrRenderer(len(cohort_file.rows)) as renderer:

        def render(prepared: PreparedCohort) -> tuple[dict[str, bytes], list[str]]:
            rendered = render_outputs(
                prepared.entries,
                prepared.agency.name,
                issuing.base_url,
                on_progress=on_progress,
                renderer=renderer,
            )
            check_writable(out_dir)  # before the commit: a folder we cannot write issues nothing
            return rendered

        prepared, (files, urls) = issuing.issue_cohort(
            cohort_file, agency_id, actor=actor, now=now, render=render
        )
    publish(files, out_dir)
    return prepared, urls


def render_outputs(
    entries: Sequence[CohortEntry],
    agency_name: str,
    base_url: str,
    *,
    renderer: QrRenderer,
    on_progress: Progress | None = None,
) -> tuple[dict[str, bytes], list[str]]:
    """Every output file by relative path, rendered in memory (QR codes with ``renderer``),
    and each entry's verify URL."""
    tokens = [entry.token for entry in entries]
    rendered = renderer.render_credentials(base_url, tokens, on_progress=on_progress)
    urls = [url for url, _ in rendered]
    svgs = [svg for _, svg in rendered]
    files = {"results.csv": results_csv(entries, urls)}
    items = []
    for entry, url, svg in zip(entries, urls, svgs, strict=True):
        if entry.status not in PRINTABLE:
            continue  # revoked or suspended: listed in results.csv, never printed as current
        files[f"qr/{qr_file_name(entry.credential.number)}"] = svg.encode()
        items.append(certificates.PrintItem(entry.credential, agency_name, url, svg))
    domain = verify_domain(base_url)
    for index, html in enumerate(certificates.render_certificates(items, domain), start=1):
        files[f"certificates-{index:03d}.html"] = html.encode()
    for index, html in enumerate(certificates.render_cards(items, domain), start=1):
        files[f"cards-{index:03d}.html"] = html.encode()
    return files, urls


def qr_file_name(number: str) -> str:
    """A file name for a certificate number (numbers hold only letters, digits, space . -)."""
    return number.replace(" ", "_") + ".svg"


def results_csv(entries: Sequence[CohortEntry], urls: Sequence[str]) -> bytes:
    """The cohort's results, one row per participant in file order (:func:`excel_csv`)."""
    rows = []
    for entry, url in zip(entries, urls, strict=True):
        cred = entry.credential
        rows.append(
            (
                entry.line,
                cred.number,
                cred.holder_name,
                cred.job_title,
                cred.level,
                entry.status,
                url,
            )
        )
    return excel_csv(RESULT_COLUMNS, rows)


def check_out_dir(out_dir: Path) -> None:
    """Refuse an output folder that already has files: results must never mix two runs."""
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise InvalidInput(f"{out_dir} already exists and is not an empty folder", field="out")


def check_writable(out_dir: Path) -> None:
    """Refuse, before anything is issued, an output folder that cannot be created beside."""
    check_out_dir(out_dir)
    try:
        out_dir.parent.mkdir(parents=True, exist_ok=True)
        Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.probe-", dir=out_dir.parent)).rmdir()
    except OSError as exc:
        raise UnreadableInput(
            f"cannot write {out_dir}: {exc.strerror}; nothing was issued", field="out"
        ) from None


def publish(files: dict[str, bytes], out_dir: Path) -> None:
    """Write files into a temporary sibling folder, then rename it to ``out_dir``."""
    staging: Path | None = None
    try:
        staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.partial-", dir=out_dir.parent))
        for relative, content in files.items():
            target = staging / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
        check_out_dir(out_dir)  # it may have been filled since the first check
        if out_dir.exists():
            out_dir.rmdir()  # empty, checked above
        staging.replace(out_dir)
    except (OSError, InvalidInput) as exc:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
        reason = exc.strerror if isinstance(exc, OSError) else exc.message
        raise UnreadableInput(
            f"cannot write {out_dir}: {reason}; the certificates are issued: run the same "
            "file again with another --out to write their files",
            field="out",
        ) from None

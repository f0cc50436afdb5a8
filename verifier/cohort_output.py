"""A cohort's files: results.csv for Excel, one QR SVG per certificate, printable HTML pages.

Everything is rendered in memory before the database commit and written only after it, first to
a temporary sibling folder that is then renamed into place: a crash before the commit leaves no
signed token on disk, and a crash after it leaves a folder that a re-run fills in completely.
"""

from __future__ import annotations

import csv
import io
import multiprocessing
import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from verifier import cohort, printing, qr
from verifier.cohort import CohortEntry
from verifier.cohort_file import CohortFile
from verifier.errors import InvalidInput, UnreadableInput
from verifier.keys import SigningKey
from verifier.registry import AgencyInfo

Progress = Callable[[int], None]
#: Below this many codes a process pool costs more than it saves.
PARALLEL_THRESHOLD = 64
RESULT_COLUMNS = ("line", "number", "name", "job", "level", "status", "url")
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def issue_to_folder(
    cohort_file: CohortFile,
    agency: AgencyInfo,
    signer: SigningKey,
    out_dir: Path,
    *,
    pepper: str | None,
    base_url: str,
    now: int,
    on_progress: Progress | None = None,
) -> cohort.PreparedCohort:
    """The whole pipeline: check, sign, render (all in memory), commit, then write the folder."""
    check_out_dir(out_dir)
    prepared = cohort.prepare(cohort_file, agency, signer, pepper=pepper, now=now)
    files = render_outputs(prepared.entries, agency.name, base_url, on_progress=on_progress)
    cohort.commit(prepared)
    publish(files, out_dir)
    return prepared


def render_qr_svgs(urls: Sequence[str], *, on_progress: Progress | None = None) -> list[str]:
    """SVG of each URL's QR code, in order; spread over every core (segno is CPU-bound)."""
    workers = os.cpu_count() or 1
    if len(urls) < PARALLEL_THRESHOLD or workers == 1:
        svgs = []
        for url in urls:
            svgs.append(qr.qr_svg(url))
            if on_progress:
                on_progress(1)
        return svgs
    # forkserver: no fork of a process that may hold database connections or threads.
    context = multiprocessing.get_context("forkserver")
    chunk = max(8, len(urls) // (workers * 8))
    svgs = []
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        for svg in pool.map(qr.qr_svg, urls, chunksize=chunk):
            svgs.append(svg)
            if on_progress:
                on_progress(1)
    return svgs


def render_outputs(
    entries: Sequence[CohortEntry],
    agency_name: str,
    base_url: str,
    *,
    on_progress: Progress | None = None,
) -> dict[str, bytes]:
    """Every output file, by relative path, rendered in memory."""
    urls = [qr.credential_url(base_url, entry.token) for entry in entries]
    svgs = render_qr_svgs(urls, on_progress=on_progress)
    files = {"results.csv": results_csv(entries, urls)}
    items = []
    for entry, url, svg in zip(entries, urls, svgs, strict=True):
        files[f"qr/{qr_file_name(entry.credential.number)}"] = svg.encode()
        items.append(printing.PrintItem(entry.credential, agency_name, url, svg))
    domain = printing.verify_domain(base_url)
    for index, html in enumerate(printing.render_certificates(items, domain), start=1):
        files[f"certificates-{index:03d}.html"] = html.encode()
    for index, html in enumerate(printing.render_cards(items, domain), start=1):
        files[f"cards-{index:03d}.html"] = html.encode()
    return files


def qr_file_name(number: str) -> str:
    """A file name for a certificate number (numbers hold only letters, digits, space . -)."""
    return number.replace(" ", "_") + ".svg"


def results_csv(entries: Sequence[CohortEntry], urls: Sequence[str]) -> bytes:
    """``;``-separated UTF-8 with BOM and CRLF, as Excel in Indonesian opens it; formula-safe."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(RESULT_COLUMNS)
    for entry, url in zip(entries, urls, strict=True):
        cred = entry.credential
        row = (entry.line, cred.number, cred.holder_name, cred.job_title, cred.level,
               entry.status, url)
        writer.writerow([_formula_safe(str(cell)) for cell in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _formula_safe(cell: str) -> str:
    # A cell starting with = + - @ is run as a formula by spreadsheets (CSV injection).
    return "'" + cell if cell.startswith(_FORMULA_PREFIXES) else cell


def check_out_dir(out_dir: Path) -> None:
    """Refuse an output folder that already has files: results must never mix two runs."""
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise InvalidInput(f"{out_dir} already exists and is not an empty folder", field="out")


def publish(files: dict[str, bytes], out_dir: Path) -> None:
    """Write files into a temporary sibling folder, then rename it to ``out_dir``."""
    check_out_dir(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.partial-", dir=out_dir.parent))
    try:
        for relative, content in files.items():
            target = staging / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
        if out_dir.exists():
            out_dir.rmdir()  # empty, checked above
        os.replace(staging, out_dir)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise UnreadableInput(
            f"cannot write {out_dir}: {exc.strerror}; the certificates are issued: run the same "
            "file again with another --out to write their files"
        ) from None

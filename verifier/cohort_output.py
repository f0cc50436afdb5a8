"""A cohort's files: results.csv for Excel, one QR SVG per certificate, printable HTML pages.

Everything is rendered in memory before the database commit and written only after it, first to
a temporary sibling folder that is then renamed into place: a crash before the commit leaves no
signed token on disk, and a crash after it leaves a folder that a re-run fills in completely.
"""

from __future__ import annotations

import csv
import io
import multiprocessing
import multiprocessing.connection
import os
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from verifier import cohort, printing, qr
from verifier.cohort import CohortEntry
from verifier.cohort_file import CohortFile
from verifier.errors import InvalidInput, UnreadableInput
from verifier.keys import SigningKey
from verifier.registry import AgencyInfo

Progress = Callable[[int], None]
#: Below this many codes a process pool costs more than it saves.
PARALLEL_THRESHOLD = 64
#: Codes per task sent to a worker: small enough for an even spread over the workers and a
#: smooth progress bar, large enough that sending tasks costs nothing next to rendering them
#: (several milliseconds a code).
MAX_CHUNK = 32
RESULT_COLUMNS = ("line", "number", "name", "job", "level", "status", "url")
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
#: A short URL whose QR a new worker renders once, so it is up before the real work arrives.
_WARM_UP_URL = "HTTPS://WARM.UP/V/0"
_T = TypeVar("_T")


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
) -> tuple[cohort.PreparedCohort, list[str]]:
    """The whole pipeline: check, sign, render (all in memory), commit, then write the folder.

    Returns the cohort and each entry's verify URL (rendered once, for the QR codes)."""
    check_out_dir(out_dir)
    # The workers start now, while the rows are checked and signed: starting them (a fresh
    # interpreter importing segno, about half a second) overlaps with that work.
    with QrRenderer(len(cohort_file.rows)) as renderer:
        prepared = cohort.prepare(cohort_file, agency, signer, pepper=pepper, now=now)
        files, urls = render_outputs(prepared.entries, agency.name, base_url,
                                     on_progress=on_progress, renderer=renderer)
    check_writable(out_dir)  # before the commit: a folder we cannot write must issue nothing
    cohort.commit(prepared)
    publish(files, out_dir)
    return prepared, urls


def usable_cores() -> int:
    """Cores this process may run on (fewer than the machine's when pinned by a container)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0)) or 1
    return os.cpu_count() or 1


class QrRenderer:
    """Renders QR SVGs in order, spread over every usable core when there are enough of them.

    Use as a context manager; the worker processes start on entry, so their start-up overlaps
    whatever the caller does before calling :meth:`render`.
    """

    def __init__(self, expected: int) -> None:
        self.workers = usable_cores()
        self._pool: ProcessPoolExecutor | None = None
        if expected >= PARALLEL_THRESHOLD and self.workers > 1:
            # forkserver: no fork of a process that may hold database connections or threads.
            # Preloading the QR module there means each worker starts with segno imported.
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(["verifier.qr"])
            self._pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=context,
                                             initializer=_exit_with_parent)
            for _ in range(self.workers):  # workers spawn one per task, on submission
                self._pool.submit(qr.qr_version, _WARM_UP_URL)

    def __enter__(self) -> QrRenderer:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)

    def render(self, urls: Sequence[str], *, on_progress: Progress | None = None) -> list[str]:
        """SVG of each URL's QR code, in order."""
        return self._map(qr.qr_svg, urls, on_progress)

    def render_credentials(
        self, base_url: str, tokens: Sequence[str], *, on_progress: Progress | None = None
    ) -> list[tuple[str, str]]:
        """Verify URL and QR SVG of each token, in order (the workers build the URLs too: packing
        a token into QR digits costs about a tenth of rendering its code)."""
        if tokens:
            qr.credential_url(base_url, tokens[0])  # a bad base URL fails here, not in a worker
        return self._map(partial(qr.credential_qr, base_url), tokens, on_progress)

    def _map(self, func: Callable[[str], _T], items: Sequence[str],
             on_progress: Progress | None) -> list[_T]:
        if self._pool is None or len(items) < PARALLEL_THRESHOLD:
            return _run_here(func, items, on_progress)
        chunk = max(1, min(MAX_CHUNK, len(items) // (self.workers * 4)))
        results: list[_T] = []
        try:
            for result in self._pool.map(func, items, chunksize=chunk):
                results.append(result)
                if on_progress:
                    on_progress(1)
        except BrokenProcessPool:
            # A worker could not start (say, a __main__ it cannot re-import): finish here.
            return results + _run_here(func, items[len(results) :], on_progress)
        return results


def _exit_with_parent() -> None:
    """Worker initializer: end the worker as soon as the process that started it is gone.

    A killed ``skk issue-batch`` cannot shut its pool down, and a worker waits for its next task
    forever; the parent's sentinel becomes readable when the parent dies, however it dies.
    """
    parent = multiprocessing.parent_process()
    if parent is None:
        return
    sentinel = parent.sentinel

    def watch() -> None:
        multiprocessing.connection.wait([sentinel])
        os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def _run_here(func: Callable[[str], _T], items: Sequence[str],
              on_progress: Progress | None) -> list[_T]:
    results = []
    for item in items:
        results.append(func(item))
        if on_progress:
            on_progress(1)
    return results


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
        files[f"qr/{qr_file_name(entry.credential.number)}"] = svg.encode()
        items.append(printing.PrintItem(entry.credential, agency_name, url, svg))
    domain = printing.verify_domain(base_url)
    for index, html in enumerate(printing.render_certificates(items, domain), start=1):
        files[f"certificates-{index:03d}.html"] = html.encode()
    for index, html in enumerate(printing.render_cards(items, domain), start=1):
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
        rows.append((entry.line, cred.number, cred.holder_name, cred.job_title, cred.level,
                     entry.status, url))
    return excel_csv(RESULT_COLUMNS, rows)


def excel_csv(columns: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    """``;``-separated UTF-8 with BOM and CRLF, as Excel in Indonesian opens it; formula-safe;
    None is an empty cell."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_formula_safe("" if cell is None else str(cell)) for cell in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _formula_safe(cell: str) -> str:
    # A cell starting with = + - @ is run as a formula by spreadsheets (CSV injection).
    return "'" + cell if cell.startswith(_FORMULA_PREFIXES) else cell


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
        raise UnreadableInput(f"cannot write {out_dir}: {exc.strerror}; nothing was issued",
                              field="out") from None


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
        os.replace(staging, out_dir)
    except (OSError, InvalidInput) as exc:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
        reason = exc.strerror if isinstance(exc, OSError) else exc.message
        raise UnreadableInput(
            f"cannot write {out_dir}: {reason}; the certificates are issued: run the same "
            "file again with another --out to write their files", field="out"
        ) from None


def batch_summary(prepared: cohort.PreparedCohort, urls: Sequence[str]) -> dict[str, Any]:
    """``{"issued", "existing", "results"}``: one result per row in file order, with its verify
    URL; what ``skk issue-batch --json`` prints and ``POST /api/v1/credentials/batch`` returns."""
    results = [
        {
            "line": entry.line,
            "number": entry.credential.number,
            "name": entry.credential.holder_name,
            "job": entry.credential.job_title,
            "level": entry.credential.level,
            "status": entry.status,
            "verify_url": url,
        }
        for entry, url in zip(prepared.entries, urls, strict=True)
    ]
    return {"issued": prepared.issued, "existing": prepared.existing, "results": results}

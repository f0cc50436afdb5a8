"""Benchmark: a 3,000-row cohort through the whole pipeline against a plain segno loop.

The target (issue 4, item 6): ``skk issue-batch``'s pipeline - read the CSV, check every row,
sign, render the QR SVGs, render the printable certificates and ID cards, store in a fresh SQLite
file in one transaction, write the folder - reaches at least 1.3 times the throughput of a plain
loop rendering the same QR SVGs with segno on one core: certificates per second over codes per
second. The plain loop is what a user would hand-roll, with our settings (level Q, no error
boost, no Micro QR, alphanumeric prefix and numeric payload segments, automatic mask, 4-module
border, scale 4); its SVGs must be byte-identical to the pipeline's.

The cohort is generated like the Pasuruan sample (``nama, nik, kode_jabatan, jenjang,
asosiasi``), with valid NIKs, jobs from the master list and given certificate numbers. Given
numbers and one fixed ``now`` make every round issue the same tokens (Ed25519 signatures are
deterministic), so the rounds can be compared: each round runs the pipeline on all rows, each
with a fresh database and a fresh worker pool as a new ``skk issue-batch`` process has, and the
plain loop on a third of the rows; which side goes first alternates. Over the rounds the plain
loop renders every row once. The ratio is the median of the rounds' ratios. Exit status 1 when
it misses the target or any SVG differs.

Run: ``.venv/bin/python benchmarks/bench_batch.py`` (``make bench``).
"""

from __future__ import annotations

import csv
import io
import multiprocessing.forkserver
import os
import random
import resource
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import segno
from segno import consts

from verifier.core import jobs, links
from verifier.core.nik import check_nik
from verifier.issuance import cohort, keyring
from verifier.issuance.cohort_file import read_cohort
from verifier.issuance.keystore import PrivateKeyStore
from verifier.issuance.service import IssuingService
from verifier.printing import certificates, cohort_folder
from verifier.qr import parallel, render
from verifier.store import registry
from verifier.store.db import init_schema, open_database

TARGET_RATIO = 1.3
ROWS = 3000
ROUNDS = 3
BASE_URL = "https://sertifikat.example.id"
AGENCY_ID = "lsp-bench"
AGENCY_NAME = "LSP Konstruksi Benchmark Nusantara"
PASSPHRASE = "bench"
PEPPER = "bench pepper"
NOW = 1_747_267_200  # 2025-05-15T00:00:00Z, fixed so every round signs the same tokens
SEED = 2025

# Name parts and associations as in tests/data/cohort_pasuruan_2025.csv.
FIRST_NAMES = (
    "Muhammad Ahmad Budi Joko Sugeng Teguh Rina Siti Agus Andi Imam Heri Fajar Dedi Bambang "
    "Arif Rizky Yusuf Wahyu Sri Slamet Eko Hendra Indra Rudi Nur Dewi Putri Rahmat Hadi"
).split()
LAST_NAMES = (
    "Susanto Suparman Saputra Hidayat Rahayu Wijaya Siregar Setiawan Prasetyo Lubis Wibowo "
    "Nugroho Harahap Firmansyah Simanjuntak Ramadhan Nasution Marlina Hartono Gunawan Santoso "
    "Purnomo Kurniawan Pratama Hasibuan Sitompul Kusuma Permana"
).split()
ASSOCIATIONS = "AK3L ALKI ASTTI GATAKI GATENSI HPJI IAP IATPI INTAKINDO PERKATAKI".split()
#: Province and regency codes of the NIK: Pasuruan, Surabaya, Palembang, Bandung, Semarang.
REGIONS = ("3514", "3578", "1671", "3273", "3374")


@dataclass
class Setup:
    """What every round shares: the CSV, a template database, and the issuing service (whose
    key store holds the agency's key decrypted already, as a long-running issuer's would)."""

    tmp: Path
    data: bytes
    template: Path
    issuing: IssuingService


@dataclass
class PipelineRun:
    """One pipeline run: wall time, time per stage, and the files it wrote."""

    seconds: float
    stages: dict[str, float]
    worker_cpu: float  # CPU seconds of the QR workers (and the forkserver they fork from)
    urls: list[str]
    svgs: dict[str, bytes]  # URL -> the QR SVG the pipeline wrote for it


@dataclass
class Round:
    """One round's figures."""

    pipeline: PipelineRun
    plain_rate: float
    identical: int
    compared: int
    notes: list[str] = field(default_factory=list)

    @property
    def pipeline_rate(self) -> float:
        """Certificates per second through the whole pipeline."""
        return ROWS / self.pipeline.seconds

    @property
    def ratio(self) -> float:
        """Pipeline certificates per second over plain-loop codes per second."""
        return self.pipeline_rate / self.plain_rate


def main() -> int:
    """Set up, run the rounds, print the figures; 0 when the target is met and all SVGs match."""
    started = time.perf_counter()
    report_cores()
    with tempfile.TemporaryDirectory(prefix="skk-bench-batch-") as tmp:
        setup = set_up(Path(tmp))
        rounds = run_rounds(setup)
    ok = report(rounds)
    print(f"elapsed_seconds={time.perf_counter() - started:.1f}")
    return 0 if ok else 1


def report_cores() -> None:
    """Say how many cores the pipeline can use; plainly so when it is one."""
    cores = parallel.usable_cores()
    print(f"cpu_count={os.cpu_count()} usable_cores={cores}")
    if cores < 2:
        print(
            "NOTE: only one usable core: the pipeline cannot render QR codes in parallel "
            "here (the issue's target assumes 2 cores)"
        )


# --- setup -------------------------------------------------------------------------------------


def set_up(tmp: Path) -> Setup:
    """The cohort CSV, and a database holding the agency and its key, to copy for each round."""
    template = tmp / "template.sqlite3"
    database = open_database(f"sqlite:///{template}", create=True)
    init_schema(database)
    registry.add_agency(AGENCY_ID, AGENCY_NAME, (1, 6), "lsp", NOW - 86_400)
    store = PrivateKeyStore(tmp / "keys", PASSPHRASE)
    keyring.generate(store, AGENCY_ID, "EdDSA", NOW - 3600)
    issuing = IssuingService(store, pepper=PEPPER, base_url=BASE_URL)
    database.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")  # everything in the main file
    database.close()
    return Setup(tmp, cohort_csv(ROWS), template, issuing)


def cohort_csv(rows: int) -> bytes:
    """A participant list shaped like the Pasuruan sample, plus the agency's own numbers."""
    rng = random.Random(SEED)
    master = jobs.master()
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(["nama", "nik", "kode_jabatan", "jenjang", "nomor", "asosiasi"])
    for index in range(rows):
        job = rng.choice(master)
        words = [rng.choice(FIRST_NAMES), *rng.sample(LAST_NAMES, rng.choice((1, 1, 2)))]
        number = f"{job.code} {job.level} {index + 1:08d} 2025"
        writer.writerow(
            [
                " ".join(words),
                nik(rng, index),
                job.code,
                job.level,
                number,
                rng.choice(ASSOCIATIONS),
            ]
        )
    return buffer.getvalue().encode("utf-8")


def nik(rng: random.Random, index: int) -> str:
    """A valid NIK: region, district, birth date (day + 40 for women), serial (unique here)."""
    day = rng.randint(1, 28) + rng.choice((0, 40))
    birth = f"{day:02d}{rng.randint(1, 12):02d}{rng.randint(60, 99):02d}"
    return check_nik(f"{rng.choice(REGIONS)}{rng.randint(1, 30):02d}{birth}{index + 1:04d}")


# --- the two sides -----------------------------------------------------------------------------


def plain_svg(url: str) -> bytes:
    """The hand-rolled baseline: one segno call with our settings, then its SVG writer."""
    prefix, payload = url.split(links.PATH_MARK)
    code = segno.make(
        # A list of (content, mode) segments, which segno's type hints do not name.
        [
            (prefix + links.PATH_MARK, consts.MODE_ALPHANUMERIC),  # type: ignore[arg-type]
            (payload, consts.MODE_NUMERIC),
        ],
        error=render.ERROR_LEVEL,
        boost_error=False,
        micro=False,
    )
    buffer = io.BytesIO()
    code.save(buffer, kind="svg", scale=render.SVG_SCALE, border=render.BORDER, xmldecl=True)
    return buffer.getvalue()


def plain_loop(urls: list[str]) -> tuple[float, dict[str, bytes]]:
    """Codes per second of the plain loop over ``urls``, and its SVGs."""
    svgs = {}
    started = time.perf_counter()
    for url in urls:
        svgs[url] = plain_svg(url)
    return len(urls) / (time.perf_counter() - started), svgs


def run_pipeline(setup: Setup, number: int) -> PipelineRun:
    """Read the CSV and issue it to a new folder with a fresh database, as ``skk issue-batch``."""
    path = setup.tmp / f"round-{number}.sqlite3"
    shutil.copyfile(setup.template, path)
    database = open_database(f"sqlite:///{path}")
    out_dir = setup.tmp / f"out-{number}"
    stop_forkserver()
    children_before = children_cpu_seconds()
    try:
        with timed_stages() as stages:
            started = time.perf_counter()
            prepared, _ = cohort_folder.issue_to_folder(
                setup.issuing,
                read_cohort(setup.data, filename="cohort.csv"),
                AGENCY_ID,
                out_dir,
                actor="bench",
                now=NOW,
            )
            seconds = time.perf_counter() - started
    finally:
        database.close()
    stop_forkserver()  # reaps the workers' parent, so their CPU time is counted as ours
    worker_cpu = children_cpu_seconds() - children_before
    if prepared.issued != ROWS:
        raise SystemExit(f"round {number}: issued {prepared.issued} of {ROWS} rows")
    with (out_dir / "results.csv").open(encoding="utf-8-sig", newline="") as results:
        urls = [row["url"] for row in csv.DictReader(results, delimiter=";")]
    svgs = {
        url: (out_dir / "qr" / cohort_folder.qr_file_name(entry.credential.number)).read_bytes()
        for url, entry in zip(urls, prepared.entries, strict=True)
    }
    shutil.rmtree(out_dir)
    path.unlink()
    return PipelineRun(seconds, stages, worker_cpu, urls, svgs)


def children_cpu_seconds() -> float:
    """CPU seconds of every reaped child process so far (the pool's workers, once reaped)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def stop_forkserver() -> None:
    """Each round starts its worker pool from scratch, as a fresh ``skk issue-batch`` does."""
    # A private helper, but the only way to stop it; without it later rounds would be faster.
    stop = getattr(multiprocessing.forkserver._forkserver, "_stop", None)
    if stop is not None:
        stop()


#: Pipeline stages timed inside the run: (name, owner, attribute).
_STAGES: tuple[tuple[str, Any, str], ...] = (
    ("check_sign", cohort, "prepare"),
    ("qr", parallel.QrRenderer, "render_credentials"),  # URLs and SVGs, in the workers
    ("html_certificates", certificates, "render_certificates"),
    ("html_cards", certificates, "render_cards"),
    ("store", cohort, "commit"),
    ("write_files", cohort_folder, "publish"),
)


@contextmanager
def timed_stages() -> Iterator[dict[str, float]]:
    """Seconds spent in each stage, by wrapping the functions the pipeline calls."""
    seconds = dict.fromkeys((name for name, _, _ in _STAGES), 0.0)
    originals = [(owner, attribute, getattr(owner, attribute)) for _, owner, attribute in _STAGES]

    def timing(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return func(*args, **kwargs)
            finally:
                seconds[name] += time.perf_counter() - started

        return wrapper

    for (name, owner, attribute), (_, _, func) in zip(_STAGES, originals, strict=True):
        setattr(owner, attribute, timing(name, func))
    try:
        yield seconds
    finally:
        for owner, attribute, func in originals:
            setattr(owner, attribute, func)


# --- rounds ------------------------------------------------------------------------------------


def run_rounds(setup: Setup) -> list[Round]:
    """ROUNDS rounds; the plain loop takes every ROUNDS-th row, so each row is rendered once."""
    plain_svg("HTTPS://WARM.UP/V/0")  # imports and first-call costs stay out of the timing
    rounds: list[Round] = []
    reference: list[str] = []
    for number in range(ROUNDS):
        pipeline_first = number % 2 == 0
        if pipeline_first:
            run = run_pipeline(setup, number)
            reference = reference or run.urls
        share = reference[number::ROUNDS]
        plain_rate, plain = plain_loop(share)
        if not pipeline_first:
            run = run_pipeline(setup, number)
        identical = sum(run.svgs.get(url) == svg for url, svg in plain.items())
        notes = [] if run.urls == reference else ["its tokens differ from round 1's"]
        rounds.append(Round(run, plain_rate, identical, len(plain), notes))
        print(
            f"round {number + 1}: pipeline {ROWS} rows in {run.seconds:.1f}s; plain loop "
            f"{len(share)} codes at {plain_rate:.1f}/s; ratio {rounds[-1].ratio:.2f}"
        )
    return rounds


def report(rounds: list[Round]) -> bool:
    """Print the figures; True when the ratio meets the target and every SVG matched."""
    ratio = statistics.median(r.ratio for r in rounds)
    pipeline_rate = statistics.median(r.pipeline_rate for r in rounds)
    plain_rate = statistics.median(r.plain_rate for r in rounds)
    qr_share = statistics.median(r.pipeline.stages["qr"] / r.pipeline.seconds for r in rounds)
    identical = sum(r.identical for r in rounds)
    compared = sum(r.compared for r in rounds)
    print(
        "rounds_pipeline_certificates_per_s=" + ",".join(f"{r.pipeline_rate:.1f}" for r in rounds)
    )
    print("rounds_plain_codes_per_s=" + ",".join(f"{r.plain_rate:.1f}" for r in rounds))
    print("rounds_ratio=" + ",".join(f"{r.ratio:.2f}" for r in rounds))
    print(format_stages(rounds))
    print(f"pipeline_certificates_per_s={pipeline_rate:.1f}")
    print(f"plain_segno_codes_per_s={plain_rate:.1f} (one core)")
    print(f"qr_share_of_pipeline_time={qr_share:.0%}")
    # Worker CPU seconds per second of QR rendering: near 2 when both cores render.
    busy = statistics.median(r.pipeline.worker_cpu / r.pipeline.stages["qr"] for r in rounds)
    print(f"qr_cores_busy={busy:.2f}")
    print(f"svgs_byte_identical={identical}/{compared}")
    print(f"throughput_ratio={ratio:.2f} (target >= {TARGET_RATIO})")
    ok = True
    for number, notes in enumerate((r.notes for r in rounds), start=1):
        for note in notes:
            print(f"FAIL: round {number}: {note}")
            ok = False
    if identical != compared or compared != ROWS:
        print(
            f"FAIL: {compared - identical} of {compared} SVGs differ from the plain loop's "
            f"(and {ROWS - compared} rows were not compared)"
        )
        ok = False
    if ratio < TARGET_RATIO:
        print(f"FAIL: throughput_ratio {ratio:.2f} is below the target {TARGET_RATIO}")
        ok = False
    return ok


def format_stages(rounds: list[Round]) -> str:
    """Median seconds per stage, and what the pipeline spends outside them (reading the CSV,
    QR URLs, results.csv, pool start and stop)."""
    names = [name for name, _, _ in _STAGES]
    others = [r.pipeline.seconds - sum(r.pipeline.stages[n] for n in names) for r in rounds]
    fields = [
        f"{name}={statistics.median(r.pipeline.stages[name] for r in rounds):.2f}" for name in names
    ]
    fields.append(f"other={statistics.median(others):.2f}")
    total = statistics.median(r.pipeline.seconds for r in rounds)
    return f"pipeline_stage_seconds (median): {' '.join(fields)} total={total:.2f}"


if __name__ == "__main__":
    sys.exit(main())

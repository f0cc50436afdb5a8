"""Jabatan kerja master lists: the one shipped inside the package, and updated ones read from a
CSV file (LPJK publishes changes), checked whole before anything uses them.

A :class:`JobMaster` is one version of the list with its look-ups. The package's list
(``data/jabatan_kerja_<version>.csv``, :data:`MASTER_VERSION`) applies while no newer one was
imported; which version is active is the store's business (``verifier.store.job_masters``), so
this module reads no database: callers hand the master in. An imported file has the package
file's columns (:data:`COLUMNS`); :func:`parse_master` reports every bad row with its line and
column at once, as cohort files are checked.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from functools import cache
from importlib import resources
from typing import Any

from verifier.core.credential import JOB_CODE_RE, MAX_TEXT_LENGTH, check_text
from verifier.core.errors import InvalidInput, RowProblem
from verifier.core.text import clean_text, fold, unreadable_csv

MASTER_VERSION = "2025"
#: The columns of a master file, in the package file's order.
COLUMNS = ("code", "name", "klasifikasi", "subklasifikasi", "kualifikasi", "jenjang", "standard")
#: Columns that must not be empty in any row.
REQUIRED = ("code", "name", "klasifikasi", "subklasifikasi", "jenjang")
#: Rows one imported master may hold (the 2025 list has 30; LPJK's full list a few hundred).
MAX_JOBS = 5000


@dataclass(frozen=True)
class Job:
    """One jabatan kerja: code, Indonesian title and KKNI level."""

    code: str
    title: str
    level: int
    classification: str
    subclassification: str
    #: The file's ``kualifikasi`` (Operator, Teknisi/Analis, Ahli) and ``standard`` (SKKNI ...).
    qualification: str = ""
    standard: str = ""

    def to_dict(self) -> dict[str, Any]:
        """The job as ``skk jobs list --json`` shows it (and as an imported version stores it)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Job:
        """The inverse of :meth:`to_dict` (an imported version read back)."""
        return cls(**{name: data[name] for name in cls.__dataclass_fields__ if name in data})


@dataclass(frozen=True)
class JobMaster:
    """One version of the master list and its look-ups; ``version`` names it (``2025`` for the
    package's list, the imported version's number otherwise)."""

    version: str
    jobs: tuple[Job, ...]
    _by_code: dict[str, Job] = field(init=False, repr=False, compare=False)
    _by_title_level: dict[tuple[str, int], Job] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Indexes built once per version (the master is immutable; look-ups are per row).
        object.__setattr__(self, "_by_code", {job.code: job for job in self.jobs})
        object.__setattr__(
            self, "_by_title_level", {(fold(job.title), job.level): job for job in self.jobs}
        )

    def find_by_code(self, code: str) -> Job | None:
        """The job with this code (case-insensitive), or None."""
        return self._by_code.get(code.strip().upper())

    def find_by_title(self, title: str, level: int) -> Job | None:
        """The job with this title (case- and space-insensitive) at this level, or None."""
        return self._by_title_level.get((fold(title), level))

    def levels_for_title(self, title: str) -> list[int]:
        """Levels at which a title exists, to explain a title + level that matches nothing."""
        folded = fold(title)
        return sorted(job.level for job in self.jobs if fold(job.title) == folded)


class MasterRejected(InvalidInput):
    """A master file with problems; nothing of it is used."""

    def __init__(self, problems: list[RowProblem]) -> None:
        super().__init__(
            f"{len(problems)} problem(s) in the jabatan kerja file; nothing was imported",
            field="file",
        )
        self.problems = problems


@cache
def master(version: str = MASTER_VERSION) -> tuple[Job, ...]:
    """All jobs of one version of the package's master list."""
    return package_master(version).jobs


@cache
def package_master(version: str = MASTER_VERSION) -> JobMaster:
    """The master list shipped in the package (what applies while none was imported)."""
    text = (
        resources.files("verifier")
        .joinpath(f"data/jabatan_kerja_{version}.csv")
        .read_text(encoding="utf-8")
    )
    return JobMaster(version, parse_master(text))


def level_group(level: int) -> str:
    """The KKNI group of a jenjang: ``operator`` (1-3), ``technician`` (4-6), ``expert`` (7-9)."""
    return "operator" if level <= 3 else "technician" if level <= 6 else "expert"


# --- reading a master file ----------------------------------------------------------------------


def decode_master(data: bytes) -> str:
    """The text of a master file: UTF-8, a BOM allowed; MasterRejected otherwise."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise MasterRejected(
            [RowProblem(1, "file", f"the file is not UTF-8 text (byte {exc.start + 1})")]
        ) from None


def parse_master(text: str) -> tuple[Job, ...]:
    """Every job of a master file with the package file's columns (``,`` or ``;`` separated, as
    a spreadsheet saves it), in file order; MasterRejected listing every problem: wrong or
    missing headers, empty cells, a bad code, a level outside 1-9, a duplicate code or title at
    one level, a file without rows. Lines count from 1, the header being line 1."""
    first = text.partition("\n")[0]
    dialect = _Semicolon if first.count(";") > first.count(",") else csv.excel
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    try:
        return _jobs(reader)
    except csv.Error as exc:  # e.g. a cell over the reader's 128 KiB limit: that line, no more
        raise MasterRejected([RowProblem(reader.line_num, "file", unreadable_csv(exc))]) from None


def _jobs(reader: Any) -> tuple[Job, ...]:
    """The jobs of :func:`parse_master`'s reader; csv.Error is the caller's to report."""
    header = [clean_text(cell).lower() for cell in next(reader, [])]
    problems = _header_problems(header)
    if problems:
        raise MasterRejected(problems)
    jobs: list[Job] = []
    first_line: dict[object, int] = {}
    for row in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        job, row_problems = _job(dict(zip(header, row, strict=False)), line, len(row) > len(header))
        problems += row_problems
        if job is None:
            continue
        for key, what in (
            ((job.code,), "code"),
            ((fold(job.title), job.level), "name at this jenjang"),
        ):
            earlier = first_line.setdefault(key, line)
            if earlier != line:
                column = "code" if what == "code" else "name"
                problems.append(
                    RowProblem(line, column, f"duplicate {what}: already on line {earlier}")
                )
        jobs.append(job)
        if len(jobs) > MAX_JOBS:
            problems.append(RowProblem(line, "file", f"at most {MAX_JOBS} jobs per file"))
            break
    if not jobs and not problems:
        problems.append(RowProblem(2, "file", "the file has no jobs"))
    if problems:
        raise MasterRejected(problems)
    return tuple(jobs)


class _Semicolon(csv.excel):
    delimiter = ";"


def _header_problems(header: Sequence[str]) -> list[RowProblem]:
    problems = [
        RowProblem(1, name, f"missing column {name!r}") for name in COLUMNS if name not in header
    ]
    problems += [
        RowProblem(
            1, name or "(empty)", f"unknown column {name!r}; the columns are " + ", ".join(COLUMNS)
        )
        for name in header
        if name not in COLUMNS
    ]
    problems += [
        RowProblem(1, name, f"column {name!r} appears twice")
        for index, name in enumerate(header)
        if name in header[:index]
    ]
    return problems


def _job(cells: Mapping[str, str], line: int, extra: bool) -> tuple[Job | None, list[RowProblem]]:
    problems = []

    def fail(column: str, message: str) -> None:
        problems.append(RowProblem(line, column, message))

    if extra:
        fail("file", "more cells than columns")
    values = {name: clean_text(cells.get(name) or "") for name in COLUMNS}
    for name in REQUIRED:
        if not values[name]:
            fail(name, f"{name} is empty")
    for name in (name for name in COLUMNS if values[name]):
        try:
            check_text(values[name], name, MAX_TEXT_LENGTH)
        except ValueError as exc:
            fail(name, str(exc))
    code, level_text = values["code"], values["jenjang"]
    if code and not JOB_CODE_RE.fullmatch(code):
        fail(
            "code", f"code {code[:20]!r} must be two capital letters and six digits (e.g. ME063100)"
        )
    level = int(level_text) if level_text.isascii() and level_text.isdigit() else None
    if level_text and (level is None or not 1 <= level <= 9):
        fail("jenjang", f"jenjang {level_text[:20]!r} must be a whole number from 1 to 9")
    if problems or level is None:
        return None, problems
    return Job(
        code=code,
        title=values["name"],
        level=level,
        classification=values["klasifikasi"],
        subclassification=values["subklasifikasi"],
        qualification=values["kualifikasi"],
        standard=values["standard"],
    ), []

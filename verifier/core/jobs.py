"""Jabatan kerja master list: versioned reference data shipped inside the package.

Codes change between versions of the ministry's list, so each version is its own CSV file
(``data/jabatan_kerja_<version>.csv``) and :data:`MASTER_VERSION` names the one issuance uses.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from functools import cache
from importlib import resources

from verifier.core.text import fold

MASTER_VERSION = "2025"


@dataclass(frozen=True)
class Job:
    """One jabatan kerja: code, Indonesian title and KKNI level."""

    code: str
    title: str
    level: int
    classification: str
    subclassification: str


@cache
def master(version: str = MASTER_VERSION) -> tuple[Job, ...]:
    """All jobs of one version of the master list."""
    text = (
        resources.files("verifier")
        .joinpath(f"data/jabatan_kerja_{version}.csv")
        .read_text(encoding="utf-8")
    )
    return tuple(
        Job(
            code=row["code"],
            title=row["name"],
            level=int(row["jenjang"]),
            classification=row["klasifikasi"],
            subclassification=row["subklasifikasi"],
        )
        for row in csv.DictReader(io.StringIO(text))
    )


@cache
def _by_code(version: str) -> dict[str, Job]:
    return {job.code: job for job in master(version)}


@cache
def _by_title_level(version: str) -> dict[tuple[str, int], Job]:
    return {(fold(job.title), job.level): job for job in master(version)}


def find_by_code(code: str, version: str = MASTER_VERSION) -> Job | None:
    """The job with this code (case-insensitive), or None."""
    return _by_code(version).get(code.strip().upper())


def find_by_title(title: str, level: int, version: str = MASTER_VERSION) -> Job | None:
    """The job with this title (case- and space-insensitive) at this level, or None."""
    return _by_title_level(version).get((fold(title), level))


def levels_for_title(title: str, version: str = MASTER_VERSION) -> list[int]:
    """Levels at which a title exists, to explain a title + level that matches nothing."""
    folded = fold(title)
    return sorted(job.level for job in master(version) if fold(job.title) == folded)


def level_group(level: int) -> str:
    """The KKNI group of a jenjang: ``operator`` (1-3), ``technician`` (4-6), ``expert`` (7-9)."""
    return "operator" if level <= 3 else "technician" if level <= 6 else "expert"

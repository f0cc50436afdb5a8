"""Imported versions of the jabatan kerja master (``skk jobs import``), and which one is active.

Each import is a new version (1, 2, ...) holding its checked jobs as JSON, with who imported it,
when, from which file and the file's SHA-256; it is audited in the same transaction. The newest
version is the active one, the one issuing checks job codes and titles against; while none was
imported, the package's own list applies. :func:`active_master` reads the newest version number
and SHA-256 on every call (one indexed query) and parses a version's jobs only when they
change, so every worker of every host issues against a new import from its next request on (a
restored backup may number different content as a version seen before: the SHA-256 tells).
Imports take turns (:func:`~verifier.store.db.take_turns`), so two at once get consecutive
versions instead of one failing on the version's key.
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass
from typing import Any

from verifier.core import jobs
from verifier.core.credential import to_iso
from verifier.core.jobs import Job, JobMaster
from verifier.store import audit
from verifier.store.db import bound_database, take_turns
from verifier.store.models import JobMasterVersion

_cache: dict[tuple[int, str], JobMaster] = {}
_cache_lock = threading.Lock()


@dataclass(frozen=True)
class MasterVersion:
    """One imported version, without its jobs."""

    version: int
    imported_at: int
    actor: str
    source: str
    sha256: str
    jobs: int

    def to_dict(self) -> dict[str, Any]:
        """As ``skk jobs list --json`` shows it."""
        return {
            "version": self.version,
            "imported_at": to_iso(self.imported_at),
            "actor": self.actor,
            "source": self.source,
            "sha256": self.sha256,
            "jobs": self.jobs,
        }


def newest_version() -> int | None:
    """The active imported version's number; None while the package's list applies."""
    newest = _newest()
    return None if newest is None else newest[0]


def _newest() -> tuple[int, str] | None:
    """The newest imported version's number and SHA-256, in one query on the primary key."""
    row = (
        JobMasterVersion.select(JobMasterVersion.version, JobMasterVersion.sha256)
        .order_by(JobMasterVersion.version.desc())
        .limit(1)
        .tuples()
        .first()
    )
    return None if row is None else (int(row[0]), str(row[1]))


def active_master() -> JobMaster:
    """The master issuing checks against now: the newest imported version, or the package's."""
    newest = _newest()
    if newest is None:
        return jobs.package_master()
    with _cache_lock:
        cached = _cache.get(newest)
    if cached is not None:
        return cached
    version, sha256 = newest
    row = JobMasterVersion.get_or_none(
        (JobMasterVersion.version == version) & (JobMasterVersion.sha256 == sha256)
    )
    if row is None:  # replaced between the two queries (a restore): read it all again
        return active_master()
    loaded = JobMaster(str(version), tuple(Job.from_dict(item) for item in json.loads(row.content)))
    with _cache_lock:
        _cache.clear()  # only the newest is ever asked for again
        _cache[newest] = loaded
    return loaded


def versions() -> list[MasterVersion]:
    """Every imported version, oldest first."""
    return [_version(row) for row in JobMasterVersion.select().order_by(JobMasterVersion.version)]


def import_master(
    imported: tuple[Job, ...], *, source: str, sha256: str, actor: str, now: int
) -> tuple[MasterVersion, bool]:
    """Store checked jobs as the next version, audited, in one transaction; ``(version,
    True)``. When the file is the active version's again (same SHA-256), nothing is written:
    ``(that version, False)``."""
    database = bound_database()
    with database.atomic():
        take_turns(database, "skk-jobs-import")  # the next version number is read, then taken
        newest = newest_version()
        if newest is not None:
            current = JobMasterVersion.get_by_id(newest)
            if current.sha256 == sha256:
                return _version(current), False
        row = JobMasterVersion.create(
            version=(newest or 0) + 1,
            imported_at=now,
            actor=actor,
            source=source[:255],
            sha256=sha256,
            content=json.dumps([job.to_dict() for job in imported], ensure_ascii=False),
        )
        # The file name stays in the version's row: typed by an operator, it is no audit note.
        audit.record(
            None,
            actor,
            "jobs_import",
            at=now,
            subject=f"version {row.version}",
            note=f"{len(imported)} jobs, sha256 {sha256[:16]}",
        )
    return _version(row), True


def import_file(data: bytes, *, source: str, actor: str, now: int) -> tuple[MasterVersion, bool]:
    """Check a master file whole (MasterRejected lists every problem, and nothing is written),
    then :func:`import_master` it under its SHA-256."""
    imported = jobs.parse_master(jobs.decode_master(data))
    return import_master(
        imported, source=source, sha256=hashlib.sha256(data).hexdigest(), actor=actor, now=now
    )


def _version(row: JobMasterVersion) -> MasterVersion:
    return MasterVersion(
        int(row.version),
        int(row.imported_at),
        row.actor,
        row.source,
        row.sha256,
        len(json.loads(row.content)),
    )

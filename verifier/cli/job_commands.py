"""`skk jobs`: the jabatan kerja master issuing checks against; updated lists imported."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from verifier.cli.base import (
    EXIT_REFUSED,
    Runtime,
    emit,
    json_option,
    pass_runtime,
    read_input_file,
    report_problems,
    uses_database,
)
from verifier.core.jobs import MasterRejected
from verifier.store import audit, job_masters

#: A master file of MAX_JOBS rows (a few hundred bytes each) is far below this.
MAX_FILE_BYTES = 4 * 1024 * 1024


def register(main: click.Group) -> None:
    """Attach the commands to the top-level group."""
    main.add_command(jobs)


@click.group()
def jobs() -> None:
    """The jabatan kerja master list: show it, import an updated one."""


@jobs.command("list")
@json_option
@pass_runtime
@uses_database
def jobs_list(rt: Runtime, as_json: bool) -> None:
    """Show the active master's jobs (codes, levels) and every imported version."""
    master = job_masters.active_master()
    versions = job_masters.versions()
    imported = versions[-1] if versions else None
    data = {
        "active": (
            {
                "version": imported.version,
                "source": imported.source,
                "imported_at": imported.to_dict()["imported_at"],
            }
            if imported
            else {"version": None, "source": f"package:{master.version}"}
        ),
        "versions": [version.to_dict() for version in versions],
        "jobs": [job.to_dict() for job in master.jobs],
    }
    emit(as_json, data, _describe)


def _describe(data: dict[str, Any]) -> str:
    active = data["active"]
    if active["version"] is None:
        lines = [f"active: the package's list ({active['source']}); none imported"]
    else:
        lines = [
            (
                f"active: version {active['version']}, imported {active['imported_at']} "
                f"from {active['source']}"
            )
        ]
    lines += [
        f"{job['code']}  {job['level']}  {job['title']}  "
        f"({job['classification']} / {job['subclassification']})"
        for job in data["jobs"]
    ]
    lines.append(f"{len(data['jobs'])} jobs; {len(data['versions'])} imported version(s)")
    return "\n".join(lines)


@jobs.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@json_option
@pass_runtime
@uses_database
def jobs_import(rt: Runtime, file: Path, as_json: bool) -> None:
    """Import an updated master (CSV with the columns of verifier/data/jabatan_kerja_2025.csv):
    checked whole, stored as the next version, audited; issuing uses it from then on."""
    data = read_input_file(file, MAX_FILE_BYTES)
    try:
        version, created = job_masters.import_file(
            data, source=file.name, actor=audit.CLI_ACTOR, now=rt.now()
        )
    except MasterRejected as rejected:
        report_problems(rejected.message, rejected.problems, as_json)
        raise click.exceptions.Exit(EXIT_REFUSED) from None
    emit(
        as_json,
        {**version.to_dict(), "created": created},
        lambda _: (
            f"imported version {version.version}: {version.jobs} jobs; issuing uses it now"
            if created
            else f"unchanged: the file is version {version.version}, already active"
        ),
    )

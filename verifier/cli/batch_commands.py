"""`skk issue-batch`: a participant list in, signed certificates and printable files out."""

from __future__ import annotations

import sys
import time
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
from verifier.issuance.cohort import CohortRejected
from verifier.issuance.cohort_file import read_cohort
from verifier.issuance.service import IssuingService
from verifier.printing.cohort_folder import check_out_dir, issue_to_folder
from verifier.store import audit, registry

MAX_FILE_BYTES = 64 * 1024 * 1024


def register(main: click.Group) -> None:
    """Attach the command to the top-level group."""
    main.add_command(issue_batch)


@click.command("issue-batch")
@click.option("--agency", "agency_id", required=True)
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="New or empty folder for results.csv, QR codes and printable pages.",
)
@json_option
@pass_runtime
@uses_database
def issue_batch(rt: Runtime, agency_id: str, file: Path, out_dir: Path, as_json: bool) -> None:
    """Issue a whole cohort from CSV or .xlsx: all rows or none."""
    registry.get_agency(agency_id)  # an unknown agency is named before a large file is read
    check_out_dir(out_dir)
    cohort_file = read_cohort(read_input_file(file, MAX_FILE_BYTES), filename=file.name)
    issuing = IssuingService.from_settings(rt.settings)
    try:
        with _progress(len(cohort_file.rows)) as advance:
            prepared, urls = issue_to_folder(
                issuing,
                cohort_file,
                agency_id,
                out_dir,
                actor=audit.CLI_ACTOR,
                now=rt.now(),
                on_progress=advance,
            )
    except CohortRejected as rejected:
        report_problems(rejected.message, rejected.problems, as_json)
        raise click.exceptions.Exit(EXIT_REFUSED) from None
    if as_json:
        emit(True, prepared.summary(urls))
    else:
        click.echo(f"{prepared.issued} issued, {prepared.existing} existing; files in {out_dir}")


class _progress:
    """A bar with rate and ETA on a terminal; silent when stderr is not one (logs, CI, pipes)."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.bar: Any = None
        self.started = time.monotonic()

    def __enter__(self) -> Any:
        if not sys.stderr.isatty():
            return None
        self.bar = click.progressbar(
            length=self.total,
            label="Menerbitkan",
            file=sys.stderr,
            show_eta=True,
            show_pos=True,
            item_show_func=lambda _: self._rate(),
        )
        self.bar.__enter__()
        return self.bar.update

    def _rate(self) -> str:
        elapsed = max(time.monotonic() - self.started, 1e-6)
        return f"{(self.bar.pos if self.bar else 0) / elapsed:.0f}/s"

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.__exit__(*exc)

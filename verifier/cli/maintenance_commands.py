"""``skk prune``: delete what the privacy notice and the docs promise to keep only for a while."""

from __future__ import annotations

import click

from verifier.cli.base import Runtime, emit, json_option, pass_runtime, uses_database
from verifier.store import pruning


def register(main: click.Group) -> None:
    """Attach these commands to the top-level group."""
    main.add_command(prune)


@click.command()
@json_option
@pass_runtime
@uses_database
def prune(rt: Runtime, as_json: bool) -> None:
    """Delete rows past their retention: ended rate counters, day-old NIK misses, ended console
    sessions, unissued uploads, old webhook messages and projects (docs/operations.md §6).
    Safe to run at any time and on several hosts; docs/deploy.md §10 runs it from a timer."""
    deleted = pruning.prune(rt.now())
    emit(as_json, deleted, _describe)


def _describe(deleted: dict[str, int]) -> str:
    return "\n".join(f"{table}: {count} deleted" for table, count in deleted.items())

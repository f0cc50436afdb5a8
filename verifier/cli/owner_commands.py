"""`skk owner`: project owners, who watch their projects' crews with an API key."""

from __future__ import annotations

import click

from verifier.cli.base import Runtime, emit, json_option, pass_runtime, uses_database
from verifier.store import projects


def register(main: click.Group) -> None:
    """Attach the commands to the top-level group."""
    main.add_command(owner)


@click.group()
def owner() -> None:
    """Register and list project owners (then: skk apikey create --owner ID)."""


@owner.command("add")
@click.argument("owner_id", metavar="ID")
@click.option("--name", required=True, help="Full name: ministry, state company, consultant.")
@json_option
@pass_runtime
@uses_database
def owner_add(rt: Runtime, owner_id: str, name: str, as_json: bool) -> None:
    """Register a project owner."""
    emit(as_json, projects.add_owner(owner_id, name, rt.now()).to_dict())


@owner.command("list")
@json_option
@pass_runtime
@uses_database
def owner_list(rt: Runtime, as_json: bool) -> None:
    """List project owners."""
    emit(as_json, [info.to_dict() for info in projects.list_owners()])

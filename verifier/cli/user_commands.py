"""`skk user`: console accounts for agency staff (add, list, disable, reset)."""

from __future__ import annotations

import click

from verifier.cli.base import Runtime, emit, json_option, pass_runtime, uses_database
from verifier.staff import accounts
from verifier.store import audit, staff_accounts


def register(main: click.Group) -> None:
    """Attach the group to the top-level group."""
    main.add_command(user)


@click.group()
def user() -> None:
    """Console accounts: a one-time password is shown once; sign-in then sets a new one."""


@user.command("add")
@click.option("--agency", "agency_id", required=True)
@click.argument("username")
@click.option(
    "--role",
    type=click.Choice(staff_accounts.ROLES),
    required=True,
    help="viewer: read; operator: + issue, suspend, reinstate; admin: + revoke, keys, "
    "API keys, users.",
)
@json_option
@pass_runtime
@uses_database
def user_add(rt: Runtime, agency_id: str, username: str, role: str, as_json: bool) -> None:
    """New account; prints its one-time password."""
    account, password = accounts.add_user(
        agency_id, username, role, actor=audit.CLI_ACTOR, now=rt.now()
    )
    emit(as_json, {"username": account.username, "one_time_password": password})


@user.command("list")
@click.option("--agency", "agency_id")
@json_option
@pass_runtime
@uses_database
def user_list(rt: Runtime, agency_id: str | None, as_json: bool) -> None:
    """List accounts (never a password or secret)."""
    emit(as_json, [account.to_dict() for account in staff_accounts.list_accounts(agency_id)])


@user.command("disable")
@click.argument("username")
@json_option
@pass_runtime
@uses_database
def user_disable(rt: Runtime, username: str, as_json: bool) -> None:
    """Disable an account; its sessions end at once."""
    emit(as_json, accounts.disable(username, actor=audit.CLI_ACTOR, now=rt.now()).to_dict())


@user.command("reset")
@click.argument("username")
@json_option
@pass_runtime
@uses_database
def user_reset(rt: Runtime, username: str, as_json: bool) -> None:
    """New one-time password and a new second-factor enrolment; ends the sessions."""
    account, password = accounts.reset(username, actor=audit.CLI_ACTOR, now=rt.now())
    emit(as_json, {"username": account.username, "one_time_password": password})

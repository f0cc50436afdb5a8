"""The ``skk`` command line (SPEC §5): one click group, thin adapters over the core."""

from __future__ import annotations

import click

from verifier.cli import (
    batch_commands,
    bundle_commands,
    credential_commands,
    job_commands,
    maintenance_commands,
    notify_commands,
    owner_commands,
    registry_commands,
    user_commands,
)
from verifier.cli.base import SkkGroup


@click.group(cls=SkkGroup)
@click.version_option(package_name="skk-verifier")
def main() -> None:
    """SKK Verifier: issue and verify signed construction-worker competency certificates."""


registry_commands.register(main)
credential_commands.register(main)
batch_commands.register(main)
bundle_commands.register(main)
user_commands.register(main)
owner_commands.register(main)
job_commands.register(main)
notify_commands.register(main)
maintenance_commands.register(main)

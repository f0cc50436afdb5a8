"""`skk init`, `agency`, `keys` and `apikey`: the trust registry from the command line."""

from __future__ import annotations

from pathlib import Path

import click

from verifier import key_admin
from verifier.cli.base import (
    DashArgumentCommand,
    Runtime,
    emit,
    instant,
    json_option,
    one_of,
    pass_runtime,
    uses_database,
)
from verifier.core.errors import InvalidInput
from verifier.issuance import keyring
from verifier.issuance.keystore import PrivateKeyStore
from verifier.store import apikeys, audit, registry
from verifier.store.db import SchemaChange, upgrade_schema

MAX_KEY_FILE_BYTES = 64 * 1024


def register(main: click.Group) -> None:
    """Attach these commands to the top-level group."""
    main.add_command(init)
    main.add_command(agency)
    main.add_command(keys)
    main.add_command(apikey)


@click.command()
@json_option
@pass_runtime
def init(rt: Runtime, as_json: bool) -> None:
    """Create or upgrade the database schema (idempotent)."""
    change = upgrade_schema(rt.open_database(create=True))
    emit(as_json, {"schema_version": change.after}, lambda d: _describe_change(change))


def _describe_change(change: SchemaChange) -> str:
    if change.before is None:
        return f"created schema version {change.after}"
    if change.before == change.after:
        return f"schema version {change.after} is up to date; nothing to do"
    return f"upgraded schema from version {change.before} to {change.after}"


@click.group()
def agency() -> None:
    """Register and list agencies."""


@agency.command("add")
@click.argument("agency_id", metavar="ID")
@click.option("--name", required=True, help="Full name of the agency.")
@click.option("--levels", required=True, help="Authorised KKNI levels, MIN-MAX, e.g. 1-6.")
@click.option("--kind", type=click.Choice(registry.AGENCY_KINDS), default="lsp", show_default=True)
@json_option
@pass_runtime
@uses_database
def agency_add(
    rt: Runtime, agency_id: str, name: str, levels: str, kind: str, as_json: bool
) -> None:
    """Register an agency."""
    info = registry.add_agency(agency_id, name, registry.parse_levels(levels), kind, rt.now())
    emit(as_json, info.to_dict())


@agency.command("list")
@json_option
@pass_runtime
@uses_database
def agency_list(rt: Runtime, as_json: bool) -> None:
    """List agencies."""
    emit(as_json, [info.to_dict() for info in registry.list_agencies()])


@click.group()
def keys() -> None:
    """Signing keys: generate, import, retire, revoke, publish."""


@keys.command("generate")
@click.option("--agency", "agency_id", required=True)
@click.option("--alg", type=click.Choice(["EdDSA", "ES256"]), default="EdDSA", show_default=True)
@json_option
@pass_runtime
@uses_database
def keys_generate(rt: Runtime, agency_id: str, alg: str, as_json: bool) -> None:
    """New active signing key; the previous active key is retired."""
    store = _key_store(rt)
    key = key_admin.generate_key(store, agency_id, alg, actor=audit.CLI_ACTOR, now=rt.now())
    emit(as_json, keyring.describe(store, key))


@keys.command("list")
@click.option("--agency", "agency_id")
@json_option
@pass_runtime
@uses_database
def keys_list(rt: Runtime, agency_id: str | None, as_json: bool) -> None:
    """List keys; can_sign says whether this host signs with the key (its private file is here
    and opens with SKK_KEY_PASSPHRASE)."""
    store = _key_store(rt)
    emit(as_json, [keyring.describe(store, key) for key in registry.list_keys(agency_id)])


@keys.command("retire", cls=DashArgumentCommand)
@click.argument("kid")
@json_option
@pass_runtime
@uses_database
def keys_retire(rt: Runtime, kid: str, as_json: bool) -> None:
    """Stop signing with a key; what it signed stays valid."""
    key = key_admin.retire_key(kid, actor=audit.CLI_ACTOR, now=rt.now())
    emit(as_json, keyring.describe(_key_store(rt), key))


@keys.command("revoke", cls=DashArgumentCommand)
@click.argument("kid")
@json_option
@pass_runtime
@uses_database
def keys_revoke(rt: Runtime, kid: str, as_json: bool) -> None:
    """A compromised key: everything it signed fails verification."""
    key = key_admin.revoke_key(kid, actor=audit.CLI_ACTOR, now=rt.now())
    emit(as_json, keyring.describe(_key_store(rt), key))


@keys.command("import")
@click.option("--agency", "agency_id", required=True)
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--since", callback=instant, help="Start of the key's service (ISO-8601 date).")
@json_option
@pass_runtime
@uses_database
def keys_import(rt: Runtime, agency_id: str, file: Path, since: int | None, as_json: bool) -> None:
    """Trust an external public key (PEM or JWK); its own kid is ignored."""
    data = _read_key_file(file)
    key = keyring.import_public(agency_id, data, since, rt.now())
    emit(as_json, keyring.describe(_key_store(rt), key))


def _key_store(rt: Runtime) -> PrivateKeyStore:
    return PrivateKeyStore(rt.settings.keys_dir, rt.settings.key_passphrase)


def _read_key_file(file: Path) -> bytes:
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise click.FileError(str(file), hint=exc.strerror) from None
    if len(data) > MAX_KEY_FILE_BYTES:
        raise InvalidInput(f"{file} is too large to be a public key", field="file")
    return data


@keys.command("jwks")
@json_option
@pass_runtime
@uses_database
def keys_jwks(rt: Runtime, as_json: bool) -> None:
    """All keys that still verify, as a JWK Set."""
    emit(True, registry.jwks())


@click.group()
def apikey() -> None:
    """API keys of agencies and project owners (shown once; only a hash is stored)."""


@apikey.command("create")
@click.option(
    "--agency",
    "agency_id",
    callback=one_of("agency_id", "owner_id"),
    help="An agency's key (the agency API).",
)
@click.option(
    "--owner",
    "owner_id",
    callback=one_of("agency_id", "owner_id"),
    help="A project owner's key (crew checks, projects).",
)
@json_option
@pass_runtime
@uses_database
def apikey_create(rt: Runtime, agency_id: str | None, owner_id: str | None, as_json: bool) -> None:
    """New API key for an agency or a project owner; each can do nothing the other can."""
    if owner_id is not None:
        emit(as_json, apikeys.create_for_owner(owner_id, rt.now()))
    else:
        emit(as_json, key_admin.create_api_key(str(agency_id), actor=audit.CLI_ACTOR, now=rt.now()))


@apikey.command("list")
@click.option("--agency", "agency_id")
@click.option("--owner", "owner_id")
@json_option
@pass_runtime
@uses_database
def apikey_list(rt: Runtime, agency_id: str | None, owner_id: str | None, as_json: bool) -> None:
    """List API key ids (never secrets)."""
    emit(as_json, [info.to_dict() for info in apikeys.list_keys(agency_id, owner_id)])


@apikey.command("revoke")
@click.argument("key_id")
@json_option
@pass_runtime
@uses_database
def apikey_revoke(rt: Runtime, key_id: str, as_json: bool) -> None:
    """Revoke an API key."""
    emit(as_json, key_admin.revoke_api_key(key_id, actor=audit.CLI_ACTOR, now=rt.now()).to_dict())

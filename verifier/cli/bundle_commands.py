"""`skk bundle new-key|keys|export|reset`, and the offline side of `skk verify --bundle`."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import click

from verifier.cli.base import Runtime, emit, json_option, pass_runtime, uses_database
from verifier.core import bundle, jws, offline
from verifier.core.credential import to_iso
from verifier.core.errors import ConfigurationError, UnreadableInput
from verifier.core.verify import VerificationResult
from verifier.issuance import bundles
from verifier.issuance.keystore import PrivateKeyStore
from verifier.store import bundle_keys, bundle_source

#: The pinned key set `skk verify --bundle` reads when --bundle-keys is not given.
PINNED_KEYS_FILE = "bundle-keys.json"
#: Largest key set file read (a few keys take a few hundred bytes).
MAX_KEY_SET_BYTES = 64 * 1024


def register(main: click.Group) -> None:
    """Attach the `bundle` group to the top-level group."""
    main.add_command(bundle_group)


@click.group("bundle")
def bundle_group() -> None:
    """Signed trust bundles for offline checks (docs/offline.md)."""


@bundle_group.command("new-key")
@json_option
@pass_runtime
@uses_database
def new_key(rt: Runtime, as_json: bool) -> None:
    """Create the first or the next bundle key; the previous one stays published a max age."""
    store = PrivateKeyStore(rt.settings.keys_dir, rt.settings.key_passphrase)
    key = bundles.new_key(store, rt.now())
    pinned = write_pinned_keys(rt)
    emit(
        as_json,
        {
            "kid": key.kid,
            "alg": bundle.BUNDLE_ALG,
            "created": to_iso(key.created),
            "published": [entry["kid"] for entry in pinned["keys"]],
        },
    )


def write_pinned_keys(rt: Runtime) -> dict[str, Any]:
    """Write the published key set to SKK_KEYS_DIR/bundle-keys.json (public, mode 0644)."""
    document = bundle_keys.key_set(rt.now(), rt.settings.offline_max_age)
    _write_atomically(
        rt.settings.keys_dir / PINNED_KEYS_FILE,
        (json.dumps(document, indent=2) + "\n").encode(),
        mode=0o644,
    )
    return document


@bundle_group.command("keys")
@json_option
@pass_runtime
@uses_database
def published_keys(rt: Runtime, as_json: bool) -> None:
    """The bundle keys verifiers pin, as /.well-known/skk-bundle-keys.json serves them."""
    emit(True, bundle_keys.key_set(rt.now(), rt.settings.offline_max_age))


@bundle_group.command("export")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@json_option
@pass_runtime
@uses_database
def export(rt: Runtime, file: Path, as_json: bool) -> None:
    """Write a signed full bundle to FILE, for `skk verify --bundle` on a laptop."""
    store = PrivateKeyStore(rt.settings.keys_dir, rt.settings.key_passphrase)
    body = bundle_source.full_payload(bundles.bundle_settings(rt.settings), rt.now())
    made = bundles.signed(body, store)
    _write_atomically(file, made.text + b"\n", mode=0o644)
    count = sum(len(group["states"]) for group in body["revocations"])
    emit(
        as_json,
        {
            "file": str(file),
            "seq": made.seq,
            "data_as_of": to_iso(body["iat"]),
            "expires_at": to_iso(body["exp"]),
            "revocations": count,
            "bytes": len(made.text),
        },
    )


@bundle_group.command("reset")
@json_option
@pass_runtime
@uses_database
def reset(rt: Runtime, as_json: bool) -> None:
    """After restoring a backup: make every phone fetch a full bundle (docs/operations.md)."""
    emit(as_json, {"floor": bundle_source.restart_deltas()})


def _write_atomically(path: Path, data: bytes, *, mode: int) -> None:
    """Write ``data`` to a temporary file beside ``path``, then rename it into place."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            Path(name).chmod(mode)
            Path(name).replace(path)
        finally:
            Path(name).unlink(missing_ok=True)
    except OSError as exc:
        raise UnreadableInput(f"cannot write {path}: {exc.strerror or exc}") from None


# --- skk verify --bundle -----------------------------------------------------------------------


def load_bundle(bundle_file: Path, keys_file: Path | None, keys_dir: Path) -> bundle.Bundle:
    """Read and verify a bundle file against the pinned keys; exit-2 errors when it cannot be."""
    keys_path = keys_file if keys_file is not None else keys_dir / PINNED_KEYS_FILE
    if keys_file is None and not keys_path.is_file():
        raise ConfigurationError(
            f"no pinned bundle keys: pass --bundle-keys FILE (the service's "
            f"/.well-known/skk-bundle-keys.json or `skk bundle keys`), or put it at {keys_path}"
        )
    key_text = _read(keys_path, MAX_KEY_SET_BYTES)
    try:
        pinned = bundle.read_key_set(jws.parse_json_object(key_text, "bundle key set"))
        verified = bundle.read(_read(bundle_file, bundle.MAX_BUNDLE_CHARS).decode("ascii"), pinned)
    except (jws.MalformedToken, UnicodeDecodeError) as exc:
        raise UnreadableInput(
            f"{keys_path if isinstance(exc, jws.MalformedToken) else bundle_file}"
            f" is not readable: {exc}"
        ) from None
    except bundle.BundleError as exc:
        raise ConfigurationError(f"{bundle_file}: {exc}") from None
    if verified.kind != "full":
        raise ConfigurationError(f"{bundle_file} is a delta; export a full bundle")
    return verified


def _read(path: Path, limit: int) -> bytes:
    try:
        with path.open("rb") as handle:
            data = handle.read(limit + 1)
    except OSError as exc:
        raise UnreadableInput(f"cannot read {path}: {exc.strerror or exc}") from None
    if len(data) > limit:
        raise UnreadableInput(f"{path} is too large")
    return data


def verify_offline(
    text: str, verified: bundle.Bundle, at: int | None, now: int
) -> tuple[VerificationResult, dict[str, Any]]:
    """The result against the bundle, and what to say about the data's age."""
    result = offline.OfflineVerifier(verified).verify(text, at=now if at is None else at, now=now)
    return result, offline.data_age(verified, now)


def describe_data(age: dict[str, Any]) -> str:
    """The human line about the bundle: as of when, how old, stale or not."""
    line = (
        f"offline data as of {age['data_as_of']} ({offline.describe_age(age['age_seconds'])} old)"
    )
    if age["stale"]:
        return f"{line}; PAST ITS EXPIRY {age['expires_at']}: refresh the bundle"
    return f"{line}, fresh until {age['expires_at']}"

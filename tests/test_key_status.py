"""Truthful key status (issue 14, item 4): `can_sign` is true only when this host holds the
key's private file and the configured passphrase opens it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from verifier.cli import main
from verifier.core import keys


@pytest.fixture
def skk(env: dict[str, str]):
    """`skk ARGS... --json` with the test settings (``extra`` overrides variables)."""
    runner = CliRunner()

    def run(*args: str, **extra: str) -> Result:
        return runner.invoke(main, [*args, "--json"], env={**env, **extra}, catch_exceptions=False)

    return run


def _can_sign(skk, kid: str, **extra: str) -> bool:
    result = skk("keys", "list", "--agency", "lsp-contoh", **extra)
    assert result.exit_code == 0, result.output
    (key,) = [key for key in json.loads(result.stdout) if key["kid"] == kid]
    assert set(key) == {"kid", "agency", "alg", "state", "can_sign"}  # SPEC §5's key object
    return key["can_sign"]


@pytest.fixture
def active(skk) -> str:
    """lsp-contoh with one generated key, its private file in SKK_KEYS_DIR; the kid."""
    assert skk("init").exit_code == 0
    assert (
        skk("agency", "add", "lsp-contoh", "--name", "LSP Contoh", "--levels", "1-6").exit_code == 0
    )
    generated = json.loads(skk("keys", "generate", "--agency", "lsp-contoh").stdout)
    assert generated["can_sign"] is True
    return generated["kid"]


def test_a_key_without_its_private_file_cannot_sign(skk, active: str, settings, tmp_path: Path):
    assert _can_sign(skk, active) is True
    key_file = settings.keys_dir / f"{active}.pem"
    moved = tmp_path / "elsewhere.pem"
    shutil.move(key_file, moved)
    assert _can_sign(skk, active) is False  # an empty keys folder
    # ... and issuing here indeed fails, as the status said.
    refused = skk(
        "issue",
        "--agency",
        "lsp-contoh",
        "--name",
        "Rina Marlina",
        "--job-code",
        "ME063100",
        "--level",
        "3",
    )
    assert refused.exit_code == 2 and "no private key" in refused.stderr
    shutil.move(moved, key_file)
    assert _can_sign(skk, active) is True


def test_a_key_the_passphrase_does_not_open_cannot_sign(skk, active: str):
    assert _can_sign(skk, active, SKK_KEY_PASSPHRASE="not the passphrase") is False
    assert _can_sign(skk, active, SKK_KEY_PASSPHRASE="") is False  # a verify-only host
    assert _can_sign(skk, active) is True


def test_a_key_file_others_can_read_or_another_key_cannot_sign(skk, active: str, settings):
    key_file = settings.keys_dir / f"{active}.pem"
    key_file.chmod(0o644)
    assert _can_sign(skk, active) is False  # refused when used, so not "can sign" either
    key_file.chmod(0o600)
    other = keys.generate_signing_key("EdDSA").to_encrypted_pem(settings.key_passphrase)
    key_file.write_bytes(other)  # some other key saved under this kid's name
    assert _can_sign(skk, active) is False


def test_retired_and_imported_keys_never_sign(skk, active: str, tmp_path: Path):
    retired = json.loads(skk("keys", "retire", active).stdout)
    assert retired["state"] == "retired" and retired["can_sign"] is False
    public = tmp_path / "public.jwk"
    public.write_text(json.dumps(keys.generate_signing_key("EdDSA").verifying_key().public_jwk()))
    imported = json.loads(skk("keys", "import", "--agency", "lsp-contoh", str(public)).stdout)
    assert imported["state"] == "active" and imported["can_sign"] is False

"""`skk bundle ...` and `skk verify --bundle`: a laptop at a site verifies with a bundle file,
no database and no network, with SPEC §5's exit statuses and the bundle's age in its answer."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from tests.test_cli import as_json, issue_reference
from verifier.cli import main
from verifier.core import bundle

ISO_Z = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z"


@pytest.fixture
def skk(env: dict[str, str]):
    """Run `skk ARGS...` with the test settings (extra variables may be passed)."""
    runner = CliRunner()

    def run(*args: str, **extra: str) -> Result:
        return runner.invoke(main, list(args), env={**env, **extra}, catch_exceptions=False)

    return run


@pytest.fixture
def exported(skk, tmp_path: Path) -> dict[str, object]:
    """lsp-contoh with one valid and one revoked credential, a bundle key, an exported bundle."""
    assert skk("init").exit_code == 0
    assert (
        skk(
            "agency",
            "add",
            "lsp-contoh",
            "--name",
            "LSP Konstruksi Contoh Nusantara",
            "--levels",
            "1-6",
        ).exit_code
        == 0
    )
    assert skk("keys", "generate", "--agency", "lsp-contoh").exit_code == 0
    valid = issue_reference(skk)
    revoked = as_json(
        skk(
            "issue",
            "--agency",
            "lsp-contoh",
            "--name",
            "Budi Santoso",
            "--job-code",
            "ME063100",
            "--level",
            "3",
            "--json",
        )
    )
    assert (
        skk("revoke", "--agency", "lsp-contoh", revoked["number"], "--reason", "fraud").exit_code
        == 0
    )
    key = as_json(skk("bundle", "new-key", "--json"))
    path = tmp_path / "site" / "bundle.jws"
    made = as_json(skk("bundle", "export", str(path), "--json"))
    return {"valid": valid, "revoked": revoked, "key": key, "path": path, "made": made}


def test_new_key_publishes_and_pins_it(exported, skk, env) -> None:
    key = exported["key"]
    assert key["alg"] == "EdDSA" and key["published"] == [key["kid"]]
    pinned_file = Path(env["SKK_KEYS_DIR"]) / "bundle-keys.json"
    assert pinned_file.stat().st_mode & 0o777 == 0o644  # public: anyone may read it
    assert set(bundle.read_key_set(json.loads(pinned_file.read_text()))) == {key["kid"]}
    listed = as_json(skk("bundle", "keys"))
    assert [entry["kid"] for entry in listed["keys"]] == [key["kid"]]
    second = as_json(skk("bundle", "new-key", "--json"))
    assert second["published"] == [key["kid"], second["kid"]]  # the old one: one max age more


def test_export_writes_a_signed_bundle(exported) -> None:
    made, path = exported["made"], exported["path"]
    assert made["revocations"] == 1 and made["file"] == str(path)
    assert path.read_text().count(".") == 2 and path.stat().st_size == made["bytes"] + 1


def test_verify_with_a_bundle_needs_no_database(exported, skk, tmp_path: Path) -> None:
    nowhere = {"SKK_DATABASE_URL": f"sqlite:///{tmp_path / 'absent' / 'none.sqlite3'}"}
    path = str(exported["path"])
    valid = skk("verify", "--bundle", path, exported["valid"]["url"], "--json", **nowhere)
    assert valid.exit_code == 0, valid.output
    body = json.loads(valid.stdout)
    assert body["status"] == "valid" and body["credential"]["number"] == exported["valid"]["number"]
    assert body["offline"]["stale"] is False and body["offline"]["age_seconds"] >= 0
    revoked = skk("verify", "--bundle", path, exported["revoked"]["token"], **nowhere)
    assert revoked.exit_code == 1
    assert revoked.stdout.startswith("REVOKED: ")
    assert "offline data as of" in revoked.stdout and "fresh until" in revoked.stdout
    forged = exported["valid"]["token"][:-4] + "AAAA"
    assert skk("verify", "--bundle", path, forged, **nowhere).exit_code == 1
    assert not (tmp_path / "absent").exists()


def test_verify_with_a_bundle_past_its_expiry_never_says_valid(exported, skk) -> None:
    path = str(exported["path"])
    later = skk(
        "verify", "--bundle", path, exported["valid"]["token"], "--json", "--at", "2099-01-01"
    )
    assert json.loads(later.stdout)["status"] == "expired"  # --at moves rule 9 only
    today = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=2)
    with pytest.MonkeyPatch.context() as patch:  # eight days on: the 7-day bundle has expired
        patch.setattr(
            "verifier.cli.base.Runtime.now",
            staticmethod(lambda: int(today.timestamp()) + 8 * 86_400),
        )
        stale = skk(
            "verify",
            "--bundle",
            path,
            exported["valid"]["token"],
            "--json",
            "--at",
            today.isoformat(),
        )
    body = json.loads(stale.stdout)
    assert stale.exit_code == 1 and body["status"] == "stale_data" and body["valid"] is False
    assert body["offline"]["stale"] is True and body["credential"] is not None


def test_unusable_bundles_and_keys_exit_2_with_one_line(exported, skk, tmp_path: Path) -> None:
    token = exported["valid"]["token"]
    path = exported["path"]
    tampered = tmp_path / "tampered.jws"
    head, body, signature = path.read_text().strip().split(".")
    tampered.write_text(f"{head}.{body[:-2]}AA.{signature}")
    other_keys = tmp_path / "other.json"
    other_keys.write_text(json.dumps({"keys": []}))
    cases = [
        (("--bundle", str(tampered)), "signature does not verify"),
        (("--bundle", str(tmp_path / "missing.jws")), "cannot read"),
        (("--bundle", str(path), "--bundle-keys", str(other_keys)), "no keys"),
        (("--bundle", str(path), "--bundle-keys", str(tmp_path / "nope.json")), "cannot read"),
    ]
    for options, message in cases:
        result = skk("verify", *options, token)
        assert result.exit_code == 2 and result.stdout == "", options
        assert len(result.stderr.strip().splitlines()) == 1 and message in result.stderr
    (Path(exported["path"]).parent / "keys").mkdir()
    unpinned = skk(
        "verify",
        "--bundle",
        str(path),
        token,
        SKK_KEYS_DIR=str(Path(exported["path"]).parent / "keys"),
    )
    assert unpinned.exit_code == 2 and "--bundle-keys" in unpinned.stderr


def test_demo_sets_up_a_bundle_key(skk, env) -> None:
    assert skk("init").exit_code == 0
    listing = as_json(skk("demo", "--json"))
    assert {item["status"] for item in listing} == {"valid", "revoked", "suspended", "expired"}
    keys_listed = as_json(skk("bundle", "keys"))["keys"]
    assert len(keys_listed) == 1
    as_json(skk("demo", "--json"))  # idempotent: no second key
    assert as_json(skk("bundle", "keys"))["keys"] == keys_listed
    assert (Path(env["SKK_KEYS_DIR"]) / "bundle-keys.json").is_file()


def test_reset_makes_every_old_sequence_need_a_full_bundle(exported, skk) -> None:
    floor = as_json(skk("bundle", "reset", "--json"))["floor"]
    assert floor > 2**32

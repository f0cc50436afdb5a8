"""The `skk` command line through click's runner: exit statuses, JSON shapes, SPEC §5 flows."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from verifier.cli import main
from verifier.cli.base import DashArgumentCommand
from verifier.core.keys import import_public_key
from verifier.qr.scan import read_qr_image
from verifier.store.migrations import SCHEMA_VERSION

REFERENCE = {
    "number": "41011 7112 3 00001234 2025",
    "name": "Muhammad Rizky Pratama Saputra",
}
NIK = "3575040003930001"


@pytest.fixture
def skk(env: dict[str, str]):
    """Run `skk ARGS...` with the test settings; returns the click Result."""
    runner = CliRunner()

    def run(*args: str) -> Result:
        return runner.invoke(main, list(args), env=env, catch_exceptions=False)

    return run


@pytest.fixture
def ready(skk) -> None:
    """Schema, agency lsp-contoh (1-6) and a signing key."""
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


def as_json(result: Result):
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def issue_reference(skk, *extra: str) -> dict:
    return as_json(
        skk(
            "issue",
            "--agency",
            "lsp-contoh",
            "--name",
            REFERENCE["name"],
            "--job-code",
            "ME063100",
            "--level",
            "3",
            "--number",
            REFERENCE["number"],
            "--json",
            *extra,
        )
    )


def test_init_is_idempotent(skk) -> None:
    assert as_json(skk("init", "--json")) == {"schema_version": SCHEMA_VERSION}
    assert as_json(skk("init", "--json")) == {"schema_version": SCHEMA_VERSION}


def test_command_without_database_exits_2_with_one_line(skk) -> None:
    result = skk("agency", "list", "--json")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1
    assert "skk init" in result.stderr


def test_agency_add_and_list_json_shape(skk, ready) -> None:
    agencies = as_json(skk("agency", "list", "--json"))
    assert agencies == [
        {
            "id": "lsp-contoh",
            "name": "LSP Konstruksi Contoh Nusantara",
            "kind": "lsp",
            "levels": {"min": 1, "max": 6},
        }
    ]


@pytest.mark.parametrize(
    "args, field",
    [
        (["Bad_Id", "--name", "X", "--levels", "1-6"], "agency id"),
        (["lsp-x", "--name", "X", "--levels", "7-3"], "levels"),
        (["lsp-x", "--name", "X", "--levels", "one"], "levels"),
        (["lsp-x", "--name", "  ", "--levels", "1-6"], "agency name"),
    ],
)
def test_agency_add_refuses_bad_input_with_exit_1(skk, ready, args, field) -> None:
    result = skk("agency", "add", *args)
    assert result.exit_code == 1
    assert field in result.stderr and result.stdout == ""


def test_duplicate_agency_refused(skk, ready) -> None:
    result = skk("agency", "add", "lsp-contoh", "--name", "Again", "--levels", "1-3")
    assert result.exit_code == 1 and "already exists" in result.stderr


def test_keys_generate_retires_previous(skk, ready) -> None:
    new = as_json(skk("keys", "generate", "--agency", "lsp-contoh", "--alg", "ES256", "--json"))
    assert new["alg"] == "ES256" and new["state"] == "active" and new["can_sign"] is True
    assert set(new) == {"kid", "agency", "alg", "state", "can_sign"}
    listed = as_json(skk("keys", "list", "--agency", "lsp-contoh", "--json"))
    states = {k["kid"]: k["state"] for k in listed}
    assert states.pop(new["kid"]) == "active" and list(states.values()) == ["retired"]
    jwks = as_json(skk("keys", "jwks", "--json"))
    assert {k["kid"] for k in jwks["keys"]} == {k["kid"] for k in listed}


@pytest.mark.parametrize("target", ["qr.txt", "no-such-folder/qr.png", ".", "/proc/qr.png"])
def test_an_unwritable_qr_file_is_refused_before_anything_is_issued(
    skk, ready, tmp_path: Path, target: str
) -> None:
    result = skk(
        "issue",
        "--agency",
        "lsp-contoh",
        "--name",
        REFERENCE["name"],
        "--job-code",
        "ME063100",
        "--level",
        "3",
        "--number",
        REFERENCE["number"],
        "--qr",
        str(tmp_path / target),
    )
    assert result.exit_code == 2 and result.stdout == "" and "--qr" in result.stderr
    assert list(tmp_path.glob(".*")) == []  # no temporary file left behind
    # Nothing was stored: the same number can still be issued (it would be a 409 otherwise).
    assert (
        skk(
            "issue",
            "--agency",
            "lsp-contoh",
            "--name",
            REFERENCE["name"],
            "--job-code",
            "ME063100",
            "--level",
            "3",
            "--number",
            REFERENCE["number"],
        ).exit_code
        == 0
    )


def test_issue_verify_revoke_flow(skk, ready, tmp_path: Path) -> None:
    issued = issue_reference(skk, "--nik", NIK, "--qr", str(tmp_path / "qr.png"))
    assert set(issued) == {"number", "token", "url"}
    assert issued["url"].startswith("HTTPS://SERTIFIKAT.EXAMPLE.ID/V/")
    assert NIK not in json.dumps(issued)
    for given in (issued["token"], issued["url"], str(tmp_path / "qr.png")):
        verdict = as_json(skk("verify", given, "--json"))
        assert verdict["status"] == "valid"
        assert verdict["credential"]["holder_name"] == REFERENCE["name"]
    change = as_json(
        skk(
            "revoke",
            "--agency",
            "lsp-contoh",
            issued["number"],
            "--reason",
            "fraud",
            "--note",
            "reported by site",
            "--json",
        )
    )
    assert change == {
        "agency": "lsp-contoh",
        "number": REFERENCE["number"],
        "status": "revoked",
        "at": change["at"],
        "reason": "fraud",
        "changed": True,
    }
    result = skk("verify", issued["url"], "--json")
    assert result.exit_code == 1
    verdict = json.loads(result.stdout)
    assert verdict["status"] == "revoked" and verdict["revocation"]["reason"] == "fraud"
    assert "reported by site" not in result.stdout


def test_verify_at_moves_only_the_time_window(skk, ready) -> None:
    issued = issue_reference(skk, "--valid-from", "2025-05-15")
    later = skk("verify", issued["token"], "--at", "2031-01-01T00:00:00Z", "--json")
    assert later.exit_code == 1 and json.loads(later.stdout)["status"] == "expired"
    assert json.loads(later.stdout)["checked_at"] == "2031-01-01T00:00:00Z"
    early = skk("verify", issued["token"], "--at", "2025-01-01", "--json")
    assert json.loads(early.stdout)["status"] == "not_yet_valid"


def test_verify_human_output_and_exit_statuses(skk, ready) -> None:
    issued = issue_reference(skk)
    assert skk("verify", issued["token"]).stdout.startswith("VALID")
    garbage = skk("verify", "not-a-token")
    assert garbage.exit_code == 1 and garbage.stdout.startswith("MALFORMED")


def test_verify_missing_png_and_png_without_qr_exit_2(skk, ready, tmp_path: Path) -> None:
    assert skk("verify", str(tmp_path / "missing.png")).exit_code == 2
    from PIL import Image

    blank = tmp_path / "blank.png"
    Image.new("RGB", (200, 200), "white").save(blank)
    result = skk("verify", str(blank), "--json")
    assert result.exit_code == 2 and result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1


def test_verify_bad_at_is_usage_error(skk, ready) -> None:
    assert skk("verify", "x", "--at", "yesterday").exit_code == 2


@pytest.mark.parametrize(
    "args, message",
    [
        (["--job-code", "ME063100", "--level", "2"], "contradicts"),
        (["--job-code", "ZZ000000", "--level", "3"], "unknown job code"),
        (["--job", "Tukang Sulap", "--level", "3"], "unknown job title"),
        (["--job", "Operator Wheel Excavator", "--level", "1"], "exists at level"),
        (["--job-code", "SI022027", "--level", "7"], "outside agency"),
        (["--job-code", "ME063100", "--level", "3", "--nik", "1234"], "NIK"),
        (["--job-code", "ME063100", "--level", "3", "--nik", "0175040003930001"], "province"),
        (["--job-code", "ME063100", "--level", "3", "--number", "#12/34"], "number"),
    ],
)
def test_issue_refusals_name_the_field(skk, ready, args, message) -> None:
    result = skk("issue", "--agency", "lsp-contoh", "--name", "Rina", *args, "--json")
    assert result.exit_code == 1
    assert message in result.stderr and result.stdout == ""


def test_invalid_nik_is_never_echoed(skk, ready) -> None:
    bad_nik = "9975040003930001"
    result = skk(
        "issue",
        "--agency",
        "lsp-contoh",
        "--name",
        "Rina",
        "--job-code",
        "ME063100",
        "--level",
        "3",
        "--nik",
        bad_nik,
    )
    assert result.exit_code == 1 and bad_nik not in result.output


def test_duplicate_number_refused(skk, ready) -> None:
    issue_reference(skk)
    again = skk(
        "issue",
        "--agency",
        "lsp-contoh",
        "--name",
        "Other",
        "--job-code",
        "ME063100",
        "--level",
        "3",
        "--number",
        "  41011  7112 3 00001234 2025 ",
    )
    assert again.exit_code == 1 and "already exists" in again.stderr


def test_assigned_number_format(skk, ready) -> None:
    issued = as_json(
        skk(
            "issue",
            "--agency",
            "lsp-contoh",
            "--name",
            "Rina Marlina",
            "--job",
            "operator WHEEL excavator",
            "--level",
            "3",
            "--json",
        )
    )
    code, level, serial, year = issued["number"].split(" ")
    assert (code, level) == ("ME063100", "3") and len(serial) == 8 and len(year) == 4


def test_find_by_nik_returns_own_records_only(skk, ready) -> None:
    issue_reference(skk, "--nik", NIK)
    found = as_json(skk("find", "--agency", "lsp-contoh", "--nik", NIK, "--json"))
    assert [r["number"] for r in found] == [REFERENCE["number"]]
    assert NIK not in json.dumps(found)
    skk("agency", "add", "lsp-lain", "--name", "LSP Lain", "--levels", "1-6")
    assert as_json(skk("find", "--agency", "lsp-lain", "--nik", NIK, "--json")) == []


def test_suspend_reinstate_revoke_rules(skk, ready) -> None:
    number = issue_reference(skk)["number"]
    base = ["--agency", "lsp-contoh", number]
    first = as_json(skk("suspend", *base, "--reason", "investigation", "--json"))
    again = as_json(skk("suspend", *base, "--reason", "other", "--json"))
    assert again["changed"] is False
    assert (again["at"], again["reason"]) == (first["at"], "investigation")
    back = as_json(skk("reinstate", *base, "--json"))
    assert back["status"] == "active" and back["changed"] is True
    assert as_json(skk("revoke", *base, "--reason", "fraud", "--json"))["status"] == "revoked"
    assert skk("suspend", *base, "--reason", "other").exit_code == 1
    assert skk("reinstate", *base).exit_code == 1
    assert skk("revoke", *base, "--reason", "bogus").exit_code == 1


def test_revoke_unknown_number_refused_unless_agency_signs_elsewhere(skk, ready, tmp_path) -> None:
    assert skk("revoke", "--agency", "lsp-contoh", "NEVER 1", "--reason", "fraud").exit_code == 1
    skk(
        "agency",
        "add",
        "dinas-luar",
        "--name",
        "Dinas PUPR Luar",
        "--levels",
        "1-6",
        "--kind",
        "dinas",
    )
    pem = tmp_path / "external.pem"
    pem.write_bytes(
        ed25519.Ed25519PrivateKey.generate()
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    imported = as_json(
        skk("keys", "import", "--agency", "dinas-luar", str(pem), "--since", "2025-01-01", "--json")
    )
    assert imported["can_sign"] is False
    change = as_json(
        skk("revoke", "--agency", "dinas-luar", "EXT 77", "--reason", "misuse", "--json")
    )
    assert change["changed"] is True


def test_keys_import_refuses_private_key_and_missing_file(skk, ready, tmp_path) -> None:
    pem = tmp_path / "private.pem"
    pem.write_bytes(
        ed25519.Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    result = skk("keys", "import", "--agency", "lsp-contoh", str(pem))
    assert result.exit_code == 1 and "private" in result.stderr.lower()
    assert skk("keys", "import", "--agency", "lsp-contoh", str(tmp_path / "no.pem")).exit_code == 2


def test_key_revoke_fails_its_credentials(skk, ready) -> None:
    issued = issue_reference(skk)
    kid = as_json(skk("keys", "list", "--json"))[0]["kid"]
    assert as_json(skk("keys", "revoke", kid, "--json"))["state"] == "revoked"
    result = skk("verify", issued["token"], "--json")
    assert json.loads(result.stdout)["status"] == "key_revoked"
    assert skk("keys", "retire", kid).exit_code == 1
    assert kid not in skk("keys", "jwks").stdout


def _public_pem_whose_kid_starts_with_dash() -> bytes:
    """An Ed25519 public key whose kid begins with '-' (one key in 64 has one)."""
    while True:
        key = ed25519.Ed25519PrivateKey.generate().public_key()
        if import_public_key(_pem(key)).kid.startswith("-"):
            return _pem(key)


def _pem(key: ed25519.Ed25519PublicKey) -> bytes:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def test_a_kid_starting_with_a_dash_is_an_argument_not_an_option(skk, ready, tmp_path) -> None:
    pem = tmp_path / "dash.pem"
    pem.write_bytes(_public_pem_whose_kid_starts_with_dash())
    kid = as_json(skk("keys", "import", "--agency", "lsp-contoh", str(pem), "--json"))["kid"]
    assert kid.startswith("-")
    assert as_json(skk("keys", "retire", "--json", kid))["state"] == "retired"
    assert as_json(skk("keys", "revoke", kid, "--json"))["state"] == "revoked"
    assert as_json(skk("keys", "revoke", "--json", "--", kid))["kid"] == kid
    unknown = skk("keys", "revoke", "-AAAAAAAAAAAAAAA")
    assert unknown.exit_code == 1 and "no such option" not in unknown.stderr.lower()


def test_retired_key_keeps_old_credentials_valid_but_cannot_sign(skk, ready) -> None:
    issued = issue_reference(skk)
    kid = as_json(skk("keys", "list", "--json"))[0]["kid"]
    retired = as_json(skk("keys", "retire", kid, "--json"))
    assert retired["state"] == "retired" and retired["can_sign"] is False
    assert as_json(skk("verify", issued["token"], "--json"))["status"] == "valid"
    result = skk(
        "issue", "--agency", "lsp-contoh", "--name", "X", "--job-code", "ME063100", "--level", "3"
    )
    assert result.exit_code == 1 and "no active signing key" in result.stderr


def test_apikey_secret_shown_once_and_never_listed(skk, ready) -> None:
    created = as_json(skk("apikey", "create", "--agency", "lsp-contoh", "--json"))
    assert created["api_key"].startswith(f"skk_{created['key_id']}_")
    secret = created["api_key"].removeprefix(f"skk_{created['key_id']}_")  # may contain "_"
    assert len(secret) == 43
    listing = skk("apikey", "list", "--json")
    assert created["key_id"] in listing.stdout and secret not in listing.stdout
    revoked = as_json(skk("apikey", "revoke", created["key_id"], "--json"))
    assert revoked["revoked"] is True
    assert skk("apikey", "revoke", "000000000000").exit_code == 1


def test_demo_is_idempotent_and_covers_four_states(skk) -> None:
    skk("init")
    first = as_json(skk("demo", "--json"))
    second = as_json(skk("demo", "--json"))
    assert first == second
    assert [item["status"] for item in first] == ["valid", "revoked", "suspended", "expired"]
    for item in first:
        verdict = skk("verify", item["url"], "--json")
        assert json.loads(verdict.stdout)["status"] == item["status"]


def test_demo_with_a_wrong_passphrase_stops_and_keeps_the_key(skk, env) -> None:
    skk("init")
    skk("agency", "add", "lsp-demo", "--name", "LSP Demo Konstruksi Nusantara", "--levels", "1-6")
    kid = as_json(skk("keys", "generate", "--agency", "lsp-demo", "--json"))["kid"]
    wrong = CliRunner().invoke(main, ["demo"], env={**env, "SKK_KEY_PASSPHRASE": "not-it"})
    assert wrong.exit_code == 2 and wrong.stdout == ""
    assert kid in wrong.stderr and "wrong SKK_KEY_PASSPHRASE" in wrong.stderr, wrong.stderr
    keys = as_json(skk("keys", "list", "--agency", "lsp-demo", "--json"))
    assert [(key["kid"], key["state"], key["can_sign"]) for key in keys] == [(kid, "active", True)]
    assert [item["status"] for item in as_json(skk("demo", "--json"))] == [
        "valid",
        "revoked",
        "suspended",
        "expired",
    ]  # the right passphrase: the same key signs
    assert {
        json.loads(skk("verify", "--json", item["url"]).stdout)["credential"]["number"]
        for item in as_json(skk("demo", "--json"))
    } == {"DEMO 0001 2026", "DEMO 0002 2026", "DEMO 0003 2026", "DEMO 0004 2020"}
    assert len(as_json(skk("keys", "list", "--agency", "lsp-demo", "--json"))) == 1


def test_missing_passphrase_is_configuration_error(skk, ready, env) -> None:
    runner = CliRunner()
    result = runner.invoke(
        main, ["keys", "generate", "--agency", "lsp-contoh"], env={**env, "SKK_KEY_PASSPHRASE": ""}
    )
    assert result.exit_code == 2 and "SKK_KEY_PASSPHRASE" in result.stderr


def test_bad_configuration_exits_2(skk, env) -> None:
    runner = CliRunner()
    result = runner.invoke(main, ["agency", "list"], env={**env, "SKK_LEEWAY_SECONDS": "600"})
    assert result.exit_code == 2 and "SKK_LEEWAY_SECONDS" in result.stderr
    result = runner.invoke(
        main, ["agency", "list"], env={**env, "SKK_BASE_URL": "http://sertifikat.example.id"}
    )
    assert result.exit_code == 2 and "https" in result.stderr


@pytest.mark.parametrize(
    ("args", "names"),
    [
        (["verify"], "TOKEN"),
        (["issue", "--agency", "lsp-contoh"], "--name"),
        (["verify", "--at", "yesterday", "x"], "--at"),
        (["no-such-command"], "no-such-command"),
        (
            [
                "issue",
                "--agency",
                "lsp-contoh",
                "--name",
                "A",
                "--job-code",
                "ME063100",
                "--level",
                "three",
            ],
            "--level",
        ),
        (["issue", "--agency", "lsp-contoh", "--name", "A", "--level", "3"], "--job"),
        (
            [
                "issue",
                "--agency",
                "lsp-contoh",
                "--name",
                "A",
                "--job-code",
                "ME063100",
                "--job",
                "Operator Wheel Excavator",
                "--level",
                "3",
            ],
            "--job-code",
        ),
        (["agency"], "agency --help"),  # click's whole help text otherwise
    ],
)
def test_usage_errors_are_one_line_naming_what_is_wrong(skk, args, names) -> None:
    result = skk(*args)
    assert result.exit_code == 2 and result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("skk: ") and names in lines[0]


@pytest.mark.parametrize(
    "args",
    [
        ["verify", "--at", "3575040003930001", "x"],
        [
            "issue",
            "--agency",
            "lsp-contoh",
            "--name",
            "A",
            "--job-code",
            "ME063100",
            "--level",
            "3",
            "--valid-from",
            "3575040003930001",
        ],
        [
            "issue",
            "--agency",
            "lsp-contoh",
            "--name",
            "A",
            "--job-code",
            "ME063100",
            "--level",
            "x3575040003930001",
        ],
        [
            "issue",
            "--agency",
            "lsp-contoh",
            "--name",
            "A",
            "--job-code",
            "ME063100",
            "--level",
            "3",
            "--nik",
            "12",
            "3575040003930001",
        ],
        ["verify", "3575040003930001.png"],
    ],
)
def test_a_nik_typed_in_the_wrong_place_is_never_repeated(skk, ready, args) -> None:
    result = skk(*args)
    assert result.exit_code == 2 and result.stdout == ""
    assert "3575040003930001" not in result.stderr and result.stderr.startswith("skk: ")


def test_qr_is_written_in_place_with_no_temporary_file_left(skk, ready, tmp_path) -> None:
    folder = tmp_path / "cards"
    folder.mkdir()
    target = folder / "card.png"
    issued = as_json(
        skk(
            "issue",
            "--agency",
            "lsp-contoh",
            "--name",
            "A",
            "--job-code",
            "ME063100",
            "--level",
            "3",
            "--qr",
            str(target),
            "--json",
        )
    )
    assert read_qr_image(target) == issued["url"]
    assert [p.name for p in folder.iterdir()] == ["card.png"]


def test_dash_argument_commands_refuse_options_they_cannot_parse() -> None:
    # DashArgumentCommand only recognises whole long options; a short one would become an argument.
    with pytest.raises(TypeError, match="option x"):
        DashArgumentCommand("c", params=[click.Option(["-x"]), click.Argument(["kid"])])
    with pytest.raises(TypeError, match="option pair"):
        DashArgumentCommand("c", params=[click.Option(["--pair"], nargs=2)])
    fine = [click.Option(["--at"]), click.Option(["--json"], is_flag=True)]
    assert DashArgumentCommand("c", params=fine).params == fine

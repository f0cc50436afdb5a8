"""`skk user`: console accounts from the command line (SPEC §5 conventions: --json, exit 0/1/2)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from verifier.cli import main
from verifier.staff import accounts
from verifier.store.models import AuditEvent

pytestmark = pytest.mark.usefixtures("cheap_argon2")


@pytest.fixture
def skk(env):
    """Run `skk ARGS...` in-process with the test settings."""
    runner = CliRunner()
    return lambda *args: runner.invoke(main, list(args), env=env)


def test_add_prints_a_one_time_password_once(contoh, skk):
    result = skk("user", "add", "--agency", "lsp-contoh", "rina", "--role", "operator", "--json")
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    assert set(printed) == {"username", "one_time_password"} and printed["username"] == "rina"
    signed = accounts.sign_in("rina", printed["one_time_password"], "", now=1_768_435_200)
    assert signed.account is not None and signed.account.must_change_password
    listed = json.loads(skk("user", "list", "--json").stdout)
    assert listed == [
        {
            "username": "rina",
            "agency": "lsp-contoh",
            "role": "operator",
            "enrolled": False,
            "disabled": False,
        }
    ]
    assert printed["one_time_password"] not in skk("user", "list").stdout
    plain = skk("user", "add", "--agency", "lsp-contoh", "budi", "--role", "viewer")
    assert plain.exit_code == 0 and "one_time_password: " in plain.stdout


def test_disable_and_reset(contoh, skk):
    skk("user", "add", "--agency", "lsp-contoh", "rina", "--role", "admin")
    disabled = json.loads(skk("user", "disable", "rina", "--json").stdout)
    assert disabled["disabled"] is True
    reset = json.loads(skk("user", "reset", "rina", "--json").stdout)
    assert set(reset) == {"username", "one_time_password"}
    assert [row.actor for row in AuditEvent.select()] == ["cli", "cli", "cli"]


@pytest.mark.parametrize(
    ("args", "status", "message"),
    [
        (("user", "add", "--agency", "lsp-contoh", "Rina", "--role", "admin"), 1, "username"),
        (("user", "add", "--agency", "lsp-contoh", "rina", "--role", "root"), 2, "role"),
        (("user", "add", "--agency", "lsp-lain", "rina", "--role", "admin"), 1, "agency"),
        (("user", "add", "--agency", "lsp-contoh", "rina"), 2, "--role"),
        (("user", "disable", "nobody"), 1, "no such user"),
        (("user", "reset", "nobody"), 1, "no such user"),
        (("user",), 2, "needs a command"),
    ],
)
def test_errors_are_one_line_with_the_right_status(contoh, skk, args, status, message):
    result = skk(*args)
    assert result.exit_code == status, result.output
    assert result.stdout == "" and result.stderr.startswith("skk: ")
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_a_taken_username_is_refused(contoh, skk):
    assert skk("user", "add", "--agency", "lsp-contoh", "rina", "--role", "admin").exit_code == 0
    taken = skk("user", "add", "--agency", "lsp-contoh", "rina", "--role", "viewer")
    assert taken.exit_code == 1 and "taken" in taken.stderr

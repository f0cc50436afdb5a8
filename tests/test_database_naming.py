"""Never silently on the wrong database (issue 14, item 1).

Every `skk` command that opens the database names it on stderr, without its password; with
SKK_REQUIRE_DATABASE_URL a host refuses the SQLite default, in the CLI and in gunicorn. The
trap that made this necessary is reproduced with a real `sh`: an env file whose unquoted URL
holds `&` loses SKK_DATABASE_URL when sourced with `set -a; . skk.env`.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from click.testing import CliRunner, Result

from tests.serving import BIN, ROOT
from verifier.cli import main
from verifier.config import load_settings, redacted_url
from verifier.core.errors import ConfigurationError
from verifier.store.db import open_database
from verifier.store.migrations import SCHEMA_VERSION

PASSWORD = "s3kr1t-Pa55"


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (
            f"postgresql://skk:{PASSWORD}@db.internal:5432/skk?sslmode=require&connect_timeout=5",
            "postgresql://skk@db.internal:5432/skk?sslmode=require&connect_timeout=5",
        ),
        (f"postgresql://skk:{PASSWORD}@x@db.internal/skk", "postgresql://skk@db.internal/skk"),
        (f"postgresql://:{PASSWORD}@db.internal/skk", "postgresql://db.internal/skk"),
        (
            f"postgresql:///skk?host=/run/postgresql&password={PASSWORD}&sslpassword={PASSWORD}",
            "postgresql:///skk?host=/run/postgresql",
        ),
        (
            f"postgresql://skk@db/skk?PASS%57ORD={PASSWORD}&sslmode=require",
            "postgresql://skk@db/skk?sslmode=require",
        ),
        (f"postgresql://skk:{PASSWORD}@[::1/skk", "postgresql://…"),  # unparseable: scheme only
        # A "/", "?" or "#" in the password ends a URL parser's netloc early.
        (f"postgresql://skk:pa?{PASSWORD}@db/skk", "postgresql://skk@db/skk"),
        (f"postgresql://skk:ab/{PASSWORD}@db/skk", "postgresql://skk@db/skk"),
        (f"postgresql://skk:pa#{PASSWORD}@db/skk", "postgresql://skk@db/skk"),
        (
            f"postgresql://skk:{PASSWORD}/?#@x@db:5432/skk?sslmode=require",
            "postgresql://skk@db:5432/skk?sslmode=require",
        ),
        # An "@" in the query moves the cut right: more is left out, never a password shown.
        (f"postgresql://skk@db/skk?password={PASSWORD}@x", "postgresql://skk@x"),
        ("sqlite:////var/lib/skk/skk.sqlite3", "sqlite:////var/lib/skk/skk.sqlite3"),
        ("sqlite:///:memory:", "sqlite:///:memory:"),
        ("sqlite:////srv/ops@corp/skk.sqlite3", "sqlite:////srv/ops@corp/skk.sqlite3"),  # no user
        (
            f"postgresql:///skk?host=/run/postgresql&password=a@{PASSWORD}",
            "postgresql:///skk?host=/run/postgresql",
        ),
    ],
)
def test_redacted_url_leaves_out_every_password(url: str, shown: str) -> None:
    assert redacted_url(url) == shown
    assert PASSWORD not in redacted_url(url)


@pytest.mark.parametrize("separator", ["?", "/", "#"])
def test_a_bad_url_error_carries_no_part_of_the_password(skk, separator: str) -> None:
    halves = ("Qz7Kp", "Wv9Lm")
    url = f"postgresql://skk:{halves[0]}{separator}{halves[1]}@db.internal/skk"
    result = skk("agency", "list", SKK_DATABASE_URL=url)
    assert result.exit_code == 2 and result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("skk: cannot use SKK_DATABASE_URL: "), lines
    assert "percent-encoded" in lines[0]  # names what is wrong
    assert not any(half in result.stderr for half in halves), result.stderr
    # Without "scheme://" the value is not echoed either.
    bare = skk("agency", "list", SKK_DATABASE_URL=f"skk:{halves[0]}@db/skk")
    assert bare.exit_code == 2 and halves[0] not in bare.stderr
    assert bare.stderr.startswith("skk: SKK_DATABASE_URL is not a database URL")


@pytest.mark.parametrize("blank", ["", "  ", "\t"])
@pytest.mark.parametrize("require", [None, "0", "1"])
def test_a_blank_database_url_is_refused_not_replaced_by_the_default(
    skk, blank: str, require: str | None
) -> None:
    result = skk("agency", "list", SKK_DATABASE_URL=blank, SKK_REQUIRE_DATABASE_URL=require)
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr == (
        "skk: SKK_DATABASE_URL is set but empty; give a database URL, "
        "or unset it to use the development SQLite default\n"
    )
    with pytest.raises(ConfigurationError, match="set but empty"):
        load_settings({"SKK_DATABASE_URL": blank})


def test_require_database_url_refuses_the_default_only() -> None:
    with pytest.raises(ConfigurationError) as refused:
        load_settings({"SKK_REQUIRE_DATABASE_URL": "1"})
    assert "SKK_DATABASE_URL is not set" in refused.value.message
    assert "skk.sqlite3" in refused.value.message  # names the database it refused
    with pytest.raises(ConfigurationError):
        load_settings({"SKK_REQUIRE_DATABASE_URL": "yes", "SKK_DATABASE_URL": "  "})
    # Any URL given on purpose is fine, SQLite included (a single-host install).
    given = load_settings(
        {
            "SKK_REQUIRE_DATABASE_URL": "true",
            "SKK_DATABASE_URL": "sqlite:////var/lib/skk/skk.sqlite3",
        }
    )
    assert given.require_database_url is True
    assert given.database_url == "sqlite:////var/lib/skk/skk.sqlite3"
    assert load_settings({}).require_database_url is False
    assert load_settings({"SKK_REQUIRE_DATABASE_URL": "0"}).database_url.endswith("skk.sqlite3")
    with pytest.raises(ConfigurationError, match="SKK_REQUIRE_DATABASE_URL must be 1 or 0"):
        load_settings({"SKK_REQUIRE_DATABASE_URL": "sure"})


def _with_password(url: str) -> str:
    """A PostgreSQL URL with a password in it (the test server ignores it: trust auth)."""
    parts = urlsplit(url)
    if not parts.scheme.startswith("postgres") or "@" not in parts.netloc:
        return url
    user, _, host = parts.netloc.rpartition("@")
    netloc = f"{user.partition(':')[0]}:{PASSWORD}@{host}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


@pytest.fixture
def skk(env: dict[str, str]):
    """`skk ARGS...` in process, on the test database (with a password in a PostgreSQL URL)."""
    runner = CliRunner()
    env = {**env, "SKK_DATABASE_URL": _with_password(env["SKK_DATABASE_URL"])}

    def run(*args: str, **extra: str | None) -> Result:
        return runner.invoke(main, list(args), env={**env, **extra}, catch_exceptions=False)

    return run


def test_every_database_command_names_it_on_stderr_and_leaves_stdout_alone(
    skk, env: dict[str, str]
) -> None:
    named = f"skk: database {redacted_url(env['SKK_DATABASE_URL'])}\n"
    for args in (
        ("init", "--json"),
        ("agency", "add", "lsp-contoh", "--name", "LSP Contoh", "--levels", "1-6"),
        ("keys", "generate", "--agency", "lsp-contoh", "--json"),
        ("agency", "list", "--json"),
        ("keys", "list", "--json"),
        ("owner", "list", "--json"),
    ):
        result = skk(*args)
        assert result.exit_code == 0, result.output
        assert result.stderr == named, args
        assert PASSWORD not in result.output
        if "--json" in args:
            json.loads(result.stdout)  # stdout is still only the JSON
    assert json.loads(skk("init", "--json").stdout) == {"schema_version": SCHEMA_VERSION}


def test_an_error_names_the_database_on_its_one_line(skk, env: dict[str, str]) -> None:
    assert skk("init").exit_code == 0
    assert skk("owner", "add", "pupr-tol", "--name", "Bina Marga").exit_code == 0
    again = skk("owner", "add", "pupr-tol", "--name", "Bina Marga")
    assert again.exit_code == 1 and again.stdout == ""
    assert again.stderr == (
        f"skk: project owner pupr-tol already exists "
        f"(database {redacted_url(env['SKK_DATABASE_URL'])})\n"
    )
    # verify exits 1 with its result printed: the database is named after it.
    invalid = skk("verify", "not-a-token")
    assert invalid.exit_code == 1 and invalid.stdout.startswith("MALFORMED")
    assert invalid.stderr == f"skk: database {redacted_url(env['SKK_DATABASE_URL'])}\n"


def test_commands_without_a_database_name_none(skk) -> None:
    for args in (("--help",), ("agency", "list", "--help"), ("verify", "--at", "soon", "x")):
        assert "database" not in skk(*args).stderr, args


def test_an_unreachable_database_is_named_without_its_password(skk) -> None:
    url = f"postgresql://skk:{PASSWORD}@127.0.0.1:1/skk?connect_timeout=2"
    result = skk("agency", "list", SKK_DATABASE_URL=url)
    assert result.exit_code == 2 and result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("skk: database unavailable")
    assert lines[0].endswith("(database postgresql://skk@127.0.0.1:1/skk?connect_timeout=2)")
    assert PASSWORD not in result.output


def test_require_database_url_stops_every_command_with_one_line(skk) -> None:
    for args in (("init",), ("agency", "list", "--json"), ("keys", "list")):
        result = skk(*args, SKK_DATABASE_URL=None, SKK_REQUIRE_DATABASE_URL="1")
        assert result.exit_code == 2 and result.stdout == "", args
        assert result.stderr.startswith("skk: SKK_DATABASE_URL is not set")
        assert len(result.stderr.splitlines()) == 1 and "Traceback" not in result.output


# -- the `set -a; . skk.env` trap, with a real shell ---------------------------------------------

#: Runs `skk` with its default SQLite file in the folder given first, not in the checkout's
#: instance/ (a test must not write there): the only change to the real command.
SKK_ELSEWHERE = (
    "import sys\n"
    "from pathlib import Path\n"
    "import verifier.config\n"
    "verifier.config.INSTANCE_DIR = Path(sys.argv[1])\n"
    "from verifier.cli import main\n"
    "main(sys.argv[2:], prog_name='skk')\n"
)


def _with_query(url: str) -> str:
    """The test database's URL with two harmless parameters: an `&`, as deploy.md's has."""
    extra = (
        "connect_timeout=5&application_name=skk"
        if url.startswith("postgres")
        else "timeout=5&cached_statements=64"
    )
    return url + ("&" if "?" in url else "?") + extra


def _sourced_init(tmp_path: Path, env_file: str) -> subprocess.CompletedProcess[str]:
    """`set -a; . skk.env; set +a; skk init` as deploy.md's wrapper does, in a real `sh`."""
    (tmp_path / "skk.env").write_text(env_file)
    instance = tmp_path / "instance"
    instance.mkdir(exist_ok=True)
    script = 'set -a; . ./skk.env; set +a; exec "$1" -c "$2" "$3" init'
    return subprocess.run(
        ["sh", "-c", script, "sh", sys.executable, SKK_ELSEWHERE, str(instance)],
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _has_schema(url: str) -> bool:
    database = open_database(url, create=True)  # an empty SQLite file has no schema either
    try:
        return database.table_exists("skk_meta")
    finally:
        database.close()


@pytest.mark.system
def test_an_unquoted_ampersand_url_is_caught(database_url: str, tmp_path: Path) -> None:
    url = _with_query(database_url)
    default_file = tmp_path / "instance" / "skk.sqlite3"

    # The trap: `&` ends the assignment (it runs in the background), so SKK_DATABASE_URL is
    # unset and `skk init` uses the default SQLite file. Now it says so.
    trapped = _sourced_init(tmp_path, f"SKK_DATABASE_URL={url}\n")
    assert trapped.returncode == 0, trapped.stderr
    assert trapped.stderr == f"skk: database sqlite:///{default_file}\n"
    assert default_file.exists() and not _has_schema(database_url)
    default_file.unlink()

    # With the production setting the command refuses, and creates nothing.
    refused = _sourced_init(tmp_path, f"SKK_DATABASE_URL={url}\nSKK_REQUIRE_DATABASE_URL=1\n")
    assert refused.returncode == 2 and refused.stdout == ""
    assert refused.stderr.startswith("skk: SKK_DATABASE_URL is not set")
    assert len(refused.stderr.splitlines()) == 1 and "Traceback" not in refused.stderr
    assert not default_file.exists() and not _has_schema(database_url)

    # Quoted as deploy.md says, the URL arrives whole: the intended database, named.
    quoted = _sourced_init(tmp_path, f"SKK_DATABASE_URL='{url}'\nSKK_REQUIRE_DATABASE_URL=1\n")
    assert quoted.returncode == 0, quoted.stderr
    assert quoted.stdout == f"created schema version {SCHEMA_VERSION}\n"
    assert quoted.stderr == f"skk: database {redacted_url(url)}\n"
    assert _has_schema(database_url) and not default_file.exists()


@pytest.mark.system
def test_gunicorn_refuses_the_default_database_when_required(tmp_path: Path) -> None:
    done = subprocess.run(
        [str(BIN / "gunicorn"), "-c", "gunicorn.conf.py", "--check-config", "wsgi:app"],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "SKK_REQUIRE_DATABASE_URL": "1"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.startswith("skk: SKK_DATABASE_URL is not set")
    assert len(done.stderr.splitlines()) == 1 and "Traceback" not in done.stderr

"""Shared CLI machinery: error-to-exit-status mapping, lazy settings and database, output."""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click

from verifier.config import Settings, load_settings, redacted_url
from verifier.core.credential import parse_instant
from verifier.core.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    RowProblem,
    SkkError,
    UnreadableInput,
)
from verifier.core.nik import without_niks
from verifier.store.db import Database, open_database, require_schema, storage_errors

#: SPEC §5: 1 = not valid or refused; 2 = bad usage, unreadable file, no database or configuration.
EXIT_REFUSED = 1
EXIT_USAGE = 2
_REFUSALS = (InvalidInput, NotFound, Conflict)


class SkkGroup(click.Group):
    """A click group that turns our errors into one stderr line and the right exit status, and
    names the database a command used (never silently the wrong one: docs/deploy.md §3).

    The database is named on stderr, never in stdout or JSON (which programs parse): as
    ``skk: database URL`` after a command that used one, or at the end of its error line, so an
    error stays one line (SPEC §5). The URL is shown without its password.
    """

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command; an error becomes ``skk: <message>`` on stderr and exit 1 or 2."""
        rt = ctx.ensure_object(Runtime)
        try:
            with storage_errors():
                outcome = super().invoke(ctx)
        except SkkError as exc:
            click.echo(f"skk: {without_niks(exc.message)}{rt.database_note()}", err=True)
            ctx.exit(EXIT_REFUSED if isinstance(exc, _REFUSALS) else EXIT_USAGE)
        except click.exceptions.Exit:
            rt.name_database()  # e.g. `skk verify` printed a result and exits 1
            raise
        except click.exceptions.NoArgsIsHelpError as exc:
            # `skk agency` alone: click's message would be the whole help text.
            path = exc.ctx.command_path if exc.ctx else "skk"
            click.echo(f"skk: {path} needs a command; `{path} --help` lists them", err=True)
            ctx.exit(exc.exit_code)
        except click.ClickException as exc:
            # A usage error (missing option, bad value, unknown command) is one line too, as
            # SPEC §5 asks, instead of click's usage block; `skk COMMAND --help` shows the usage.
            # Click repeats what was typed, which may be a NIK put in the wrong place.
            # (Click lays a required choice's values out on lines of their own: join them.)
            one_line = " ".join(exc.format_message().split())
            click.echo(f"skk: {without_niks(one_line)}{rt.database_note()}", err=True)
            ctx.exit(exc.exit_code)
        rt.name_database()
        return outcome


class DashArgumentCommand(click.Command):
    """A command whose positional argument may begin with ``-``.

    A kid is base64url, so one key in 64 has a kid starting with ``-``, and click would read
    ``skk keys revoke -3Xb…`` as an unknown option. Here only the command's declared options
    are options; everything else is an argument, as if it came after ``--``. Only long options
    taking no value or one value are understood that way, so no other kind may be declared.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for param in self.params:
            if isinstance(param, click.Option) and (
                param.nargs != 1 or not all(name.startswith("--") for name in param.opts)
            ):
                raise TypeError(f"{self.name}: option {param.name} is not a long one-value option")

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        """Move declared options (and their values) first, then ``--``, then the rest."""
        declared = {
            name: param
            for param in self.get_params(ctx)
            if isinstance(param, click.Option)
            for name in (*param.opts, *param.secondary_opts)
        }
        options: list[str] = []
        values: list[str] = []
        rest = list(args)
        while rest:
            arg = rest.pop(0)
            if arg == "--":
                values.extend(rest)
                break
            option = declared.get(arg.split("=", 1)[0])
            if option is None:
                values.append(arg)
                continue
            options.append(arg)
            if "=" not in arg and not option.is_flag and not option.count and rest:
                options.append(rest.pop(0))
        return super().parse_args(ctx, [*options, "--", *values])


class Runtime:
    """Settings and database, loaded on first use so `skk --help` needs neither."""

    def __init__(self) -> None:
        self._settings: Settings | None = None
        self._database_bound = False
        #: The database this command opened, password left out; None until it opens one.
        self.database_shown: str | None = None

    @property
    def settings(self) -> Settings:
        """Settings from the environment."""
        if self._settings is None:
            self._settings = load_settings()
        return self._settings

    def open_database(self, *, create: bool = False) -> Database:
        """Open the configured database and bind the store to it (``create``: a missing SQLite
        file too, for `skk init`); from here on the command names it on stderr."""
        url = self.settings.database_url
        self.database_shown = redacted_url(url)
        return open_database(url, create=create)

    def bind_database(self) -> None:
        """Open the configured database and bind the store to it, refusing one `skk init` has
        not prepared (ConfigurationError: exit 2)."""
        if not self._database_bound:
            require_schema(self.open_database())
            self._database_bound = True

    def database_note(self) -> str:
        """`` (database URL)`` to end an error line with, once a database was opened; else ""."""
        return f" (database {self.database_shown})" if self.database_shown else ""

    def name_database(self) -> None:
        """After a command: ``skk: database URL`` on stderr when it used a database."""
        if self.database_shown:
            click.echo(f"skk: database {self.database_shown}", err=True)

    @staticmethod
    def now() -> int:
        """The current instant as a NumericDate."""
        return int(time.time())


pass_runtime = click.make_pass_decorator(Runtime, ensure=True)

Command = TypeVar("Command", bound=Callable[..., None])


def uses_database(command: Command) -> Command:
    """Below ``@pass_runtime``: the command runs on the configured database, bound first.

    Click has parsed and checked every option by then (see :func:`instant`, :func:`one_of`), so
    a usage error is reported as such even where there is no database yet.
    """

    @functools.wraps(command)
    def run(rt: Runtime, *args: Any, **kwargs: Any) -> None:
        rt.bind_database()
        command(rt, *args, **kwargs)

    return run  # type: ignore[return-value]


json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON.")


def emit(as_json: bool, data: Any, human: Callable[[Any], str] | None = None) -> None:
    """Print ``data`` as JSON, or as text made by ``human`` (default: key: value lines)."""
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        click.echo((human or describe)(data))


def read_input_file(file: Path, max_bytes: int) -> bytes:
    """The bytes of an input file; InvalidInput when larger than ``max_bytes``."""
    try:
        if file.stat().st_size > max_bytes:
            raise InvalidInput(f"{file} is larger than {max_bytes // 2**20} MiB", field="file")
        return file.read_bytes()
    except OSError as exc:  # vanished or unreadable since click checked it: exit 2, one line
        raise UnreadableInput(f"cannot read {file}: {exc.strerror}") from None


def report_problems(message: str, problems: Sequence[RowProblem], as_json: bool) -> None:
    """Every problem of a refused file: as the API's ``{"errors": [...]}`` on stdout, or one
    line each on stderr, then ``message``."""
    if as_json:
        emit(True, {"errors": [problem.to_dict() for problem in problems]})
        return
    for problem in problems:
        click.echo(f"line {problem.line}, {problem.column}: {problem.message}", err=True)
    click.echo(f"skk: {message}", err=True)


def describe(data: Any) -> str:
    """Plain-text rendering: ``key: value`` lines for an object, one block per list item."""
    if isinstance(data, list):
        return "\n\n".join(describe(item) for item in data) if data else "(none)"
    if isinstance(data, dict):
        return "\n".join(f"{key}: {_scalar(value)}" for key, value in data.items())
    return str(data)


def _scalar(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k}={_scalar(v)}" for k, v in value.items())
    if value is None:
        return "-"
    return str(value).lower() if isinstance(value, bool) else str(value)


def instant(ctx: click.Context, param: click.Parameter, value: str | None) -> int | None:
    """Option callback: an ISO-8601 value as a NumericDate, or a usage error (exit 2) naming the
    option, raised while the command line is parsed (before any database is opened)."""
    if value is None:
        return None
    try:
        return parse_instant(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), ctx=ctx, param=param) from None


def one_of(*names: str) -> Callable[[click.Context, click.Parameter, Any], Any]:
    """Option callback for each of options ``names`` (parameter names): exactly one of them
    must be given, else a usage error naming them all; checked as the last of them is parsed."""

    def check(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
        values = [value if name == param.name else ctx.params.get(name, ...) for name in names]
        if ... not in values and sum(given is not None for given in values) != 1:
            options = [p.opts[0] for p in ctx.command.params if p.name in names]
            raise click.UsageError(f"give exactly one of {' and '.join(options)}", ctx)
        return value

    return check

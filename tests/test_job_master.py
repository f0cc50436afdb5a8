"""The jabatan kerja master can change (issue 14, item 7): `skk jobs list`, `skk jobs import`
(versioned, checked whole, audited), issuing against the newest version on every path, and the
cohort file's columns documented with a downloadable template; on both stores."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import re
import threading
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from tests.helpers import NOW
from verifier.cli import main
from verifier.core import jobs
from verifier.core.errors import InvalidInput
from verifier.core.jobs import COLUMNS, Job, MasterRejected, parse_master
from verifier.issuance import cohort
from verifier.issuance.cohort_file import COLUMNS as COHORT_COLUMNS
from verifier.issuance.cohort_file import read_cohort
from verifier.store import credential_list, job_masters, registry
from verifier.store.models import AuditEvent, JobMasterVersion

README = Path(__file__).resolve().parents[1] / "README.md"
PACKAGE_CSV = (
    resources.files("verifier").joinpath("data/jabatan_kerja_2025.csv").read_text(encoding="utf-8")
)
HEADER = ",".join(COLUMNS)
#: A job the package's list does not have.
NEW_JOB = "SI099001,Juru Ukur Drone,Sipil,Geodesi,Operator,2,SKKNI 999-2026"


def _updated(*, drop: str = "ME063100", add: str = NEW_JOB) -> str:
    """The package's list with one job dropped and one added: LPJK's next version."""
    lines = [line for line in PACKAGE_CSV.splitlines() if not line.startswith(drop + ",")]
    return "\n".join([*lines, add]) + "\n"


@pytest.fixture
def skk(env: dict[str, str], database):
    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(main, list(args), env=env, catch_exceptions=False)

    return run


def _json(result) -> Any:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _write(tmp_path: Path, text: str, name: str = "jabatan_kerja_2026.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# --- reading a master file (pure) ----------------------------------------------------------------


def test_the_package_file_reads_as_a_master() -> None:
    master = jobs.package_master()
    assert len(master.jobs) == 30 and master.find_by_code("me063100").level == 3
    assert jobs.master() == master.jobs


def test_every_bad_row_is_reported_with_line_and_column() -> None:
    text = "\n".join(
        [
            HEADER,
            "SI013013,Tukang Pasang Bata,Sipil,Gedung,Operator,1,S",  # line 2: fine
            "SI013013,Tukang Lain,Sipil,Gedung,Operator,1,S",  # line 3: duplicate code
            "SI000001,,Sipil,Gedung,Operator,2,S",  # line 4: empty title
            "SI000002,Mandor,Sipil,Gedung,Operator,10,S",  # line 5: level out of range
            "SI000003,Mandor,Sipil,Gedung,Operator,x,S",  # line 6: level not a number
            "si-1,Juru,Sipil,Gedung,Operator,3,S",  # line 7: bad code
            "SI000004,tukang  pasang bata,Sipil,Gedung,Operator,1,S",  # line 8: title twice at 1
        ]
    )
    with pytest.raises(MasterRejected) as rejected:
        parse_master(text)
    found = {(p.line, p.column) for p in rejected.value.problems}
    assert found == {
        (3, "code"),
        (4, "name"),
        (5, "jenjang"),
        (6, "jenjang"),
        (7, "code"),
        (8, "name"),
    }
    assert "already on line 2" in next(p.message for p in rejected.value.problems if p.line == 3)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "code,name,jenjang\nSI1,A,1\n",
            {(1, "klasifikasi"), (1, "subklasifikasi"), (1, "kualifikasi"), (1, "standard")},
        ),
        (HEADER + ",extra\n", {(1, "extra")}),
        (HEADER + "\n", {(2, "file")}),
        ("", {(1, name) for name in COLUMNS}),
    ],
)
def test_wrong_headers_and_empty_files_are_refused(text, expected) -> None:
    with pytest.raises(MasterRejected) as rejected:
        parse_master(text)
    assert {(p.line, p.column) for p in rejected.value.problems} == expected


def test_a_semicolon_file_with_a_bom_reads_like_the_package_file() -> None:
    data = ("\ufeff" + PACKAGE_CSV.replace(",", ";")).encode("utf-8")
    assert parse_master(jobs.decode_master(data)) == jobs.master()
    with pytest.raises(MasterRejected, match="nothing was imported"):
        jobs.decode_master(b"\xff\xfe code")


# --- skk jobs list / import ----------------------------------------------------------------------


def test_jobs_list_shows_the_package_list_while_none_was_imported(skk) -> None:
    listing = _json(skk("jobs", "list", "--json"))
    assert listing["active"] == {"version": None, "source": "package:2025"}
    assert listing["versions"] == []
    assert {"code": "ME063100", "level": 3}.items() <= next(
        job for job in listing["jobs"] if job["code"] == "ME063100"
    ).items()
    human = skk("jobs", "list").output
    assert "package" in human and "ME063100  3  Operator Wheel Excavator" in human


def test_an_import_is_versioned_audited_and_listed(skk, tmp_path) -> None:
    imported = _json(skk("jobs", "import", str(_write(tmp_path, _updated())), "--json"))
    assert imported["version"] == 1 and imported["created"] is True and imported["jobs"] == 30
    assert imported["source"] == "jabatan_kerja_2026.csv" and imported["actor"] == "cli"
    listing = _json(skk("jobs", "list", "--json"))
    assert listing["active"]["version"] == 1
    codes = {job["code"] for job in listing["jobs"]}
    assert "SI099001" in codes and "ME063100" not in codes
    (event,) = AuditEvent.select().where(AuditEvent.action == "jobs_import")
    assert (event.actor, event.subject, event.agency_id) == ("cli", "version 1", None)
    # The same file again changes nothing; another one is version 2.
    again = _json(skk("jobs", "import", str(_write(tmp_path, _updated())), "--json"))
    assert (again["version"], again["created"]) == (1, False)
    second = _json(skk("jobs", "import", str(_write(tmp_path, PACKAGE_CSV)), "--json"))
    assert second["version"] == 2
    assert [v["version"] for v in _json(skk("jobs", "list", "--json"))["versions"]] == [1, 2]


def test_a_bad_file_is_refused_whole_and_writes_nothing(skk, tmp_path) -> None:
    bad = _updated(add="SI099001,,Sipil,Geodesi,Operator,12,X")
    result = skk("jobs", "import", str(_write(tmp_path, bad)))
    assert result.exit_code == 1
    assert "line 31, name: name is empty" in result.stderr
    assert "line 31, jenjang:" in result.stderr and "nothing was imported" in result.stderr
    as_json = skk("jobs", "import", str(_write(tmp_path, bad)), "--json")
    assert as_json.exit_code == 1 and len(json.loads(as_json.stdout)["errors"]) == 2
    assert JobMasterVersion.select().count() == 0
    assert AuditEvent.select().where(AuditEvent.action == "jobs_import").count() == 0


#: A cell over the CSV reader's 128 KiB field limit, which raised csv.Error (a traceback).
HUGE_CELL = "x" * 200 * 1024


def test_a_cell_over_the_csv_field_limit_is_a_row_problem(skk, tmp_path) -> None:
    text = _updated(add=f'SI099001,"{HUGE_CELL}",Sipil,Geodesi,Operator,2,X')
    with pytest.raises(MasterRejected) as rejected:
        parse_master(text)
    assert [(p.line, p.column) for p in rejected.value.problems] == [(31, "file")]
    assert "larger than 128 KiB" in rejected.value.problems[0].message
    result = skk("jobs", "import", str(_write(tmp_path, text)))
    assert result.exit_code == 1 and result.stdout == ""
    assert "line 31, file: a cell is larger than 128 KiB" in result.stderr
    assert "Traceback" not in result.output and JobMasterVersion.select().count() == 0


def test_two_imports_at_once_get_consecutive_versions(database) -> None:
    # Both read the newest version before either writes, were they not taking turns: the
    # second then failed on the version's primary key with a traceback (PostgreSQL).
    both_read = threading.Barrier(2)
    newest = job_masters.newest_version

    def read_then_wait() -> int | None:
        version = newest()
        # with turns taken, the other waits for this one instead
        with contextlib.suppress(threading.BrokenBarrierError):
            both_read.wait(timeout=1)
        return version

    errors: list[BaseException] = []

    def run(text: str) -> None:
        try:
            with database.connection_context():  # each thread its own connection
                _import(text)
        except BaseException as exc:  # noqa: BLE001 - reported below, in the test's own thread
            errors.append(exc)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(job_masters, "newest_version", read_then_wait)
        threads = [
            threading.Thread(target=run, args=(text,))
            for text in (_updated(), _updated(add=NEW_JOB.replace("Drone", "Laser")))
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
    assert errors == []
    assert [v.version for v in job_masters.versions()] == [1, 2]
    assert len({v.sha256 for v in job_masters.versions()}) == 2


def test_the_cached_master_is_read_again_when_a_version_holds_other_content(contoh) -> None:
    # A restore followed by another import can give version 1 different content.
    _import(_updated())
    assert job_masters.active_master().find_by_code("SI099001") is not None
    JobMasterVersion.delete().execute()
    _import(_updated(add=NEW_JOB.replace("SI099001", "SI099003")))
    master = job_masters.active_master()
    assert master.version == "1" and master.find_by_code("SI099001") is None
    assert master.find_by_code("SI099003") is not None


# --- issuing follows the newest version ----------------------------------------------------------


def _import(text: str) -> None:
    job_masters.import_file(text.encode(), source="test.csv", actor="cli", now=NOW)


def test_single_issuing_checks_against_the_newest_version(contoh, issue) -> None:
    assert issue(job_code="ME063100").credential.job_code == "ME063100"
    with pytest.raises(InvalidInput, match="unknown job code"):
        issue(job_code="SI099001", level=2)
    _import(_updated())
    assert issue(job_code="SI099001", level=2).credential.job_title == "Juru Ukur Drone"
    assert (
        issue(job_title="juru ukur  drone", job_code=None, level=2).credential.job_code
        == "SI099001"
    )
    with pytest.raises(InvalidInput, match="unknown job code 'ME063100'"):
        issue(job_code="ME063100")


def test_the_cached_master_follows_an_import_by_another_process(contoh) -> None:
    _import(_updated())
    assert job_masters.active_master().find_by_code("SI099001") is not None
    # Another process imports version 2 (a row written straight into the table): this process
    # sees it on its next look-up, without restarting.
    JobMasterVersion.create(
        version=2,
        imported_at=NOW,
        actor="cli",
        source="other.csv",
        sha256="0" * 64,
        content=json.dumps([Job("SI099002", "Juru Lain", 2, "Sipil", "Geodesi").to_dict()]),
    )
    master = job_masters.active_master()
    assert master.version == "2" and [job.code for job in master.jobs] == ["SI099002"]


def test_cohorts_and_the_console_use_the_newest_version(contoh) -> None:
    _import(_updated())
    rows = "nama;nomor;kode_jabatan;jenjang\nRina Marlina;LSP-1;SI099001;2\n"
    agency = registry.get_agency("lsp-contoh")
    fresh, _ = cohort.plan(read_cohort(rows.encode()), agency, pepper=None, now=NOW)
    assert [c.credential.job_title for c in fresh] == ["Juru Ukur Drone"]
    dropped = "nama;nomor;kode_jabatan;jenjang\nRina Marlina;LSP-1;ME063100;3\n"
    with pytest.raises(cohort.CohortRejected):
        cohort.plan(read_cohort(dropped.encode()), agency, pepper=None, now=NOW)
    choices = {job.code for job in credential_list.job_choices("lsp-contoh")}
    assert "SI099001" in choices and "ME063100" not in choices


# --- the cohort file: documented, with a template ------------------------------------------------


def test_the_cohort_template_is_a_valid_cohort_with_every_column(contoh, client) -> None:
    response = client.get("/templates/cohort.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert 'filename="daftar-peserta.csv"' in response.headers["Content-Disposition"]
    text = response.get_data().decode("utf-8-sig")
    header = next(csv.reader(io.StringIO(text), delimiter=";"))
    assert header == [aliases[0] for aliases in COHORT_COLUMNS.values()]
    agency = registry.get_agency("lsp-contoh")
    fresh, existing = cohort.plan(read_cohort(response.get_data()), agency, pepper=None, now=NOW)
    assert len(fresh) == 2 and not existing
    assert not re.search(r"\d{16}", text)  # no NIK, not even a made-up one


def test_the_readme_documents_every_cohort_column_and_the_template() -> None:
    text = README.read_text(encoding="utf-8")
    section = text[text.index("### Cohort files") : text.index("### Jabatan kerja master")]
    assert "/templates/cohort.csv" in section
    for aliases in COHORT_COLUMNS.values():
        for alias in aliases:
            assert f"`{alias}`" in section, alias

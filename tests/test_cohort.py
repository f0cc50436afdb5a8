"""Cohort import: Excel-flavoured files, every problem at once, all or nothing, re-runs."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from tests.helpers import NOW
from verifier.core.errors import Conflict, InvalidInput
from verifier.issuance import cohort, keyring
from verifier.issuance.cohort_file import read_cohort
from verifier.store import registry
from verifier.store.models import CredentialRecord

SAMPLE = Path(__file__).resolve().parent / "data" / "cohort_pasuruan_2025.csv"


@pytest.fixture
def sample_bytes() -> bytes:
    assert SAMPLE.exists(), f"fixture missing: {SAMPLE}"
    return SAMPLE.read_bytes()


def excel_indonesian(data: bytes) -> bytes:
    """The sample as Excel in an Indonesian locale saves it, plus hand-kept-list mess."""
    lines = data.decode().splitlines()
    messy = [lines[0].replace(",", ";")]
    for index, line in enumerate(lines[1:]):
        name, nik, code, level, association = line.split(",")
        messy.append(f"  {name} ;'{nik}; {code};{level} ;{association}")
        if index % 10 == 0:
            messy.append(";;;;")  # stray blank lines
    return ("\ufeff" + "\r\n".join(messy) + "\r\n").encode("utf-8")


def as_xlsx(data: bytes, nik_as_number: bool = False) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    for index, line in enumerate(data.decode().splitlines()):
        cells: list[object] = line.split(",")
        if index and nik_as_number and index == 3:
            cells[1] = int(cells[1])  # what Excel does to a NIK typed into a General cell
        if index:
            cells[3] = int(cells[3])
        sheet.append(cells)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def run(data: bytes, settings, store, filename: str = "cohort.csv", now: int = NOW):
    agency = registry.get_agency("lsp-contoh")
    prepared = cohort.prepare(
        read_cohort(data, filename=filename),
        agency,
        keyring.signer(store, "lsp-contoh"),
        pepper=settings.nik_pepper,
        now=now,
    )
    cohort.commit(prepared)
    return prepared


def problems_of(data: bytes, settings, store) -> list[dict]:
    with pytest.raises(cohort.CohortRejected) as excinfo:
        run(data, settings, store)
    assert CredentialRecord.select().count() == 0
    return [p.to_dict() for p in excinfo.value.problems]


@pytest.mark.parametrize("variant", ["plain", "excel", "xlsx"])
def test_sample_issues_in_one_step(contoh, settings, store, sample_bytes, variant) -> None:
    data = {
        "plain": sample_bytes,
        "excel": excel_indonesian(sample_bytes),
        "xlsx": as_xlsx(sample_bytes),
    }[variant]
    prepared = run(data, settings, store, "cohort.xlsx" if variant == "xlsx" else "cohort.csv")
    assert (prepared.issued, prepared.existing) == (75, 0)
    assert CredentialRecord.select().where(CredentialRecord.nik_hmac.is_null(False)).count() == 75
    assert prepared.entries[0].credential.holder_name == "Muhammad Marlina"


def test_rerun_issues_nothing_twice(contoh, settings, store, sample_bytes) -> None:
    first = run(sample_bytes, settings, store)
    again = run(excel_indonesian(sample_bytes), settings, store, now=NOW + 3600)
    assert (again.issued, again.existing) == (0, 75)
    assert [e.credential.number for e in again.entries] == [
        e.credential.number for e in first.entries
    ]
    assert CredentialRecord.select().count() == 75


def test_two_imports_of_one_file_at_once_issue_it_once(
    contoh, settings, store, sample_bytes
) -> None:
    """Both imports check and sign before either stores (as two workers would); the later
    commit finds the rows taken and stores nothing, instead of issuing every worker twice."""
    agency = registry.get_agency("lsp-contoh")
    signer = keyring.signer(store, "lsp-contoh")
    first, second = (
        cohort.prepare(
            read_cohort(sample_bytes, filename="cohort.csv"),
            agency,
            signer,
            pepper=settings.nik_pepper,
            now=NOW,
        )
        for _ in range(2)
    )
    assert first.issued == second.issued == 75
    cohort.commit(first)
    with pytest.raises(Conflict, match="another import issued some of these rows"):
        cohort.commit(second)
    assert CredentialRecord.select().count() == 75
    assert run(sample_bytes, settings, store).existing == 75  # running it again shows them


def test_line_numbers_follow_the_file(contoh, settings, store, sample_bytes) -> None:
    prepared = run(excel_indonesian(sample_bytes), settings, store)
    assert prepared.entries[0].line == 2 and prepared.entries[1].line == 4  # blank line 3


def bad_file() -> bytes:
    rows = [
        "nama;nik;kode_jabatan;jenjang;nomor",
        "Rina Marlina;3575040003930001;ME063100;3;",  # fine
        "Budi;123;ME063100;3;",  # invalid NIK
        "Siti;3575040003930003;XX000000;3;",  # unknown job
        "Agus;3575040003930004;ME063100;2;",  # level contradicts the job code
        "Dewi;3575040003930005;SI022027;7;",  # level outside 1-6 (and job)
        ";3575040003930006;ME063100;3;",  # empty name
        "Rina Marlina;3575040003930001;ME063100;3;",  # same NIK and job as line 2
        "Eko;3,57504E+15;ME063100;3;",  # Excel's scientific notation
        "Fajar;;ME063100;3;",  # neither NIK nor number
        "Gita;;ME063100;3;NO 1",
        "Hadi;;ME063100;3;NO 1",  # duplicate number in the file
        "Indah;3575040003930011;ME063100;tiga;",  # level not a number
        "Joko;12;XX000000;3;",  # bad NIK *and* unknown job
        "3575040003930015;3575040003930015;ME063100;3;",  # a NIK in the name column
    ]
    return "\n".join(rows).encode()


def test_every_problem_reported_at_once_and_nothing_issued(contoh, settings, store) -> None:
    problems = problems_of(bad_file(), settings, store)
    by_line = {(p["line"], p["column"]) for p in problems}
    assert by_line == {
        (3, "nik"),
        (4, "kode_jabatan"),
        (5, "jenjang"),
        (6, "jenjang"),
        (7, "nama"),
        (8, "nik"),
        (9, "nik"),
        (10, "nik"),
        (12, "nomor"),
        (13, "jenjang"),
        (14, "nik"),
        (14, "kode_jabatan"),
        (15, "nama"),
    }
    text = repr(problems)
    for nik in ("3575040003930001", "3575040003930003", "3,57504E+15", "123;", "3575040003930015"):
        assert nik not in text
    assert any("scientific notation" in p["message"] for p in problems)


def test_xlsx_nik_stored_as_number_names_the_cell(contoh, settings, store, sample_bytes) -> None:
    problems = problems_of(as_xlsx(sample_bytes, nik_as_number=True), settings, store)
    assert problems == [{"line": 4, "column": "nik", "message": problems[0]["message"]}]
    assert "cell B4" in problems[0]["message"]


def test_same_nik_and_job_under_another_name_is_an_error(contoh, settings, store) -> None:
    run(b"nama,nik,kode_jabatan,jenjang\nRina,3575040003930001,ME063100,3\n", settings, store)
    with pytest.raises(cohort.CohortRejected) as excinfo:
        run(b"nama,nik,kode_jabatan,jenjang\nRini,3575040003930001,ME063100,3\n", settings, store)
    [problem] = excinfo.value.problems
    assert problem.column == "nama" and "another name" in problem.message
    assert CredentialRecord.select().count() == 1


def test_existing_number_for_another_person_is_an_error(contoh, settings, store, issue) -> None:
    issue(number="NO 9")
    with pytest.raises(cohort.CohortRejected) as excinfo:
        run(b"nama,nomor,kode_jabatan,jenjang\nSomeone Else,NO 9,ME063100,3\n", settings, store)
    assert excinfo.value.problems[0].column == "nomor"


def test_job_title_column_and_dates(contoh, settings, store) -> None:
    data = (
        b"name,number,job_title,level,valid_from\n"
        b"Rina,A 1,operator wheel excavator,3,15/05/2025\n"
        b"Budi,A 2,Operator Dump Truck,2,2025-06-01\n"
    )
    entries = run(data, settings, store).entries
    assert entries[0].credential.job_code == "ME063100"
    assert entries[0].credential.valid_from == 1_747_267_200  # 2025-05-15T00:00:00Z


@pytest.mark.parametrize(
    "data, message",
    [
        (b"", "empty"),
        (b"nama,nik,kode_jabatan,jenjang\n", "no participant rows"),
        (b"nama,kode_jabatan,jenjang\nA,ME063100,3\n", "nik or nomor"),
        (b"nik,kode_jabatan\n3575040003930001,ME063100\n", "nama/name"),
        (b"nama,nama,nik,kode_jabatan,jenjang\n", "appears twice"),
        (b"PK\x03\x04garbage", "not a readable .xlsx"),
    ],
)
def test_unusable_files_refused(data, message) -> None:
    with pytest.raises(InvalidInput, match=message):
        read_cohort(data)


def test_row_limit() -> None:
    data = b"nama,nomor,kode_jabatan,jenjang\n" + b"A,N 1,ME063100,3\n" * 11
    with pytest.raises(InvalidInput, match="at most 10"):
        read_cohort(data, max_rows=10)


def test_windows_1252_file_is_read(contoh, settings, store) -> None:
    data = "nama;nomor;kode_jabatan;jenjang\r\nAndré Siregar;W 1;ME063100;3\r\n".encode("cp1252")
    assert run(data, settings, store).entries[0].credential.holder_name == "André Siregar"


def test_xlsx_unpacking_over_the_limit_is_refused_for_every_caller(sample_bytes) -> None:
    # The guard sits in the reader, so `skk issue-batch` has it as well as the web route.
    xlsx = as_xlsx(sample_bytes)
    assert read_cohort(xlsx).rows  # the default limit leaves room for any real cohort
    with pytest.raises(InvalidInput, match="unpacks to more than") as refused:
        read_cohort(xlsx, max_unpacked_bytes=16 * 1024)
    assert refused.value.field == "file"

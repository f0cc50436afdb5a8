"""POST /api/v1/credentials/batch through Flask's test client: CSV, Excel-style CSV and .xlsx in,
every row issued or none, every bad row listed, limits, authentication, no NIK anywhere out."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from tests.helpers import NOW
from verifier.store import apikeys
from verifier.store.models import CredentialRecord
from verifier.web.batch_api import MAX_BODY_BYTES, MAX_ROWS, MAX_XLSX_UNPACKED_BYTES
from verifier.web.openapi_spec import SCHEMAS

SAMPLE = Path(__file__).resolve().parent / "data" / "cohort_pasuruan_2025.csv"
BATCH = "/api/v1/credentials/batch"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PROBLEM = "application/problem+json"
RESULT_KEYS = ["line", "number", "name", "job", "level", "status", "verify_url"]


# --- cohorts ---------------------------------------------------------------------------------


def sample_bytes() -> bytes:
    """The 75-row Pasuruan sample (nama,nik,kode_jabatan,jenjang,asosiasi)."""
    assert SAMPLE.exists(), f"fixture missing: {SAMPLE}"
    return SAMPLE.read_bytes()


def sample_niks() -> list[str]:
    """Every NIK of the sample, to prove none comes back out."""
    return [row["nik"] for row in csv.DictReader(io.StringIO(sample_bytes().decode()))]


def fake_nik(index: int) -> str:
    """A valid, unique NIK per index (province 35; birth-day block 00, so never a real person)."""
    return f"3575{index // 10_000 % 100:02d}00{index // 100_000 % 12 + 1:02d}93{index % 10_000:04d}"


def generated_cohort(rows: int) -> bytes:
    """A CSV of ``rows`` distinct valid participants, jobs and levels taken from the sample."""
    sample = list(csv.DictReader(io.StringIO(sample_bytes().decode())))
    jobs = sorted({(row["kode_jabatan"], row["jenjang"]) for row in sample})
    lines = ["nama,nik,kode_jabatan,jenjang"]
    for index in range(rows):
        code, level = jobs[index % len(jobs)]
        lines.append(f"Peserta Nomor {index},{fake_nik(index)},{code},{level}")
    return ("\n".join(lines) + "\n").encode()


def excel_indonesian(data: bytes) -> bytes:
    """The file as Excel in an Indonesian locale saves it, with hand-kept-list mess on top:
    UTF-8 BOM, ``;``, CRLF, stray blank lines, padded cells, NIKs typed with an apostrophe."""
    lines = data.decode().splitlines()
    messy = [lines[0].replace(",", ";")]
    for index, line in enumerate(lines[1:]):
        name, nik, code, level, *rest = line.split(",")
        messy.append(";".join([f"  {name} ", f"'{nik}", f" {code}", f"{level} ", *rest]))
        if index % 10 == 0:
            messy.append(";;;;" if index % 20 else "")
    return ("\ufeff" + "\r\n".join(messy) + "\r\n").encode("utf-8")


def as_xlsx(data: bytes, separator: str = ",") -> bytes:
    """The CSV as an .xlsx workbook, NIKs as text cells and levels as numbers (as Excel does)."""
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    for index, line in enumerate(data.decode().splitlines()):
        cells: list[object] = list(line.split(separator))
        if index and str(cells[3]).isdigit():
            cells[3] = int(str(cells[3]))
        sheet.append(cells)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def bad_file() -> bytes:
    """Two good rows and seven bad ones, of different kinds."""
    return "\n".join(
        [
            "nama;nik;kode_jabatan;jenjang;nomor",
            "Rina Marlina;3575040003930001;ME063100;3;",  # 2 fine
            "Budi;3575040003930;ME063100;3;",  # 3 NIK too short
            "Siti;3575040003930003;XX000000;3;",  # 4 unknown job
            "Dewi;3575040003930005;ME063100;7;",  # 5 level outside the agency's 1-6
            ";3575040003930006;ME063100;3;",  # 6 empty name
            "Rina Marlina;3575040003930001;ME063100;3;",  # 7 same NIK and job as line 2
            "Eko;3,57504E+15;ME063100;3;",  # 8 Excel's scientific notation
            "Fajar;;ME063100;3;",  # 9 neither NIK nor number
            "Gita;9975040003930009;ME063100;3;",  # 10 province code 99
            "Hadi;3575040003930010;ME063100;3;",  # 11 fine
        ]
    ).encode()


BAD_CELLS = {
    (3, "nik"),
    (4, "kode_jabatan"),
    (5, "jenjang"),
    (6, "nama"),
    (7, "nik"),
    (8, "nik"),
    (9, "nik"),
    (10, "nik"),
}
BAD_NIKS = [
    "3575040003930001",
    "3575040003930",
    "3575040003930003",
    "3575040003930005",
    "3575040003930006",
    "3,57504E+15",
    "9975040003930009",
    "3575040003930010",
]


# --- helpers ---------------------------------------------------------------------------------


@pytest.fixture
def auth(contoh) -> dict[str, str]:
    """Authorization header of lsp-contoh (levels 1-6, Ed25519 signing key)."""
    return {"Authorization": f"Bearer {apikeys.create('lsp-contoh', NOW)['api_key']}"}


def post(client, data: bytes, headers: dict[str, str], content_type: str = "text/csv"):
    """POST a raw body to the batch endpoint."""
    return client.post(BATCH, data=data, headers=headers, content_type=content_type)


def assert_no_nik(response, niks: list[str]) -> None:
    """No NIK, and no 12+ digit run at all, anywhere in the body or the headers."""
    text = response.get_data(as_text=True) + str(response.headers)
    for nik in niks:
        assert nik not in text
    assert not any(run.isdigit() and len(run) >= 12 for run in text.replace('"', " ").split())


def schema_check(name: str, body: Any) -> None:
    """The body validates against the OpenAPI component schema ``name``."""
    Draft202012Validator({**SCHEMAS[name], "components": {"schemas": SCHEMAS}}).validate(body)


def credential_count() -> int:
    return CredentialRecord.select().count()


# --- tests -----------------------------------------------------------------------------------


def test_route_is_registered(app):
    # Fails until verifier.web.factory registers verifier.web.batch_api.bp.
    rules = {(rule.rule, method) for rule in app.url_map.iter_rules() for method in rule.methods}
    assert (BATCH, "POST") in rules


def test_sample_issues_every_row_and_each_url_verifies(client, auth):
    response = post(client, sample_bytes(), auth)
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    schema_check("BatchIssued", body)
    assert (body["issued"], body["existing"], len(body["results"])) == (75, 0, 75)
    first = body["results"][0]
    assert list(first) == RESULT_KEYS
    assert first["line"] == 2 and first["name"] == "Muhammad Marlina" and first["level"] == 1
    assert [r["line"] for r in body["results"]] == list(range(2, 77))
    assert {r["status"] for r in body["results"]} == {"issued"}
    assert len({r["number"] for r in body["results"]}) == 75
    assert credential_count() == 75
    assert_no_nik(response, sample_niks())
    for result in body["results"]:
        verdict = client.post("/api/v1/verify", json={"token": result["verify_url"]}).get_json()
        assert verdict["status"] == "valid", result
        assert verdict["credential"]["number"] == result["number"]
        assert verdict["credential"]["holder_name"] == result["name"]
        assert verdict["credential"]["agency"]["id"] == "lsp-contoh"


def test_reposting_issues_nothing_twice(client, auth):
    first = post(client, sample_bytes(), auth).get_json()
    again = post(client, excel_indonesian(sample_bytes()), auth)
    assert again.status_code == 201  # the contract's status; the counts say nothing was new
    body = again.get_json()
    assert (body["issued"], body["existing"]) == (0, 75)
    assert {r["status"] for r in body["results"]} == {"existing"}
    assert [r["number"] for r in body["results"]] == [r["number"] for r in first["results"]]
    assert [r["verify_url"] for r in body["results"]] == [r["verify_url"] for r in first["results"]]
    assert credential_count() == 75


def _multipart(data: bytes, filename: str) -> dict[str, Any]:
    return {"file": (io.BytesIO(data), filename)}


@pytest.mark.parametrize("variant", ["excel-csv", "xlsx", "multipart-xlsx", "multipart-csv"])
def test_excel_files_issue_as_they_are(client, auth, variant):
    sample = sample_bytes()
    if variant == "excel-csv":
        response = post(client, excel_indonesian(sample), auth, "text/csv; charset=utf-8")
    elif variant == "xlsx":
        response = post(client, as_xlsx(sample), auth, XLSX)
    else:
        data, name = (
            (as_xlsx(sample), "Peserta Pasuruan.xlsx")
            if variant == "multipart-xlsx"
            else (excel_indonesian(sample), "peserta.csv")
        )
        response = client.post(
            BATCH, data=_multipart(data, name), headers=auth, content_type="multipart/form-data"
        )
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    assert (body["issued"], body["existing"]) == (75, 0)
    names = [row["nama"] for row in csv.DictReader(io.StringIO(sample.decode()))]
    assert [r["name"] for r in body["results"]] == names  # spaces trimmed, order kept
    assert credential_count() == 75
    assert_no_nik(response, sample_niks())


def test_every_bad_row_is_listed_and_nothing_issued(client, auth):
    response = post(client, bad_file(), auth)
    assert response.status_code == 422
    assert response.mimetype == PROBLEM
    body = response.get_json()
    schema_check("BatchProblem", body)
    assert {(e["line"], e["column"]) for e in body["errors"]} == BAD_CELLS
    assert all(e["message"] for e in body["errors"])
    assert "nothing was issued" in body["detail"]
    assert credential_count() == 0
    assert_no_nik(response, BAD_NIKS)


def test_bad_xlsx_rows_name_their_cells(client, auth):
    response = post(client, as_xlsx(bad_file(), ";"), auth, XLSX)
    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert {(e["line"], e["column"]) for e in errors} == BAD_CELLS
    assert any("cell C4" in e["message"] for e in errors)  # the unknown job code's cell
    assert credential_count() == 0
    assert_no_nik(response, BAD_NIKS)


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer skk_000000000000_not-a-real-secret"},
        {"Authorization": "Basic dXNlcjpwYXNz"},
    ],
)
def test_missing_or_wrong_key_is_401(client, contoh, headers):
    response = post(client, sample_bytes(), headers)
    assert response.status_code == 401
    assert response.mimetype == PROBLEM
    assert "Bearer" in response.headers["WWW-Authenticate"]
    assert credential_count() == 0


def test_revoked_key_is_401(client, contoh):
    created = apikeys.create("lsp-contoh", NOW)
    apikeys.revoke(created["key_id"], NOW + 1)
    response = post(client, sample_bytes(), {"Authorization": f"Bearer {created['api_key']}"})
    assert response.status_code == 401
    assert credential_count() == 0


def test_key_issues_for_its_own_agency_only(client, contoh, make_agency, make_key):
    make_agency("dinas-pupr-jabar", levels=(1, 6), name="Dinas PUPR Jawa Barat")
    make_key("dinas-pupr-jabar")
    headers = {"Authorization": f"Bearer {apikeys.create('dinas-pupr-jabar', NOW)['api_key']}"}
    response = post(client, generated_cohort(2), headers)
    assert response.status_code == 201
    url = response.get_json()["results"][0]["verify_url"]
    verdict = client.post("/api/v1/verify", json={"token": url}).get_json()
    assert verdict["credential"]["agency"]["id"] == "dinas-pupr-jabar"
    assert {r.agency_id for r in CredentialRecord.select()} == {"dinas-pupr-jabar"}


def test_exactly_the_row_limit_is_accepted(client, auth):
    response = post(client, generated_cohort(MAX_ROWS), auth)
    assert response.status_code == 201, response.get_data(as_text=True)[:300]
    assert response.get_json()["issued"] == MAX_ROWS
    assert credential_count() == MAX_ROWS


def test_more_rows_than_the_limit_are_refused_naming_it(client, auth):
    data = generated_cohort(MAX_ROWS + 1)
    assert len(data) < MAX_BODY_BYTES  # refused for its rows, not its size
    response = post(client, data, auth)
    assert response.status_code == 422
    assert response.mimetype == PROBLEM
    detail = response.get_json()["detail"]
    assert f"at most {MAX_ROWS}" in detail
    assert credential_count() == 0


def test_body_over_the_limit_is_413_before_reading(client, auth):
    data = generated_cohort(10) + b"\n" * (MAX_BODY_BYTES)
    response = post(client, data, auth)
    assert response.status_code == 413
    assert response.mimetype == PROBLEM
    assert f"{MAX_BODY_BYTES // 2**20} MiB" in response.get_json()["detail"]
    assert credential_count() == 0


def _chunked(body: bytes, headers: dict[str, str], content_type: str) -> Request:
    """A request without Content-Length whose server ends the stream (chunked encoding)."""
    environ = EnvironBuilder(
        path=BATCH,
        method="POST",
        input_stream=io.BytesIO(body),
        headers=headers,
        content_type=content_type,
    ).get_environ()
    del environ["CONTENT_LENGTH"]
    environ["wsgi.input_terminated"] = True
    return Request(environ)


def test_chunked_body_over_the_limit_is_413_not_cut_short(client, auth):
    # Werkzeug would hand over the first MAX_BODY_BYTES: a silently truncated cohort.
    response = client.open(
        _chunked(generated_cohort(10) + b"\n" * MAX_BODY_BYTES, auth, "text/csv")
    )
    assert response.status_code == 413
    assert "MiB limit of this endpoint" in response.get_json()["detail"]
    assert credential_count() == 0


def test_chunked_multipart_over_the_limit_is_413(client, auth):
    big = EnvironBuilder(
        method="POST", data=_multipart(generated_cohort(10) + b"\n" * MAX_BODY_BYTES, "peserta.csv")
    )
    environ = big.get_environ()
    body, content_type = environ["wsgi.input"].read(), environ["CONTENT_TYPE"]
    environ["wsgi.input"].close()
    big.close()
    response = client.open(_chunked(body, auth, content_type))
    assert response.status_code == 413
    assert credential_count() == 0


def test_chunked_body_within_the_limit_is_read_whole(client, auth):
    response = client.open(_chunked(generated_cohort(10), auth, "text/csv"))
    assert response.status_code == 201
    assert response.get_json()["issued"] == 10


def test_larger_limit_is_for_the_batch_route_only(client, auth):
    data = generated_cohort(400)
    assert len(data) > 16 * 1024  # over the app-wide limit
    assert post(client, data, auth).status_code == 201
    assert client.post("/api/v1/verify", json={"token": "x" * 20_000}).status_code == 413
    too_big = {"holder_name": "x" * 20_000, "job_code": "ME063100", "level": 3}
    assert client.post("/api/v1/credentials", json=too_big, headers=auth).status_code == 413


@pytest.mark.parametrize(
    "content_type", ["application/json", "text/plain", "application/octet-stream"]
)
def test_wrong_content_type_is_415_naming_the_accepted_ones(client, auth, content_type):
    response = post(client, sample_bytes(), auth, content_type)
    assert response.status_code == 415
    assert response.mimetype == PROBLEM
    detail = response.get_json()["detail"]
    assert "text/csv" in detail and XLSX in detail and "multipart/form-data" in detail
    assert credential_count() == 0


def test_multipart_without_a_file_part_is_400_naming_it(client, auth):
    response = client.post(
        BATCH,
        data={"upload": (io.BytesIO(sample_bytes()), "x.csv")},
        headers=auth,
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert response.get_json()["field"] == "file"
    assert credential_count() == 0


@pytest.mark.parametrize(
    "data, content_type, message",
    [
        (b"", "text/csv", "empty"),
        (b"nama,nik,kode_jabatan,jenjang\r\n", "text/csv", "no participant rows"),
        (b"nama,kode_jabatan,jenjang\nRina,ME063100,3\n", "text/csv", "nik or nomor"),
        (b"this is not a workbook", XLSX, "not a readable .xlsx"),
        (b"PK\x03\x04 truncated zip", "text/csv", "not a readable .xlsx"),
    ],
)
def test_unusable_files_are_422_naming_the_problem(client, auth, data, content_type, message):
    response = post(client, data, auth, content_type)
    assert response.status_code == 422
    assert message in response.get_json()["detail"]
    assert response.get_json()["field"] == "file"


def test_xlsx_zip_bomb_is_refused_before_unpacking(client, auth):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b" " * (MAX_XLSX_UNPACKED_BYTES + 1))
    assert len(out.getvalue()) < 100_000
    response = post(client, out.getvalue(), auth, XLSX)
    assert response.status_code == 422
    assert "unpacks to more than" in response.get_json()["detail"]

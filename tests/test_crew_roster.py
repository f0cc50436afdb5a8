"""Reading crew rosters: JSON members, CSV as Excel in Indonesian saves it, and .xlsx; every bad
row reported with its line and column; never a NIK kept or repeated."""

from __future__ import annotations

import io
from typing import Any

import pytest

from verifier.core.crew import roster
from verifier.core.crew.roster import MAX_WORKERS, RosterRejected
from verifier.core.crew.worker import RosterWorker
from verifier.core.errors import InvalidInput
from verifier.crew import roster_file

NIK = "3273010001900042"
AGENCIES = {"lsp-contoh": "lsp-contoh", "LSP Konstruksi Contoh Nusantara": "lsp-contoh"}
UNPACKED = 16 * 1024 * 1024
TOKEN = "HTTPS://SERTIFIKAT.EXAMPLE.ID/V/1531141728438987728983889619620214"


def resolve(typed: str) -> str | None:
    """A stand-in for the registry: one agency, by id or name."""
    return AGENCIES.get(typed.strip())


def from_csv(text: str, encoding: str = "utf-8") -> list[RosterWorker]:
    return roster_file.from_file(
        text.encode(encoding), resolve, "kru.csv", max_unpacked_bytes=UNPACKED
    )


def problems(call: Any) -> list[dict[str, Any]]:
    with pytest.raises(RosterRejected) as rejected:
        call()
    return [problem.to_dict() for problem in rejected.value.problems]


def xlsx(rows: list[list[Any]]) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def test_excel_indonesian_csv_with_every_quirk():
    text = (
        "\ufeffNo.;Ref;Kredensial;Lembaga;Nomor;Nama\r\n"
        f"1;KRU-01;  {TOKEN} ;;;\r\n"
        "\r\n"
        ";;;;;\r\n"
        "2;'007;;lsp-contoh;'ME063100  3 48213377 2026;  Rina   Marlina \r\n"
    )
    workers = from_csv(text)
    assert workers == [
        RosterWorker(1, 2, "KRU-01", credential=TOKEN),
        RosterWorker(
            2,
            5,
            "007",
            agency="lsp-contoh",
            number="ME063100 3 48213377 2026",
            holder_name="Rina Marlina",
        ),
    ]


def test_windows_1252_and_english_headers():
    text = "ref,agency,number,name\nA,LSP Konstruksi Contoh Nusantara,X 1,Zoë Ørsted\n"
    (worker,) = from_csv(text, "cp1252")
    assert (worker.agency, worker.number, worker.holder_name) == ("lsp-contoh", "X 1", "Zoë Ørsted")


def test_xlsx_with_numbers_and_cells_named():
    data = xlsx(
        [
            ["ref", "kredensial", "lembaga", "nomor", "nama"],
            [17, TOKEN, None, None, None],
            [None, None, "lsp-contoh", "ME063100 3 1 2026", "Budi"],
            [None, None, "lsp-contoh", 4.1e15, "Ani"],
            [None, None, "lsp-lain", "X 2", None],
        ]
    )
    found = problems(
        lambda: roster_file.from_file(data, resolve, "kru.xlsx", max_unpacked_bytes=UNPACKED)
    )
    assert found == [
        {
            "line": 4,
            "column": "nomor",
            "message": "this looks like a NIK, not a certificate "
            "number; a crew list never holds a NIK (cell D4)",
        },
        {
            "line": 5,
            "column": "nama",
            "message": "holder name is empty (needed with a certificate number) (cell E5)",
        },
        {
            "line": 5,
            "column": "lembaga",
            "message": "not a registered agency: give its id (as "
            "GET /api/v1/agencies lists them) or its full name (cell C5)",
        },
    ]
    good = xlsx([["ref", "kredensial"], [17, TOKEN]])
    assert roster_file.from_file(good, resolve, max_unpacked_bytes=UNPACKED) == [
        RosterWorker(1, 2, "17", credential=TOKEN)
    ]


def test_number_excel_showed_in_scientific_notation():
    found = problems(lambda: from_csv("lembaga;nomor;nama\nlsp-contoh;4,1E+15;Rina\n"))
    assert found == [
        {
            "line": 2,
            "column": "nomor",
            "message": "Excel turned this number into "
            "scientific notation and lost digits; format the column as Text and type "
            "it again",
        }
    ]


def test_every_bad_row_is_reported_at_once():
    text = (
        "kredensial;lembaga;nomor;nama\n"
        ";lsp-contoh;;Rina\n"
        f";lsp-contoh;{NIK};Rina\n"
        f";lsp-contoh;X 1;Rina {NIK}\n"
        ";lsp-contoh;X/1;Rina\n"
        "x\x00y;;;\n"
        ";;;\n"
        ";lsp-contoh;X 2;Rina\n"
    )
    found = problems(lambda: from_csv(text))
    assert [(p["line"], p["column"]) for p in found] == [
        (2, "nomor"),
        (3, "nomor"),
        (4, "nama"),
        (5, "nomor"),
        (6, "kredensial"),
    ]
    assert all(NIK not in p["message"] for p in found)
    assert "looks like a NIK" in found[1]["message"]


def test_missing_columns_and_empty_files():
    with pytest.raises(InvalidInput, match="kredensial/credential, or lembaga/agency"):
        from_csv("nama;nomor\nRina;X 1\n")
    with pytest.raises(InvalidInput, match="no worker rows"):
        from_csv("kredensial\n\n")
    with pytest.raises(InvalidInput, match="expected a header row and worker rows"):
        from_csv("\n\n")


def test_a_nik_column_is_ignored_and_never_kept():
    (worker,) = from_csv(f"nik;kredensial\n{NIK};{TOKEN}\n")
    assert NIK not in repr(worker)


def test_row_limit():
    rows = "".join(f"{TOKEN}{i}\n" for i in range(MAX_WORKERS + 1))
    with pytest.raises(InvalidInput, match=f"at most {MAX_WORKERS} per check"):
        from_csv("kredensial\n" + rows)
    assert (
        len(from_csv("kredensial\n" + "".join(f"t{i}\n" for i in range(MAX_WORKERS))))
        == MAX_WORKERS
    )
    with pytest.raises(InvalidInput, match="at most 2000 workers"):
        roster.from_members([{"credential": "t"}] * (MAX_WORKERS + 1), resolve)


def test_json_members():
    workers = roster.from_members(
        [
            {"credential": TOKEN, "ref": "A"},
            {"agency": "lsp-contoh", "number": " me063100  3 1 2026 ", "holder_name": "Rina"},
            {"credential": TOKEN, "agency": "ignored", "number": "ignored", "holder_name": None},
        ],
        resolve,
    )
    assert workers[1].number == "me063100 3 1 2026"
    assert workers[2] == RosterWorker(3, None, None, credential=TOKEN)
    found = problems(
        lambda: roster.from_members(
            [{}, {"agency": "lsp-contoh", "number": "X 1"}, {"ref": "x" * 101, "credential": "t"}],
            resolve,
        )
    )
    assert [(p["line"], p["column"]) for p in found] == [
        (1, "credential"),
        (2, "holder_name"),
        (3, "ref"),
    ]
    with pytest.raises(InvalidInput, match="no workers"):
        roster.from_members([], resolve)


def test_too_long_credential_is_a_row_problem():
    found = problems(lambda: roster.from_members([{"credential": "x" * 4097}], resolve))
    assert found[0]["column"] == "credential" and "4096" in found[0]["message"]


def test_a_cell_over_the_csv_field_limit_is_refused_naming_its_line() -> None:
    huge = "x" * 200 * 1024  # over the CSV reader's 128 KiB field limit: csv.Error before
    with pytest.raises(InvalidInput) as refused:
        from_csv(f'nomor;nama;lembaga\nA-1;Rina;lsp-contoh\nA-2;"{huge}";lsp-contoh\n')
    assert refused.value.message == (
        "line 3: a cell is larger than 128 KiB: not a spreadsheet's CSV"
    )
    assert refused.value.field == "file"

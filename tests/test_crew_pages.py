"""The /cek-kru page through Flask's test client: form, templates, report with problems first,
the CSV download link, every refusal as a page, both languages, nothing stored, no NIK."""

from __future__ import annotations

import base64
import csv
import io
import re
from typing import Any

import pytest

from verifier.crew.roster_file import from_file
from verifier.store import apikeys, projects, revocation
from verifier.store.models import CrewMember

from .test_crew_api import fresh, wall_clock  # noqa: F401 (the fresh fixture)
from .test_crew_roster import xlsx

PAGE = "/cek-kru"
NIK = "3273010001900042"
HOLDER = "Muhammad Rizky Pratama Saputra"


def body(response) -> str:
    return response.get_data(as_text=True)


def upload(client, data: bytes, filename: str = "kru.xlsx", **fields: str):
    return client.post(
        PAGE,
        data={"file": (io.BytesIO(data), filename), **fields},
        content_type="multipart/form-data",
    )


def table_statuses(page: str) -> list[str]:
    return re.findall(r'<tr class="(?:problem|ok)" data-status="([a-z_]+)"', page)


def test_form_is_scriptless_and_not_stored(client, contoh):
    response = client.get(PAGE)
    page = body(response)
    assert response.status_code == 200 and "<script" not in page
    assert 'enctype="multipart/form-data"' in page and 'name="file"' in page
    assert 'href="/cek-kru/template.xlsx"' in page and "lsp-contoh" in page
    assert response.headers["Cache-Control"] == "no-store"
    assert "noindex" in response.headers["X-Robots-Tag"]
    assert "Cek kru" in page  # Bahasa Indonesia by default
    assert "Crew check" in body(client.get(PAGE + "?lang=en"))


def test_templates_are_lists_the_reader_takes(client, database):
    for name in ("template.xlsx", "template.csv"):
        response = client.get(f"{PAGE}/{name}")
        assert response.status_code == 200
        assert "attachment" in response.headers["Content-Disposition"]
        workers = from_file(
            response.get_data(), lambda typed: "lsp-contoh", name, max_unpacked_bytes=2**24
        )
        assert [w.by_number for w in workers] == [False, True]
        assert workers[1].number == "ME063100 3 48213377 2026"
    text = client.get(f"{PAGE}/template.csv").get_data().decode("utf-8-sig")
    assert text.splitlines()[0] == "no;ref;kredensial;lembaga;nomor;nama"


@pytest.fixture
def roster_file(fresh) -> tuple[bytes, dict[str, Any]]:  # noqa: F811
    """Five workers: in order, revoked (by number), garbage, and one valid listed twice."""
    clean, good, bad = fresh(holder_name="Ani"), fresh(), fresh(holder_name="Budi Santoso")
    revocation.revoke(
        "lsp-contoh", bad.credential.number, "misuse", note=None, actor="t", now=wall_clock()
    )
    data = xlsx(
        [
            ["ref", "kredensial", "lembaga", "nomor", "nama", "nik"],
            ["A", clean.token, None, None, None, NIK],
            ["B", None, "lsp-contoh", bad.credential.number, "budi santoso", NIK],
            ["C", "rusak", None, None, None, None],
            ["D", good.token, None, None, None, None],
            ["E", good.token, None, None, None, None],
        ]
    )
    return data, {"good": good, "bad": bad, "clean": clean}


def test_report_lists_problems_first_with_a_csv_link(client, roster_file):
    data, made = roster_file
    response = upload(client, data, name="Proyek Tol", requirements="ME063100:3")
    page = body(response)
    assert response.status_code == 200, page
    assert re.findall(r'<tr class="(?:problem|ok)" data-status="[a-z_]+">\n<td>(\d+)', page) == [
        "3",
        "4",
        "5",
        "6",
        "2",
    ]  # problems first, then the rest, each in file order
    assert table_statuses(page) == ["revoked", "malformed", "valid", "valid", "valid"]
    assert re.findall(r'<tr class="(problem|ok)"', page) == ["problem"] * 4 + ["ok"]
    assert 'data-workers="5" data-problems="4"' in page and "Proyek Tol" in page
    assert "DICABUT" in page and "Tercantum lebih dari sekali" in page
    assert made["good"].credential.holder_name in page and NIK not in page
    assert "<script" not in page and CrewMember.select().count() == 0
    link = re.search(r'href="data:text/csv;charset=utf-8;base64,([A-Za-z0-9+/=]+)"', page)
    assert link is not None
    report = list(
        csv.DictReader(
            io.StringIO(base64.b64decode(link.group(1)).decode("utf-8-sig")), delimiter=";"
        )
    )
    assert [(r["line"], r["ref"], r["status"]) for r in report] == [
        ("2", "A", "valid"),
        ("3", "B", "revoked"),
        ("4", "C", "malformed"),
        ("5", "D", "valid"),
        ("6", "E", "valid"),
    ]


def test_clean_crew_is_all_in_order(client, fresh):  # noqa: F811
    data = xlsx([["kredensial"], [fresh().token], [fresh(holder_name="Budi").token]])
    page = body(upload(client, data))
    assert re.findall(r'<tr class="(problem|ok)"', page) == ["ok", "ok"]
    assert 'data-problems="0"' in page


def test_bad_rows_are_shown_with_line_and_column(client, contoh):
    data = f"lembaga;nomor;nama\nlsp-contoh;{NIK};Rina\nlsp-x;X 1;Rina\n".encode()
    response = upload(client, data, filename="kru.csv")
    page = body(response)
    assert response.status_code == 422
    assert "<td>2</td><td>nomor</td>" in page and "<td>3</td><td>lembaga</td>" in page
    assert NIK not in page and "tidak ada yang diperiksa" in page


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"ends": "31/12/2026"}, "like 2026-12-31"),
        ({"requirements": "ME063100"}, "ME063100:3"),
        ({"key": "skk_000000000000_" + "x" * 43}, "project key is not valid"),
    ],
)
def test_bad_fields_are_explained(client, fresh, fields, message):  # noqa: F811
    response = upload(client, xlsx([["kredensial"], [fresh().token]]), **fields)
    assert response.status_code == 422 and message in body(response)


def test_missing_file_is_explained(client, contoh):
    response = client.post(PAGE, data={"name": "x"}, content_type="multipart/form-data")
    assert response.status_code == 422 and "choose the file" in body(response)


def test_rows_by_number_are_limited_unless_a_project_key_is_typed(database, env, fresh):  # noqa: F811
    from verifier import create_app

    app = create_app({**env, "TESTING": True, "SKK_RATELIMIT_MANUAL_CHECK_MATCH": "2 per minute"})
    client = app.test_client()
    signed = fresh()
    rows = [["lembaga", "nomor", "nama"]] + [["lsp-contoh", signed.credential.number, HOLDER]] * 3
    refused = upload(client, xlsx(rows))
    assert refused.status_code == 429 and refused.headers["Retry-After"]
    assert "kunci proyek" in body(refused)
    projects.add_owner("pupr-tol", "Ditjen Bina Marga", wall_clock())
    key = apikeys.create_for_owner("pupr-tol", 0)["api_key"]
    allowed = upload(client, xlsx(rows), key=key)
    assert allowed.status_code == 200 and table_statuses(body(allowed)) == ["valid"] * 3
    assert key not in body(allowed)


def test_english_report(client, roster_file):
    page = body(
        client.post(
            PAGE + "?lang=en",
            data={"file": (io.BytesIO(roster_file[0]), "kru.xlsx")},
            content_type="multipart/form-data",
        )
    )
    assert "Crew check report" in page and "REVOKED" in page and "Listed more than once" in page


@pytest.mark.parametrize(
    ("path", "words"),
    [
        ("/privasi", ["Cek kru oleh pemilik proyek", "90 hari", "Tidak pernah NIK"]),
        (
            "/privacy?lang=en",
            [
                "Crew checks by project owners",
                "90 days",
                "Never a NIK",
                "never which project or whose",
            ],
        ),
    ],
)
def test_privacy_notice_says_what_crew_checks_keep(client, database, path, words):
    page = body(client.get(path))
    for text in words:
        assert text in page

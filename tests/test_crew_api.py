"""Crew checks over HTTP (Flask's test client): the one-off check in JSON, CSV and .xlsx, the CSV
answer, per-client limits, owner keys, watched projects and their isolation, webhook
subscriptions, and a 75-worker spreadsheet in one step."""

from __future__ import annotations

import csv
import io
import time
from typing import Any

import pytest

from tests.helpers import DAY
from verifier.store import apikeys, projects, revocation
from verifier.store.credentials import SignedCredential
from verifier.store.models import CrewMember, WebhookSubscription
from verifier.web.crew_api import MAX_BODY_BYTES

from .test_crew_roster import xlsx

CHECK = "/api/v1/crew-check"
PROJECTS = "/api/v1/projects"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HOLDER = "Muhammad Rizky Pratama Saputra"
NIK = "3273010001900042"


def wall_clock() -> int:
    return int(time.time())


@pytest.fixture
def fresh(contoh, issue):
    """Factory: a credential of lsp-contoh issued an hour ago (pages and API use the wall clock)."""

    def make(**fields: Any) -> SignedCredential:
        return issue(now=wall_clock() - 3600, **fields)

    return make


@pytest.fixture
def owner_auth(database) -> dict[str, str]:
    """Authorization header of project owner pupr-tol."""
    projects.add_owner("pupr-tol", "Ditjen Bina Marga", wall_clock())
    return {"Authorization": f"Bearer {apikeys.create_for_owner('pupr-tol', 0)['api_key']}"}


@pytest.fixture
def other_owner_auth(database) -> dict[str, str]:
    """Authorization header of a second project owner."""
    projects.add_owner("bumn-karya", "PT Karya Contoh (Persero)", wall_clock())
    return {"Authorization": f"Bearer {apikeys.create_for_owner('bumn-karya', 0)['api_key']}"}


def rows_of(response) -> list[dict[str, str]]:
    text = response.get_data().decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text), delimiter=";"))


# --- the one-off check ---------------------------------------------------------------------------


def test_json_check_reports_every_worker_in_order(client, fresh, settings):
    good, revoked = fresh(), fresh(holder_name="Budi Santoso", level=1, job_code="SI013017")
    revocation.revoke(
        "lsp-contoh",
        revoked.credential.number,
        "misuse",
        note=None,
        actor="t",
        now=wall_clock() - 60,
    )
    url = f"{settings.base_url}/v/x".replace("/v/x", "/V/") + good.token  # the whole URL works
    body = {
        "project": {
            "name": "Tol Contoh",
            "ends": "2099-12-31",
            "requirements": [{"job_code": "ME063100", "min_level": 3}],
        },
        "workers": [
            {"ref": "K-1", "credential": url},
            {"credential": revoked.token},
            {
                "agency": "lsp-contoh",
                "number": good.credential.number,
                "holder_name": HOLDER.upper(),
            },
            {"credential": "bukan sertifikat"},
        ],
    }
    response = client.post(CHECK, json=body)
    assert response.status_code == 200, response.get_data(as_text=True)
    report = response.get_json()
    assert report["summary"] == {
        "workers": 4,
        "ok": 0,
        "problems": 4,
        "by_status": {"valid": 2, "malformed": 1, "revoked": 1},
        "by_finding": {
            "expires_before_project_end": 3,
            "job_not_in_requirements": 1,
            "duplicate_in_list": 2,
        },
    }
    assert [(w["ref"], w["status"]) for w in report["workers"]] == [
        ("K-1", "valid"),
        (None, "revoked"),
        (None, "valid"),
        (None, "malformed"),
    ]
    assert report["workers"][0]["findings"] == ["expires_before_project_end", "duplicate_in_list"]
    assert report["workers"][1]["revocation"]["reason"] == "misuse"
    assert report["workers"][0]["credential"]["holder_name"] == HOLDER
    assert report["project"] == {
        "name": "Tol Contoh",
        "ends": "2099-12-31",
        "requirements": [{"job_code": "ME063100", "min_level": 3}],
    }
    assert CrewMember.select().count() == 0  # a one-off check stores nothing


def test_csv_answer_is_the_same_report(client, fresh):
    signed = fresh()
    body = {"workers": [{"ref": "=1+1", "credential": signed.token}, {"credential": "x"}]}
    as_json = client.post(CHECK, json=body).get_json()
    as_csv = client.post(CHECK, json=body, headers={"Accept": "text/csv"})
    assert as_csv.status_code == 200 and as_csv.mimetype == "text/csv"
    assert as_csv.get_data().startswith("\ufeff".encode())
    rows = rows_of(as_csv)
    assert [row["status"] for row in rows] == [w["status"] for w in as_json["workers"]]
    assert rows[0]["ref"] == "'=1+1"  # a spreadsheet never runs it as a formula
    assert rows[0]["number"] == signed.credential.number and rows[0]["problem"] == "no"
    assert rows[1]["problem"] == "yes" and rows[1]["line"] == "2"
    assert client.post(CHECK, json=body, headers={"Accept": "*/*"}).is_json


@pytest.mark.parametrize("kind", ["csv", "xlsx", "multipart"])
def test_file_uploads_with_project_terms(client, fresh, kind):
    signed = fresh()
    table = [
        ["Ref", "Kredensial", "Lembaga", "Nomor", "Nama"],
        ["A", signed.token, "", "", ""],
        [
            "B",
            "",
            "LSP Konstruksi Contoh Nusantara",
            f"'{signed.credential.number}",
            "budi santoso",
        ],
    ]
    if kind == "xlsx":
        data, headers = xlsx(table), {"Content-Type": XLSX}
    else:
        text = "\r\n".join(";".join(row) for row in table) + "\r\n"
        data, headers = ("\ufeff" + text).encode(), {"Content-Type": "text/csv"}
    terms = {"name": "Bendungan", "ends": "2099-01-31", "requirements": "SI013017:1"}
    if kind == "multipart":
        response = client.post(
            CHECK,
            data={"file": (io.BytesIO(data), "kru.csv"), **terms},
            content_type="multipart/form-data",
        )
    else:
        response = client.post(CHECK, data=data, headers=headers, query_string=terms)
    assert response.status_code == 200, response.get_data(as_text=True)
    report = response.get_json()
    assert [(w["line"], w["ref"], w["status"]) for w in report["workers"]] == [
        (2, "A", "valid"),
        (3, "B", "not_found"),
    ]
    assert report["workers"][0]["findings"] == [
        "expires_before_project_end",
        "job_not_in_requirements",
    ]
    assert report["project"]["requirements"] == [{"job_code": "SI013017", "min_level": 1}]


def test_multipart_files_over_16_kib_are_read(client, contoh, fresh):
    tokens = [fresh(holder_name=f"Pekerja {i}").token for i in range(60)]
    data = ("kredensial\n" + "\n".join(tokens) + "\n").encode()
    assert len(data) > 16 * 1024
    for path in (CHECK, "/api/v1/credentials/batch"):
        headers = (
            {"Authorization": f"Bearer {apikeys.create('lsp-contoh', 0)['api_key']}"}
            if "batch" in path
            else {}
        )
        response = client.post(
            path,
            data={"file": (io.BytesIO(data), "kru.csv")},
            content_type="multipart/form-data",
            headers=headers,
        )
        assert response.status_code in (200, 422), path  # read, not refused for its size
    response = client.post(
        CHECK, data={"file": (io.BytesIO(data), "kru.csv")}, content_type="multipart/form-data"
    )
    assert response.get_json()["summary"]["by_status"] == {"valid": 60}


def test_bad_rows_are_422_with_line_and_column(client, database):
    text = "kredensial;lembaga;nomor;nama\n;lsp-tidak-ada;X 1;Rina\n;;;\n;lsp-x;;\n"
    response = client.post(CHECK, data=text.encode(), content_type="text/csv")
    assert response.status_code == 422 and response.mimetype == "application/problem+json"
    problem = response.get_json()
    assert [(e["line"], e["column"]) for e in problem["errors"]] == [
        (2, "lembaga"),
        (4, "nomor"),
        (4, "nama"),
        (4, "lembaga"),
    ]
    json_rows = client.post(CHECK, json={"workers": [{"credential": "t"}, {"number": NIK}]})
    assert json_rows.status_code == 422
    errors = json_rows.get_json()["errors"]
    assert {(e["line"], e["column"]) for e in errors} == {
        (2, "agency"),
        (2, "holder_name"),
        (2, "number"),
    }
    assert NIK not in json_rows.get_data(as_text=True)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"workers": "x"}, "workers"),
        ({}, "workers"),
        ({"workers": [1]}, "workers[0]"),
        ({"workers": [{"credential": 1}]}, "workers[0].credential"),
        ({"workers": [{"nik": NIK}]}, "workers[0].nik"),
        ({"workers": [], "project": {"ends": 20261231}}, "project.ends"),
        (
            {"workers": [], "project": {"requirements": [{"job_code": "ME063100"}]}},
            "project.requirements[0].min_level",
        ),
        ({"workers": [], "iss": "x"}, "iss"),
    ],
)
def test_wrong_json_types_are_400_naming_the_member(client, database, body, field):
    response = client.post(CHECK, json=body)
    assert response.status_code == 400, response.get_data(as_text=True)
    assert response.get_json()["field"] == field


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({"workers": []}, "no workers"),
        ({"workers": [{"credential": "t"}], "project": {"ends": "31-12-2026"}}, "2026-12-31"),
    ],
)
def test_domain_problems_are_422(client, database, body, detail):
    response = client.post(CHECK, json=body)
    assert response.status_code == 422 and detail in response.get_json()["detail"]


def test_other_bodies(client, database):
    assert client.post(CHECK, data="x", content_type="text/plain").status_code == 415
    huge = client.post(CHECK, data=b"x" * (MAX_BODY_BYTES + 1), content_type="text/csv")
    assert huge.status_code == 413
    many = {"workers": [{"credential": "t"}] * 2001}
    assert client.post(CHECK, json=many).status_code == 422
    assert client.post(CHECK, json={"workers": [{"credential": "t"}] * 2000}).status_code == 200


# --- limits and keys -----------------------------------------------------------------------------


@pytest.fixture
def limited(database, env):
    """The app with manual checks limited to 3 misses and 5 matches a minute, and a client from
    one address."""
    from verifier import create_app

    app = create_app(
        {
            **env,
            "TESTING": True,
            "SKK_RATELIMIT_MANUAL_CHECK": "3 per minute",
            "SKK_RATELIMIT_MANUAL_CHECK_MATCH": "5 per minute",
        }
    )
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = "10.9.9.9"
    return client


def _typed(signed: SignedCredential) -> dict[str, str]:
    return {"agency": "lsp-contoh", "number": signed.credential.number, "holder_name": HOLDER}


def _guess(index: int) -> dict[str, str]:
    return {"agency": "lsp-contoh", "number": f"TEBAK {index}", "holder_name": "Tebakan"}


def test_rows_by_number_count_as_manual_checks_by_outcome(limited, fresh, owner_auth):
    signed = fresh()
    two = {"workers": [_typed(signed), _typed(signed), {"credential": signed.token}]}
    assert limited.post(CHECK, json=two).status_code == 200  # 2 of 5 matches spent
    assert limited.post(CHECK, json=two).status_code == 200  # 4 of 5
    refused = limited.post(CHECK, json=two)  # counted (6 of 5), then refused
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    assert "counts as one manual check" in refused.get_json()["detail"]
    # Spent matches close /cek too (before any look-up); scanned rows never count; an owner's
    # key is not limited.
    manual = limited.post("/cek", data={"agency": "lsp-contoh", "number": "X", "name": "Y"})
    assert manual.status_code == 429
    assert (
        limited.post(CHECK, json={"workers": [{"credential": signed.token}] * 20}).status_code
        == 200
    )
    as_owner = limited.post(CHECK, json={"workers": [_typed(signed)] * 20}, headers=owner_auth)
    assert as_owner.status_code == 200
    assert {w["status"] for w in as_owner.get_json()["workers"]} == {"valid"}


def test_misses_in_a_list_spend_the_strict_limit(limited, fresh):
    signed = fresh()
    # Three matches and two misses fit; the next miss spends the last one; then the client,
    # /cek included, is refused before anything is looked up, whatever the rows hold.
    mixed = {"workers": [_typed(signed)] * 3 + [_guess(1), _guess(2)]}
    statuses = [w["status"] for w in limited.post(CHECK, json=mixed).get_json()["workers"]]
    assert statuses == ["valid"] * 3 + ["not_found"] * 2
    assert limited.post(CHECK, json={"workers": [_guess(3)]}).status_code == 200
    refused = limited.post(CHECK, json={"workers": [_typed(signed)]})
    assert refused.status_code == 429
    assert (
        limited.post(
            "/cek",
            data={"agency": "lsp-contoh", "number": signed.credential.number, "name": HOLDER},
        ).status_code
        == 429
    )


def test_a_list_with_more_misses_than_are_left_is_counted_then_refused(limited, fresh):
    response = limited.post(CHECK, json={"workers": [_guess(index) for index in range(40)]})
    assert response.status_code == 429 and "workers" not in response.get_json()
    assert "counts as one manual check" in response.get_json()["detail"]
    # Counted: the next list, all matches, is refused too (an enumerator got one answer: 429).
    assert limited.post(CHECK, json={"workers": [_typed(fresh())]}).status_code == 429


def test_owner_key_tells_name_mismatch_public_check_does_not(client, fresh, owner_auth):
    signed = fresh()
    body = {"workers": [{**_typed(signed), "holder_name": "Orang Lain"}]}
    assert client.post(CHECK, json=body).get_json()["workers"][0]["status"] == "not_found"
    owned = client.post(CHECK, json=body, headers=owner_auth).get_json()
    assert owned["workers"][0]["status"] == "name_mismatch"


def test_crew_check_refuses_keys_that_are_not_an_owners(client, fresh, owner_auth):
    agency_key = apikeys.create("lsp-contoh", 0)["api_key"]
    body = {"workers": [{"credential": fresh().token}]}
    for header in (f"Bearer {agency_key}", "Bearer skk_000000000000_" + "x" * 43, "Basic x"):
        response = client.post(CHECK, json=body, headers={"Authorization": header})
        assert response.status_code == 401, header


def test_owner_and_agency_keys_are_not_interchangeable(client, contoh, owner_auth):
    agency = {"Authorization": f"Bearer {apikeys.create('lsp-contoh', 0)['api_key']}"}
    assert client.get(PROJECTS, headers=agency).status_code == 401
    assert client.get("/api/v1/audit", headers=owner_auth).status_code == 401
    assert client.post("/api/v1/credentials", json={}, headers=owner_auth).status_code == 401
    assert client.get(PROJECTS, headers=owner_auth).status_code == 200
    assert client.get(PROJECTS).status_code == 401


# --- watched projects ----------------------------------------------------------------------------


def _new_project(client, auth, **fields: Any) -> dict[str, Any]:
    body = {
        "name": "Tol Trans Contoh",
        "starts": "2026-01-01",
        "ends": "2099-12-31",
        "requirements": [{"job_code": "ME063100", "min_level": 3}],
        **fields,
    }
    response = client.post(PROJECTS, json=body, headers=auth)
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.headers["Location"].endswith(f"/api/v1/projects/{response.get_json()['id']}")
    return response.get_json()


def test_project_life_cycle(client, fresh, owner_auth):
    project = _new_project(client, owner_auth)
    assert set(project) == {"id", "name", "starts", "ends", "requirements", "created_at"}
    base = f"{PROJECTS}/{project['id']}"
    assert client.get(base, headers=owner_auth).get_json() == project
    assert client.get(PROJECTS, headers=owner_auth).get_json() == {"projects": [project]}
    signed = fresh()
    put = client.put(
        f"{base}/crew",
        json={"workers": [{"ref": "1", "credential": signed.token}, _typed(signed)]},
        headers=owner_auth,
    )
    assert put.status_code == 200
    assert put.get_json()["summary"]["by_finding"] == {
        "expires_before_project_end": 2,
        "duplicate_in_list": 2,
    }
    report = client.get(f"{base}/report", headers=owner_auth)
    assert report.get_json()["workers"] == put.get_json()["workers"]
    assert report.get_json()["project"]["id"] == project["id"]
    as_csv = client.get(f"{base}/report", headers={**owner_auth, "Accept": "text/csv"})
    assert [row["ref"] for row in rows_of(as_csv)] == ["1", ""]
    # The crew follows the credential's state.
    revocation.suspend(
        "lsp-contoh",
        signed.credential.number,
        "investigation",
        note=None,
        actor="t",
        now=wall_clock(),
    )
    again = client.get(f"{base}/report", headers=owner_auth).get_json()
    assert [w["status"] for w in again["workers"]] == ["suspended", "suspended"]
    assert client.delete(base, headers=owner_auth).status_code == 204
    assert client.get(base, headers=owner_auth).status_code == 404
    assert CrewMember.select().count() == 0


def test_crew_from_a_spreadsheet_replaces_the_last(client, fresh, owner_auth):
    project = _new_project(client, owner_auth)
    crew = f"{PROJECTS}/{project['id']}/crew"
    first, second = fresh(), fresh(holder_name="Budi Santoso")
    data = xlsx([["ref", "kredensial"], ["A", first.token], ["B", second.token]])
    response = client.put(crew, data=data, headers={**owner_auth, "Content-Type": XLSX})
    assert response.status_code == 200 and response.get_json()["summary"]["workers"] == 2
    text = f"ref;kredensial\nC;{second.token}\n".encode()
    response = client.put(crew, data=text, headers={**owner_auth, "Content-Type": "text/csv"})
    assert [w["ref"] for w in response.get_json()["workers"]] == ["C"]
    assert CrewMember.select().count() == 1
    bad = client.put(
        crew, data=b"ref;nomor\nX;1\n", headers={**owner_auth, "Content-Type": "text/csv"}
    )
    assert bad.status_code == 422 and CrewMember.select().count() == 1  # nothing replaced


def test_another_owners_project_is_404_everywhere(client, fresh, owner_auth, other_owner_auth):
    theirs = _new_project(client, other_owner_auth)
    base = f"{PROJECTS}/{theirs['id']}"
    calls = [
        ("get", base, None),
        ("delete", base, None),
        ("get", f"{base}/report", None),
        ("put", f"{base}/crew", {"workers": [{"credential": "t"}]}),
        ("post", f"{base}/webhooks", {"url": "https://hook.example.id/skk"}),
        ("get", f"{base}/webhooks", None),
        ("delete", f"{base}/webhooks/0123456789abcdef", None),
    ]
    for method, path, body in calls:
        response = getattr(client, method)(path, json=body, headers=owner_auth)
        assert response.status_code == 404, (method, path)
        assert response.get_json()["detail"] == "you have no such project"
    assert client.get(PROJECTS, headers=owner_auth).get_json() == {"projects": []}
    assert client.get(base, headers=other_owner_auth).status_code == 200
    for weird in ("x", "0" * 17, "%00" * 8, "abc%2Fdef"):
        assert client.get(f"{PROJECTS}/{weird}", headers=owner_auth).status_code == 404


@pytest.mark.parametrize(
    ("fields", "status", "field"),
    [
        ({"starts": "2026-12-31", "ends": "2026-01-01"}, 422, "ends"),
        ({"name": ""}, 422, "name"),
        ({"ends": None}, 400, "ends"),
        (
            {"requirements": [{"job_code": "ME063100", "min_level": "3"}]},
            400,
            "requirements[0].min_level",
        ),
    ],
)
def test_bad_projects_are_refused(client, owner_auth, fields, status, field):
    body = {"name": "P", "starts": "2026-01-01", "ends": "2026-12-31", **fields}
    response = client.post(PROJECTS, json=body, headers=owner_auth)
    assert response.status_code == status and response.get_json().get("field") == field


def test_rented_certificate_is_flagged_in_both_owners_reports(
    client, fresh, owner_auth, other_owner_auth
):
    shared = fresh()
    mine = _new_project(client, owner_auth, starts="2026-01-01", ends="2027-06-30", requirements=[])
    theirs = _new_project(
        client, other_owner_auth, name="Bendungan Lain", starts="2027-06-01", ends="2027-12-31"
    )
    client.put(
        f"{PROJECTS}/{mine['id']}/crew",
        json={"workers": [{"credential": shared.token}]},
        headers=owner_auth,
    )
    flagged = client.put(
        f"{PROJECTS}/{theirs['id']}/crew",
        json={"workers": [_typed(shared)]},
        headers=other_owner_auth,
    )
    assert flagged.get_json()["workers"][0]["findings"] == ["on_other_active_project"]
    report = client.get(f"{PROJECTS}/{mine['id']}/report", headers=owner_auth)
    assert report.get_json()["workers"][0]["findings"] == ["on_other_active_project"]
    for text, other in (
        (report.get_data(as_text=True), theirs),
        (flagged.get_data(as_text=True), mine),
    ):
        assert other["id"] not in text and other["name"] not in text
        assert "bumn-karya" not in text and "pupr-tol" not in text


# --- webhook subscriptions -----------------------------------------------------------------------


def test_webhook_secret_is_shown_once(client, owner_auth):
    project = _new_project(client, owner_auth)
    hooks = f"{PROJECTS}/{project['id']}/webhooks"
    created = client.post(hooks, json={"url": "https://hook.example.id/skk"}, headers=owner_auth)
    assert created.status_code == 201
    body = created.get_json()
    assert body["secret"].startswith("whsec_") and len(body["secret"]) > 40
    listed = client.get(hooks, headers=owner_auth).get_json()
    assert listed == {"webhooks": [{k: v for k, v in body.items() if k != "secret"}]}
    assert body["secret"] not in client.get(hooks, headers=owner_auth).get_data(as_text=True)
    assert client.delete(f"{hooks}/{body['id']}", headers=owner_auth).status_code == 204
    assert client.delete(f"{hooks}/{body['id']}", headers=owner_auth).status_code == 404
    assert WebhookSubscription.select().count() == 0


@pytest.mark.parametrize(
    "url",
    [
        "http://hook.example.id/skk",
        "ftp://hook.example.id",
        "https://user:pw@hook.example.id/",
        "https://10.0.0.5/hook",
        "https://[::1]/hook",
        "https://169.254.169.254/latest",
        "https://localhost/hook",
        "not a url",
        "https://hook.example.id/#x",
    ],
)
def test_webhook_urls_must_be_public_https(client, owner_auth, url):
    project = _new_project(client, owner_auth)
    response = client.post(
        f"{PROJECTS}/{project['id']}/webhooks", json={"url": url}, headers=owner_auth
    )
    assert response.status_code == 422 and response.get_json()["field"] == "url"


def test_a_local_demo_may_use_a_loopback_receiver(database, env, owner_auth):
    from verifier import create_app

    demo = create_app({**env, "TESTING": True, "SKK_BASE_URL": "http://127.0.0.1:8000"})
    client = demo.test_client()
    project = _new_project(client, owner_auth)
    response = client.post(
        f"{PROJECTS}/{project['id']}/webhooks",
        json={"url": "http://127.0.0.1:9/hook"},
        headers=owner_auth,
    )
    assert response.status_code == 201


def test_deleting_a_project_deletes_its_subscriptions(client, owner_auth):
    project = _new_project(client, owner_auth)
    client.post(
        f"{PROJECTS}/{project['id']}/webhooks",
        json={"url": "https://h.example.id/"},
        headers=owner_auth,
    )
    assert WebhookSubscription.select().count() == 1
    client.delete(f"{PROJECTS}/{project['id']}", headers=owner_auth)
    assert WebhookSubscription.select().count() == 0


# --- a 75-worker spreadsheet in one step ---------------------------------------------------------


@pytest.fixture
def cohort_75(client, contoh) -> list[dict[str, Any]]:
    """The 75-participant Pasuruan cohort issued through the batch API: their results."""
    from .test_batch_api import as_xlsx, sample_bytes

    key = apikeys.create("lsp-contoh", 0)["api_key"]
    response = client.post(
        "/api/v1/credentials/batch",
        data=as_xlsx(sample_bytes()),
        headers={"Authorization": f"Bearer {key}", "Content-Type": XLSX},
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    results: list[dict[str, Any]] = response.get_json()["results"]
    assert len(results) == 75
    return results


def roster_75(results: list[dict[str, Any]]) -> list[list[Any]]:
    """A site roster as a project owner keeps it: scanned QR links for most workers, typed
    numbers for a few (one with a typo in the name), and one worker listed twice."""
    table: list[list[Any]] = [["No", "Ref", "Kredensial", "Lembaga", "Nomor", "Nama", "NIK"]]
    for index, result in enumerate(results[:70]):
        table.append(
            [
                index + 1,
                f"KRU-{index + 1:03d}",
                result["verify_url"],
                "",
                "",
                "",
                "3273010001900042",
            ]
        )
    for index, result in enumerate(results[70:74], start=70):
        name = result["name"] if index != 73 else result["name"] + " Salah"
        table.append(
            [index + 1, f"KRU-{index + 1:03d}", "", "lsp-contoh", result["number"], name, ""]
        )
    table.append([75, "KRU-075", results[0]["verify_url"], "", "", "", ""])  # listed twice
    return table


def test_75_worker_spreadsheet_in_one_step(client, cohort_75, owner_auth):
    revocation.revoke(
        "lsp-contoh", cohort_75[5]["number"], "fraud", note=None, actor="t", now=wall_clock()
    )
    revocation.suspend(
        "lsp-contoh",
        cohort_75[6]["number"],
        "investigation",
        note=None,
        actor="t",
        now=wall_clock(),
    )
    codes = sorted({(r["level"], r["job"]) for r in cohort_75})
    assert len(codes) > 3
    project = _new_project(
        client, owner_auth, ends=(time.strftime("%Y") + "-12-31"), requirements=[]
    )
    data = xlsx(roster_75(cohort_75))
    response = client.put(
        f"{PROJECTS}/{project['id']}/crew", data=data, headers={**owner_auth, "Content-Type": XLSX}
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    report = response.get_json()
    assert report["summary"] == {
        "workers": 75,
        "ok": 70,
        "problems": 5,
        "by_status": {"valid": 72, "revoked": 1, "suspended": 1, "name_mismatch": 1},
        "by_finding": {"duplicate_in_list": 2},
    }
    workers = report["workers"]
    assert [w["line"] for w in workers] == list(range(2, 77))
    assert workers[5]["status"] == "revoked" and workers[6]["status"] == "suspended"
    assert workers[73]["status"] == "name_mismatch" and workers[73]["credential"] is None
    assert workers[72]["credential"]["number"] == cohort_75[72]["number"]
    assert workers[0]["findings"] == workers[74]["findings"] == ["duplicate_in_list"]
    assert "3273010001900042" not in response.get_data(as_text=True)
    stored = " ".join(str(v) for row in CrewMember.select().tuples() for v in row)
    assert "3273010001900042" not in stored  # the NIK column was never kept
    one_off = client.post(CHECK, data=data, headers={**owner_auth, "Content-Type": XLSX})
    assert one_off.get_json()["summary"] == report["summary"]
    assert one_off.get_json()["workers"] == workers
    assert DAY == 86_400


# --- answers as the OpenAPI document says --------------------------------------------------------


def test_crew_answers_match_the_document(client, fresh, owner_auth):
    from verifier.web.openapi import document

    from .test_openapi import _check

    doc = document("https://sertifikat.example.id")
    signed = fresh()
    body = {
        "project": {
            "ends": "2099-01-01",
            "requirements": [{"job_code": "ME063100", "min_level": 4}],
        },
        "workers": [
            {"credential": signed.token},
            {"credential": "x"},
            _typed(signed),
            {**_typed(signed), "holder_name": "Orang Lain"},
        ],
    }
    _check(doc, client.post(CHECK, json=body, headers=owner_auth), CHECK, "post")
    _check(doc, client.post(CHECK, json=body), CHECK, "post")
    _check(doc, client.post(CHECK, json={"workers": []}), CHECK, "post")
    _check(doc, client.post(CHECK, json={"workers": [{}]}), CHECK, "post")
    _check(doc, client.post(CHECK, json={"workers": 1}), CHECK, "post")
    _check(doc, client.post(CHECK, data="x", content_type="text/plain"), CHECK, "post")
    _check(doc, client.post(CHECK, json=body, headers={"Authorization": "Bearer x"}), CHECK, "post")
    created = client.post(
        PROJECTS,
        json={"name": "P", "starts": "2026-01-01", "ends": "2026-12-31"},
        headers=owner_auth,
    )
    _check(doc, created, PROJECTS, "post")
    _check(
        doc,
        client.post(PROJECTS, json={"name": "P", "starts": "x", "ends": "y"}, headers=owner_auth),
        PROJECTS,
        "post",
    )
    _check(doc, client.get(PROJECTS, headers=owner_auth), PROJECTS)
    one = f"{PROJECTS}/{{project_id}}"
    base = created.headers["Location"]
    _check(doc, client.get(base, headers=owner_auth), one)
    _check(doc, client.get(f"{PROJECTS}/0123456789abcdef", headers=owner_auth), one)
    _check(doc, client.put(f"{base}/crew", json=body, headers=owner_auth), f"{one}/crew", "put")
    _check(
        doc,
        client.put(f"{base}/crew", json={"workers": [{}]}, headers=owner_auth),
        f"{one}/crew",
        "put",
    )
    _check(doc, client.get(f"{base}/report", headers=owner_auth), f"{one}/report")
    hook = client.post(
        f"{base}/webhooks", json={"url": "https://h.example.id/"}, headers=owner_auth
    )
    _check(doc, hook, f"{one}/webhooks", "post")
    _check(doc, client.get(f"{base}/webhooks", headers=owner_auth), f"{one}/webhooks")
    _check(doc, client.get(base), one)
    assert (
        client.delete(f"{base}/webhooks/{hook.get_json()['id']}", headers=owner_auth).status_code
        == 204
    )


def test_webhook_event_examples_match_the_document(watched_event_bodies):
    from jsonschema import Draft202012Validator

    from verifier.web.openapi import document

    doc = document("https://sertifikat.example.id")
    schema = {**doc["components"]["schemas"]["WebhookEvent"], "components": doc["components"]}
    for body in watched_event_bodies:
        Draft202012Validator(schema).validate(body)


@pytest.fixture
def watched_event_bodies(client, fresh, owner_auth) -> list[dict[str, Any]]:
    """The body of every kind of event, as the outbox wrote them."""
    import json

    from verifier import key_admin
    from verifier.core import jws
    from verifier.core.credential import add_years
    from verifier.store import outbox
    from verifier.store.models import WebhookMessage

    signed = fresh()
    expiring = fresh(valid_from=add_years(wall_clock() + 10 * DAY, -5), holder_name="Budi")
    project = _new_project(client, owner_auth, requirements=[])
    base = f"{PROJECTS}/{project['id']}"
    client.put(
        f"{base}/crew",
        json={"workers": [{"credential": signed.token}, {"credential": expiring.token}]},
        headers=owner_auth,
    )
    client.post(f"{base}/webhooks", json={"url": "https://h.example.id/"}, headers=owner_auth)
    number = signed.credential.number
    now = wall_clock()
    revocation.suspend("lsp-contoh", number, "investigation", note=None, actor="t", now=now)
    revocation.reinstate("lsp-contoh", number, note=None, actor="t", now=now + 1)
    revocation.revoke("lsp-contoh", number, "fraud", note=None, actor="t", now=now + 2)
    assert outbox.enqueue_expiry_warnings(now) == 1
    key_admin.revoke_key(jws.parse(signed.token).header["kid"], actor="t", now=now + 3)
    bodies = [json.loads(m.body) for m in WebhookMessage.select().order_by(WebhookMessage.id)]
    assert [b["type"] for b in bodies] == [
        "credential.suspended",
        "credential.reinstated",
        "credential.revoked",
        "credential.expiring",
        "credential.key_revoked",  # both credentials: the revoked one too, it was on the crew
        "credential.key_revoked",
    ]
    return bodies

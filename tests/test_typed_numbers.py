"""Certificate numbers are found however typed (issue 14, item 6): upper or lower case, outer and
doubled spaces, in the CLI, the agency API, the pages and the console, on both stores."""

from __future__ import annotations

import contextlib
import json
import re
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import pytest
from click.testing import CliRunner

from tests.console_support import Clock, ConsoleClient, make_staff
from tests.helpers import NOW
from verifier import create_app
from verifier.cli import main
from verifier.core import keys
from verifier.core.errors import Conflict
from verifier.issuance import issuer
from verifier.store import apikeys, credentials, records, registry, revocation
from verifier.store.models import CredentialRecord

HOLDER = "Muhammad Rizky Pratama Saputra"
NUMBER = "ME063100 3 00001234 2026"
#: As people type it: lower case, spaces around and doubled.
TYPED = "  me063100  3 00001234 2026 "
README = Path(__file__).resolve().parents[1] / "README.md"


def _wall() -> int:
    return int(time.time())


@pytest.fixture
def numbered(contoh, issue):
    """A credential of lsp-contoh with the number NUMBER, valid by the wall clock."""
    return issue(now=_wall() - 3600, number=NUMBER)


@pytest.fixture
def agency_auth(contoh) -> dict[str, str]:
    return {"Authorization": f"Bearer {apikeys.create('lsp-contoh', NOW)['api_key']}"}


# --- the store: one lookup for every front door --------------------------------------------------


@pytest.mark.parametrize(
    "typed", [TYPED, NUMBER.lower(), f" {NUMBER} ", "Me063100 3  00001234 2026"]
)
def test_stored_number_finds_the_number_however_typed(numbered, typed):
    assert credentials.stored_number("lsp-contoh", typed) == NUMBER
    assert records.get_record("lsp-contoh", typed)["number"] == NUMBER


def test_a_mixed_case_number_is_found_in_upper_case(contoh, issue):
    issue(number="Lsp-Contoh.7")
    assert credentials.stored_number("lsp-contoh", "LSP-CONTOH.7") == "Lsp-Contoh.7"
    assert credentials.stored_number("lsp-contoh", " lsp-contoh.7") == "Lsp-Contoh.7"


def test_a_number_is_not_issued_again_in_other_case(numbered, issue):
    with pytest.raises(Conflict, match="already exists"):
        issue(number=NUMBER.lower())


def test_a_mixed_case_twin_is_not_issued(contoh, issue):
    issue(number="Xy-1")
    for twin in ("XY-1", "xY-1", "xy-1"):  # neither only upper nor only lower case
        with pytest.raises(Conflict, match=r"Xy-1.* already exists"):
            issue(number=twin)


def test_a_twin_passing_the_check_at_the_same_moment_is_refused_by_the_index(
    contoh, issue, env, monkeypatch, app, agency_auth
):
    # Two requests issuing ABC-9 and abc-9 at once both pass the check (neither sees the
    # other's uncommitted row); the unique number_key index stops the second, as Conflict.
    issue(number="ABC-9")
    monkeypatch.setattr(credentials, "_check_unique", lambda _credentials: None)
    with pytest.raises(Conflict, match=r"abc-9.* already exists for this agency"):
        issue(number="abc-9")
    result = CliRunner().invoke(
        main,
        [
            "issue",
            "--agency",
            "lsp-contoh",
            "--name",
            HOLDER,
            "--job-code",
            "ME063100",
            "--level",
            "3",
            "--number",
            "Abc-9",
        ],
        env=env,
        catch_exceptions=False,
    )
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.startswith("skk: certificate number 'Abc-9' already exists")
    assert len(result.stderr.splitlines()) == 1
    answer = app.test_client().post(
        "/api/v1/credentials",
        headers=agency_auth,
        json={"holder_name": HOLDER, "job_code": "ME063100", "level": 3, "number": "aBc-9"},
    )
    assert answer.status_code == 409
    assert "'aBc-9' already exists for this agency" in answer.get_json()["detail"]
    assert credentials.numbers_as_stored("lsp-contoh", ["abc-9"]) == {"ABC-9": ["ABC-9"]}


def test_twins_issued_at_the_same_moment_make_one_certificate(contoh, issue, database, monkeypatch):
    # Each request has checked before the other writes (the barrier holds the first until the
    # second has checked too, or a second passes: SQLite makes the second wait at BEGIN).
    both_checked = threading.Barrier(2)
    check = credentials._check_unique

    def check_then_wait(wanted):
        check(wanted)
        with contextlib.suppress(threading.BrokenBarrierError):
            both_checked.wait(timeout=1)

    monkeypatch.setattr(credentials, "_check_unique", check_then_wait)
    outcomes: list[str] = []

    def run(number: str) -> None:
        try:
            with database.connection_context():  # each thread its own connection
                outcomes.append(issue(now=_wall(), number=number).credential.number)
        except Conflict as refused:
            outcomes.append(refused.message)
        except BaseException as exc:  # noqa: BLE001 - reported below, in the test's own thread
            outcomes.append(repr(exc))

    threads = [threading.Thread(target=run, args=(n,)) for n in ("ABC-9", "abc-9")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    issued = [n for n in outcomes if n in ("ABC-9", "abc-9")]
    refused = [m for m in outcomes if m not in issued]
    assert len(issued) == 1 and len(refused) == 1, outcomes
    assert "already exists for this agency" in refused[0]
    assert (
        CredentialRecord.select().where(CredentialRecord.number.in_(["ABC-9", "abc-9"])).count()
        == 1
    )


def _unkeyed_twins(issue) -> None:
    """Xy-1 and XY-1 both stored, as a database from before schema version 7 may hold them
    (the later twin without number_key)."""
    issue(number="Xy-1")
    CredentialRecord.update(number_key=None).where(CredentialRecord.number == "Xy-1").execute()
    issue(number="XY-1")


def test_numbers_differing_only_in_case_from_before_version_7_are_never_guessed(contoh, issue, env):
    _unkeyed_twins(issue)
    assert credentials.stored_number("lsp-contoh", "Xy-1") == "Xy-1"  # typed exactly
    assert credentials.stored_number("lsp-contoh", "XY-1") == "XY-1"
    for typed in ("xY-1", "xy-1"):
        with pytest.raises(Conflict, match="only in upper and lower case"):
            credentials.stored_number("lsp-contoh", typed)
    result = CliRunner().invoke(
        main,
        ["suspend", "--agency", "lsp-contoh", "xY-1", "--reason", "fraud"],
        env=env,
        catch_exceptions=False,
    )
    assert result.exit_code == 1 and "only in upper and lower case" in result.stderr
    assert revocation.lookup("lsp-contoh", "XY-1") is None
    assert revocation.lookup("lsp-contoh", "Xy-1") is None


# --- the command line --------------------------------------------------------------------------


def test_cli_revocation_commands_take_the_number_however_typed(numbered, env):
    runner = CliRunner()

    def skk(*args: str) -> dict[str, Any]:
        result = runner.invoke(main, [*args, "--json"], env=env, catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    suspended = skk("suspend", "--agency", "lsp-contoh", TYPED, "--reason", "investigation")
    assert (suspended["number"], suspended["status"]) == (NUMBER, "suspended")
    assert skk("reinstate", "--agency", "lsp-contoh", NUMBER.lower())["status"] == "active"
    revoked = skk("revoke", "--agency", "lsp-contoh", f" {NUMBER.lower()}", "--reason", "fraud")
    assert (revoked["number"], revoked["status"]) == (NUMBER, "revoked")
    assert revocation.lookup("lsp-contoh", NUMBER).status == "revoked"
    # No second record under the typed spelling: the token's own number is what was revoked.
    assert revocation.lookup("lsp-contoh", NUMBER.lower()) is None


def test_a_number_of_an_agency_signing_elsewhere_is_recorded_as_typed_and_said_so(
    contoh, issue, env, app, tmp_path
):
    # Its numbers are not known here; verification compares the token's number exactly (and
    # stays as it is): a change typed in other case must say it affects no such certificate.
    runner = CliRunner()

    def skk(*args: str):
        return runner.invoke(main, list(args), env=env, catch_exceptions=False)

    assert (
        skk(
            "agency",
            "add",
            "dinas-luar",
            "--name",
            "Dinas PUPR Luar",
            "--levels",
            "1-6",
            "--kind",
            "dinas",
        ).exit_code
        == 0
    )
    key = keys.generate_signing_key("EdDSA")
    jwk = tmp_path / "luar.jwk"
    jwk.write_text(json.dumps(key.verifying_key().jwk))
    assert (
        skk("keys", "import", "--agency", "dinas-luar", str(jwk), "--since", "2025-01-01").exit_code
        == 0
    )
    request = issuer.IssueRequest("dinas-luar", HOLDER, 3, job_code="ME063100", number="ABC-1")
    token = issuer.sign(
        issuer.build_credential(request, registry.get_agency("dinas-luar"), _wall() - 3600), key
    )
    note = f"skk: note: {revocation.AS_TYPED_NOTE}"

    typed = skk("revoke", "--agency", "dinas-luar", "abc-1", "--reason", "fraud", "--json")
    assert typed.exit_code == 0 and json.loads(typed.stdout)["changed"] is True
    assert note in typed.stderr.splitlines()
    assert set(json.loads(typed.stdout)) == {
        "agency",
        "number",
        "status",
        "at",
        "reason",
        "changed",
    }  # SPEC §5's members, no more
    assert skk("verify", token).stdout.startswith("VALID")  # the note's very point
    exact = skk("suspend", "--agency", "dinas-luar", "ABC-1", "--reason", "fraud")
    assert exact.exit_code == 0 and note in exact.stderr.splitlines()
    assert skk("verify", token).stdout.startswith("SUSPENDED")

    client = app.test_client()
    auth = {"Authorization": f"Bearer {apikeys.create('dinas-luar', NOW)['api_key']}"}
    answer = client.post(
        "/api/v1/credentials/abc-2/suspend", json={"reason": "fraud"}, headers=auth
    )
    assert answer.status_code == 200 and answer.get_json()["number"] == "abc-2"
    assert answer.headers["SKK-Number-Note"] == revocation.AS_TYPED_NOTE
    # A number issued here is found however typed, and carries no such note.
    issue(number="OWN-1")
    own = skk("suspend", "--agency", "lsp-contoh", "own-1", "--reason", "fraud")
    assert own.exit_code == 0 and "note:" not in own.stderr
    own_auth = {"Authorization": f"Bearer {apikeys.create('lsp-contoh', NOW)['api_key']}"}
    lifted = client.post("/api/v1/credentials/own-1/reinstate", json={}, headers=own_auth)
    assert lifted.status_code == 200 and "SKK-Number-Note" not in lifted.headers


# --- the agency API ----------------------------------------------------------------------------


def test_api_routes_take_the_number_however_typed(numbered, app, agency_auth):
    client = app.test_client()
    path = "/api/v1/credentials/" + quote(TYPED)
    record = client.get(path, headers=agency_auth)
    assert record.status_code == 200 and record.get_json()["number"] == NUMBER
    assert client.get(path + "/qr.svg", headers=agency_auth).status_code == 200
    suspended = client.post(
        path + "/suspend", json={"reason": "investigation"}, headers=agency_auth
    )
    assert suspended.status_code == 200 and suspended.get_json()["number"] == NUMBER
    reinstated = client.post(
        "/api/v1/credentials/" + quote(NUMBER.lower()) + "/reinstate", json={}, headers=agency_auth
    )
    assert reinstated.status_code == 200 and reinstated.get_json()["status"] == "active"
    audit = client.get(
        "/api/v1/audit", query_string={"number": NUMBER.lower()}, headers=agency_auth
    ).get_json()
    assert [event["action"] for event in audit["events"]] == ["issue", "suspend", "reinstate"]


def test_the_readme_url_example_finds_its_certificate(contoh, issue, app, agency_auth):
    text = README.read_text(encoding="utf-8")
    paths = re.findall(r'https://skk\.example\.go\.id(/api/v1/credentials/[^"/]+)(/\w+)?"', text)
    assert paths, "README shows no percent-encoded certificate URL"
    issue(number=unquote(paths[0][0].rsplit("/", 1)[1]))
    client = app.test_client()
    for path, action in paths:
        assert "%20" in path
        if action:
            response = client.post(
                path + action, json={"reason": "data_error"}, headers=agency_auth
            )
        else:
            response = client.get(path, headers=agency_auth)
        assert response.status_code == 200, (path, action, response.get_json())


# --- the pages ---------------------------------------------------------------------------------


def test_manual_check_takes_the_number_however_typed(numbered, client):
    response = client.post(
        "/cek", data={"agency": "lsp-contoh", "number": TYPED, "name": HOLDER.upper()}
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and NUMBER in body and "Tidak ada sertifikat" not in body


def test_crew_rows_take_the_number_however_typed(numbered, client):
    row = {"agency": "lsp-contoh", "number": TYPED, "holder_name": HOLDER}
    report = client.post("/api/v1/crew-check", json={"workers": [row]}).get_json()
    assert [worker["status"] for worker in report["workers"]] == ["valid"]


def test_console_finds_the_number_however_typed(numbered, database, env):
    staff = make_staff("lsp-contoh", "adi", "admin")
    clock = Clock()
    tab = ConsoleClient(
        create_app({**env, "TESTING": True, "CONSOLE_CLOCK": clock}).test_client(), clock
    )
    assert tab.sign_in(staff).status_code == 303
    found = tab.submit("/console/search", {"by": "number", "query": TYPED}, page="/console/search")
    assert found.status_code == 200 and NUMBER in found.get_data(as_text=True)
    page = tab.get("/console/credentials/" + quote(NUMBER.lower()))
    assert page.status_code == 200 and HOLDER in page.get_data(as_text=True)


def test_numbers_in_one_cohort_file_differing_only_in_case_are_duplicates(contoh):
    from verifier.issuance import cohort
    from verifier.issuance.cohort_file import read_cohort
    from verifier.store import registry

    rows = (
        "nama;nomor;kode_jabatan;jenjang\n"
        f"{HOLDER};LSP-2026-AB1;ME063100;3\nBudi Santoso;lsp-2026-ab1;ME063100;3\n"
    )
    with pytest.raises(cohort.CohortRejected) as rejected:
        cohort.plan(
            read_cohort(rows.encode()), registry.get_agency("lsp-contoh"), pepper=None, now=_wall()
        )
    assert [(p.line, p.message) for p in rejected.value.problems] == [
        (3, "duplicate certificate number, see line 2")
    ]


def test_a_cohort_row_given_again_in_other_case_is_existing(numbered):
    from verifier.issuance import cohort
    from verifier.issuance.cohort_file import read_cohort
    from verifier.store import registry

    rows = f"nama;nomor;kode_jabatan;jenjang\n{HOLDER};{TYPED};ME063100;3\n"
    fresh, existing = cohort.plan(
        read_cohort(rows.encode()), registry.get_agency("lsp-contoh"), pepper=None, now=_wall()
    )
    assert not fresh and [entry.credential.number for entry in existing] == [NUMBER]

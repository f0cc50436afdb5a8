"""The audit log: issuing from every entry point is recorded with actor and number; the agency
API lists and filters it; key, API-key and user changes from the CLI are recorded too; print
packs never print a revoked or suspended certificate as if it were current."""

from __future__ import annotations

import csv
import io
import json
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from click.testing import CliRunner

from tests.helpers import NOW
from verifier.cli import main
from verifier.core.errors import InvalidInput
from verifier.issuance import cohort, keyring
from verifier.issuance.cohort_file import read_cohort
from verifier.issuance.issuer import IssueRequest
from verifier.issuance.service import IssuingService
from verifier.printing import cohort_folder
from verifier.qr.parallel import QrRenderer
from verifier.store import apikeys, audit, credential_list, registry, revocation
from verifier.store.audit import AuditFilter
from verifier.store.models import AuditEvent

COHORT = Path(__file__).parent / "data" / "cohort_pasuruan_2025.csv"
NIK = "3575040003930001"


@pytest.fixture
def skk(env):
    """Run `skk ARGS... --json` in-process; the parsed output (the command must succeed)."""
    runner = CliRunner()

    def run(*args: str):
        result = runner.invoke(main, [*args, "--json"], env=env, catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    return run


@pytest.fixture
def auth(contoh) -> dict[str, str]:
    """An API key of lsp-contoh as a header."""
    return {"Authorization": f"Bearer {apikeys.create('lsp-contoh', NOW)['api_key']}"}


def _log(**filters) -> list[audit.AuditEntry]:
    return audit.oldest("lsp-contoh", AuditFilter(**filters), after=0, limit=10_000)


def test_cli_issue_is_audited(contoh, skk):
    issued = skk(
        "issue",
        "--agency",
        "lsp-contoh",
        "--name",
        "Rina Marlina",
        "--job-code",
        "ME063100",
        "--level",
        "3",
        "--nik",
        NIK,
    )
    (event,) = _log(action="issue")
    assert (event.actor, event.number, event.status) == ("cli", issued["number"], "active")
    assert NIK not in repr([row.__data__ for row in AuditEvent.select()])


def test_cli_issue_batch_is_audited_row_by_row(contoh, skk, tmp_path):
    summary = skk(
        "issue-batch", "--agency", "lsp-contoh", str(COHORT), "--out", str(tmp_path / "out")
    )
    events = _log(action="issue")
    assert len(events) == summary["issued"] == 75
    assert {e.actor for e in events} == {"cli"}
    assert sorted(e.number for e in events) == sorted(r["number"] for r in summary["results"])
    # A re-run issues nothing, so it records nothing.
    skk("issue-batch", "--agency", "lsp-contoh", str(COHORT), "--out", str(tmp_path / "again"))
    assert len(_log(action="issue")) == 75


def test_api_issue_and_batch_are_audited_with_the_key(client, auth):
    key_id = auth["Authorization"].split("_")[1]
    single = client.post(
        "/api/v1/credentials",
        headers=auth,
        json={"holder_name": "Rina Marlina", "job_code": "ME063100", "level": 3},
    ).get_json()
    batch = client.post(
        "/api/v1/credentials/batch",
        headers={**auth, "Content-Type": "text/csv"},
        data=COHORT.read_bytes(),
    )
    assert batch.status_code == 201
    events = client.get("/api/v1/audit?action=issue", headers=auth).get_json()["events"]
    assert len(events) == 76 and {e["actor"] for e in events} == {f"apikey:{key_id}"}
    assert events[0]["number"] == single["number"]
    mine = client.get(f"/api/v1/audit?number={quote(single['number'])}", headers=auth)
    assert [e["action"] for e in mine.get_json()["events"]] == ["issue"]


def test_a_failed_issue_records_nothing(contoh, settings, store):
    request = IssueRequest("lsp-contoh", "Rina Marlina", 7, job_code="ME063100")
    with pytest.raises(InvalidInput):
        IssuingService(store, pepper=settings.nik_pepper, base_url=settings.base_url).issue(
            request, actor="cli", now=NOW
        )
    assert _log() == []


def test_audit_api_filters_and_pages(client, auth, issue):
    numbers = [issue(holder_name=f"Pekerja {i}").credential.number for i in range(3)]
    revocation.suspend(
        "lsp-contoh", numbers[0], "investigation", note=None, actor="user:rina", now=NOW + 10
    )
    revocation.revoke(
        "lsp-contoh", numbers[1], "fraud", note="catatan", actor="cli", now=NOW + 2 * 86_400
    )
    get = lambda query: client.get(f"/api/v1/audit?{query}", headers=auth)  # noqa: E731
    assert [e["number"] for e in get("actor=user:rina").get_json()["events"]] == [numbers[0]]
    assert [e["action"] for e in get("action=revoke").get_json()["events"]] == ["revoke"]
    day = "2026-01-15"  # NOW's day: the suspension, not the revocation two days later
    assert [
        e["action"] for e in get(f"since={day}&until={day}&action=suspend").get_json()["events"]
    ] == ["suspend"]
    assert get("since=2026-01-17").get_json()["events"][0]["action"] == "revoke"
    pages = [get("limit=2").get_json()]
    while pages[-1]["next"]:
        pages.append(client.get(pages[-1]["next"], headers=auth).get_json())
    assert [len(page["events"]) for page in pages] == [2, 2, 1]  # 3 issued, suspend, revoke
    ids = [e["id"] for page in pages for e in page["events"]]
    assert ids == sorted(ids) and len(set(ids)) == 5
    # A service-wide action (no agency) is never in an agency's log: not a choice either.
    assert "jobs_import" not in app_openapi_action_choices(client)
    for query, field in [
        ("actor=ROOT!", "actor"),
        ("action=hack", "action"),
        ("action=jobs_import", "action"),
        ("since=15-01-2026", "since"),
        ("limit=0", "limit"),
        ("limit=5000", "limit"),
        ("after=-1", "after"),
        ("who=me", "who"),
    ]:
        answer = get(query)
        assert answer.status_code in (400, 422), query
        assert answer.get_json()["field"] == field


def test_cli_key_api_key_and_user_changes_are_audited(contoh, skk):
    key = skk("keys", "generate", "--agency", "lsp-contoh")
    skk("keys", "retire", key["kid"])
    created = skk("apikey", "create", "--agency", "lsp-contoh")
    skk("apikey", "revoke", created["key_id"])
    skk("user", "add", "--agency", "lsp-contoh", "rina", "--role", "viewer")
    skk("user", "disable", "rina")
    events = [(e.action, e.subject) for e in _log() if e.action != "issue"]
    assert events == [
        ("key_generated", key["kid"]),
        ("key_retired", key["kid"]),
        ("apikey_created", created["key_id"]),
        ("apikey_revoked", created["key_id"]),
        ("user_added", "rina"),
        ("user_disabled", "rina"),
    ]
    assert created["api_key"] not in repr([row.__data__ for row in AuditEvent.select()])


def test_migrated_history_and_new_events_read_together(contoh, issue):
    number = issue().credential.number
    revocation.suspend("lsp-contoh", number, "other", note=None, actor="cli", now=NOW + 1)
    assert [e.action for e in _log(number=number)] == ["issue", "suspend"]
    assert revocation.history("lsp-contoh", number)[0]["action"] == "suspend"


# -- the credential list in the agency API --------------------------------------------------------


def test_credential_list_pages_and_filters(client, auth, issue, contoh):
    for i in range(5):
        issue(now=NOW + i, holder_name=f"Pekerja {i}", job_code="ME063100", level=3)
    issue(now=NOW + 10, holder_name="Tukang Bata", job_code="SI013013", level=1)
    expired = issue(
        now=NOW - 6 * 366 * 86_400, holder_name="Lama Sekali", valid_from=NOW - 6 * 366 * 86_400
    ).credential.number
    numbers = [r["number"] for r in client.get("/api/v1/credentials", headers=auth).get_json()]
    revocation.suspend("lsp-contoh", numbers[1], "investigation", note=None, actor="cli", now=NOW)
    revocation.revoke("lsp-contoh", numbers[2], "fraud", note=None, actor="cli", now=NOW)

    def listed(query: str):
        answer = client.get(f"/api/v1/credentials?{query}", headers=auth)
        assert answer.status_code == 200, answer.get_data(as_text=True)
        return answer

    everything = listed("")
    assert everything.headers["X-Total-Count"] == "7" and "Link" not in everything.headers
    assert [r["holder_name"] for r in everything.get_json()][:2] == ["Tukang Bata", "Pekerja 4"]
    page = listed("per_page=3&page=2")
    assert len(page.get_json()) == 3
    assert 'rel="next"' in page.headers["Link"] and 'rel="prev"' in page.headers["Link"]
    assert [r["number"] for r in listed("status=suspended").get_json()] == [numbers[1]]
    assert [r["number"] for r in listed("status=revoked").get_json()] == [numbers[2]]
    assert [r["number"] for r in listed("status=expired").get_json()] == [expired]
    assert len(listed("status=active").get_json()) == 5
    # (valid = active and within its dates now; the tests' issue dates are in the past)
    assert expired not in [r["number"] for r in listed("status=valid").get_json()]
    assert [r["holder_name"] for r in listed("job_code=SI013013").get_json()] == ["Tukang Bata"]
    assert len(listed("level=3").get_json()) == 6
    assert listed("issued_from=2026-01-15&issued_to=2026-01-15").headers["X-Total-Count"] == "6"
    assert listed("issued_to=2021-01-01").headers["X-Total-Count"] == "1"
    # The console's dashboard counts (one query) agree with the list's filters.
    with client.application.app_context():
        dashboard = credential_list.counts("lsp-contoh", int(time.time()))
    assert dashboard == {
        "issued": 7,
        **{
            s: int(listed(f"status={s}").headers["X-Total-Count"])
            for s in dashboard
            if s != "issued"
        },
    }
    assert dashboard["suspended"] == dashboard["revoked"] == dashboard["expired"] == 1
    for query, field in [
        ("status=lost", "status"),
        ("job_code=me06", "job_code"),
        ("level=12", "level"),
        ("level=x", "level"),
        ("issued_from=kemarin", "issued_from"),
        ("page=0", "page"),
        ("per_page=501", "per_page"),
        ("sort=name", "sort"),
    ]:
        answer = client.get(f"/api/v1/credentials?{query}", headers=auth)
        assert answer.status_code in (400, 422), query
        assert answer.get_json()["field"] == field, query


def test_credential_list_is_the_callers_own(client, auth, issue, make_agency, make_key):
    issue()
    make_agency("dinas-lain", name="Dinas Lain")
    make_key("dinas-lain")
    other = {"Authorization": f"Bearer {apikeys.create('dinas-lain', NOW)['api_key']}"}
    assert client.get("/api/v1/credentials", headers=other).get_json() == []
    assert len(client.get("/api/v1/credentials", headers=auth).get_json()) == 1


# -- print packs ----------------------------------------------------------------------------------


def test_print_pack_never_prints_a_revoked_or_suspended_certificate(contoh, skk, tmp_path):
    first = skk(
        "issue-batch", "--agency", "lsp-contoh", str(COHORT), "--out", str(tmp_path / "first")
    )
    revoked, suspended = first["results"][0]["number"], first["results"][1]["number"]
    revocation.revoke("lsp-contoh", revoked, "fraud", note=None, actor="cli", now=NOW)
    revocation.suspend("lsp-contoh", suspended, "investigation", note=None, actor="cli", now=NOW)
    again = skk(
        "issue-batch", "--agency", "lsp-contoh", str(COHORT), "--out", str(tmp_path / "again")
    )
    statuses = {r["number"]: r["status"] for r in again["results"]}
    assert statuses[revoked] == "revoked" and statuses[suspended] == "suspended"
    assert sum(status == "existing" for status in statuses.values()) == 73
    out = tmp_path / "again"
    qr_files = {path.name for path in (out / "qr").iterdir()}
    assert len(qr_files) == 73
    assert cohort_folder.qr_file_name(revoked) not in qr_files
    printed = "".join(path.read_text(encoding="utf-8") for path in out.glob("*.html"))
    assert revoked not in printed and suspended not in printed
    assert first["results"][2]["number"] in printed
    rows = list(
        csv.reader(io.StringIO((out / "results.csv").read_text("utf-8-sig")), delimiter=";")
    )
    assert {row[1]: row[5] for row in rows[1:]}[revoked] == "revoked"


def test_renderer_leaves_out_unprintable_entries(contoh, settings, store):
    agency = registry.get_agency("lsp-contoh")
    signer = keyring.signer(store, "lsp-contoh")
    prepared = cohort.prepare(
        read_cohort(COHORT.read_bytes(), filename="c.csv"),
        agency,
        signer,
        pepper=settings.nik_pepper,
        now=NOW,
    )
    entries = [
        prepared.entries[0],
        *[
            cohort.CohortEntry(e.line, e.credential, e.token, "suspended")
            for e in prepared.entries[1:3]
        ],
    ]
    with QrRenderer(0) as renderer:
        files, urls = cohort_folder.render_outputs(
            entries, agency.name, settings.base_url, renderer=renderer
        )
    assert len(urls) == 3
    assert sorted(name for name in files if name.startswith("qr/")) == [
        "qr/" + cohort_folder.qr_file_name(entries[0].credential.number)
    ]


def app_openapi_action_choices(client) -> list[str]:
    """The agency audit route's ?action= choices, as /openapi.json offers them."""
    spec = client.get("/openapi.json").get_json()
    (action,) = [
        p for p in spec["paths"]["/api/v1/audit"]["get"]["parameters"] if p["name"] == "action"
    ]
    return action["schema"]["enum"]

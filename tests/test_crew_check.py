"""The crew check without the web: every status and every finding, the summary, rows given by
number, rented certificates across owners, and project terms. Time is injected (NOW)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from tests.helpers import DAY, NOW
from verifier.core.crew import terms
from verifier.core.crew.calendar import today
from verifier.core.crew.evaluation import (
    NAME_MISMATCH,
    NOT_FOUND,
    STATUSES,
    Finding,
    ProjectTerms,
    Requirement,
    evaluate,
    outcome_of,
)
from verifier.core.crew.worker import RosterWorker
from verifier.core.errors import InvalidInput, NotFound
from verifier.crew import check
from verifier.issuance import issuer
from verifier.store import projects, revocation
from verifier.verification import VerificationService

from .test_verify import (
    World,
    case_bad_signature_flipped_byte,
    case_expired,
    case_key_revoked,
    case_level_not_authorized,
    case_malformed_truncated,
    case_not_yet_valid_nbf,
    case_revoked,
    case_suspended,
    case_unknown_issuer,
    case_unknown_key_unregistered,
    case_valid,
    credential,
)

NO_TERMS = ProjectTerms()
HOLDER = "Muhammad Rizky Pratama Saputra"  # the conftest issue factory's holder


def scanned(token: str, position: int = 1, ref: str | None = None) -> RosterWorker:
    """A worker given by a scanned credential."""
    return RosterWorker(position, None, ref, credential=token)


def typed(agency: str, number: str, name: str, position: int = 1) -> RosterWorker:
    """A worker given by agency, number and name."""
    return RosterWorker(position, None, None, agency=agency, number=number, holder_name=name)


def run(
    service: VerificationService,
    workers: list[RosterWorker],
    project: ProjectTerms = NO_TERMS,
    *,
    owner: str | None = None,
    period: tuple[date, date] | None = None,
):
    """The report of a check at NOW."""
    found = check.outcomes(service, workers, owner_id=owner, at=NOW)
    return check.report(
        found, project, period or check.one_off_period(project, NOW), owner_id=owner, at=NOW
    )


# --- every status --------------------------------------------------------------------------------

TOKEN_CASES = [
    (case_valid, "valid"),
    (case_malformed_truncated, "malformed"),
    (case_unknown_issuer, "unknown_issuer"),
    (case_unknown_key_unregistered, "unknown_key"),
    (case_bad_signature_flipped_byte, "bad_signature"),
    (case_key_revoked, "key_revoked"),
    (case_level_not_authorized, "level_not_authorized"),
    (case_revoked, "revoked"),
    (case_suspended, "suspended"),
    (case_not_yet_valid_nbf, "not_yet_valid"),
    (case_expired, "expired"),
]


@pytest.fixture
def world(contoh, issue, make_agency, make_key, store) -> World:
    return World(issue, make_agency, make_key, store, contoh)


@pytest.mark.parametrize(("build", "status"), TOKEN_CASES, ids=[s for _, s in TOKEN_CASES])
def test_every_verification_status_of_a_scanned_row(world, service, build, status):
    token = build(world)
    report = run(service, [scanned(token, ref="A-1")])
    (row,) = report.to_dict()["workers"]
    assert row["status"] == status and row["ref"] == "A-1"
    shows = status in ("valid", "revoked", "suspended", "not_yet_valid", "expired")
    assert (row["credential"] is not None) is shows
    assert report.summary()["by_status"] == {status: 1}
    assert report.summary()["problems"] == (0 if status == "valid" else 1)


def test_statuses_cover_spec_and_number_rows():
    assert set(STATUSES) == {s for _, s in TOKEN_CASES} | {NOT_FOUND, NAME_MISMATCH}
    assert len(STATUSES) == len(TOKEN_CASES) + 2


def test_number_row_matching_gets_the_credentials_status(world, service):
    signed = world.issue()
    world.revoke(signed.credential.number)
    number = signed.credential.number.lower()  # typed on a phone
    report = run(service, [typed("lsp-contoh", number, "  muhammad rizky  PRATAMA saputra ")])
    (row,) = report.to_dict()["workers"]
    assert row["status"] == "revoked"
    assert row["credential"]["number"] == signed.credential.number
    assert row["revocation"]["reason"] == "fraud"


@pytest.mark.parametrize("owner", [None, "pupr-tol"])
def test_number_row_with_another_name(world, service, owner):
    signed = world.issue()
    if owner:
        projects.add_owner(owner, "Ditjen Bina Marga", NOW)
    report = run(
        service, [typed("lsp-contoh", signed.credential.number, "Budi Santoso")], owner=owner
    )
    (row,) = report.to_dict()["workers"]
    # The public check reveals no more than /cek: one neutral answer for any mismatch.
    assert row["status"] == (NAME_MISMATCH if owner else NOT_FOUND)
    assert row["credential"] is None and row["revocation"] is None


@pytest.mark.parametrize("owner", [None, "pupr-tol"])
def test_number_row_that_does_not_exist(world, service, owner):
    if owner:
        projects.add_owner(owner, "Ditjen Bina Marga", NOW)
    report = run(service, [typed("lsp-contoh", "ME063100 3 99999999 2026", HOLDER)], owner=owner)
    assert report.to_dict()["workers"][0]["status"] == NOT_FOUND


def test_agency_is_found_by_its_name_too(world, service):
    signed = world.issue()
    resolve = check.agency_resolver()
    assert resolve("LSP konstruksi contoh  nusantara") == "lsp-contoh"
    assert resolve(" LSP-CONTOH ") == "lsp-contoh"
    assert resolve("LSP yang tidak ada") is None
    report = run(
        service,
        [typed(resolve("LSP Konstruksi Contoh Nusantara") or "", signed.credential.number, HOLDER)],
    )
    assert report.to_dict()["workers"][0]["status"] == "valid"


# --- every finding -------------------------------------------------------------------------------


def _report_of(world, service, project: ProjectTerms, **fields: Any):
    signed = world.issue(**fields)
    return run(service, [scanned(signed.token)], project)


def test_expires_before_project_end(world, service):
    signed = world.issue()
    expiry = datetime.fromtimestamp(signed.credential.expires_at, UTC).date()
    late = ProjectTerms(ends=date(expiry.year, 12, 31))
    early = ProjectTerms(ends=date(expiry.year - 1, 1, 1))
    flagged = run(service, [scanned(signed.token)], late).workers[0]
    assert flagged.findings == (Finding.EXPIRES_BEFORE_PROJECT_END,) and flagged.problem
    assert run(service, [scanned(signed.token)], early).workers[0].findings == ()


def test_expiry_on_the_projects_last_day_is_a_finding(world, service):
    signed = world.issue()  # expires at 00:00 UTC = 07:00 WIB on its last day
    last_day = today(signed.credential.expires_at)
    on_last_day = run(service, [scanned(signed.token)], ProjectTerms(ends=last_day))
    day_before = run(
        service,
        [scanned(signed.token)],
        ProjectTerms(ends=date.fromordinal(last_day.toordinal() - 1)),
    )
    assert on_last_day.workers[0].findings == (Finding.EXPIRES_BEFORE_PROJECT_END,)
    assert day_before.workers[0].findings == ()


def test_expired_credential_has_its_status_not_the_expiry_finding(world, service):
    token = case_expired(world)
    report = run(service, [scanned(token)], ProjectTerms(ends=date(2030, 1, 1)))
    assert report.workers[0].outcome.status == "expired" and report.workers[0].findings == ()


@pytest.mark.parametrize(
    ("requirements", "expected"),
    [
        ((Requirement("ME063100", 3),), ()),
        ((Requirement("ME063100", 4),), (Finding.LEVEL_BELOW_REQUIREMENT,)),
        ((Requirement("SI013017", 1),), (Finding.JOB_NOT_IN_REQUIREMENTS,)),
        ((Requirement("SI013017", 1), Requirement("ME063100", 2)), ()),
        ((), ()),
    ],
)
def test_requirements(world, service, requirements, expected):
    report = _report_of(world, service, ProjectTerms(requirements=requirements))
    assert report.workers[0].findings == expected


def test_credential_without_job_code_is_not_in_the_requirements(world, service):
    token = issuer.sign(credential(job_code=None, iat=NOW - DAY), world.signer())
    needs = ProjectTerms(requirements=(Requirement("ME063100", 1),))
    report = run(service, [scanned(token)], needs)
    assert report.workers[0].outcome.status == "valid"
    assert report.workers[0].findings == (Finding.JOB_NOT_IN_REQUIREMENTS,)


def test_duplicate_in_list_marks_every_occurrence(world, service):
    first, other = world.issue(), world.issue(holder_name="Budi Santoso")
    workers = [
        scanned(first.token, 1),
        scanned(other.token, 2),
        typed("lsp-contoh", first.credential.number, HOLDER, 3),
    ]
    report = run(service, workers)
    assert [w.findings for w in report.workers] == [
        (Finding.DUPLICATE_IN_LIST,),
        (),
        (Finding.DUPLICATE_IN_LIST,),
    ]
    assert report.summary()["by_finding"] == {"duplicate_in_list": 2}


def test_findings_come_in_a_stable_order(world, service):
    signed = world.issue()
    project = ProjectTerms(ends=date(2040, 1, 1), requirements=(Requirement("ME063100", 5),))
    report = run(service, [scanned(signed.token, 1), scanned(signed.token, 2)], project)
    assert report.workers[0].findings == (
        Finding.EXPIRES_BEFORE_PROJECT_END,
        Finding.LEVEL_BELOW_REQUIREMENT,
        Finding.DUPLICATE_IN_LIST,
    )


def test_unauthenticated_rows_get_no_findings(world, service):
    forged = case_bad_signature_flipped_byte(world)
    project = ProjectTerms(ends=date(2040, 1, 1), requirements=(Requirement("SI013017", 1),))
    report = run(service, [scanned(forged, 1), scanned(forged, 2)], project)
    assert [w.findings for w in report.workers] == [(), ()]


# --- rented certificates: the same credential on two owners' overlapping projects ------------


@pytest.fixture
def two_owners(database):
    projects.add_owner("pupr-tol", "Ditjen Bina Marga", NOW)
    projects.add_owner("bumn-karya", "PT Karya Contoh (Persero)", NOW)


def _project(owner: str, starts: str, ends: str) -> projects.ProjectInfo:
    return projects.create_project(owner, terms.watched(f"Proyek {owner}", starts, ends, ()), NOW)


def _crew(service, project: projects.ProjectInfo, workers: list[RosterWorker]):
    found = check.outcomes(service, workers, owner_id=project.owner_id, at=NOW)
    projects.replace_crew(project, found)
    return check.report(
        found, project.terms, check.project_period(project.terms), owner_id=project.owner_id, at=NOW
    )


def test_same_credential_on_two_owners_overlapping_projects_is_flagged_in_both(
    world, service, two_owners
):
    shared, own = world.issue(), world.issue(holder_name="Budi Santoso")
    toll = _project("pupr-tol", "2026-01-01", "2026-06-30")
    dam = _project("bumn-karya", "2026-06-01", "2026-12-31")
    first = _crew(service, toll, [scanned(shared.token, 1), scanned(own.token, 2)])
    assert first.workers[0].findings == ()  # nobody else has it yet
    second = _crew(service, dam, [typed("lsp-contoh", shared.credential.number, HOLDER)])
    assert second.workers[0].findings == (Finding.ON_OTHER_ACTIVE_PROJECT,)
    again = run(
        service,
        projects.crew_of(toll),
        toll.terms,
        owner="pupr-tol",
        period=check.project_period(toll.terms),
    )
    assert [w.findings for w in again.workers] == [(Finding.ON_OTHER_ACTIVE_PROJECT,), ()]
    # Neither report says which other project or owner holds it.
    for report, other in ((again, dam), (second, toll)):
        shown = str(report.to_dict())
        assert other.id not in shown and other.owner_id not in shown
        assert str(other.terms.name) not in shown


def test_periods_that_do_not_overlap_are_not_flagged(world, service, two_owners):
    shared = world.issue()
    _crew(service, _project("pupr-tol", "2026-01-01", "2026-03-31"), [scanned(shared.token)])
    later = _crew(
        service, _project("bumn-karya", "2026-04-01", "2026-12-31"), [scanned(shared.token)]
    )
    assert later.workers[0].findings == ()


def test_one_owners_own_projects_are_not_other_projects(world, service, two_owners):
    shared = world.issue()
    _crew(service, _project("pupr-tol", "2026-01-01", "2026-12-31"), [scanned(shared.token)])
    second = _crew(
        service, _project("pupr-tol", "2026-01-01", "2026-12-31"), [scanned(shared.token)]
    )
    assert second.workers[0].findings == ()


def test_one_off_check_sees_running_projects(world, service, two_owners):
    shared = world.issue()
    running = _project("pupr-tol", today(NOW).isoformat(), "2026-12-31")
    _crew(service, running, [scanned(shared.token)])
    public = run(service, [scanned(shared.token)])
    assert public.workers[0].findings == (Finding.ON_OTHER_ACTIVE_PROJECT,)
    as_owner = run(service, [scanned(shared.token)], owner="pupr-tol")
    assert as_owner.workers[0].findings == ()
    future = run(
        service, [scanned(shared.token)], ProjectTerms(ends=date(2027, 6, 1)), owner="bumn-karya"
    )
    assert future.workers[0].findings == (Finding.ON_OTHER_ACTIVE_PROJECT,)


def test_forged_copy_of_a_number_does_not_mark_the_real_one(world, service, two_owners):
    real = world.issue()
    forged = case_bad_signature_flipped_byte(world)
    _crew(service, _project("bumn-karya", "2026-01-01", "2026-12-31"), [scanned(forged)])
    mine = _crew(service, _project("pupr-tol", "2026-01-01", "2026-12-31"), [scanned(real.token)])
    assert mine.workers[0].findings == ()


# --- summary and order ---------------------------------------------------------------------------


def test_summary_counts_and_problems_first(world, service):
    good, revoked = world.issue(), world.issue(holder_name="Budi Santoso")
    world.revoke(revoked.credential.number)
    workers = [
        scanned(good.token, 1),
        scanned(revoked.token, 2),
        scanned("rusak", 3),
        scanned(good.token, 4),
    ]
    report = run(service, workers)
    assert report.summary() == {
        "workers": 4,
        "ok": 0,
        "problems": 4,
        "by_status": {"valid": 2, "malformed": 1, "revoked": 1},
        "by_finding": {"duplicate_in_list": 2},
    }
    clean = run(service, [scanned(good.token, 1), scanned("rusak", 2)])
    assert [w.outcome.worker.position for w in clean.problems_first()] == [2, 1]
    assert clean.summary()["ok"] == 1


def test_report_lists_workers_in_input_order_with_line_or_ref(world, service):
    signed = world.issue()
    in_file = RosterWorker(1, 7, None, credential=signed.token)
    in_file_with_ref = RosterWorker(2, 9, "KRU-2", credential="x")
    in_json = RosterWorker(3, None, None, credential="x")
    rows = run(service, [in_file, in_file_with_ref, in_json]).to_dict()["workers"]
    assert [{k: row[k] for k in ("line", "ref") if k in row} for row in rows] == [
        {"line": 7},
        {"line": 9, "ref": "KRU-2"},
        {"ref": None},
    ]


def test_evaluate_is_pure(world, service):
    signed = world.issue()
    outcome = outcome_of(scanned(signed.token), service.verify(signed.token, at=NOW))
    report = evaluate([outcome], NO_TERMS, {outcome.identity}, NOW)
    assert report.workers[0].findings == (Finding.ON_OTHER_ACTIVE_PROJECT,)
    assert evaluate([outcome], NO_TERMS, set(), NOW).workers[0].findings == ()


# --- project terms -------------------------------------------------------------------------------


def test_watched_terms_need_name_and_ordered_dates():
    good = terms.watched(
        " Tol  Trans Sumatra ",
        "2026-01-01",
        "2026-12-31",
        terms.requirements([{"job_code": "me063100", "min_level": 3}]),
    )
    assert good.name == "Tol Trans Sumatra" and good.requirements == (Requirement("ME063100", 3),)
    with pytest.raises(InvalidInput, match="ends must not be before starts"):
        terms.watched("X", "2026-12-31", "2026-01-01", ())
    with pytest.raises(InvalidInput, match="name is required"):
        terms.watched("  ", "2026-01-01", "2026-12-31", ())


@pytest.mark.parametrize("text", ["2026-13-01", "31/12/2026", "2026-1-1", "1999-12-31", "x"])
def test_bad_dates_are_refused(text):
    with pytest.raises(InvalidInput, match="like 2026-12-31") as refused:
        terms.calendar_date(text, "ends")
    assert refused.value.field == "ends"


@pytest.mark.parametrize(
    ("items", "message"),
    [
        ([{"job_code": "ME06", "min_level": 3}], "job code like ME063100"),
        ([{"job_code": "ME063100", "min_level": 0}], "from 1 to 9"),
        ([{"job_code": "ME063100", "min_level": True}], "from 1 to 9"),
        (
            [{"job_code": "ME063100", "min_level": 3}, {"job_code": "me063100", "min_level": 4}],
            "listed twice",
        ),
    ],
)
def test_bad_requirements_are_refused(items, message):
    with pytest.raises(InvalidInput, match=message):
        terms.requirements(items)


def test_requirements_typed_in_one_field():
    assert terms.requirements_text("ME063100:3; si013017 : 2\n") == (
        Requirement("ME063100", 3),
        Requirement("SI013017", 2),
    )
    assert terms.requirements_text("") == ()
    with pytest.raises(InvalidInput, match="ME063100:3"):
        terms.requirements_text("ME063100")


def test_project_name_never_holds_a_nik():
    with pytest.raises(InvalidInput) as refused:
        terms.project_name("Proyek 3273010001900042")
    assert "3273010001900042" not in refused.value.message


# --- projects store ------------------------------------------------------------------------------


def test_owner_sees_only_its_own_projects(world, two_owners):
    mine = _project("pupr-tol", "2026-01-01", "2026-12-31")
    theirs = _project("bumn-karya", "2026-01-01", "2026-12-31")
    assert [p.id for p in projects.list_projects("pupr-tol")] == [mine.id]
    with pytest.raises(NotFound):
        projects.get_project("pupr-tol", theirs.id)
    with pytest.raises(NotFound):
        projects.delete_project("pupr-tol", theirs.id)
    assert projects.get_project("bumn-karya", theirs.id).terms == theirs.terms


def test_deleting_a_project_deletes_its_crew(world, service, two_owners):
    from verifier.store.models import CrewMember

    project = _project("pupr-tol", "2026-01-01", "2026-12-31")
    _crew(service, project, [scanned(world.issue().token)])
    assert CrewMember.select().count() == 1
    projects.delete_project("pupr-tol", project.id)
    assert CrewMember.select().count() == 0


def test_ended_projects_are_deleted_after_retention(world, two_owners):
    _project("pupr-tol", "2025-01-01", "2025-06-30")
    kept = _project("pupr-tol", "2025-01-01", "2025-07-01")
    assert projects.delete_ended(date(2025, 7, 1)) == 1
    assert [p.id for p in projects.list_projects("pupr-tol")] == [kept.id]


def test_reinstated_credential_is_valid_again_in_a_crew(world, service):
    signed = world.issue()
    world.suspend(signed.credential.number, now=NOW - 60)
    revocation.reinstate("lsp-contoh", signed.credential.number, note=None, actor="t", now=NOW)
    assert run(service, [scanned(signed.token)]).workers[0].outcome.status == "valid"


def test_day_boundaries_are_in_wib():
    assert today(1_767_200_400) == date(2026, 1, 1)  # 2025-12-31T17:00Z is midnight in WIB
    assert today(1_767_200_399) == date(2025, 12, 31)
    assert DAY == 86_400

"""Issuing that cannot be right is refused (issue 14): a valid_from so old that the certificate
has expired at issue, or more than MAX_DAYS_AHEAD days ahead, unless explicitly allowed; in the
one issuing path, so the CLI, the API, cohort files and the console all refuse it."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from click.testing import CliRunner

from tests.helpers import DAY, NOW
from tests.test_batch_api import BATCH
from verifier.cli import main
from verifier.core.credential import add_years, parse_instant
from verifier.core.errors import InvalidInput
from verifier.issuance.issuer import MAX_DAYS_AHEAD
from verifier.store import apikeys
from verifier.store.models import CredentialRecord

#: The oldest valid_from still valid at NOW: five years later is one second after NOW.
OLDEST = add_years(NOW + 1, -5)
FURTHEST = NOW + MAX_DAYS_AHEAD * DAY
PROBLEM = "application/problem+json"


def _count() -> int:
    return CredentialRecord.select().count()


# --- the rule, in the issuing service ------------------------------------------------------


def test_a_certificate_expired_at_issue_is_refused(contoh, issue):
    with pytest.raises(InvalidInput) as refused:
        issue(valid_from=OLDEST - 1)
    assert refused.value.field == "valid_from"
    assert "expired before it is issued" in refused.value.message
    assert _count() == 0


def test_the_oldest_valid_from_still_valid_is_issued(contoh, issue):
    assert issue(valid_from=OLDEST).credential.expires_at == NOW + 1


def test_an_expired_certificate_is_issued_when_allowed(contoh, issue):
    signed = issue(valid_from=OLDEST - 1, allow_expired=True)
    assert signed.credential.expires_at == NOW and _count() == 1


def test_valid_from_too_far_ahead_is_refused(contoh, issue):
    assert issue(valid_from=FURTHEST).credential.valid_from == FURTHEST
    with pytest.raises(InvalidInput) as refused:
        issue(valid_from=FURTHEST + 1)
    assert refused.value.field == "valid_from"
    assert f"more than {MAX_DAYS_AHEAD} days ahead" in refused.value.message
    assert _count() == 1


def test_valid_from_far_ahead_is_issued_when_allowed(contoh, issue):
    later = NOW + 400 * DAY
    assert issue(valid_from=later, allow_future=True).credential.valid_from == later


def test_one_allowance_does_not_allow_the_other(contoh, issue):
    with pytest.raises(InvalidInput):
        issue(valid_from=OLDEST - 1, allow_future=True)
    with pytest.raises(InvalidInput):
        issue(valid_from=FURTHEST + 1, allow_expired=True)


def test_the_calendar_bounds_still_apply_when_allowed(contoh, issue):
    with pytest.raises(InvalidInput) as refused:
        issue(valid_from=parse_instant("9999-06-01"), allow_future=True)
    assert "between 1970 and 9990" in refused.value.message


# --- the CLI -------------------------------------------------------------------------------


@pytest.fixture
def skk(env: dict[str, str], contoh):
    """`skk ARGS...` on the test database, where lsp-contoh has a signing key."""
    runner = CliRunner()
    return lambda *args: runner.invoke(main, list(args), env=env, catch_exceptions=False)


def _cli_issue(skk, *extra: str):
    return skk(
        "issue",
        "--agency",
        "lsp-contoh",
        "--name",
        "Rina Marlina",
        "--job-code",
        "ME063100",
        "--level",
        "3",
        "--json",
        *extra,
    )


def test_cli_refuses_an_expired_valid_from_naming_it(skk):
    result = _cli_issue(skk, "--valid-from", "2015-01-01")
    assert result.exit_code == 1 and result.stdout == ""
    assert "valid_from" in result.stderr and "allow it explicitly" in result.stderr
    assert _count() == 0


def test_cli_issues_an_expired_valid_from_with_allow_expired(skk):
    result = _cli_issue(skk, "--valid-from", "2015-01-01", "--allow-expired")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["number"] and _count() == 1


def test_cli_refuses_a_far_future_valid_from_unless_allowed(skk):
    far = time.strftime("%Y-%m-%d", time.gmtime(time.time() + 200 * DAY))
    refused = _cli_issue(skk, "--valid-from", far)
    assert refused.exit_code == 1 and "days ahead" in refused.stderr
    assert _cli_issue(skk, "--valid-from", far, "--allow-future").exit_code == 0
    assert _count() == 1


# --- the agency API ------------------------------------------------------------------------


@pytest.fixture
def auth(contoh) -> dict[str, str]:
    """Authorization header of lsp-contoh."""
    return {"Authorization": f"Bearer {apikeys.create('lsp-contoh', NOW)['api_key']}"}


def _api_issue(client, auth, **fields: Any):
    body = {"holder_name": "Rina Marlina", "job_code": "ME063100", "level": 3, **fields}
    return client.post("/api/v1/credentials", json=body, headers=auth)


def test_api_refuses_an_expired_valid_from_with_422_naming_it(client, auth):
    response = _api_issue(client, auth, valid_from="2015-01-01")
    assert response.status_code == 422 and response.mimetype == PROBLEM
    body = response.get_json(force=True)
    assert body["field"] == "valid_from" and "expired" in body["detail"]
    assert _count() == 0


def test_api_issues_what_is_explicitly_allowed(client, auth):
    expired = _api_issue(client, auth, valid_from="2015-01-01", allow_expired=True)
    assert expired.status_code == 201, expired.get_data(as_text=True)
    future = _api_issue(client, auth, valid_from="2099-01-01", allow_future=True)
    assert future.status_code == 201, future.get_data(as_text=True)
    refused = _api_issue(client, auth, valid_from="2099-01-01")
    assert refused.status_code == 422 and refused.get_json(force=True)["field"] == "valid_from"
    assert _count() == 2


@pytest.mark.parametrize("value", ["yes", 1, None])
def test_api_allowances_are_booleans(client, auth, value):
    response = _api_issue(client, auth, valid_from="2015-01-01", allow_expired=value)
    if value is None:  # a null member is left out, so nothing is allowed
        assert response.status_code == 422
    else:
        assert response.status_code == 400
        assert response.get_json(force=True)["field"] == "allow_expired"
    assert _count() == 0


# --- cohort files ----------------------------------------------------------------------------


def test_batch_rows_with_impossible_dates_are_listed_with_line_and_column(client, auth):
    data = (
        b"nama,nik,kode_jabatan,jenjang,berlaku_mulai\n"
        b"Rina Marlina,3201000000000017,ME063100,3,2015-01-01\n"
        b"Budi Santoso,3201000000000025,ME063100,3,\n"
        b"Sari Dewi,3201000000000033,ME063100,3,01/01/2099\n"
    )
    response = client.post(BATCH, data=data, content_type="text/csv", headers=auth)
    assert response.status_code == 422, response.get_data(as_text=True)
    errors = response.get_json(force=True)["errors"]
    assert [(e["line"], e["column"]) for e in errors] == [
        (2, "berlaku_mulai"),
        (4, "berlaku_mulai"),
    ]
    assert "expired" in errors[0]["message"] and "days ahead" in errors[1]["message"]
    assert _count() == 0


def test_a_file_resent_years_later_reports_its_rows_existing(client, auth, monkeypatch):
    # Issued when valid_from was four years back; re-sent when that is over five years back.
    exam = time.strftime("%Y-%m-%d", time.gmtime(NOW - 4 * 365 * DAY))
    data = (
        b"nama,nomor,kode_jabatan,jenjang,berlaku_mulai\n"
        b"Rina Marlina,ME063100 3 00000001 2022,ME063100,3," + exam.encode() + b"\n"
    )
    monkeypatch.setattr(time, "time", lambda: NOW)
    first = client.post(BATCH, data=data, content_type="text/csv", headers=auth)
    assert first.status_code == 201, first.get_data(as_text=True)
    assert first.get_json()["issued"] == 1
    monkeypatch.setattr(time, "time", lambda: NOW + 400 * DAY)
    again = client.post(BATCH, data=data, content_type="text/csv", headers=auth)
    assert again.status_code == 201, again.get_data(as_text=True)
    assert (again.get_json()["issued"], again.get_json()["existing"]) == (0, 1)
    assert again.get_json()["results"][0]["status"] == "existing"
    # The same date on a new row is still refused, with line and column.
    new_row = data + b"Budi Santoso,ME063100 3 00000002 2022,ME063100,3," + exam.encode() + b"\n"
    refused = client.post(BATCH, data=new_row, content_type="text/csv", headers=auth)
    assert refused.status_code == 422
    errors = refused.get_json(force=True)["errors"]
    assert [(e["line"], e["column"]) for e in errors] == [(3, "berlaku_mulai")]
    assert "expired" in errors[0]["message"]
    assert _count() == 1


def test_a_row_with_another_problem_still_names_its_date(client, auth):
    data = b"nama,nik,kode_jabatan,jenjang,berlaku_mulai\nRina Marlina,123,ME063100,3,2015-01-01\n"
    response = client.post(BATCH, data=data, content_type="text/csv", headers=auth)
    assert response.status_code == 422
    errors = response.get_json(force=True)["errors"]
    assert sorted(e["column"] for e in errors) == ["berlaku_mulai", "nik"]
    assert _count() == 0

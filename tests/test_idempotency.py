"""Idempotency-Key on the issuing routes (issue 14): a retry never issues twice, on both stores.

The store's claim is race-safe (the unique index decides), answers are kept 24 hours and pruned
after, a failed first request releases its key, and keys belong to the agency (all its API keys).
"""

from __future__ import annotations

import io
import threading
import time
from typing import Any

import peewee
import pytest

from tests.helpers import DAY, NOW
from tests.test_batch_api import BATCH, sample_bytes
from verifier.core.errors import Conflict, StorageUnavailable
from verifier.issuance.service import IssuingService
from verifier.store import apikeys, idempotency
from verifier.store.idempotency import IN_FLIGHT_LEASE_SECONDS, KEEP_SECONDS
from verifier.store.models import CredentialRecord, IdempotencyRecord
from verifier.web import idempotency as web_idempotency

ISSUE = "/api/v1/credentials"
KEY = '"8e03978e-40d5-43e8-bc93-6894a57f9324"'
BODY = {
    "holder_name": "Rina Marlina",
    "job_code": "ME063100",
    "level": 3,
    "nik": "3201000000000017",
}
PROBLEM = "application/problem+json"


@pytest.fixture
def auth(contoh) -> dict[str, str]:
    """Authorization header of lsp-contoh."""
    return _bearer(apikeys.create("lsp-contoh", NOW)["api_key"])


def _bearer(api_key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_key}"}


def _issue(client, headers: dict[str, str], key: str | None = KEY, **fields: Any):
    sent = dict(headers) if key is None else {**headers, "Idempotency-Key": key}
    return client.post(ISSUE, json={**BODY, **fields}, headers=sent)


def _count() -> int:
    return CredentialRecord.select().count()


def _problem(response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    return response.get_json(force=True)


# --- the API ---------------------------------------------------------------------------------


def test_a_retried_issue_issues_once_and_answers_the_same(client, auth):
    first = _issue(client, auth)
    again = _issue(client, auth)
    assert first.status_code == again.status_code == 201
    assert again.get_data() == first.get_data()
    assert again.headers["Location"] == first.headers["Location"]
    assert again.mimetype == "application/json"
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert _count() == 1
    # The answer is stored, never the NIK the body held.
    stored = IdempotencyRecord.get()
    assert BODY["nik"] not in stored.response_body and BODY["nik"] not in stored.fingerprint


def test_a_bare_token_key_is_the_same_key_as_the_quoted_one(client, auth):
    first = _issue(client, auth, key=KEY)
    again = _issue(client, auth, key=KEY.strip('"'))
    assert again.get_data() == first.get_data() and _count() == 1


def test_without_a_key_every_post_issues(client, auth):
    first = _issue(client, auth, key=None)
    second = _issue(client, auth, key=None)
    assert first.status_code == second.status_code == 201
    assert first.get_json()["number"] != second.get_json()["number"]
    assert _count() == 2 and IdempotencyRecord.select().count() == 0


def test_the_same_key_with_another_body_is_422(client, auth):
    assert _issue(client, auth).status_code == 201
    body = _problem(_issue(client, auth, holder_name="Budi Santoso"), 422)
    assert body["field"] == "Idempotency-Key"
    assert "different request" in body["detail"]
    assert _count() == 1


def test_the_same_key_on_the_other_issuing_route_is_422(client, auth):
    assert _issue(client, auth).status_code == 201
    response = client.post(
        BATCH,
        data=sample_bytes(),
        content_type="text/csv",
        headers={**auth, "Idempotency-Key": KEY},
    )
    assert _problem(response, 422)["field"] == "Idempotency-Key"
    assert _count() == 1


def test_the_api_keys_of_one_agency_share_their_keys(client, auth, contoh):
    # The agency rotated its API key between the attempt and the retry.
    rotated = _bearer(apikeys.create("lsp-contoh", NOW)["api_key"])
    first, retried = _issue(client, auth), _issue(client, rotated)
    assert first.status_code == retried.status_code == 201
    assert retried.get_data() == first.get_data()
    assert retried.headers["Idempotent-Replayed"] == "true"
    assert _count() == 1


def test_keys_of_two_agencies_never_collide(client, auth, make_agency, make_key):
    make_agency("lsp-lain", name="LSP Lain")
    make_key("lsp-lain")
    other = _bearer(apikeys.create("lsp-lain", NOW)["api_key"])
    first, second = _issue(client, auth), _issue(client, other)
    assert first.status_code == second.status_code == 201
    assert first.get_json()["number"] != second.get_json()["number"]
    assert "Idempotent-Replayed" not in second.headers
    assert _count() == 2


def test_a_retry_while_the_first_request_runs_is_409(client, auth, monkeypatch):
    inner: list[Any] = []
    issue = IssuingService.issue

    def issue_with_a_retry_meanwhile(self, *args, **kwargs):
        inner.append(_issue(client, auth))  # the client gave up waiting and sent it again
        return issue(self, *args, **kwargs)

    monkeypatch.setattr(IssuingService, "issue", issue_with_a_retry_meanwhile)
    first = _issue(client, auth)
    assert first.status_code == 201
    body = _problem(inner[0], 409)
    assert body["field"] == "Idempotency-Key" and "still being processed" in body["detail"]
    assert inner[0].headers["Retry-After"] == "2"
    assert _count() == 1


def test_a_first_request_that_fails_with_503_releases_the_key(client, auth, monkeypatch):
    issue = IssuingService.issue
    failures = [StorageUnavailable("database unavailable: gone")]

    def failing_once(self, *args, **kwargs):
        if failures:
            raise failures.pop()
        return issue(self, *args, **kwargs)

    monkeypatch.setattr(IssuingService, "issue", failing_once)
    assert _issue(client, auth).status_code == 503
    assert IdempotencyRecord.select().count() == 0
    retried = _issue(client, auth)
    assert retried.status_code == 201 and "Idempotent-Replayed" not in retried.headers
    assert _count() == 1


def test_a_conflict_is_not_kept_so_the_retry_runs_again(client, auth, monkeypatch):
    issue = IssuingService.issue
    conflicts = [Conflict("another import of the agency issued these meanwhile; run it again")]

    def conflicting_once(self, *args, **kwargs):
        if conflicts:
            raise conflicts.pop()
        return issue(self, *args, **kwargs)

    monkeypatch.setattr(IssuingService, "issue", conflicting_once)
    assert _problem(_issue(client, auth), 409)["status"] == 409
    assert IdempotencyRecord.select().count() == 0
    retried = _issue(client, auth)
    assert retried.status_code == 201 and "Idempotent-Replayed" not in retried.headers
    assert _count() == 1


def test_a_first_request_that_crashes_releases_the_key(client, auth, monkeypatch):
    issue = IssuingService.issue
    crashes = [RuntimeError("a bug")]

    def crashing_once(self, *args, **kwargs):
        if crashes:
            raise crashes.pop()
        return issue(self, *args, **kwargs)

    monkeypatch.setattr(IssuingService, "issue", crashing_once)
    assert _issue(client, auth).status_code == 500
    assert _issue(client, auth).status_code == 201
    assert _count() == 1


def _database_gone(*args: Any, **kwargs: Any) -> Any:
    raise peewee.OperationalError("server closed the connection unexpectedly")


def test_an_answer_that_cannot_be_stored_issues_nothing(client, auth, monkeypatch):
    monkeypatch.setattr(idempotency, "finish", _database_gone)
    # The answer is stored in the issuing transaction: it failing rolls the credential back.
    assert _problem(_issue(client, auth), 503)["status"] == 503
    assert _count() == 0 and IdempotencyRecord.select().count() == 0
    monkeypatch.undo()
    retried = _issue(client, auth)
    assert retried.status_code == 201 and "Idempotent-Replayed" not in retried.headers
    assert _count() == 1


def test_an_issue_whose_claim_was_lost_meanwhile_rolls_back(client, auth, monkeypatch):
    # Taken over after its lease (or answered) by another request before this one committed.
    monkeypatch.setattr(idempotency, "finish", lambda *args: False)
    response = _issue(client, auth)
    assert "still being processed" in _problem(response, 409)["detail"]
    assert response.headers["Retry-After"] == "2"
    assert _count() == 0


def test_a_batch_whose_claim_was_lost_meanwhile_rolls_back(client, auth, monkeypatch):
    monkeypatch.setattr(idempotency, "finish", lambda *args: False)
    response = client.post(
        BATCH,
        data=sample_bytes(),
        content_type="text/csv",
        headers={**auth, "Idempotency-Key": KEY},
    )
    assert _problem(response, 409)["field"] == "Idempotency-Key"
    assert _count() == 0


def test_an_exit_right_after_the_commit_keeps_the_answer(client, auth, monkeypatch):
    issue = IssuingService.issue

    def exit_after_commit(self, *args, **kwargs):
        issue(self, *args, **kwargs)
        raise SystemExit(1)  # the worker is stopped (a timeout's abort) just after COMMIT

    monkeypatch.setattr(IssuingService, "issue", exit_after_commit)
    with pytest.raises(SystemExit):
        _issue(client, auth)
    monkeypatch.undo()
    retried = _issue(client, auth)
    assert retried.status_code == 201 and retried.headers["Idempotent-Replayed"] == "true"
    assert _count() == 1


def test_a_connection_lost_after_the_commit_replays_after_the_lease(client, auth, monkeypatch):
    issue = IssuingService.issue

    def committed_then_lost(self, *args, **kwargs):
        issue(self, *args, **kwargs)
        _database_gone()

    monkeypatch.setattr(IssuingService, "issue", committed_then_lost)
    monkeypatch.setattr(idempotency, "release", _database_gone)
    assert _issue(client, auth).status_code == 503
    monkeypatch.undo()
    later = time.time() + IN_FLIGHT_LEASE_SECONDS + 1  # a lapsed claim may be taken over
    monkeypatch.setattr(time, "time", lambda: later)
    retried = _issue(client, auth)
    assert retried.status_code == 201 and retried.headers["Idempotent-Replayed"] == "true"
    assert _count() == 1


def test_a_refusal_that_cannot_be_stored_is_given_and_the_connection_dropped(
    client, auth, monkeypatch
):
    dropped: list[bool] = []
    drop = web_idempotency.drop_connection

    def dropping() -> None:
        dropped.append(True)
        drop()

    monkeypatch.setattr(idempotency, "finish", _database_gone)
    monkeypatch.setattr(web_idempotency, "drop_connection", dropping)
    assert _problem(_issue(client, auth, level=7), 422)["field"] == "level"
    assert dropped == [True]
    monkeypatch.undo()
    assert _issue(client, auth, key='"another"').status_code == 201  # the app reconnects


def test_a_refusal_is_the_answer_a_retry_gets(client, auth):
    first = _issue(client, auth, level=7)  # lsp-contoh issues levels 1-6 only
    assert _problem(first, 422)["field"] == "level"
    again = _issue(client, auth, level=7)
    assert again.get_data() == first.get_data() and again.mimetype == PROBLEM
    assert again.headers["Idempotent-Replayed"] == "true"
    assert _count() == 0


@pytest.mark.parametrize(
    "key",
    [
        '""',
        '"unterminated',
        "two words",
        '"tab\tinside"',
        '"' + "x" * 256 + '"',
        "a,b",
        '"é"',
        "x" * 256,
    ],
)
def test_a_malformed_key_is_400_naming_the_header(client, auth, key):
    body = _problem(_issue(client, auth, key=key), 400)
    assert body["field"] == "Idempotency-Key"
    assert _count() == 0


def test_escapes_in_a_quoted_key_are_read(client, auth):
    first = _issue(client, auth, key=r'"a\"b\\c"')
    assert first.status_code == 201
    assert IdempotencyRecord.get().key == 'a"b\\c'


def test_a_retried_batch_issues_once(client, auth):
    headers = {**auth, "Idempotency-Key": KEY}
    first = client.post(BATCH, data=sample_bytes(), content_type="text/csv", headers=headers)
    issued = _count()
    assert first.status_code == 201 and issued == first.get_json()["issued"] > 0
    again = client.post(BATCH, data=sample_bytes(), content_type="text/csv", headers=headers)
    assert again.status_code == 201 and again.get_data() == first.get_data()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert _count() == issued


def test_a_batch_resent_as_a_new_multipart_form_is_the_same_request(client, auth):
    headers = {**auth, "Idempotency-Key": KEY}

    def send():
        # Every send draws a new multipart boundary, as curl -F does.
        return client.post(
            BATCH,
            data={"file": (io.BytesIO(sample_bytes()), "peserta.csv")},
            content_type="multipart/form-data",
            headers=headers,
        )

    first, again = send(), send()
    assert first.status_code == 201 and again.get_data() == first.get_data()
    assert again.headers["Idempotent-Replayed"] == "true"


def test_a_batch_file_is_the_same_request_as_a_body_or_in_a_form(client, auth):
    headers = {**auth, "Idempotency-Key": KEY}
    first = client.post(BATCH, data=sample_bytes(), content_type="text/csv", headers=headers)
    again = client.post(
        BATCH,
        data={"file": (io.BytesIO(sample_bytes()), "peserta.csv")},
        content_type="multipart/form-data",
        headers=headers,
    )
    assert first.status_code == again.status_code == 201
    assert again.get_data() == first.get_data()


def test_a_batch_with_another_file_under_the_same_key_is_422(client, auth):
    headers = {**auth, "Idempotency-Key": KEY}
    assert (
        client.post(
            BATCH, data=sample_bytes(), content_type="text/csv", headers=headers
        ).status_code
        == 201
    )
    issued = _count()
    other = sample_bytes().replace(b"\n", b"\r\n")
    response = client.post(BATCH, data=other, content_type="text/csv", headers=headers)
    assert _problem(response, 422)["field"] == "Idempotency-Key"
    assert _count() == issued


# --- the store -------------------------------------------------------------------------------


def test_claim_finish_lookup(database):
    assert idempotency.claim("agency:a", "k", "f1", NOW) is None
    found = idempotency.claim("agency:a", "k", "f1", NOW + 1)
    assert found is not None and found.in_flight
    assert idempotency.finish("agency:a", "k", NOW, 201, "answer")
    record = idempotency.lookup("agency:a", "k")
    assert record is not None and not record.in_flight
    assert (record.status_code, record.response_body, record.fingerprint) == (201, "answer", "f1")
    assert idempotency.claim("agency:a", "k", "f1", NOW + 2) == record
    assert idempotency.claim("agency:b", "k", "f1", NOW + 2) is None  # another caller's key


def test_release_lets_the_next_request_claim(database):
    assert idempotency.claim("agency:a", "k", "f1", NOW) is None
    assert idempotency.release("agency:a", "k", NOW)
    assert idempotency.lookup("agency:a", "k") is None
    assert idempotency.claim("agency:a", "k", "f1", NOW + 1) is None


def test_an_abandoned_claim_is_taken_over_after_its_lease(database):
    assert idempotency.claim("agency:a", "k", "f1", NOW) is None
    assert idempotency.claim("agency:a", "k", "f1", NOW + IN_FLIGHT_LEASE_SECONDS - 1).in_flight
    # Another body never takes over: the first may have issued before its worker died.
    assert idempotency.claim("agency:a", "k", "f2", NOW + IN_FLIGHT_LEASE_SECONDS) is not None
    later = NOW + IN_FLIGHT_LEASE_SECONDS
    assert idempotency.claim("agency:a", "k", "f1", later) is None
    # The dead worker's claim is gone: it can neither answer nor release the new one.
    assert not idempotency.finish("agency:a", "k", NOW, 201, "late")
    assert not idempotency.release("agency:a", "k", NOW)
    assert idempotency.finish("agency:a", "k", later, 201, "answer")


def test_a_takeover_never_wipes_an_answer_stored_since_the_claim_was_read(database, monkeypatch):
    assert idempotency.claim("agency:a", "k", "f1", NOW) is None
    lookup = idempotency.lookup
    reads: list[int] = []

    def read_before_the_answer(scope: str, key: str) -> idempotency.Record | None:
        found = lookup(scope, key)
        reads.append(1)
        if len(reads) == 1:
            # The lapsed claim is read unanswered; its slow worker stores its answer right then.
            assert idempotency.finish("agency:a", "k", NOW, 201, "answer")
        return found

    monkeypatch.setattr(idempotency, "lookup", read_before_the_answer)
    found = idempotency.claim("agency:a", "k", "f1", NOW + IN_FLIGHT_LEASE_SECONDS)
    assert found is not None and (found.status_code, found.response_body) == (201, "answer")
    record = lookup("agency:a", "k")
    assert record is not None and record.response_body == "answer"


def test_an_answer_is_kept_24_hours_then_the_key_is_new(database):
    assert idempotency.claim("agency:a", "k", "f1", NOW) is None
    idempotency.finish("agency:a", "k", NOW, 201, "answer")
    assert idempotency.claim("agency:a", "k", "f2", NOW + KEEP_SECONDS - 1) is not None
    assert idempotency.claim("agency:a", "k", "f2", NOW + KEEP_SECONDS) is None


def test_a_claim_forgets_answers_older_than_24_hours(database):
    # The privacy notice's promise holds without the prune timer: a claim deletes them.
    for scope in ("agency:a", "agency:b"):
        assert idempotency.claim(scope, "old", "f", NOW) is None
        assert idempotency.finish(scope, "old", NOW, 201, "Rina Marlina's answer")
    assert idempotency.claim("agency:a", "young", "f", NOW + 1) is None
    assert idempotency.claim("agency:a", "new", "f", NOW + KEEP_SECONDS + 1) is None
    assert sorted(r.key for r in IdempotencyRecord.select()) == ["new", "young"]


def test_prune_removes_records_older_than_before(database):
    # Newest first: a claim itself forgets the records older than a day before it.
    for offset, key in ((-DAY + 1, "young"), (-DAY - 1, "day-old"), (-2 * DAY, "old")):
        assert idempotency.claim("agency:a", key, "f", NOW + offset) is None
    assert idempotency.prune(NOW - KEEP_SECONDS) == 2
    assert [r.key for r in IdempotencyRecord.select()] == ["young"]
    assert idempotency.prune(NOW - KEEP_SECONDS) == 0


def test_racing_claims_of_one_key_have_exactly_one_winner(database):
    racers = 8
    start = threading.Barrier(racers)
    results: list[Any] = []

    def race() -> None:
        start.wait()
        try:
            results.append(idempotency.claim("agency:a", "k", "f", NOW))
        finally:
            database.close()

    threads = [threading.Thread(target=race) for _ in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == racers
    assert sum(result is None for result in results) == 1
    assert IdempotencyRecord.select().count() == 1

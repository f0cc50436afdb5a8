"""Watched crews hear about changes: the outbox written in the revocation's transaction, Standard
Webhooks signatures checked by an independent verifier, retries with backoff, leases, expiry
warnings sent once, and old data forgotten. The clock and the HTTP sender are injected here;
tests/test_crew_server.py does the same with gunicorn, a real notifier process and a receiver."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import http.server
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any, ClassVar

import pytest

from tests.helpers import DAY, NOW
from verifier import key_admin
from verifier.core.crew import terms
from verifier.core.crew.calendar import today
from verifier.core.crew.worker import RosterWorker
from verifier.crew import check, webhooks
from verifier.crew.notifier import Notifier, NotifierSettings, http_post, retry_delay
from verifier.store import outbox, projects, pruning, registry, revocation
from verifier.store import webhooks as stored_webhooks
from verifier.store.credentials import SignedCredential
from verifier.store.models import ExpiryNotice, WebhookMessage

URL = "https://hook.example.id/skk"
SETTINGS = NotifierSettings(first_retry_seconds=5, lease_seconds=60, timeout_seconds=5)


# --- an independent Standard Webhooks verifier -------------------------------------------------


def verify_signature(
    secret: str, headers: dict[str, str], body: bytes, now: int, tolerance: int = 300
) -> dict[str, Any]:
    """What a subscriber does (standardwebhooks.com): recompute the HMAC, compare, check the age."""
    assert secret.startswith("whsec_")
    key = base64.b64decode(secret[len("whsec_") :])
    message_id, timestamp = headers["webhook-id"], headers["webhook-timestamp"]
    signed = message_id.encode() + b"." + timestamp.encode() + b"." + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    offered = [part.split(",", 1) for part in headers["webhook-signature"].split(" ")]
    assert any(
        version == "v1" and hmac.compare_digest(sig, expected) for version, sig in offered
    ), "signature does not verify"
    assert abs(now - int(timestamp)) <= tolerance
    payload: dict[str, Any] = json.loads(body)
    return payload


@dataclass
class Sender:
    """Records every POST; answers from a script of statuses (then 204), or raises OSError."""

    script: list[int | None] = field(default_factory=list)
    sent: list[tuple[str, dict[str, str], bytes]] = field(default_factory=list)

    def __call__(self, url: str, headers: dict[str, str], body: bytes, timeout: float) -> int:
        self.sent.append((url, headers, body))
        answer = self.script.pop(0) if self.script else 204
        if answer is None:
            raise ConnectionRefusedError("nobody listens")
        return answer


class Clock:
    """A settable clock."""

    def __init__(self, now: int) -> None:
        self.now = now

    def __call__(self) -> float:
        return float(self.now)


# --- a watched crew ------------------------------------------------------------------------------


@dataclass
class Watched:
    """An owner's running project with one credential on its crew and one subscription."""

    project: projects.ProjectInfo
    signed: SignedCredential
    secret: str
    subscription: str


def _crew(service, project: projects.ProjectInfo, tokens: list[str]) -> None:
    workers = [RosterWorker(i, i + 1, f"KRU-{i}", credential=t) for i, t in enumerate(tokens, 1)]
    projects.replace_crew(
        project, check.outcomes(service, workers, owner_id=project.owner_id, at=NOW)
    )


def _project(
    owner: str = "pupr-tol", starts: str = "2026-01-01", ends: str = "2026-12-31"
) -> projects.ProjectInfo:
    return projects.create_project(owner, terms.watched("Tol Contoh", starts, ends, ()), NOW)


@pytest.fixture
def watched(contoh, issue, service) -> Watched:
    projects.add_owner("pupr-tol", "Ditjen Bina Marga", NOW)
    signed = issue(now=NOW - DAY)
    project = _project()
    _crew(service, project, [signed.token, signed.token])
    subscription, secret = webhooks.subscribe(project, URL, NOW, local_allowed=False)
    return Watched(project, signed, secret, subscription.id)


def messages() -> list[WebhookMessage]:
    return list(WebhookMessage.select().order_by(WebhookMessage.id))


def _revoke(watched: Watched, at: int = NOW) -> revocation.StateChange:
    return revocation.revoke(
        "lsp-contoh", watched.signed.credential.number, "misuse", note=None, actor="test", now=at
    )


# --- the outbox ----------------------------------------------------------------------------------


def test_revocation_writes_one_message_per_subscription(watched):
    _revoke(watched)
    (message,) = messages()
    body = json.loads(message.body)
    assert message.event_type == "credential.revoked" and message.next_attempt_at == NOW
    assert body == {
        "type": "credential.revoked",
        "timestamp": "2026-01-15T00:00:00Z",
        "data": {
            "project": {"id": watched.project.id, "name": "Tol Contoh"},
            "credential": {"agency": "lsp-contoh", "number": watched.signed.credential.number},
            "status": "revoked",
            "reason": "misuse",
            "changed_at": "2026-01-15T00:00:00Z",
            "workers": [
                {"position": 1, "line": 2, "ref": "KRU-1"},
                {"position": 2, "line": 3, "ref": "KRU-2"},
            ],
        },
    }
    assert message.message_id.startswith("msg_")
    assert watched.signed.credential.holder_name not in message.body


def test_every_state_change_is_an_event_and_repeats_are_not(watched):
    number = watched.signed.credential.number
    revocation.suspend("lsp-contoh", number, "investigation", note=None, actor="t", now=NOW)
    revocation.suspend("lsp-contoh", number, "investigation", note=None, actor="t", now=NOW + 1)
    revocation.reinstate("lsp-contoh", number, note=None, actor="t", now=NOW + 2)
    _revoke(watched, NOW + 3)
    assert [m.event_type for m in messages()] == [
        "credential.suspended",
        "credential.reinstated",
        "credential.revoked",
    ]
    assert [json.loads(m.body)["data"]["status"] for m in messages()] == [
        "suspended",
        "active",
        "revoked",
    ]
    assert len({m.message_id for m in messages()}) == 3


def test_message_is_written_in_the_changes_transaction(watched, database):
    # A transaction that fails after the revocation leaves neither the change nor the message.
    with pytest.raises(RuntimeError), database.atomic():
        _revoke(watched)
        assert len(messages()) == 1  # written together, inside the transaction
        raise RuntimeError("the surrounding transaction fails")
    assert messages() == []
    assert revocation.lookup("lsp-contoh", watched.signed.credential.number) is None


def test_a_failing_outbox_write_undoes_the_revocation(watched, database, monkeypatch):
    def broken(*args: Any) -> int:
        raise RuntimeError("disk full")

    monkeypatch.setattr(outbox, "_insert", broken)
    with pytest.raises(RuntimeError):
        _revoke(watched)
    assert revocation.lookup("lsp-contoh", watched.signed.credential.number) is None


def test_ended_projects_and_unsubscribed_ones_hear_nothing(watched, issue, service):
    ended = _project(starts="2025-01-01", ends=today(NOW - DAY).isoformat())
    quiet = _project()
    _crew(service, ended, [watched.signed.token])
    _crew(service, quiet, [watched.signed.token])
    webhooks.subscribe(ended, URL, NOW, local_allowed=False)
    _revoke(watched)
    assert [json.loads(m.body)["data"]["project"]["id"] for m in messages()] == [watched.project.id]


def test_a_project_ending_today_still_hears(watched, service):
    today_only = _project(starts="2026-01-01", ends=today(NOW).isoformat())
    _crew(service, today_only, [watched.signed.token])
    webhooks.subscribe(today_only, URL, NOW, local_allowed=False)
    _revoke(watched)
    assert len(messages()) == 2


def test_rows_given_by_number_are_watched_too(contoh, issue, service):
    projects.add_owner("pupr-tol", "Ditjen Bina Marga", NOW)
    signed = issue(now=NOW - DAY)
    project = _project()
    worker = RosterWorker(
        1,
        None,
        None,
        agency="lsp-contoh",
        number=signed.credential.number,
        holder_name=signed.credential.holder_name,
    )
    projects.replace_crew(project, check.outcomes(service, [worker], owner_id="pupr-tol", at=NOW))
    webhooks.subscribe(project, URL, NOW, local_allowed=False)
    revocation.revoke(
        "lsp-contoh", signed.credential.number, "fraud", note=None, actor="t", now=NOW
    )
    assert len(messages()) == 1


def test_unauthenticated_rows_are_not_watched(contoh, issue, service):
    from .test_verify import flip_signature_byte

    projects.add_owner("pupr-tol", "Ditjen Bina Marga", NOW)
    signed = issue(now=NOW - DAY)
    project = _project()
    _crew(service, project, [flip_signature_byte(signed.token)])
    webhooks.subscribe(project, URL, NOW, local_allowed=False)
    revocation.revoke(
        "lsp-contoh", signed.credential.number, "fraud", note=None, actor="t", now=NOW
    )
    assert messages() == []


def test_a_revoked_signing_key_tells_every_project_watching_what_it_signed(
    contoh, issue, service, make_key
):
    projects.add_owner("pupr-tol", "Ditjen Bina Marga", NOW)
    scanned = issue(now=NOW - 2 * DAY)  # signed by contoh's key
    by_number = issue(now=NOW - 2 * DAY, holder_name="Siti Rahmawati")
    make_key(at=NOW - DAY)  # the next key: what it signs stays valid
    later = issue(now=NOW - DAY, holder_name="Budi Santoso")
    project, ended = _project(), _project(starts="2025-01-01", ends=today(NOW - DAY).isoformat())
    by_number_row = RosterWorker(
        3,
        4,
        "KRU-3",
        agency="lsp-contoh",
        number=by_number.credential.number,
        holder_name=by_number.credential.holder_name,
    )
    workers = [
        RosterWorker(i, i + 1, f"KRU-{i}", credential=t)
        for i, t in enumerate([scanned.token, later.token], 1)
    ]
    for target in (project, ended):
        outcomes = check.outcomes(service, [*workers, by_number_row], owner_id="pupr-tol", at=NOW)
        projects.replace_crew(target, outcomes)
        webhooks.subscribe(target, URL, NOW, local_allowed=False)
    key_admin.revoke_key(contoh.kid, actor="cli", now=NOW)
    bodies = [json.loads(m.body) for m in messages()]
    assert [m.event_type for m in messages()] == ["credential.key_revoked"] * 2
    assert {b["data"]["project"]["id"] for b in bodies} == {project.id}  # the running one only
    assert sorted(b["data"]["credential"]["number"] for b in bodies) == sorted(
        [scanned.credential.number, by_number.credential.number]
    )
    assert all(
        b["data"]["status"] == "key_revoked" and b["data"]["changed_at"] == "2026-01-15T00:00:00Z"
        for b in bodies
    )
    assert service.verify(scanned.token, at=NOW).status.value == "key_revoked"
    assert service.verify(later.token, at=NOW).valid
    key_admin.revoke_key(contoh.kid, actor="cli", now=NOW + 60)  # a repeat tells nobody again
    assert len(messages()) == 2


def test_a_key_revocation_and_its_messages_commit_together(watched, contoh, monkeypatch):
    def broken(*args: Any) -> int:
        raise RuntimeError("disk full")

    monkeypatch.setattr(outbox, "_insert", broken)
    with pytest.raises(RuntimeError):
        key_admin.revoke_key(contoh.kid, actor="cli", now=NOW)
    assert messages() == []
    assert registry.get_key(contoh.kid).state != "revoked"


# --- delivery ------------------------------------------------------------------------------------


def test_delivery_is_signed_per_standard_webhooks(watched):
    _revoke(watched)
    sender, clock = Sender(), Clock(NOW + 1)
    tally = Notifier(SETTINGS, send=sender, clock=clock).run_once()
    assert tally.delivered == 1 and tally.failed == 0
    ((url, headers, body),) = sender.sent
    assert url == URL and headers["Content-Type"] == "application/json"
    assert headers["webhook-timestamp"] == str(NOW + 1)
    payload = verify_signature(watched.secret, headers, body, now=NOW + 1)
    assert payload["type"] == "credential.revoked"
    assert headers["webhook-id"] == messages()[0].message_id
    (message,) = messages()
    assert message.delivered_at == NOW + 1 and message.next_attempt_at is None
    assert message.attempts == 1 and message.last_status == 204
    # Nothing is sent twice.
    assert Notifier(SETTINGS, send=sender, clock=clock).run_once().delivered == 0


def test_a_wrong_secret_does_not_verify(watched):
    _revoke(watched)
    sender = Sender()
    Notifier(SETTINGS, send=sender, clock=Clock(NOW)).run_once()
    ((_, headers, body),) = sender.sent
    with pytest.raises(AssertionError, match="does not verify"):
        verify_signature(webhooks.new_secret(), headers, body, now=NOW)
    with pytest.raises(AssertionError, match="does not verify"):
        verify_signature(watched.secret, headers, body + b" ", now=NOW)


def test_failures_are_retried_with_exponential_backoff_then_delivered(watched):
    _revoke(watched)
    sender, clock = Sender(script=[500, None, 503]), Clock(NOW)
    notifier = Notifier(SETTINGS, send=sender, clock=clock)
    waits = []
    for _ in range(3):
        assert notifier.run_once().failed == 1
        waits.append(messages()[0].next_attempt_at - clock.now)
        clock.now += 1
        assert notifier.run_once().delivered == 0  # not due yet
        clock.now = messages()[0].next_attempt_at
    assert waits == [5, 10, 20]
    assert notifier.run_once().delivered == 1
    ids = {headers["webhook-id"] for _, headers, _ in sender.sent}
    assert len(sender.sent) == 4 and len(ids) == 1  # one stable id on every attempt
    assert [int(h["webhook-timestamp"]) for _, h, _ in sender.sent] == sorted(
        int(h["webhook-timestamp"]) for _, h, _ in sender.sent
    )
    bodies = {body for _, _, body in sender.sent}
    assert len(bodies) == 1  # the same body every time
    assert messages()[0].last_error is None and messages()[0].attempts == 4


def test_retry_delays_double_up_to_an_hour():
    assert [retry_delay(n, SETTINGS) for n in (1, 2, 3, 4, 10, 11, 30)] == [
        5,
        10,
        20,
        40,
        2560,
        3600,
        3600,
    ]


def test_given_up_after_24_hours(watched):
    _revoke(watched)
    sender, clock = Sender(script=[500] * 1000), Clock(NOW)
    notifier = Notifier(SETTINGS, send=sender, clock=clock)
    while messages()[0].next_attempt_at is not None:
        notifier.run_once()
        if messages()[0].next_attempt_at is not None:
            clock.now = messages()[0].next_attempt_at
    message = messages()[0]
    assert message.given_up_at is not None and message.delivered_at is None
    assert DAY <= message.given_up_at - NOW <= DAY + 3600
    assert 20 <= message.attempts <= 40 and message.last_error == "HTTP 500"


def test_a_killed_notifiers_claim_runs_out_and_another_delivers(watched):
    _revoke(watched)
    (claimed,) = outbox.claim("ntf_dead", NOW, SETTINGS.lease_seconds, 10)  # then it dies
    sender = Sender()
    assert Notifier(SETTINGS, send=sender, clock=Clock(NOW + 59)).run_once().delivered == 0
    assert Notifier(SETTINGS, send=sender, clock=Clock(NOW + 60)).run_once().delivered == 1
    assert sender.sent[0][1]["webhook-id"] == claimed.message_id
    # The dead one's late report changes nothing: it no longer holds the message.
    outbox.failed(claimed, "ntf_dead", NOW + 61, 500, "HTTP 500", NOW + 70)
    assert messages()[0].delivered_at == NOW + 60 and messages()[0].next_attempt_at is None


def test_two_notifiers_never_claim_the_same_message(watched):
    for at in range(5):
        revocation.suspend(
            "lsp-contoh",
            watched.signed.credential.number,
            "other",
            note=None,
            actor="t",
            now=NOW + 2 * at,
        )
        revocation.reinstate(
            "lsp-contoh",
            watched.signed.credential.number,
            note=None,
            actor="t",
            now=NOW + 2 * at + 1,
        )
    first = outbox.claim("ntf_a", NOW + 20, 60, 6)
    second = outbox.claim("ntf_b", NOW + 20, 60, 6)
    assert len(first) == 6 and len(second) == 4
    assert not {m.pk for m in first} & {m.pk for m in second}
    assert outbox.claim("ntf_c", NOW + 20, 60, 6) == []


def test_unsubscribing_drops_undelivered_messages(watched):
    _revoke(watched)
    stored_webhooks.unsubscribe(watched.project, watched.subscription)
    assert messages() == []


# --- expiry warnings -----------------------------------------------------------------------------


@pytest.fixture
def expiring(contoh, issue, service):
    """A credential expiring 20 days after NOW, on a running project ending after that."""
    from verifier.core.credential import add_years

    projects.add_owner("pupr-tol", "Ditjen Bina Marga", NOW)
    signed = issue(now=NOW - DAY, valid_from=add_years(NOW + 20 * DAY, -5))
    project = _project(ends="2026-12-31")
    _crew(service, project, [signed.token])
    _subscription, secret = webhooks.subscribe(project, URL, NOW, local_allowed=False)
    return signed, project, secret


def test_expiry_warning_is_sent_once_per_credential_and_project(expiring):
    signed, project, secret = expiring
    sender = Sender()
    notifier = Notifier(SETTINGS, send=sender, clock=Clock(NOW))
    tally = notifier.run_once()
    assert tally.expiry_warnings == 1 and tally.delivered == 1
    payload = verify_signature(secret, sender.sent[0][1], sender.sent[0][2], now=NOW)
    assert payload["type"] == "credential.expiring"
    assert payload["data"]["credential"] == {
        "agency": "lsp-contoh",
        "number": signed.credential.number,
        "expires_at": "2026-02-04T00:00:00Z",
    }
    assert payload["data"]["days_left"] == 20
    assert payload["data"]["project"]["id"] == project.id
    again = Notifier(SETTINGS, send=sender, clock=Clock(NOW + 5 * DAY)).run_once()
    assert again.expiry_warnings == 0 and len(sender.sent) == 1
    assert ExpiryNotice.select().count() == 1


def test_no_warning_more_than_30_days_ahead(expiring, service, issue):
    from verifier.core.credential import add_years

    later = issue(now=NOW - DAY, valid_from=add_years(NOW + 40 * DAY, -5))
    _, project, _ = expiring
    _crew(service, project, [later.token])
    sender = Sender()
    assert Notifier(SETTINGS, send=sender, clock=Clock(NOW)).run_once().expiry_warnings == 0
    assert (
        Notifier(SETTINGS, send=sender, clock=Clock(NOW + 11 * DAY)).run_once().expiry_warnings == 1
    )


def test_no_warning_when_the_project_ends_first(contoh, issue, service):
    from verifier.core.credential import add_years

    projects.add_owner("pupr-tol", "Ditjen Bina Marga", NOW)
    signed = issue(now=NOW - DAY, valid_from=add_years(NOW + 20 * DAY, -5))
    short = _project(ends=today(NOW + 10 * DAY).isoformat())
    _crew(service, short, [signed.token])
    webhooks.subscribe(short, URL, NOW, local_allowed=False)
    assert Notifier(SETTINGS, send=Sender(), clock=Clock(NOW)).run_once().expiry_warnings == 0


def test_no_warning_for_a_revoked_credential(expiring):
    signed, _, _ = expiring
    revocation.revoke(
        "lsp-contoh", signed.credential.number, "fraud", note=None, actor="t", now=NOW
    )
    sender = Sender()
    tally = Notifier(SETTINGS, send=sender, clock=Clock(NOW)).run_once()
    assert tally.expiry_warnings == 0 and tally.delivered == 1  # only the revocation
    assert json.loads(sender.sent[0][2])["type"] == "credential.revoked"


# --- forgetting ----------------------------------------------------------------------------------


def test_delivered_messages_and_ended_projects_are_forgotten(watched):
    _revoke(watched)
    Notifier(SETTINGS, send=Sender(), clock=Clock(NOW)).run_once()
    assert len(messages()) == 1
    later = NOW + 31 * DAY
    assert Notifier(SETTINGS, send=Sender(), clock=Clock(later)).run_once().purged_messages == 1
    assert messages() == []
    end = date.fromisoformat("2026-12-31")
    after_retention = int(NOW + (end - today(NOW)).days * DAY + 92 * DAY)
    tally = Notifier(SETTINGS, send=Sender(), clock=Clock(after_retention)).run_once()
    assert tally.purged_projects == 1
    assert projects.list_projects("pupr-tol") == []


# --- the HTTP sender against a real socket -------------------------------------------------------


class _Receiver(http.server.BaseHTTPRequestHandler):
    answers: ClassVar[list[int]] = []
    seen: ClassVar[list[str]] = []

    def do_POST(self) -> None:
        self.seen.append(self.path)
        self.rfile.read(int(self.headers["Content-Length"]))
        status = self.answers.pop(0)
        self.send_response(status)
        if status == 302:
            self.send_header("Location", "/elsewhere")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Receiver.seen.clear()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_http_post_reports_statuses_and_never_follows_redirects(receiver):
    _Receiver.answers[:] = [204, 500, 302]
    body, headers = b"{}", {"Content-Type": "application/json"}
    assert http_post(receiver + "/a", headers, body, 5, local_allowed=True) == 204
    assert http_post(receiver + "/b", headers, body, 5, local_allowed=True) == 500
    assert http_post(receiver + "/c", headers, body, 5, local_allowed=True) == 302
    assert _Receiver.seen == ["/a", "/b", "/c"]  # /elsewhere was never asked


def test_nobody_listening_is_a_failed_attempt(watched, receiver, database):
    from verifier.store.models import WebhookSubscription

    WebhookSubscription.update(url="http://127.0.0.1:9/closed").execute()
    _revoke(watched)
    demo = dataclasses.replace(SETTINGS, local_allowed=True)  # (a loopback URL: a local demo)
    tally = Notifier(demo, clock=Clock(NOW)).run_once()
    assert tally.failed == 1 and messages()[0].last_status == 0
    assert messages()[0].last_error == "ConnectionRefusedError"


def test_skk_prune_forgets_them_without_a_notifier(watched):
    """`skk prune` (verifier.store.pruning) keeps the privacy notice's promise on its own."""
    _revoke(watched)
    Notifier(SETTINGS, send=Sender(), clock=Clock(NOW)).run_once()
    assert len(messages()) == 1
    assert pruning.prune(NOW + 29 * DAY)["webhook_message"] == 0
    assert pruning.prune(NOW + 31 * DAY)["webhook_message"] == 1 and messages() == []
    end = date.fromisoformat("2026-12-31")
    after_retention = int(NOW + (end - today(NOW)).days * DAY + 92 * DAY)
    assert pruning.prune(after_retention - 5 * DAY)["project"] == 0
    assert pruning.prune(after_retention)["project"] == 1
    assert projects.list_projects("pupr-tol") == []

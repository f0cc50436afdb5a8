"""Watched crews end to end: gunicorn serving the API, `skk notify run` as its own processes, and
a webhook receiver in the test that checks every signature with hmac and hashlib.

One session per database kind: an owner watches a project whose crew holds three credentials;
two notifiers run side by side. A revocation through the agency API arrives within seconds,
signed; a receiver that fails twice gets the same message again until it accepts it; a notifier
killed with SIGKILL in the middle of a delivery loses its claim, and a new notifier delivers that
message with the same id. The tests then judge what arrived, and what the logs hold.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections import Counter
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from tests.serving import (
    BIN,
    ROOT,
    SERVER_KINDS,
    Client,
    Server,
    free_port,
    fresh_database,
    issue_credentials,
    prepare_agency,
    server_environment,
    skk,
)
from tests.test_crew_webhooks import verify_signature
from tests.webhook_receiver import HANG, Delivery, Receiver

#: gunicorn, the notifier and the CLI as processes.
pytestmark = pytest.mark.system

AGENCY = "lsp-uji"
HOLDER = "Sutrisno Wibowo Uji"
PROJECT_NAME = "Bendungan Uji Kru"
LEASE = 6  # seconds; the notifier's timeout is half of it
ARRIVAL_TIMEOUT = 20.0


@dataclass
class Session:
    """What one session produced, for the tests to judge."""

    secret: str = ""
    numbers: list[str] = field(default_factory=list)
    latency: float = 0.0
    deliveries: list[Delivery] = field(default_factory=list)
    events: dict[str, str] = field(default_factory=dict)  # step -> webhook id
    killed_while_holding: str = ""
    logs: str = ""
    stopped_cleanly: list[int] = field(default_factory=list)


class Notifiers:
    """`skk notify run` processes of one session, each in its own process group."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env, self.log = env, log
        self.running: list[subprocess.Popen[bytes]] = []

    def start(self) -> subprocess.Popen[bytes]:
        with self.log.open("ab") as out:
            process = subprocess.Popen(
                [
                    str(BIN / "skk"),
                    "notify",
                    "run",
                    "--poll-seconds",
                    "0.2",
                    "--first-retry-seconds",
                    "1",
                    "--lease-seconds",
                    str(LEASE),
                ],
                env=self.env,
                cwd=ROOT,
                stdout=out,
                stderr=out,
                start_new_session=True,
            )
        self.running.append(process)
        return process

    def kill_all(self) -> None:
        """SIGKILL: no handler runs, nothing is cleaned up (kill -9)."""
        for process in self.running:
            os.kill(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
        self.running = []

    def stop_all(self) -> list[int]:
        """SIGTERM and wait; the exit statuses."""
        codes = []
        for process in self.running:
            process.send_signal(signal.SIGTERM)
            try:
                codes.append(process.wait(timeout=15))
            except subprocess.TimeoutExpired:
                process.kill()
                codes.append(process.wait(timeout=10))
        self.running = []
        return codes


@pytest.fixture(scope="module", params=SERVER_KINDS)
def session(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Session:
    tmp = tmp_path_factory.mktemp(f"crew-server-{request.param}")
    port = free_port()
    env = server_environment(fresh_database(request.param, tmp), tmp, port)
    agency_key = prepare_agency(env, AGENCY, "LSP Uji Kru")
    skk(env, "owner", "add", "pupr-uji", "--name", "Ditjen Uji")
    owner_key = skk(env, "apikey", "create", "--owner", "pupr-uji")["api_key"]
    result = Session()
    access, errors = tmp / "access.log", tmp / "error.log"
    notifiers = Notifiers(env, tmp / "notify.log")
    with Receiver() as receiver, Server(env, access, errors) as client:
        try:
            _exercise(
                client,
                receiver,
                notifiers,
                result,
                {"Authorization": f"Bearer {agency_key}"},
                {"Authorization": f"Bearer {owner_key}"},
            )
        finally:
            receiver.release()
            result.stopped_cleanly = notifiers.stop_all()
        result.deliveries = list(receiver.deliveries)
    result.logs = "\n".join(
        path.read_text(encoding="utf-8", errors="replace")
        for path in (access, errors, tmp / "notify.log")
    )
    return result


def _exercise(
    client: Client,
    receiver: Receiver,
    notifiers: Notifiers,
    result: Session,
    agency: dict[str, str],
    owner: dict[str, str],
) -> None:
    result.numbers, urls = issue_credentials(client, agency["Authorization"][7:], 3, HOLDER)
    project = client.request(
        "POST",
        "/api/v1/projects",
        {"name": PROJECT_NAME, "starts": "2026-01-01", "ends": "2030-12-31"},
        owner,
    )
    assert project.status == 201, project.body
    base = f"/api/v1/projects/{project.json()['id']}"
    crew = client.request(
        "PUT",
        f"{base}/crew",
        {"workers": [{"ref": f"KRU-{i}", "credential": url} for i, url in enumerate(urls)]},
        owner,
    )
    assert crew.status == 200 and crew.json()["summary"]["ok"] == 3, crew.body
    one_off = client.request(
        "POST",
        "/api/v1/crew-check",
        {
            "workers": [
                {"agency": AGENCY, "number": number, "holder_name": HOLDER + f" {i}"}
                for i, number in enumerate(result.numbers)
            ]
        },
    )
    assert one_off.status == 200, one_off.body
    summary = one_off.json()["summary"]  # the public check sees them on the watched crew
    assert summary["by_status"] == {"valid": 3}, summary
    assert summary["by_finding"] == {"on_other_active_project": 3}, summary
    hook = client.request("POST", f"{base}/webhooks", {"url": receiver.url}, owner)
    assert hook.status == 201, hook.body
    result.secret = hook.json()["secret"]
    notifiers.start()
    notifiers.start()

    # 1. A revocation arrives within seconds.
    _change(client, agency, result.numbers[0], "revoke", {"reason": "misuse"})
    revoked_at = time.time()
    first = receiver.wait_for(lambda d: len(d) >= 1, ARRIVAL_TIMEOUT)[0]
    result.latency = first.received_at - revoked_at
    result.events["revoked"] = first.webhook_id

    # 2. The receiver fails twice, then recovers: the same message comes back until accepted.
    receiver.answer(500, 500)
    _change(client, agency, result.numbers[1], "suspend", {"reason": "investigation"})
    arrived = receiver.wait_for(lambda d: len(d) >= 4 and d[-1].answered == 204, ARRIVAL_TIMEOUT)
    result.events["suspended"] = arrived[-1].webhook_id

    # 3. kill -9 of the notifiers while one of them is in the middle of a delivery.
    receiver.answer(HANG)
    _change(client, agency, result.numbers[1], "reinstate", {})
    assert receiver.hanging.wait(ARRIVAL_TIMEOUT), "the delivery did not start"
    notifiers.kill_all()
    receiver.release()
    held = receiver.wait_for(lambda d: any(x.answered == HANG for x in d), ARRIVAL_TIMEOUT)
    result.killed_while_holding = next(x.webhook_id for x in held if x.answered == HANG)
    notifiers.start()
    receiver.wait_for(
        lambda d: d[-1].webhook_id == result.killed_while_holding and d[-1].answered == 204,
        ARRIVAL_TIMEOUT + LEASE,
    )
    result.events["reinstated"] = result.killed_while_holding
    time.sleep(1.0)  # a duplicate, if any, would come now


def _change(
    client: Client, agency: dict[str, str], number: str, action: str, body: dict[str, Any]
) -> None:
    path = f"/api/v1/credentials/{quote(number, safe='')}/{action}"
    answer = client.request("POST", path, body, agency)
    assert answer.status == 200 and answer.json()["changed"], answer.body


# --- what arrived --------------------------------------------------------------------------------


def test_every_delivery_is_signed_as_documented(session: Session) -> None:
    assert session.deliveries
    for delivery in session.deliveries:
        payload = verify_signature(
            session.secret, delivery.headers(), delivery.body, now=int(delivery.received_at)
        )
        assert payload["data"]["project"]["name"] == PROJECT_NAME
        assert delivery.webhook_id.startswith("msg_")


def test_revocation_arrives_within_seconds(session: Session) -> None:
    assert 0 <= session.latency < 5.0
    first = json.loads(session.deliveries[0].body)
    assert first["type"] == "credential.revoked"
    assert first["data"]["credential"] == {"agency": AGENCY, "number": session.numbers[0]}
    assert first["data"]["reason"] == "misuse"
    assert first["data"]["workers"] == [{"position": 1, "line": None, "ref": "KRU-0"}]


def test_a_failing_receiver_gets_the_same_message_until_it_accepts(session: Session) -> None:
    wanted = session.events["suspended"]
    attempts = [d for d in session.deliveries if d.webhook_id == wanted]
    assert [d.answered for d in attempts] == [500, 500, 204]
    assert len({d.body for d in attempts}) == 1
    gaps = [b.received_at - a.received_at for a, b in pairwise(attempts)]
    # Backoff of 1 s, then 2 s, counted in whole seconds (the outbox's resolution).
    assert gaps[1] >= 1.0 and gaps[1] > gaps[0] - 1.0
    assert json.loads(attempts[0].body)["type"] == "credential.suspended"


def test_a_killed_notifiers_delivery_is_made_again_with_the_same_id(session: Session) -> None:
    held = session.killed_while_holding
    attempts = [d for d in session.deliveries if d.webhook_id == held]
    assert [d.answered for d in attempts] == [HANG, 204]
    assert json.loads(attempts[-1].body)["type"] == "credential.reinstated"
    assert attempts[1].received_at - attempts[0].received_at < LEASE + ARRIVAL_TIMEOUT


def test_each_event_accepted_exactly_once_and_ids_never_shared(session: Session) -> None:
    accepted = Counter(d.webhook_id for d in session.deliveries if d.answered == 204)
    assert set(accepted) == set(session.events.values())
    assert all(count == 1 for count in accepted.values())  # two notifiers, no duplicates
    types = {d.webhook_id: json.loads(d.body)["type"] for d in session.deliveries}
    assert sorted(types.values()) == [
        "credential.reinstated",
        "credential.revoked",
        "credential.suspended",
    ]


def test_notifiers_stop_cleanly_on_sigterm(session: Session) -> None:
    assert session.stopped_cleanly == [0]


def test_logs_hold_no_name_number_or_receiver_url(session: Session) -> None:
    assert "delivered msg_" in session.logs  # the notifier does log, by message id
    for secret in (HOLDER, PROJECT_NAME, session.secret, "skk-webhook", *session.numbers):
        assert secret not in session.logs, secret

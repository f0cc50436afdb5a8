"""Load with concurrent change: the real gunicorn server, 32 verifying clients, an agency revoking.

For each database kind one module-scoped run starts gunicorn (PostgreSQL: 4 workers on a scratch
database; SQLite: 2 workers, whose busy timeout makes the agency's writes wait for the lock
instead of failing), issues 20 credentials through the agency API, then lets 32 client threads
verify them over loopback for a few seconds while two agency officers revoke some and suspend
others, their calls sent at the same moment. Every verification records the monotonic instant
just before it was sent and the instant its answer arrived; every agency call records when it was
sent and when it returned.
The tests then judge the record: no 5xx (nor any other non-200), and no wrong answer — a verify
sent after a revoke call returned never answers anything but ``revoked`` (``suspended`` for a
suspension), one answered before the call was sent is ``valid``, untouched credentials are
always ``valid``.
"""

from __future__ import annotations

import contextlib
import http.client
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.serving import (
    NO_RATE_LIMIT,
    SERVER_KINDS,
    Client,
    Server,
    drop_scratch_postgres,
    free_port,
    issue_credentials,
    prepare_agency,
    scratch_postgres,
    server_environment,
)

#: Real gunicorn servers under load.
pytestmark = pytest.mark.system

AGENCY = "lsp-beban"
CREDENTIALS = 20
CLIENTS = 32
REVOKED = range(7)  # indices of the credentials the agency revokes ...
SUSPENDED = range(7, 13)  # ... and suspends; the rest stay untouched
WARM_UP = 1.0  # seconds of load before the first agency call
GAP = 0.25  # seconds between agency calls
COOL_DOWN = 1.5  # seconds of load after the last agency call returned
MIN_AFTER = 10  # verifies per changed credential sent after its change returned, at least
# 32 clients on one address would hit the default 300/min at once; this limit is never reached.


@dataclass(frozen=True)
class Verification:
    """One verify request: which credential, when sent and answered, and what came back."""

    index: int
    sent: float
    answered: float
    http_status: int  # 0: no HTTP answer at all (refused, reset, timed out)
    status: str  # the result's status; for anything but 200 the body or the error


@dataclass(frozen=True)
class Change:
    """One agency call on credential ``index``: revoke or suspend."""

    index: int
    action: str
    sent: float
    returned: float
    http_status: int
    status: str


@dataclass
class LoadRun:
    """Everything one load run produced."""

    kind: str
    workers: int
    verifications: list[Verification] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    seconds: float = 0.0
    error_log: str = ""

    def change_of(self, index: int) -> Change:
        """The agency call on credential ``index``."""
        return next(c for c in self.changes if c.index == index)


# --- the run -----------------------------------------------------------------------------------


@pytest.fixture(scope="module", params=SERVER_KINDS)
def run(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> LoadRun:
    """One load run on the database kind; the record is judged by the tests below."""
    kind = request.param
    tmp = tmp_path_factory.mktemp(f"load-{kind}")
    with _database(kind, tmp) as url:
        workers = 4 if kind == "postgres" else 2
        port = free_port()
        env = server_environment(url, tmp, port, workers, SKK_RATELIMIT_VERIFY=NO_RATE_LIMIT)
        api_key = prepare_agency(env, AGENCY, "LSP Uji Beban")
        result = LoadRun(kind, workers)
        errors = tmp / "error.log"
        with Server(env, tmp / "access.log", errors) as client:
            numbers, tokens = issue_credentials(client, api_key, CREDENTIALS, "Pekerja Uji")
            _load(client, api_key, numbers, tokens, result)
        result.error_log = errors.read_text(encoding="utf-8", errors="replace")
        _report(result)
        return result


@contextlib.contextmanager
def _database(kind: str, tmp: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{tmp / 'skk.sqlite3'}"
        return
    url = scratch_postgres("load")
    try:
        yield url
    finally:
        drop_scratch_postgres(url)


def _load(
    client: Client, api_key: str, numbers: list[str], tokens: list[str], result: LoadRun
) -> None:
    """32 verifying threads while the agency changes credentials one at a time."""
    stop = threading.Event()
    records: list[list[Verification]] = [[] for _ in range(CLIENTS)]
    threads = [
        threading.Thread(target=_verifier, args=(client.port, n, tokens, stop, records[n]))
        for n in range(CLIENTS)
    ]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    try:
        time.sleep(WARM_UP)
        _agency(client, api_key, numbers, result)
        time.sleep(COOL_DOWN)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
    result.seconds = time.monotonic() - started
    result.verifications = [v for per_thread in records for v in per_thread]


def _agency(client: Client, api_key: str, numbers: list[str], result: LoadRun) -> None:
    """Two agency officers at once, one revoking and one suspending, calls sent in lockstep.

    Simultaneous writes are what a busy timeout is for: on SQLite the second writer must wait
    for the lock, not fail.
    """
    lanes = [[(i, "revoke") for i in REVOKED], [(i, "suspend") for i in SUSPENDED]]
    steps = max(len(lane) for lane in lanes)
    together = threading.Barrier(len(lanes))

    def officer(lane: list[tuple[int, str]]) -> None:
        for step in range(steps):
            together.wait(timeout=30)
            if step < len(lane):
                result.changes.append(_change(client, api_key, numbers, *lane[step]))
            time.sleep(GAP)

    officers = [threading.Thread(target=officer, args=(lane,)) for lane in lanes]
    for thread in officers:
        thread.start()
    for thread in officers:
        thread.join(timeout=60)


def _verifier(
    port: int, n: int, tokens: list[str], stop: threading.Event, out: list[Verification]
) -> None:
    """One client: verify the credentials in turn, from its own offset, until told to stop."""
    client = Client(port)
    k = n
    while not stop.is_set():
        index = k % len(tokens)
        k += 1
        sent = time.monotonic()
        try:
            answer = client.request(
                "POST", "/api/v1/verify", {"token": tokens[index]}, record=False
            )
        except (OSError, http.client.HTTPException) as exc:
            out.append(Verification(index, sent, time.monotonic(), 0, repr(exc)))
            continue
        answered = time.monotonic()
        status = answer.json()["status"] if answer.status == 200 else answer.body.decode()
        out.append(Verification(index, sent, answered, answer.status, status))


def _change(client: Client, api_key: str, numbers: list[str], index: int, action: str) -> Change:
    path = f"/api/v1/credentials/{quote(numbers[index], safe='')}/{action}"
    reason = "fraud" if action == "revoke" else "investigation"
    sent = time.monotonic()
    answer = client.request(
        "POST", path, {"reason": reason}, {"Authorization": f"Bearer {api_key}"}, record=False
    )
    returned = time.monotonic()
    status = answer.json()["status"] if answer.status == 200 else answer.body.decode()
    return Change(index, action, sent, returned, answer.status, status)


def _report(result: LoadRun) -> None:
    """Figures for the test log (pytest -s): throughput and the answers seen."""
    count = len(result.verifications)
    latencies = sorted(v.answered - v.sent for v in result.verifications)
    p99 = latencies[int(0.99 * (count - 1))] * 1000 if latencies else 0.0
    print(
        f"\n[load {result.kind}, {result.workers} workers] {count} verifies in "
        f"{result.seconds:.1f} s = {count / result.seconds:.0f}/s, p99 {p99:.0f} ms; "
        f"answers {dict(Counter(v.status for v in result.verifications))}"
    )


# --- the verdicts ------------------------------------------------------------------------------


def test_every_request_answered_200(run: LoadRun) -> None:
    statuses = Counter(v.http_status for v in run.verifications)
    assert statuses == {200: len(run.verifications)}, (
        f"{statuses}; first failure: "
        f"{next(v for v in run.verifications if v.http_status != 200)}\n{run.error_log[-2000:]}"
    )
    assert "Traceback" not in run.error_log


def test_load_was_real(run: LoadRun) -> None:
    # Enough traffic that workers answered in parallel throughout, not a trickle.
    assert len(run.verifications) >= CLIENTS * 10
    assert {v.index for v in run.verifications} == set(range(CREDENTIALS))


def test_every_agency_call_succeeded(run: LoadRun) -> None:
    expected = {(i, "revoked") for i in REVOKED} | {(i, "suspended") for i in SUSPENDED}
    assert {c.http_status for c in run.changes} == {200}, [
        c for c in run.changes if c.http_status != 200
    ]
    assert {(c.index, c.status) for c in run.changes} == expected


@pytest.mark.parametrize(("indices", "expected"), [(REVOKED, "revoked"), (SUSPENDED, "suspended")])
def test_no_valid_answer_once_the_change_returned(
    run: LoadRun, indices: range, expected: str
) -> None:
    # Judged for the calls that reported success; a failed call is test_every_agency_call_....
    done = [i for i in indices if run.change_of(i).http_status == 200]
    assert done
    for index in done:
        returned = run.change_of(index).returned
        after = [v.status for v in run.verifications if v.index == index and v.sent > returned]
        assert len(after) >= MIN_AFTER, "too few verifies after the change to judge"
        wrong = Counter(s for s in after if s != expected)
        assert not wrong, f"credential {index}: {wrong} after the {expected} call returned"


def test_valid_until_the_change_was_sent(run: LoadRun) -> None:
    for change in run.changes:
        before = [
            v.status
            for v in run.verifications
            if v.index == change.index and v.answered < change.sent
        ]
        assert before and set(before) == {"valid"}, f"credential {change.index}: {set(before)}"


def test_untouched_credentials_stay_valid(run: LoadRun) -> None:
    changed = set(REVOKED) | set(SUSPENDED)
    untouched = Counter(v.status for v in run.verifications if v.index not in changed)
    assert set(untouched) == {"valid"}, untouched


def test_in_flight_answers_are_old_or_new_state(run: LoadRun) -> None:
    # A verify overlapping the agency call may see either state, but nothing else.
    for change in (c for c in run.changes if c.http_status == 200):
        overlapping = {
            v.status
            for v in run.verifications
            if v.index == change.index and v.answered >= change.sent and v.sent <= change.returned
        }
        assert overlapping <= {"valid", change.status}, (change, overlapping)

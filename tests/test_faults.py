"""Faults on the real gunicorn server: the database goes away, refuses writes, or a worker dies.

What must hold whatever breaks: a verification answers either its correct verdict or a 503
problem document — never a verdict it could not check; a revoke that could not be written answers
an error (never 200) and leaves no trace in the database, and succeeds when retried after
recovery; the server recovers by itself, without a restart, once the database is back; ``kill -9``
of workers (also in the middle of a revoke, under load) loses no revocation that was reported
done and leaves no half-written change.

How the faults are made, root or not:
* unreachable PostgreSQL: the server talks to it through a TCP proxy in this process, which the
  test cuts (listener shut, live connections reset) and restores;
* read-only PostgreSQL: ``ALTER DATABASE ... SET default_transaction_read_only`` on a scratch
  database, with the server's sessions terminated as a fail-over to a standby would;
* SQLite that cannot be written (a full disk): the workers' ``RLIMIT_FSIZE`` lowered with
  ``prlimit`` — every write to a file then fails (EFBIG) while reads go on;
* SQLite's write lock held by another process: shorter than the busy timeout (the revoke must
  wait and succeed), and longer (it must fail with 503 after waiting).
A database that only refuses writes can still be read, so verification may go on answering
correct verdicts from it (a read-only standby is a valid place for verify-only hosts) or answer
503 where even opening a connection needs a write (SQLite's WAL files); never a wrong verdict.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import resource
import shutil
import signal
import socket
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import peewee
import psycopg2
import pytest

from tests.helpers import POSTGRES_URL
from tests.serving import (
    NO_RATE_LIMIT,
    SERVER_KINDS,
    Answer,
    Client,
    Server,
    drop_scratch_postgres,
    free_port,
    issue_credentials,
    prepare_agency,
    run_as_superuser,
    scratch_postgres,
    server_environment,
)
from verifier.web.errors import RETRY_AFTER_SECONDS, UNAVAILABLE_DETAIL

#: Real gunicorn servers and databases that fail.
pytestmark = pytest.mark.system

AGENCY = "lsp-gangguan"
CREDENTIALS = 4
WORKERS = 2
RECOVERY_BOUND = 10.0  # seconds the server may take to answer again once the database is back
needs_postgres = pytest.mark.skipif(POSTGRES_URL is None, reason="SKK_TEST_POSTGRES_URL not set")


# --- a TCP proxy the test can cut ---------------------------------------------------------------


class TcpProxy:
    """Forwards a loopback port to ``host:port``; ``cut()`` makes the target unreachable."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.port = free_port()
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._listener: socket.socket | None = None

    def start(self) -> None:
        """Listen (again) on the same port."""
        listener = socket.create_server(("127.0.0.1", self.port))  # SO_REUSEADDR on POSIX
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        """Refuse new connections and reset the live ones, as a dead server or network would."""
        if self._listener is not None:
            with contextlib.suppress(OSError):
                self._listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept()
            self._listener.close()
            self._listener = None
        with self._lock:
            live, self._open = self._open, set()
        for sock in live:
            _close(sock)

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                downstream, _ = listener.accept()
            except OSError:
                return  # cut
            try:
                upstream = socket.create_connection(self.target, timeout=5)
                upstream.settimeout(None)
            except OSError:
                _close(downstream)
                continue
            with self._lock:
                self._open |= {downstream, upstream}
            for source, sink in ((downstream, upstream), (upstream, downstream)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            _close(source)
            _close(sink)


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()


# --- a deployment: database, server, agency, credentials ---------------------------------------


@dataclass
class Deployment:
    """A running server with an agency and a few issued credentials."""

    kind: str
    database_url: str  # direct, for the test's own checks (the server may go through a proxy)
    server: Server
    client: Client
    api_key: str
    numbers: list[str]
    urls: list[str]
    proxy: TcpProxy | None = None

    def verify(self, index: int) -> Answer:
        """Verify credential ``index``."""
        return self.client.request(
            "POST", "/api/v1/verify", {"token": self.urls[index]}, record=False
        )

    def change(self, index: int, action: str = "revoke") -> Answer:
        """Revoke or suspend credential ``index`` through the agency API."""
        path = f"/api/v1/credentials/{quote(self.numbers[index], safe='')}/{action}"
        return self.client.request(
            "POST",
            path,
            {"reason": "fraud"},
            {"Authorization": f"Bearer {self.api_key}"},
            record=False,
        )

    def rows(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        """Query the database directly (``%s`` placeholders), not through the server."""
        if self.kind == "sqlite":
            connection = sqlite3.connect(urlsplit(self.database_url).path[1:], timeout=10)
            try:
                return connection.execute(sql.replace("%s", "?"), params).fetchall()
            finally:
                connection.close()
        pg = psycopg2.connect(self.database_url)
        try:
            with pg.cursor() as cursor:
                cursor.execute(sql, params)
                return list(cursor.fetchall())
        finally:
            pg.close()

    def revocations(self, index: int) -> tuple[int, int]:
        """(current records, history events) stored for credential ``index``."""
        number = self.numbers[index]
        records = self.rows("SELECT COUNT(*) FROM revocation WHERE number = %s", number)
        events = self.rows("SELECT COUNT(*) FROM revocation_event WHERE number = %s", number)
        return records[0][0], events[0][0]


@dataclass(frozen=True)
class Template:
    """A database and keys folder prepared once with the CLI; each test serves a copy."""

    database_url: str
    keys_dir: Path
    api_key: str


@pytest.fixture(scope="module")
def templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str], Template]]:
    """Factory: the prepared template of a database kind, made on first use (the CLI's start-up
    costs seconds; copying a prepared database costs milliseconds)."""
    made: dict[str, Template] = {}

    def get(kind: str) -> Template:
        if kind not in made:
            tmp = tmp_path_factory.mktemp(f"template-{kind}")
            url = (
                scratch_postgres("faults_template")
                if kind == "postgres"
                else f"sqlite:///{tmp / 'skk.sqlite3'}"
            )
            env = server_environment(url, tmp, free_port())
            made[kind] = Template(url, tmp / "keys", prepare_agency(env, AGENCY, "LSP Uji"))
        return made[kind]

    yield get
    if "postgres" in made:
        drop_scratch_postgres(made["postgres"].database_url)


@pytest.fixture
def deploy(
    tmp_path: Path, templates: Callable[[str], Template]
) -> Iterator[Callable[..., Deployment]]:
    """Factory: start a deployment of a kind; everything it started is stopped on teardown."""
    with contextlib.ExitStack() as stack:

        def make(kind: str, *, proxied: bool = False) -> Deployment:
            template = templates(kind)
            shutil.copytree(template.keys_dir, tmp_path / "keys")
            if kind == "postgres":
                url = scratch_postgres("faults", template=template.database_url)
                stack.callback(drop_scratch_postgres, url)
            else:
                url = f"sqlite:///{tmp_path / 'skk.sqlite3'}"
                # The CLI closed its last connection, so SQLite folded the WAL into the file.
                shutil.copy(urlsplit(template.database_url).path[1:], tmp_path / "skk.sqlite3")
            server_url, proxy = url, None
            if proxied:
                proxy = TcpProxy(urlsplit(url).hostname or "127.0.0.1", urlsplit(url).port or 5432)
                proxy.start()
                stack.callback(proxy.cut)
                server_url = _through(url, proxy.port)
            env = server_environment(
                server_url, tmp_path, free_port(), WORKERS, SKK_RATELIMIT_VERIFY=NO_RATE_LIMIT
            )
            server = Server(env, tmp_path / "access.log", tmp_path / "error.log")
            client = stack.enter_context(server)
            numbers, urls = issue_credentials(
                client, template.api_key, CREDENTIALS, "Pekerja Gangguan"
            )
            return Deployment(kind, url, server, client, template.api_key, numbers, urls, proxy)

        yield make


def _through(url: str, port: int) -> str:
    """The PostgreSQL URL with its host and port replaced by the proxy's loopback port."""
    parts = urlsplit(url)
    credentials = parts.netloc.rpartition("@")[0]
    netloc = f"{credentials}@127.0.0.1:{port}" if credentials else f"127.0.0.1:{port}"
    # connect_timeout: a connection attempt never hangs a worker for long.
    return urlunsplit(parts._replace(netloc=netloc, query="connect_timeout=3"))


def assert_unavailable(answer: Answer) -> None:
    """A 503 problem document that carries no verdict and no state change."""
    assert answer.status == 503, (answer.status, answer.body)
    assert answer.headers["Content-Type"].startswith("application/problem+json")
    assert answer.headers["Retry-After"] == str(RETRY_AFTER_SECONDS)
    body = answer.json()
    assert body["status"] == 503 and body["title"] == "Service Unavailable"
    assert body["detail"] == UNAVAILABLE_DETAIL  # the driver's message stays in the log
    assert not {"valid", "credential", "revocation", "changed"} & set(body), body


def assert_verdict(answer: Answer, expected: str) -> None:
    """A 200 verification result with the expected status."""
    assert answer.status == 200, (answer.status, answer.body)
    assert answer.json()["status"] == expected
    assert answer.json()["valid"] is (expected == "valid")


def assert_verdict_or_unavailable(answer: Answer, expected: str) -> None:
    """Either the right verdict or a 503 problem; nothing else."""
    if answer.status == 503:
        assert_unavailable(answer)
    else:
        assert_verdict(answer, expected)


def assert_settles_to(send: Callable[[], Answer], expected: str) -> None:
    """503s, then ``expected`` from (very likely) every worker; never another verdict.

    After an outage each worker's first request may still meet its dropped connection (and
    answer 503 while reconnecting); which worker takes a request is up to the kernel, so a
    503 may come after a verdict too. Every verdict on the way is checked.
    """
    for answer in until_answered(send, in_a_row=2 * WORKERS):
        assert_verdict_or_unavailable(answer, expected)


def until_answered(send: Callable[[], Answer], in_a_row: int) -> list[Answer]:
    """Send until ``in_a_row`` answers in a row are not 503, within RECOVERY_BOUND.

    Twice the number of workers in a row makes it very likely that every worker is back.
    Returns every answer, the 503s first.
    """
    answers: list[Answer] = []
    deadline = time.monotonic() + RECOVERY_BOUND
    streak = 0
    while streak < in_a_row:
        assert time.monotonic() < deadline, f"no recovery in {RECOVERY_BOUND}s: {answers[-1:]}"
        answers.append(send())
        streak = 0 if answers[-1].status == 503 else streak + 1
        if streak == 0:
            time.sleep(0.1)
    return answers


# --- unreachable -------------------------------------------------------------------------------


@needs_postgres
def test_unreachable_postgres_answers_503_then_recovers(deploy) -> None:
    d = deploy("postgres", proxied=True)
    assert d.proxy is not None
    assert_verdict(d.verify(0), "valid")
    assert d.change(1).status == 200  # revoked before the outage

    d.proxy.cut()
    for _ in range(6):  # enough for both workers: first the broken connection, then reconnects
        assert_unavailable(d.verify(0))
        assert_unavailable(d.verify(1))
    assert_unavailable(d.client.request("GET", "/healthz", record=False))
    refused = d.change(2)
    assert_unavailable(refused)
    assert d.revocations(2) == (0, 0)  # nothing half-written, nothing written

    d.proxy.start()
    for answer in until_answered(lambda: d.verify(1), in_a_row=2 * WORKERS):
        assert_verdict_or_unavailable(answer, "revoked")
    assert_settles_to(lambda: d.verify(0), "valid")
    attempts = until_answered(lambda: d.change(2), in_a_row=1)
    assert all(a.status in (200, 503) for a in attempts), [a.status for a in attempts]
    assert attempts[-1].json()["changed"] is True
    assert d.revocations(2) == (1, 1)  # a refused attempt wrote nothing
    assert_settles_to(lambda: d.verify(2), "revoked")


# --- read-only ---------------------------------------------------------------------------------


def _set_read_only(d: Deployment, on: bool) -> None:
    setting = (
        "SET default_transaction_read_only = on" if on else ("RESET default_transaction_read_only")
    )
    run_as_superuser(f'ALTER DATABASE "{_database_name(d)}" {setting}')
    if on:  # a fail-over to a standby drops every session; the new ones are read-only
        _drop_sessions(d)


def _drop_sessions(d: Deployment) -> None:
    """The server ends every session of the test database, as a restart or fail-over does."""
    run_as_superuser(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        f"WHERE datname = '{_database_name(d)}' AND pid <> pg_backend_pid()"
    )


def _database_name(d: Deployment) -> str:
    return urlsplit(d.database_url).path.lstrip("/")


@needs_postgres
def test_sessions_ended_by_postgres_cost_no_answer(deploy) -> None:
    """A restart, fail-over or firewall idle kill: each worker's kept connection is dead, and
    its next verification reconnects and answers instead of giving a 503."""
    d = deploy("postgres")
    assert d.change(1).status == 200
    for _ in range(4 * WORKERS):  # workers now hold connections (at least the one answering)
        assert_verdict(d.verify(0), "valid")
    _drop_sessions(d)
    page_path = urlsplit(d.urls[1]).path
    for _ in range(4 * WORKERS):
        assert_verdict(d.verify(0), "valid")
        assert_verdict(d.verify(1), "revoked")
        page = d.client.request("GET", page_path, record=False)
        assert page.status == 200, page.status


@needs_postgres
def test_read_only_postgres_refuses_revoke_and_keeps_verdicts_right(deploy) -> None:
    d = deploy("postgres")
    assert d.change(1).status == 200
    _set_read_only(d, True)

    # Sessions were cut: a worker's first request may be a 503; then reads work, verdicts right.
    for answer in until_answered(lambda: d.verify(1), in_a_row=2 * WORKERS):
        assert_verdict_or_unavailable(answer, "revoked")
    assert_settles_to(lambda: d.verify(0), "valid")

    for _ in range(4):
        assert_unavailable(d.change(2))
    assert d.revocations(2) == (0, 0)
    assert_settles_to(lambda: d.verify(2), "valid")

    _set_read_only(d, False)
    # The server's sessions still carry the old default; a failed write drops the session, so a
    # retry reconnects and succeeds — recovery without a restart.
    attempts = until_answered(lambda: d.change(2), in_a_row=1)
    assert all(a.status in (200, 503) for a in attempts), [a.status for a in attempts]
    assert attempts[-1].json()["status"] == "revoked"
    assert d.revocations(2) == (1, 1)
    assert_settles_to(lambda: d.verify(2), "revoked")


# --- SQLite that cannot be written -------------------------------------------------------------


def _limit_file_size(d: Deployment, limit: int) -> None:
    """Set RLIMIT_FSIZE of the master (inherited by new workers) and of every live worker."""
    for pid in (d.server.master_pid, *d.server.worker_pids()):
        _soft, hard = resource.prlimit(pid, resource.RLIMIT_FSIZE)
        resource.prlimit(pid, resource.RLIMIT_FSIZE, (limit, hard))


def test_sqlite_that_cannot_be_written_refuses_revoke_then_recovers(deploy) -> None:
    d = deploy("sqlite")
    assert d.change(1).status == 200
    _limit_file_size(d, 1)  # no write beyond the first byte of any file: a full disk
    try:
        for _ in range(4):
            assert_unavailable(d.change(2))
        assert d.revocations(2) == (0, 0)
        # A worker whose write failed drops its connection; opening a new one may need to
        # write (WAL and shared-memory files), so verification may be refused — never wrong.
        for _ in range(4):
            assert_verdict_or_unavailable(d.verify(1), "revoked")
            assert_verdict_or_unavailable(d.verify(2), "valid")
    finally:
        _limit_file_size(d, resource.RLIM_INFINITY)
    for answer in until_answered(lambda: d.verify(1), in_a_row=2 * WORKERS):
        assert_verdict_or_unavailable(answer, "revoked")
    attempts = until_answered(lambda: d.change(2), in_a_row=1)
    assert all(a.status in (200, 503) for a in attempts)
    assert attempts[-1].json()["changed"] is True
    assert d.revocations(2) == (1, 1)
    assert_settles_to(lambda: d.verify(2), "revoked")


@contextlib.contextmanager
def _write_lock_held(d: Deployment, seconds: float) -> Iterator[None]:
    """Another process holds SQLite's write lock for ``seconds`` from entering the block."""
    holder = sqlite3.connect(
        urlsplit(d.database_url).path[1:], isolation_level=None, check_same_thread=False
    )
    holder.execute("BEGIN IMMEDIATE")
    release = threading.Timer(seconds, holder.rollback)
    release.start()
    try:
        yield
    finally:
        release.cancel()
        release.join()
        with contextlib.suppress(sqlite3.Error):
            holder.rollback()
        holder.close()


def test_sqlite_revoke_waits_for_a_held_write_lock(deploy) -> None:
    d = deploy("sqlite")
    with _write_lock_held(d, 1.0):
        started = time.monotonic()
        answer = d.change(2)
        waited = time.monotonic() - started
    # busy_timeout: the write queued behind the lock instead of failing at once.
    assert answer.status == 200, answer.body
    assert waited >= 0.9
    assert d.revocations(2) == (1, 1)


def test_sqlite_revoke_refused_when_the_lock_outlasts_the_busy_timeout(deploy) -> None:
    d = deploy("sqlite")
    with _write_lock_held(d, 8.0):
        started = time.monotonic()
        refused = d.change(2)
        waited = time.monotonic() - started
        assert_verdict(d.verify(2), "valid")  # WAL: readers do not wait for the writer
    assert_unavailable(refused)
    assert waited >= 4.5, "the write should have waited for the busy timeout (5 s) first"
    assert d.revocations(2) == (0, 0)
    retried = d.change(2)
    assert retried.status == 200 and retried.json()["changed"] is True


# --- kill -9 of workers under load -------------------------------------------------------------


@dataclass
class Load:
    """Verifying threads in the background; their HTTP statuses (0: connection lost)."""

    d: Deployment
    threads: int = 8
    statuses: list[int] = field(default_factory=list)
    answered: list[float] = field(default_factory=list)  # monotonic instants of the 200s
    stop: threading.Event = field(default_factory=threading.Event)

    @contextlib.contextmanager
    def running(self) -> Iterator[None]:
        """Run the load for the duration of the block."""
        workers = [threading.Thread(target=self._loop, args=(n,)) for n in range(self.threads)]
        for worker in workers:
            worker.start()
        try:
            yield
        finally:
            self.stop.set()
            for worker in workers:
                worker.join(timeout=30)

    def _loop(self, n: int) -> None:
        k = n
        while not self.stop.is_set():
            k += 1
            try:
                self.statuses.append(self.d.verify(k % CREDENTIALS).status)
                self.answered.append(time.monotonic())
            except (OSError, http.client.HTTPException):  # the worker died mid-answer
                self.statuses.append(0)


@contextlib.contextmanager
def _holding_up_revocation(d: Deployment, index: int) -> Iterator[Callable[[], None]]:
    """Make the server's revoke of credential ``index`` wait inside its request.

    PostgreSQL: an uncommitted insert of the same revocation key in this test's transaction, so
    the server's transaction has read and then blocks on its own insert — midway; the function
    yielded returns once the server's session is seen waiting for that lock. SQLite: this test
    holds the write lock, so the server's write waits in its busy handler (not observable from
    outside; a pause stands in). On exit the hold is released.
    """
    number = d.numbers[index]
    if d.kind == "sqlite":
        with _write_lock_held(d, 30.0):
            yield lambda: time.sleep(0.5)
        return
    blocker = psycopg2.connect(d.database_url)
    waiting: list[int] = []

    def held_up() -> None:
        deadline = time.monotonic() + 10
        while not waiting:
            assert time.monotonic() < deadline, "the server's revoke never waited for the lock"
            waiting.extend(
                pid
                for (pid,) in d.rows(
                    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock'"
                )
            )
            time.sleep(0.02)

    try:
        with blocker.cursor() as cursor:
            cursor.execute(
                "INSERT INTO revocation (agency_id, number, status, reason, at) "
                "VALUES (%s, %s, 'revoked', 'fraud', 0)",
                (AGENCY, number),
            )
        yield held_up
    finally:
        blocker.rollback()
        blocker.close()
    # The killed worker's session goes on once the lock is free, then finds its client gone
    # and rolls back; judge the database only after it has ended.
    deadline = time.monotonic() + 10
    while d.rows("SELECT pid FROM pg_stat_activity WHERE pid = ANY(%s)", waiting):
        assert time.monotonic() < deadline, "the killed worker's session never ended"
        time.sleep(0.05)


def _kill_workers(pids: set[int]) -> None:
    for pid in pids:
        os.kill(pid, signal.SIGKILL)


@pytest.mark.parametrize("kind", SERVER_KINDS)
def test_kill_9_of_workers_midway_loses_nothing(deploy, kind: str) -> None:
    d = deploy(kind)
    load = Load(d)
    killed: set[int] = set()
    midway: list[Answer | Exception] = []
    with load.running():
        assert d.change(0).status == 200
        one = set(sorted(d.server.worker_pids())[:1])
        _kill_workers(one)
        killed |= one
        d.server.wait_for_workers(WORKERS, excluding=frozenset(killed))
        assert d.change(1).status == 200

        # Kill every worker while a revoke is held up inside the server, then let it go.
        def revoke_midway() -> None:
            try:
                midway.append(d.change(2))
            except (OSError, http.client.HTTPException) as exc:
                midway.append(exc)

        with _holding_up_revocation(d, 2) as held_up:
            revoking = threading.Thread(target=revoke_midway)
            revoking.start()
            held_up()
            everyone = d.server.worker_pids()
            _kill_workers(everyone)
            killed |= everyone
            revoking.join(timeout=30)
        d.server.wait_for_workers(WORKERS, excluding=frozenset(killed))
        replaced = time.monotonic()
        time.sleep(1.0)  # the new workers serve the load for a moment

    assert d.server.process is not None and d.server.process.poll() is None  # master alive
    lost = load.statuses.count(0)
    assert set(load.statuses) <= {0, 200}, "a 5xx or other error under kill -9"
    assert lost <= len(killed), f"{lost} requests lost, but a sync worker holds only one"
    assert sum(1 for t in load.answered if t > replaced) >= WORKERS, "the new workers idle"

    # The killed revoke was never reported done, and left nothing behind.
    outcome = midway[0]
    assert not isinstance(outcome, Answer) or outcome.status == 503, outcome
    assert d.revocations(2) == (0, 0)
    retried = d.change(2)
    assert retried.status == 200 and retried.json()["status"] == "revoked"
    assert retried.json()["changed"] is True

    # Revocations reported done before and across the kills are in force on every new worker.
    for _ in range(6):
        for index in (0, 1, 2):
            assert_verdict(d.verify(index), "revoked")
    assert_verdict(d.verify(3), "valid")
    assert [d.revocations(i) for i in range(3)] == [(1, 1)] * 3
    issued = d.rows("SELECT COUNT(*) FROM credential WHERE token <> ''")
    assert issued == [(CREDENTIALS,)]


# --- the boundary's safety net -----------------------------------------------------------------


@pytest.mark.parametrize("failure", [peewee.OperationalError, peewee.InterfaceError])
def test_a_database_failure_outside_storage_errors_is_still_a_503(app, failure) -> None:
    # Every view wraps its queries; a future one that forgets must still not answer 500.
    @app.get("/api/v1/fault-probe")
    def fault_probe() -> str:
        raise failure("server closed the connection unexpectedly")

    answer = app.test_client().get("/api/v1/fault-probe")
    assert answer.status_code == 503
    assert answer.headers["Content-Type"].startswith("application/problem+json")
    assert answer.get_json()["status"] == 503
    assert answer.headers["Retry-After"] == str(RETRY_AFTER_SECONDS)
    assert app.extensions["skk"].database.is_closed()  # dropped: the next request reconnects

"""The real server for end-to-end tests: gunicorn with the repository's config on a loopback port.

Shared by the server, load and fault tests: a database for each kind (a SQLite file, or a scratch
PostgreSQL database named after the one in ``SKK_TEST_POSTGRES_URL``), the operator's CLI steps,
``gunicorn -c gunicorn.conf.py wsgi:app`` started in its own session and always stopped, and an
HTTP client that records what came back.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg2
import pytest

from tests.helpers import POSTGRES_URL, XDIST_WORKER
from verifier.store.db import open_database
from verifier.store.models import ALL_TABLES

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
BOOT_TIMEOUT = 30.0  # seconds for gunicorn to answer /healthz
HTTP_TIMEOUT = 10.0  # seconds per request
#: The server kinds a test runs on: PostgreSQL too when the CI server is configured.
SERVER_KINDS = (
    ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)] if POSTGRES_URL else ["sqlite"]
)
#: For a rate limit that tests driving one client must never reach.
NO_RATE_LIMIT = "1000000 per minute"


@dataclass
class Answer:
    """One HTTP exchange as the client saw it."""

    method: str
    path: str
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        """The body parsed as JSON."""
        return json.loads(self.body)


#: The ports pytest-xdist workers share out among themselves: below Linux's default ephemeral
#: range (32768-60999), where the kernel places the ports it picks for bind(0) and connect().
WORKER_PORTS = range(20_000, 32_768)


def worker_ports(worker: str, count: int) -> range:
    """The slice of :data:`WORKER_PORTS` that xdist worker ``worker`` (``gw0``...) of ``count``
    takes its ports from; no two workers' slices overlap."""
    size = len(WORKER_PORTS) // count
    start = WORKER_PORTS.start + int(worker.removeprefix("gw")) % count * size
    return range(start, start + size)


def _bindable(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def free_port() -> int:
    """A loopback TCP port nobody listens on right now.

    Without xdist the kernel picks it (bind to port 0). Under pytest-xdist each worker draws
    from its own slice of ports (:func:`worker_ports`), so two workers never pick the same port
    in the moment between this probe closing and gunicorn binding it. (Not by the kernel's
    choice modulo the worker count: Linux hands bind(0) odd ports only.)
    """
    if XDIST_WORKER is None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port: int = sock.getsockname()[1]
            return port
    ports = worker_ports(XDIST_WORKER, int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")))
    for _ in range(1000):
        port = random.choice(ports)
        if _bindable(port):
            return port
    pytest.fail(f"no free loopback port among {ports} for xdist worker {XDIST_WORKER}")


def fresh_database(kind: str, tmp: Path) -> str:
    """URL of an empty database: a SQLite file in ``tmp``, or the tables of the PostgreSQL URL
    dropped (like conftest does)."""
    if kind == "sqlite":
        return f"sqlite:///{tmp / 'skk.sqlite3'}"
    assert POSTGRES_URL is not None
    database = open_database(POSTGRES_URL)
    database.drop_tables(ALL_TABLES, safe=True, cascade=True)
    database.close()
    return POSTGRES_URL


def scratch_postgres(suffix: str, template: str | None = None) -> str:
    """A new PostgreSQL database ``<db of SKK_TEST_POSTGRES_URL>_<suffix>``; its URL.

    A database of its own, so a test may make it read-only (``ALTER DATABASE``) or drop it without
    touching the one the other tests share. Empty, or a copy of the ``template`` database URL
    (nothing may be connected to that one while it is copied).
    """
    assert POSTGRES_URL is not None
    parts = urlsplit(POSTGRES_URL)
    name = f"{parts.path.lstrip('/')}_{suffix}"
    copy = f' TEMPLATE "{urlsplit(template).path.lstrip("/")}"' if template else ""
    run_as_superuser(
        f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"{copy}'
    )
    return urlunsplit(parts._replace(path=f"/{name}"))


def drop_scratch_postgres(url: str) -> None:
    """Drop a database made by :func:`scratch_postgres`, closing whatever still uses it."""
    name = urlsplit(url).path.lstrip("/")
    run_as_superuser(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run_as_superuser(*statements: str) -> None:
    """Run statements outside any transaction, as the CI server's superuser."""
    assert POSTGRES_URL is not None
    connection = psycopg2.connect(POSTGRES_URL)
    try:
        connection.autocommit = True
        with connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)
    finally:
        connection.close()


def server_environment(
    database_url: str, tmp: Path, port: int, workers: int = 2, **extra: str
) -> dict[str, str]:
    """The server's environment: SKK_* from the arguments only, nothing inherited."""
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("SKK_")}
    return {
        **inherited,
        "SKK_DATABASE_URL": database_url,
        "SKK_KEYS_DIR": str(tmp / "keys"),
        "SKK_KEY_PASSPHRASE": "server test passphrase",
        "SKK_NIK_PEPPER": "server test pepper",
        "SKK_BASE_URL": f"http://127.0.0.1:{port}",
        "SKK_BIND": f"127.0.0.1:{port}",
        "SKK_WORKERS": str(workers),
        "PYTHONUNBUFFERED": "1",
        **extra,
    }


def skk(env: dict[str, str], *args: str) -> Any:
    """Run ``skk ARGS --json`` as the operator would; fails the test unless it succeeds."""
    done = subprocess.run(
        [str(BIN / "skk"), *args, "--json"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, f"skk {args[0]}: {done.stderr}"
    return json.loads(done.stdout)


def prepare_agency(env: dict[str, str], agency: str, name: str) -> str:
    """The operator's steps before the server starts; returns the agency's API key."""
    skk(env, "init")
    skk(env, "agency", "add", agency, "--name", name, "--levels", "1-6")
    skk(env, "keys", "generate", "--agency", agency)
    return str(skk(env, "apikey", "create", "--agency", agency)["api_key"])


class Client:
    """HTTP on the server's loopback port; every exchange is recorded in ``log``."""

    def __init__(self, port: int, timeout: float = HTTP_TIMEOUT) -> None:
        self.port = port
        self.timeout = timeout
        self.log: list[Answer] = []

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        headers: dict[str, str] | None = None,
        record: bool = True,
    ) -> Answer:
        """One request on a fresh connection (sync workers close each one anyway)."""
        all_headers = dict(headers or {})
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            all_headers.setdefault("Content-Type", "application/json")
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        try:
            connection.request(method, path, body=data, headers=all_headers)
            response = connection.getresponse()
            answer = Answer(
                method, path, response.status, dict(response.getheaders()), response.read()
            )
        finally:
            connection.close()
        if record:
            self.log.append(answer)
        return answer


def issue_credentials(
    client: Client, api_key: str, count: int, name: str
) -> tuple[list[str], list[str]]:
    """Issue ``count`` credentials through the agency API; their numbers and verify URLs."""
    numbers, urls = [], []
    for i in range(count):
        answer = client.request(
            "POST",
            "/api/v1/credentials",
            {
                "holder_name": f"{name} {i}",
                "job_code": "ME063100",
                "level": 3,
            },
            {"Authorization": f"Bearer {api_key}"},
            record=False,
        )
        assert answer.status == 201, answer.body
        numbers.append(answer.json()["number"])
        urls.append(answer.json()["url"])
    return numbers, urls


class Server:
    """Context manager: gunicorn up (bounded wait for /healthz), always stopped on exit."""

    #: How a checkout serves (README); the wheel test passes the installed command instead.
    CHECKOUT_COMMAND = (str(BIN / "gunicorn"), "-c", str(ROOT / "gunicorn.conf.py"), "wsgi:app")

    def __init__(
        self,
        env: dict[str, str],
        access: Path,
        errors: Path,
        command: tuple[str, ...] = CHECKOUT_COMMAND,
        cwd: Path = ROOT,
    ) -> None:
        self.env, self.access, self.errors = env, access, errors
        self.command, self.cwd = command, cwd
        self.port = int(env["SKK_BIND"].rsplit(":", 1)[1])
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Client:
        with self.access.open("wb") as out, self.errors.open("wb") as err:
            self.process = subprocess.Popen(
                self.command,
                cwd=self.cwd,
                env=self.env,
                stdout=out,
                stderr=err,
                start_new_session=True,
            )
        try:
            self._wait_until_healthy()
        except BaseException:
            self._stop()
            raise
        return Client(self.port)

    def __exit__(self, *exc_info: object) -> None:
        self._stop()

    @property
    def master_pid(self) -> int:
        """The gunicorn master's process id."""
        assert self.process is not None
        return self.process.pid

    def worker_pids(self) -> set[int]:
        """Process ids of the master's live worker processes."""
        children = Path(f"/proc/{self.master_pid}/task/{self.master_pid}/children")
        try:
            return {int(pid) for pid in children.read_text().split()}
        except FileNotFoundError:
            return set()

    def wait_for_workers(
        self, count: int, timeout: float = BOOT_TIMEOUT, excluding: frozenset[int] = frozenset()
    ) -> set[int]:
        """Wait (bounded) until the master runs ``count`` workers, none of them in
        ``excluding`` (workers killed and not yet replaced); their ids."""
        deadline = time.monotonic() + timeout
        while len(pids := self.worker_pids()) != count or pids & excluding:
            if time.monotonic() > deadline:
                pytest.fail(
                    f"gunicorn runs {len(pids)} workers, not {count} new ones, after {timeout}s"
                )
            time.sleep(0.05)
        return pids

    def _wait_until_healthy(self) -> None:
        assert self.process is not None
        deadline = time.monotonic() + BOOT_TIMEOUT
        probe = Client(self.port)
        while True:
            if self.process.poll() is not None:
                pytest.fail(
                    f"gunicorn exited with {self.process.returncode}:\n{self.errors.read_text()}"
                )
            try:
                if probe.request("GET", "/healthz", record=False).status == 200:
                    return
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"gunicorn did not answer /healthz in {BOOT_TIMEOUT}s")
            time.sleep(0.1)

    def _stop(self) -> None:
        process = self.process
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)  # graceful: workers finish and flush their logs
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)

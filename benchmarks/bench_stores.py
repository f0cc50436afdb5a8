"""Benchmark: the same gunicorn server on PostgreSQL and on SQLite, and how fast a revoke lands.

Prints, for each store, POST /api/v1/verify throughput and p50/p99 at 50 connections (``wrk``,
rounds alternating between the two servers, medians), and the time from an agency's revoke call
(``POST /api/v1/credentials/<number>/revoke``) returning to every worker answering ``revoked``:
after the call returns, bursts of concurrent verifications are sent until a whole burst, answered
by every worker (the access log names the pid), says ``revoked``. No cache may delay a
revocation, so this is normally the first burst: the figure is then the time one burst takes.

Figures only, no target (issue 5 asks for them); exit status 1 if any answer was a 5xx or a
revocation never showed. PostgreSQL: ``SKK_BENCH_POSTGRES_URL`` (default: database ``skk_bench``
on the local server, created when missing; its tables are dropped first).

Run: ``.venv/bin/python benchmarks/bench_stores.py`` (``make bench``); about a minute and a half.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import psycopg2
from bench_http import (
    AGENCY_ID,
    WORKERS,
    Server,
    WrkResult,
    answering_workers,
    free_port,
    lua_script,
    post_verify,
    prepare_database,
    skk,
    skk_env,
    start,
    stop,
    wait_until_valid,
    worker_pids,
    wrk,
)

DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/skk_bench"
ROUNDS = 5
SECONDS_PER_RUN = 4
REVOCATIONS = 5
BURST = 4 * int(WORKERS)
MAX_BURSTS = 50


def main() -> int:
    """Both stores, measured alternately; then revocation latency on each."""
    postgres_url = os.environ.get("SKK_BENCH_POSTGRES_URL", DEFAULT_POSTGRES_URL)
    fresh_postgres(postgres_url)
    with tempfile.TemporaryDirectory(prefix="skk-bench-stores-") as tmp_name:
        tmp = Path(tmp_name)
        servers: dict[str, Server] = {}
        tokens: dict[str, str] = {}
        envs: dict[str, dict[str, str]] = {}
        try:
            for store in ("sqlite", "postgresql"):
                port = free_port()
                env = skk_env(tmp / store, port)
                if store == "postgresql":
                    env["SKK_DATABASE_URL"] = postgres_url
                (tmp / store).mkdir()
                _, tokens[store] = prepare_database(env)
                envs[store] = env
                servers[store] = start(store, ["wsgi:app"], env, port, tmp)
            for store, server in servers.items():
                wait_until_valid(server, tokens[store])
            return measure(servers, tokens, envs, tmp)
        finally:
            for server in servers.values():
                stop(server.process)


def measure(
    servers: dict[str, Server], tokens: dict[str, str], envs: dict[str, dict[str, str]], tmp: Path
) -> int:
    """Alternating wrk rounds per store, then the revocation latency on each."""
    scripts = {}
    for store, token in tokens.items():
        scripts[store] = tmp / f"{store}.lua"
        scripts[store].write_text(lua_script(token))
        wrk(servers[store], scripts[store], 2)  # warm-up
    results: dict[str, list[WrkResult]] = {store: [] for store in servers}
    for round_number in range(ROUNDS):
        order = list(servers) if round_number % 2 == 0 else list(reversed(servers))
        for store in order:
            results[store].append(wrk(servers[store], scripts[store], SECONDS_PER_RUN))
    ok = True
    for store, runs in results.items():
        rps = statistics.median(r.rps for r in runs)
        p50 = statistics.median(r.p50_ms for r in runs)
        p99 = statistics.median(r.p99_ms for r in runs)
        print(f"{store}_verify_rps={rps:.0f} {store}_p50_ms={p50:.2f} {store}_p99_ms={p99:.2f}")
        ok = ok and all(r.non_2xx == 0 for r in runs)
    pg = statistics.median(r.rps for r in results["postgresql"])
    lite = statistics.median(r.rps for r in results["sqlite"])
    print(f"postgresql_to_sqlite_rps_ratio={pg / lite:.3f}")
    for store, server in servers.items():
        latencies = revocation_latencies(server, envs[store])
        if len(latencies) < REVOCATIONS:
            print(f"FAIL: on {store} a revocation was not answered by every worker in time")
            ok = False
        if latencies:
            print(
                f"{store}_revoke_to_all_workers_ms median={statistics.median(latencies):.1f} "
                f"max={max(latencies):.1f} (n={len(latencies)})"
            )
    if not ok:
        print("FAIL: some requests were not answered 200")
    return 0 if ok else 1


def fresh_postgres(url: str) -> None:
    """Create the benchmark database when missing, and drop whatever tables it holds."""
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = psycopg2.connect(urlunsplit(parts._replace(path="/postgres")))
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
        if cursor.fetchone() is None:
            cursor.execute(f'CREATE DATABASE "{name}"')
    admin.close()
    target = psycopg2.connect(url)
    target.autocommit = True
    with target.cursor() as cursor:
        cursor.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    target.close()


def revocation_latencies(server: Server, env: dict[str, str]) -> list[float]:
    """Milliseconds from each revoke call returning to a whole burst of answers saying revoked."""
    created = skk(env, "apikey", "create", "--agency", AGENCY_ID)
    assert isinstance(created, dict)
    api_key = str(created["api_key"])
    base = server.url.removesuffix("/api/v1/verify")
    workers = len(worker_pids(server.process.pid))
    latencies = []
    for n in range(REVOCATIONS):
        issued = skk(
            env,
            "issue",
            "--agency",
            AGENCY_ID,
            "--name",
            f"Pekerja Cabut {n}",
            "--job-code",
            "ME063100",
            "--level",
            "3",
        )
        assert isinstance(issued, dict)
        number, token = str(issued["number"]), str(issued["token"])
        revoke(base, api_key, number)
        returned = time.perf_counter()
        for _ in range(MAX_BURSTS):
            before = len(server.log.read_text().splitlines())
            with ThreadPoolExecutor(max_workers=BURST) as pool:
                answers = list(pool.map(post_verify, [server.url] * BURST, [token] * BURST))
            elapsed = (time.perf_counter() - returned) * 1000
            time.sleep(0.05)  # gunicorn writes a line after the response has gone out
            if {answer.get("status") for answer in answers} == {"revoked"} and (
                answering_workers(server, before) >= workers
            ):
                latencies.append(elapsed)
                break
    if workers != int(WORKERS):
        print(f"note: {workers} workers were running, not {WORKERS}")
    return latencies


def revoke(base: str, api_key: str, number: str) -> None:
    """The agency API's revoke call; returns once the server has answered 200."""
    request = urllib.request.Request(
        f"{base}/api/v1/credentials/{quote(number)}/revoke",
        data=json.dumps({"reason": "fraud"}).encode(),
        method="POST",
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {api_key}"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        if response.status != 200:
            raise SystemExit(f"revoke answered {response.status}")


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark: crew checks through gunicorn, and revoke-to-webhook latency (issue 11, item 6).

1. **Crew check throughput.** 1,000 credentials are issued; their scanned verify URLs are sent as
   one ``POST /api/v1/crew-check`` to our gunicorn server (the repository's config, 2 workers),
   and the same 1,000 URLs are verified in this process with ``VerificationService.verify``, one
   call per token. Both run in alternating rounds; the figure is the median of the rounds' ratios
   of throughput (time per token in process / time per worker through HTTP). Target >= 0.7: a
   whole crew through the API costs at most ~1.4 times verifying its tokens one by one at home.
2. **Revoke to webhook.** A project owner watches a 20-worker crew with a webhook to a receiver
   in this process; ``skk notify run`` runs as its own process (default settings). Each of the 20
   workers' credentials is revoked through the agency API, one after the other; the latency is
   from the revoke's answer to the signed webhook's arrival. Target: median <= 2 s.

SQLite in a temporary folder, loopback only; nothing outside the repository is read. Exit status
1 when a target is missed. Run: ``.venv/bin/python benchmarks/bench_crew.py`` (``make bench``),
about a minute.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import http.server
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

from bench_http import free_port, skk, skk_env, start, stop  # the same setup as its benchmark

from verifier.issuance import issuer
from verifier.issuance.keystore import PrivateKeyStore
from verifier.issuance.service import IssuingService
from verifier.store.db import open_database
from verifier.verification import VerificationService

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
WORKERS_IN_CREW = 1000
ROUNDS = 7
TARGET_RATIO = 0.7
REVOKES = 20
TARGET_MEDIAN_SECONDS = 2.0
AGENCY_ID = "lsp-bench"
BOOT_TIMEOUT = 30.0
ARRIVAL_TIMEOUT = 30.0


def main() -> int:
    """Set up, measure both figures, print them; 0 when both targets are met."""
    with tempfile.TemporaryDirectory(prefix="skk-bench-crew-") as tmp_name:
        tmp = Path(tmp_name)
        port = free_port()
        env = {**skk_env(tmp, port), "SKK_BIND": f"127.0.0.1:{port}"}
        agency_key, owner_key = prepare(env)
        urls, numbers = issue_crew(env, WORKERS_IN_CREW)
        server = start("skk", ["wsgi:app"], env, port, tmp).process
        try:
            wait_until_healthy(port, server)
            ratio = throughput(env, port, urls)
            latencies = webhook_latencies(
                env, port, tmp, agency_key, owner_key, urls[:REVOKES], numbers[:REVOKES]
            )
        finally:
            stop(server)
    median = statistics.median(latencies)
    print(f"revoke_to_webhook_median_s={median:.3f} (target <= {TARGET_MEDIAN_SECONDS})")
    print(f"revoke_to_webhook_max_s={max(latencies):.3f}")
    print("revoke_to_webhook_s=" + ",".join(f"{x:.2f}" for x in latencies))
    ok = ratio >= TARGET_RATIO and median <= TARGET_MEDIAN_SECONDS
    if ratio < TARGET_RATIO:
        print(f"FAIL: crew_ratio {ratio:.3f} is below the target {TARGET_RATIO}")
    if median > TARGET_MEDIAN_SECONDS:
        print(f"FAIL: median revoke-to-webhook {median:.2f} s is over {TARGET_MEDIAN_SECONDS} s")
    return 0 if ok else 1


# --- setup -------------------------------------------------------------------------------------


def prepare(env: dict[str, str]) -> tuple[str, str]:
    """Schema, agency with a key, a project owner; their API keys."""
    skk(env, "init")
    skk(env, "agency", "add", AGENCY_ID, "--name", "LSP Benchmark Nusantara", "--levels", "1-6")
    skk(env, "keys", "generate", "--agency", AGENCY_ID)
    skk(env, "owner", "add", "pupr-bench", "--name", "Ditjen Benchmark")
    agency = skk(env, "apikey", "create", "--agency", AGENCY_ID)["api_key"]
    owner = skk(env, "apikey", "create", "--owner", "pupr-bench")["api_key"]
    return str(agency), str(owner)


def issue_crew(env: dict[str, str], count: int) -> tuple[list[str], list[str]]:
    """Issue ``count`` credentials in this process; their verify URLs and numbers."""
    database = open_database(env["SKK_DATABASE_URL"])
    store = PrivateKeyStore(Path(env["SKK_KEYS_DIR"]), env["SKK_KEY_PASSPHRASE"])
    issuing = IssuingService(store, pepper=None, base_url=env["SKK_BASE_URL"])
    now = int(time.time())  # not before the key's creation (SPEC §2 rule 5)
    urls, numbers = [], []
    for index in range(count):
        request = issuer.IssueRequest(
            AGENCY_ID, f"Pekerja Benchmark {index}", 3, job_code="ME063100"
        )
        issued = issuing.issue(request, actor="bench", now=now)
        urls.append(issued.url)
        numbers.append(issued.number)
    database.close()
    return urls, numbers


def wait_until_healthy(port: int, server: subprocess.Popen[bytes]) -> None:
    """Poll /healthz (bounded)."""
    deadline = time.monotonic() + BOOT_TIMEOUT
    while True:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn exited with {server.returncode}")
        try:
            if request(port, "GET", "/healthz")[0] == 200:
                return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise SystemExit(f"gunicorn did not answer in {BOOT_TIMEOUT}s")
        time.sleep(0.1)


def request(
    port: int, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
) -> tuple[int, bytes]:
    """One HTTP exchange on loopback; status and body."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        data = None if body is None else json.dumps(body).encode()
        all_headers = {**({"Content-Type": "application/json"} if data else {}), **(headers or {})}
        connection.request(method, path, body=data, headers=all_headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


# --- 1. throughput -------------------------------------------------------------------------------


def throughput(env: dict[str, str], port: int, urls: list[str]) -> float:
    """Median over rounds of (in-process seconds per token) / (HTTP seconds per worker)."""
    database = open_database(env["SKK_DATABASE_URL"])
    service = VerificationService(60)
    body = {"workers": [{"ref": str(i), "credential": url} for i, url in enumerate(urls)]}
    check_answer(request(port, "POST", "/api/v1/crew-check", body), len(urls))  # warm-up
    for url in urls[:50]:
        service.verify(url)
    in_process, over_http, ratios = [], [], []
    for round_number in range(ROUNDS):
        timings = {}
        order = ("http", "local") if round_number % 2 == 0 else ("local", "http")
        for kind in order:
            started = time.perf_counter()
            if kind == "http":
                check_answer(request(port, "POST", "/api/v1/crew-check", body), len(urls))
            else:
                results = [service.verify(url) for url in urls]
                assert all(result.valid for result in results)
            timings[kind] = (time.perf_counter() - started) / len(urls)
        in_process.append(timings["local"])
        over_http.append(timings["http"])
        ratios.append(timings["local"] / timings["http"])
    database.close()
    ratio = statistics.median(ratios)
    print(f"crew_workers={len(urls)} rounds={ROUNDS}")
    print(f"in_process_us_per_token={statistics.median(in_process) * 1e6:.0f}")
    print(f"crew_check_us_per_worker={statistics.median(over_http) * 1e6:.0f}")
    print("rounds_ratio=" + ",".join(f"{r:.3f}" for r in ratios))
    print(f"crew_ratio={ratio:.3f} (throughput over HTTP / in process; target >= {TARGET_RATIO})")
    return ratio


def check_answer(answer: tuple[int, bytes], count: int) -> None:
    """Every worker valid, in one 200."""
    status, body = answer
    if status != 200:
        raise SystemExit(f"crew check answered {status}: {body[:200]!r}")
    summary = json.loads(body)["summary"]
    if summary["by_status"] != {"valid": count}:
        raise SystemExit(f"unexpected crew check summary: {summary}")


# --- 2. revoke to webhook ------------------------------------------------------------------------


class Arrivals:
    """A webhook receiver on loopback: when each revoked number's webhook came (signed right)."""

    def __init__(self) -> None:
        self.secret = ""
        self.times: dict[str, float] = {}
        self.changed = threading.Condition()
        arrivals = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                arrived = time.time()
                arrivals.check(self.headers, body)
                self.send_response(204)
                self.end_headers()
                number = json.loads(body)["data"]["credential"]["number"]
                with arrivals.changed:
                    arrivals.times.setdefault(number, arrived)
                    arrivals.changed.notify_all()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def check(self, headers: Any, body: bytes) -> None:
        """Standard Webhooks: HMAC-SHA256 of id.timestamp.body under the secret's key."""
        key = base64.b64decode(self.secret.removeprefix("whsec_"))
        signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
        expected = "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
        if not hmac.compare_digest(headers["webhook-signature"], expected):
            raise SystemExit("a webhook arrived with a wrong signature")

    def wait(self, number: str) -> float:
        """When the webhook about ``number`` arrived."""
        deadline = time.monotonic() + ARRIVAL_TIMEOUT
        with self.changed:
            while number not in self.times:
                if time.monotonic() > deadline:
                    raise SystemExit(f"no webhook in {ARRIVAL_TIMEOUT}s")
                self.changed.wait(0.5)
            return self.times[number]


def webhook_latencies(
    env: dict[str, str],
    port: int,
    tmp: Path,
    agency_key: str,
    owner_key: str,
    urls: list[str],
    numbers: list[str],
) -> list[float]:
    """Seconds from each revoke's answer to its webhook's arrival."""
    owner = {"Authorization": f"Bearer {owner_key}"}
    status, body = request(
        port,
        "POST",
        "/api/v1/projects",
        {"name": "Proyek Benchmark", "starts": "2026-01-01", "ends": "2030-12-31"},
        owner,
    )
    project = json.loads(body)["id"]
    status, body = request(
        port,
        "PUT",
        f"/api/v1/projects/{project}/crew",
        {"workers": [{"credential": url} for url in urls]},
        owner,
    )
    assert status == 200, body
    arrivals = Arrivals()
    hook = f"http://127.0.0.1:{arrivals.server.server_port}/hook"
    status, body = request(
        port, "POST", f"/api/v1/projects/{project}/webhooks", {"url": hook}, owner
    )
    assert status == 201, body
    arrivals.secret = json.loads(body)["secret"]
    with (tmp / "notify.log").open("wb") as log:
        notifier = subprocess.Popen(
            [str(BIN / "skk"), "notify", "run"],
            env=env,
            cwd=ROOT,
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
    agency = {"Authorization": f"Bearer {agency_key}"}
    latencies = []
    try:
        time.sleep(1.0)  # the notifier is up
        for number in numbers:
            path = f"/api/v1/credentials/{quote(number, safe='')}/revoke"
            status, body = request(port, "POST", path, {"reason": "misuse"}, agency)
            answered = time.time()
            assert status == 200, body
            # The notifier may deliver before the client has read the revoke's answer: 0 then.
            latencies.append(max(0.0, arrivals.wait(number) - answered))
    finally:
        stop(notifier)
        arrivals.server.shutdown()
    return latencies


if __name__ == "__main__":
    sys.exit(main())

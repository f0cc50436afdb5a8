"""Idempotency-Key against the real server (gunicorn, two workers, SQLite and PostgreSQL): a
client that retries at once, many times and in parallel, still issues exactly one credential,
and every answer is either that first one or a 409 while it runs (issue 14)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.serving import (
    SERVER_KINDS,
    Server,
    free_port,
    fresh_database,
    prepare_agency,
    server_environment,
)

pytestmark = pytest.mark.system

RETRIES = 12
BODY = {
    "holder_name": "Rina Marlina",
    "job_code": "ME063100",
    "level": 3,
    "nik": "3273010001900042",
}


@pytest.mark.parametrize("kind", SERVER_KINDS)
def test_parallel_retries_with_one_key_issue_once(kind: str, tmp_path: Path) -> None:
    port = free_port()
    env = server_environment(fresh_database(kind, tmp_path), tmp_path, port)
    auth = {"Authorization": f"Bearer {prepare_agency(env, 'lsp-uji', 'LSP Uji')}"}
    keyed = {**auth, "Idempotency-Key": '"retry-rina-0001"'}
    with Server(env, tmp_path / "access.log", tmp_path / "error.log") as client:
        with ThreadPoolExecutor(max_workers=RETRIES) as pool:
            answers = list(
                pool.map(
                    lambda _: client.request("POST", "/api/v1/credentials", BODY, keyed),
                    range(RETRIES),
                )
            )
        final = client.request("POST", "/api/v1/credentials", BODY, keyed)
        listed = client.request("GET", "/api/v1/credentials", headers=auth)
    assert {answer.status for answer in answers} <= {201, 409}
    issued = [answer.body for answer in answers if answer.status == 201]
    assert issued and all(body == issued[0] for body in issued)
    assert final.status == 201 and final.body == issued[0]
    assert final.headers["Idempotent-Replayed"] == "true"
    assert listed.headers["X-Total-Count"] == "1"

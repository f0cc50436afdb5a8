"""The suite is safe to run in parallel (pytest-xdist, `make test-fast`): each worker has its own
PostgreSQL database and its own share of loopback ports."""

from __future__ import annotations

import pytest

from tests import serving
from tests.helpers import worker_database_url


def test_without_xdist_the_given_database_is_used() -> None:
    url = "postgresql://postgres@127.0.0.1:5432/test"
    assert worker_database_url(url, None) == url


def test_each_worker_gets_a_database_of_its_own() -> None:
    url = "postgresql://postgres@127.0.0.1:5432/test?sslmode=disable"
    assert worker_database_url(url, "gw0") == (
        "postgresql://postgres@127.0.0.1:5432/test_gw0?sslmode=disable"
    )
    assert worker_database_url(url, "gw1") != worker_database_url(url, "gw0")


@pytest.mark.parametrize("worker", ["gw0", "gw1", "gw2"])
def test_workers_pick_ports_from_disjoint_shares(
    monkeypatch: pytest.MonkeyPatch, worker: str
) -> None:
    monkeypatch.setattr(serving, "XDIST_WORKER", worker)
    monkeypatch.setenv("PYTEST_XDIST_WORKER_COUNT", "3")
    slot = int(worker.removeprefix("gw"))
    assert all(serving.free_port() % 3 == slot for _ in range(5))

"""The suite is safe to run in parallel (pytest-xdist, `make test-fast`): each worker has its own
PostgreSQL database and its own share of loopback ports."""

from __future__ import annotations

import socket

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


@pytest.mark.parametrize("count", [1, 2, 3, 8])
def test_worker_port_slices_do_not_overlap(count: int) -> None:
    slices = [set(serving.worker_ports(f"gw{n}", count)) for n in range(count)]
    assert all(len(ports) > 1000 for ports in slices)
    assert len(set().union(*slices)) == sum(len(ports) for ports in slices)
    assert all(ports <= set(serving.WORKER_PORTS) for ports in slices)


@pytest.mark.parametrize(("worker", "count"), [("gw0", 2), ("gw1", 2), ("gw2", 3)])
def test_each_worker_picks_free_ports_from_its_own_slice(
    monkeypatch: pytest.MonkeyPatch, worker: str, count: int
) -> None:
    # gw0 of 2 once waited forever for an even port: Linux hands bind(0) odd ports only.
    monkeypatch.setattr(serving, "XDIST_WORKER", worker)
    monkeypatch.setenv("PYTEST_XDIST_WORKER_COUNT", str(count))
    own = serving.worker_ports(worker, count)
    for _ in range(5):
        port = serving.free_port()
        assert port in own
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", port))  # really free

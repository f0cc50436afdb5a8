"""Shared set-up for the fuzz scripts: a throw-away instance, and a bounded hypothesis run that
counts the inputs it tried and reports failures instead of stopping at the first traceback.

Every script takes ``--examples N``, the inputs it tries in all (default 50,000, shared out
among its properties), and ``--seed S`` (default: a random seed, printed, so a failure can be
replayed exactly with ``--seed``).
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the scripts reuse the strategies and checks in tests/

from hypothesis import HealthCheck, given, seed, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from tests.helpers import DAY, NOW  # noqa: E402
from verifier.issuance import issuer, keyring  # noqa: E402
from verifier.issuance.keystore import PrivateKeyStore  # noqa: E402
from verifier.issuance.service import IssuingService  # noqa: E402
from verifier.store import registry  # noqa: E402
from verifier.store.db import init_schema, open_database  # noqa: E402
from verifier.verification import VerificationService  # noqa: E402

DEFAULT_EXAMPLES = 50_000
PEPPER = "fuzz pepper"


@dataclass(frozen=True)
class World:
    """A fresh SQLite instance with the reference agency, its key and one valid credential."""

    service: VerificationService
    token: str


@contextmanager
def world() -> Iterator[World]:
    """Build the instance in a temporary folder; everything is deleted afterwards."""
    with tempfile.TemporaryDirectory(prefix="skk-fuzz-") as folder:
        database = open_database(f"sqlite:///{Path(folder) / 'fuzz.sqlite3'}", create=True)
        init_schema(database)
        store = PrivateKeyStore(Path(folder) / "keys", "fuzz passphrase")
        agency = registry.add_agency(
            "lsp-contoh", "LSP Konstruksi Contoh Nusantara", (1, 6), "lsp", NOW - 30 * DAY
        )
        keyring.generate(store, agency.id, "EdDSA", NOW - 30 * DAY)
        request = issuer.IssueRequest(
            agency_id=agency.id,
            holder_name="Muhammad Rizky Pratama Saputra",
            level=3,
            job_code="ME063100",
        )
        issuing = IssuingService(store, pepper=PEPPER, base_url="https://sertifikat.example.id")
        issued = issuing.issue(request, actor="fuzz", now=NOW)
        try:
            yield World(VerificationService(leeway=60), issued.signed.token)
        finally:
            database.close()


def arguments(description: str) -> argparse.Namespace:
    """``--examples`` and ``--seed`` from the command line."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--examples",
        type=int,
        default=DEFAULT_EXAMPLES,
        help=f"inputs in all, shared out among the properties (default {DEFAULT_EXAMPLES:,})",
    )
    parser.add_argument("--seed", type=int, default=None, help="replay a run (default: random)")
    return parser.parse_args()


def run(
    name: str,
    strategy: st.SearchStrategy,
    check: Callable[[object], None],
    examples: int,
    chosen_seed: int | None,
) -> int:
    """Run ``check`` on ``examples`` inputs drawn from ``strategy``; print one summary line.

    Returns the number of failures (0 or 1: hypothesis stops at the first and shrinks it).
    """
    run_seed = random.randrange(2**32) if chosen_seed is None else chosen_seed
    tried = 0

    def counted(value: object) -> None:
        nonlocal tried
        tried += 1
        check(value)

    fuzz = seed(run_seed)(
        settings(
            max_examples=examples,
            deadline=None,
            database=None,
            derandomize=False,
            suppress_health_check=list(HealthCheck),
            print_blob=True,
        )(given(strategy)(counted))
    )
    started = time.monotonic()
    failures = 0
    try:
        fuzz()
    except Exception:  # noqa: BLE001  # any failure is reported, the other properties still run
        failures = 1
        traceback.print_exc()
    elapsed = time.monotonic() - started
    print(
        f"{name}: {tried:,} inputs tried, {failures} failures, {elapsed:.1f} s (seed {run_seed})",
        flush=True,
    )
    return failures


def run_all(
    properties: list[tuple[str, st.SearchStrategy, Callable[[object], None], float]],
    args: argparse.Namespace,
) -> int:
    """Run each (name, strategy, check, share of the examples); print the total; exit status."""
    started = time.monotonic()
    total = sum(share for *_, share in properties)
    failures = 0
    for name, strategy, check, share in properties:
        examples = max(1, round(args.examples * share / total))
        failures += run(name, strategy, check, examples, args.seed)
    print(
        f"total: {len(properties)} properties, {failures} failures, "
        f"{time.monotonic() - started:.1f} s",
        flush=True,
    )
    return 1 if failures else 0

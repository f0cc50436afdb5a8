"""Forgetting on time (issue 14, item 8): `skk prune` deletes every row past the retention the
privacy notice and the docs promise, and nothing younger; `--json` counts per table."""

from __future__ import annotations

import json
import time

import pytest
from click.testing import CliRunner

from tests.helpers import DAY, NOW
from verifier.cli import main
from verifier.store import (
    idempotency,
    nik_match,
    pruning,
    rate_counts,
    staff_devices,
    staff_sessions,
)
from verifier.store.models import (
    ALL_TABLES,
    IdempotencyRecord,
    NikMiss,
    RateCounter,
    StaffDevice,
    StaffSession,
    StaffUser,
)

NUMBER = "ME063100 3 48213377 2026"


def _session(name: str, *, last_seen_at: int, expires_at: int) -> None:
    StaffSession.create(
        id_hash=name * 64,
        user=None,
        stage="anonymous",
        data="{}",
        created_at=last_seen_at,
        last_seen_at=last_seen_at,
        expires_at=expires_at,
    )


def _rows(now: int) -> None:
    """For each kind of row: one whose time is up at ``now``, one still kept."""
    RateCounter.create(name="ended", hits=3, expires_at_ms=now * 1000)
    RateCounter.create(name="running", hits=3, expires_at_ms=(now + 1) * 1000)
    NikMiss.create(agency="lsp-contoh", number=NUMBER, at=now - nik_match.WINDOW_SECONDS)
    NikMiss.create(agency="lsp-contoh", number=NUMBER, at=now - nik_match.WINDOW_SECONDS + 1)
    _session("a", last_seen_at=now - staff_sessions.IDLE_SECONDS, expires_at=now + 3600)
    _session("b", last_seen_at=now - 60, expires_at=now)
    _session("c", last_seen_at=now - 60, expires_at=now + 60)
    user = StaffUser.create(
        agency="lsp-contoh",
        username="oki",
        role="operator",
        password_hash="-",
        must_change_password=False,
        created_at=now,
    )
    for name, age in (("d", staff_devices.KEEP_SECONDS), ("e", staff_devices.KEEP_SECONDS - 1)):
        StaffDevice.create(
            id_hash=name * 64, user=user, created_at=now - age, last_used_at=now - age
        )
    kept = idempotency.KEEP_SECONDS
    for key, age in (("old", kept + 1), ("young", kept - 1)):
        IdempotencyRecord.create(
            scope="apikey:1",
            key=key,
            fingerprint="f" * 64,
            status_code=201,
            response_body="{}",
            created_at=now - age,
        )


def test_prune_deletes_what_has_had_its_time_and_keeps_the_rest(make_agency) -> None:
    make_agency()
    _rows(NOW)
    deleted = pruning.prune(NOW)
    assert deleted == {
        "rate_counter": 1,
        "nik_miss": 1,
        "staff_session": 2,
        "cohort_import": 0,
        "webhook_message": 0,
        "project": 0,
        "idempotency_record": 1,
        "staff_device": 1,
    }
    assert [row.name for row in RateCounter.select()] == ["running"]
    assert [row.at for row in NikMiss.select()] == [NOW - nik_match.WINDOW_SECONDS + 1]
    assert [row.id_hash for row in StaffSession.select()] == ["c" * 64]
    assert [row.key for row in IdempotencyRecord.select()] == ["young"]
    assert [row.id_hash for row in StaffDevice.select()] == ["e" * 64]
    assert rate_counts.count("running", NOW * 1000) == 3  # what is kept still counts
    assert set(pruning.prune(NOW).values()) == {0}  # nothing left to do


def test_a_day_old_nik_miss_no_longer_counts_so_pruning_it_changes_nothing(make_agency) -> None:
    """The retention equals the window: pruning never deletes a miss that still counts."""
    make_agency()
    NikMiss.create(agency="lsp-contoh", number=NUMBER, at=NOW - DAY)
    assert nik_match.WINDOW_SECONDS == DAY
    assert pruning.prune(NOW)["nik_miss"] == 1


def test_every_step_names_a_table_once() -> None:
    tables = [step.table for step in pruning.PRUNE_STEPS]
    assert len(tables) == len(set(tables))
    assert set(tables) <= {model._meta.table_name for model in ALL_TABLES}


def test_a_failing_step_leaves_the_earlier_steps_done(make_agency, monkeypatch) -> None:
    make_agency()
    _rows(NOW)

    def broken(now: int) -> int:
        raise RuntimeError("disk on fire")

    steps = (*pruning.PRUNE_STEPS[:1], pruning.PruneStep("nik_miss", broken))
    with pytest.raises(RuntimeError):
        pruning.prune(NOW, steps)
    assert [row.name for row in RateCounter.select()] == ["running"]
    assert NikMiss.select().count() == 2


def test_skk_prune_json_counts_per_table(make_agency, env: dict[str, str]) -> None:
    make_agency()
    now = int(time.time())
    RateCounter.create(name="ended", hits=1, expires_at_ms=(now - 5) * 1000)
    NikMiss.create(agency="lsp-contoh", number=NUMBER, at=now - 2 * DAY)
    runner = CliRunner()
    result = runner.invoke(main, ["prune", "--json"], env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    counts = json.loads(result.stdout)
    assert list(counts) == [step.table for step in pruning.PRUNE_STEPS]
    assert counts["rate_counter"] == 1 and counts["nik_miss"] == 1
    assert result.stderr.startswith("skk: database ")
    text = runner.invoke(main, ["prune"], env=env, catch_exceptions=False).stdout
    assert "rate_counter: 0 deleted" in text.splitlines()

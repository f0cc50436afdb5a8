"""Forgetting on time: rows kept only for a while are deleted here once their time is up.

How long each kind of row is kept is promised on the privacy notice (``/privasi``) and in
docs/operations.md §6; ``tests/test_docs_numbers.py`` holds those texts to the constants used
here. ``skk prune`` runs every step (docs/deploy.md §10: a systemd timer); each step runs in a
transaction of its own, so one that fails leaves the others' work done and nothing half-deleted.

To forget something new: write ``prune(now: int) -> int`` (rows deleted) beside its table and add
one :class:`PruneStep` to :data:`PRUNE_STEPS` — the only list there is.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from verifier.core.crew.calendar import DAY, today
from verifier.store import (
    cohort_imports,
    idempotency,
    nik_match,
    outbox,
    projects,
    rate_counts,
    staff_devices,
    staff_sessions,
)
from verifier.store.db import transaction


@dataclass(frozen=True)
class PruneStep:
    """One kind of row to forget: the name ``skk prune`` reports it under, and the function
    deleting those whose time is up at ``now`` (epoch seconds), returning how many went."""

    table: str
    prune: Callable[[int], int]


def _webhook_messages(now: int) -> int:
    return outbox.purge(now - outbox.KEEP_DONE_DAYS * DAY)


def _idempotency_records(now: int) -> int:
    return idempotency.prune(now - idempotency.KEEP_SECONDS)


def _ended_projects(now: int) -> int:
    return projects.delete_ended(today(now - projects.KEEP_ENDED_DAYS * DAY))


#: Every prune step, in the order they run.
PRUNE_STEPS: tuple[PruneStep, ...] = (
    # rate-limit counters whose window has ended (windows are a day at most)
    PruneStep("rate_counter", rate_counts.prune),
    # wrong NIKs older than the day they count for
    PruneStep("nik_miss", nik_match.prune),
    # console sessions past their idle or absolute timeout
    PruneStep("staff_session", staff_sessions.sweep),
    # console uploads (they hold NIKs) never issued within a day
    PruneStep("cohort_import", cohort_imports.sweep),
    # webhook messages delivered or given up 30 days ago (the notifier does it too)
    PruneStep("webhook_message", _webhook_messages),
    # watched projects 90 days past their end date, with crews and subscriptions (idem)
    PruneStep("project", _ended_projects),
    # answers kept for Idempotency-Key retries, a day after the first request
    PruneStep("idempotency_record", _idempotency_records),
    # console devices that have not signed in for 180 days
    PruneStep("staff_device", staff_devices.prune),
)


def prune(now: int, steps: Sequence[PruneStep] = PRUNE_STEPS) -> dict[str, int]:
    """Run every step at ``now``; how many rows each table lost, in the steps' order."""
    deleted: dict[str, int] = {}
    for step in steps:
        with transaction():
            deleted[step.table] = deleted.get(step.table, 0) + step.prune(now)
    return deleted

"""Bundles and deltas from the database: the payloads the server signs (docs/offline.md §5).

Reads are ordered so that no change can be lost: the change counter first, then the data. A
change that commits in between is then in the data but numbered after the bundle's ``seq``, so
the next delta carries it again, which is harmless (deltas carry states, not events); the other
order could number a change into the bundle without its data. No transaction is held open while
reading: on SQLite that would take the write lock for the whole build.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from verifier.core import bundle
from verifier.core.bundle import BundleSettings
from verifier.store import offline_changes, registry
from verifier.store.credentials import chunks
from verifier.store.db import bound_database

#: A delta with more changes than this is refused: a full bundle is cheaper to apply then.
MAX_DELTA_CHANGES = 20_000
_ROW_VALUES_CHUNK = 400


def full_payload(settings: BundleSettings, now: int) -> dict[str, Any]:
    """The payload of a full bundle of the current state."""
    seq = offline_changes.read_counter()
    registry_part = (registry.list_agencies(), registry.list_keys())
    # Plain SQL: a million rows go to the encoder as the driver gives them (both drivers give
    # BIGINT columns as int), with no model object per row.
    rows = bound_database().execute_sql(
        "SELECT agency_id, number, status, reason, at FROM revocation"
    )
    return bundle.payload(
        iss=settings.iss,
        seq=seq,
        iat=now,
        max_age=settings.max_age,
        leeway=settings.leeway,
        registry=registry_part,
        revocations=rows,
    )


def delta_payload(settings: BundleSettings, since: int, now: int) -> dict[str, Any] | None:
    """The payload of the delta after ``since``, or None when only a full bundle will do: a
    sequence this database never handed out (or one from before ``skk bundle reset``), or too
    many changes."""
    seq = offline_changes.read_counter()
    if not offline_changes.read_counter(offline_changes.FLOOR) <= since <= seq:
        return None
    logged = offline_changes.changes_after(since, MAX_DELTA_CHANGES + 1)
    if len(logged) > MAX_DELTA_CHANGES:
        return None
    registry_changed = any(agency is None for agency, _ in logged)
    touched = sorted(
        {(agency, number) for agency, number in logged if agency is not None and number is not None}
    )
    registry_part = (registry.list_agencies(), registry.list_keys()) if registry_changed else None
    return bundle.payload(
        iss=settings.iss,
        seq=seq,
        iat=now,
        max_age=settings.max_age,
        leeway=settings.leeway,
        registry=registry_part,
        revocations=_current_states(touched),
        since=since,
    )


def restart_deltas() -> int:
    """After restoring a backup: number changes from a run no phone can hold and serve deltas
    only from there, so every phone fetches one full bundle (docs/offline.md §6); the new floor."""
    with bound_database().atomic():
        return offline_changes.reset()


def _current_states(touched: Sequence[tuple[str, str]]) -> list[bundle.RevocationRow]:
    """The record of each changed credential now; ``active`` for those without one."""
    database = bound_database()
    found: dict[tuple[str, str], bundle.RevocationRow] = {}
    for part in chunks(touched, _ROW_VALUES_CHUNK):
        pairs = ", ".join([f"({database.param}, {database.param})"] * len(part))
        cursor = database.execute_sql(
            "SELECT agency_id, number, status, reason, at FROM revocation "  # noqa: S608 (placeholders)
            f"WHERE (agency_id, number) IN ({pairs})",
            [value for pair in part for value in pair],
        )
        for row in cursor:
            found[(row[0], row[1])] = row
    return [found.get(key, (key[0], key[1], "active", "", 0)) for key in touched]

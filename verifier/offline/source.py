"""Bundles and deltas from the database: what the server signs (docs/offline.md §5).

Reads are ordered so that no change can be lost: the change counter first, then the data. A
change that commits in between is then in the data but numbered after the bundle's ``seq``, so
the next delta carries it again, which is harmless (deltas carry states, not events); the other
order could number a change into the bundle without its data. No transaction is held open while
reading: on SQLite that would take the write lock for the whole build.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import peewee

from verifier import registry
from verifier.issuer import chunks
from verifier.offline import bundle, changes

#: A delta with more changes than this is refused: a full bundle is cheaper to apply then.
MAX_DELTA_CHANGES = 20_000
_ROW_VALUES_CHUNK = 400


@dataclass(frozen=True)
class BundleSettings:
    """What every bundle states besides the data: whose, how long fresh, with what leeway."""

    iss: str
    max_age: int
    leeway: int


def full_payload(database: peewee.Database, settings: BundleSettings, now: int) -> dict[str, Any]:
    """The payload of a full bundle of the current state."""
    seq = changes.read_counter(database)
    registry_part = (registry.list_agencies(), registry.list_keys())
    # Both drivers give BIGINT columns as int, so rows go to the encoder as they come.
    rows = database.execute_sql("SELECT agency_id, number, status, reason, at FROM revocation")
    return bundle.payload(iss=settings.iss, seq=seq, iat=now, max_age=settings.max_age,
                          leeway=settings.leeway, registry=registry_part, revocations=rows)


def delta_payload(
    database: peewee.Database, settings: BundleSettings, since: int, now: int
) -> dict[str, Any] | None:
    """The payload of the delta after ``since``, or None when only a full bundle will do: a
    sequence this database never handed out (or one from before ``skk bundle reset``), or too
    many changes."""
    seq = changes.read_counter(database)
    if not changes.read_counter(database, changes.FLOOR) <= since <= seq:
        return None
    p = database.param
    logged = database.execute_sql(
        f"SELECT agency, number FROM offline_change WHERE seq > {p} ORDER BY seq LIMIT {p}",
        (since, MAX_DELTA_CHANGES + 1),
    ).fetchall()
    if len(logged) > MAX_DELTA_CHANGES:
        return None
    registry_changed = any(agency is None for agency, _ in logged)
    touched = sorted({(agency, number) for agency, number in logged if agency is not None})
    registry_part = ((registry.list_agencies(), registry.list_keys()) if registry_changed
                     else None)
    return bundle.payload(iss=settings.iss, seq=seq, iat=now, max_age=settings.max_age,
                          leeway=settings.leeway, registry=registry_part,
                          revocations=_current_states(database, touched), since=since)


def _current_states(
    database: peewee.Database, touched: Sequence[tuple[str, str]]
) -> list[bundle.RevocationRow]:
    """The record of each changed credential now; ``active`` for those without one."""
    found: dict[tuple[str, str], bundle.RevocationRow] = {}
    for part in chunks(touched, _ROW_VALUES_CHUNK):
        pairs = ", ".join([f"({database.param}, {database.param})"] * len(part))
        cursor = database.execute_sql(
            "SELECT agency_id, number, status, reason, at FROM revocation "
            f"WHERE (agency_id, number) IN ({pairs})",
            [value for pair in part for value in pair],
        )
        for row in cursor:
            found[(row[0], row[1])] = row
    return [found.get(key, (key[0], key[1], "active", "", 0)) for key in touched]

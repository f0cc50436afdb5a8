"""Server-side console sessions: the cookie carries a random id, the database only its SHA-256.

A session is ``anonymous`` (the sign-in form, so that it too carries a CSRF token), ``setup``
(signed in with a one-time password: only the password change and the enrolment are open) or
``active``. It ends when idle for :data:`IDLE_SECONDS`, at the latest :data:`ABSOLUTE_SECONDS`
after sign-in, when its user is disabled or reset, and, for the other sessions of the user, when
the password changes. A new id is issued at sign-in, so an id planted before it is worth nothing.
A stolen database gives no usable id either: only hashes are stored.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass, field
from typing import Any

import peewee

from verifier.store.db import bound_database
from verifier.store.models import StaffSession, StaffUser

IDLE_SECONDS = 30 * 60
ABSOLUTE_SECONDS = 12 * 3600
#: An anonymous session only carries the sign-in form's CSRF token.
ANONYMOUS_SECONDS = 3600
#: Seen-at is written at most this often per session (a write on every page costs a lock).
TOUCH_EVERY_SECONDS = 60
STAGES = ("anonymous", "setup", "active")


@dataclass
class SessionRecord:
    """One live session as a request sees it."""

    id_hash: str
    user_id: int | None
    stage: str
    data: dict[str, Any] = field(default_factory=dict)
    last_seen_at: int = 0
    expires_at: int = 0


def new_id() -> str:
    """A fresh session id for the cookie: 256 random bits."""
    return secrets.token_urlsafe(32)


def hash_id(raw_id: str) -> str:
    """What the table stores for a session id."""
    return hashlib.sha256(raw_id.encode()).hexdigest()


def load(raw_id: str, *, now: int, idle_seconds: int = IDLE_SECONDS) -> SessionRecord | None:
    """The live session with this id; None when unknown, timed out, or its user is disabled
    (such a session is deleted on the way)."""
    if not 20 <= len(raw_id) <= 100:
        return None
    id_hash = hash_id(raw_id)
    row = (
        StaffSession.select(StaffSession, StaffUser.disabled_at)
        .join(
            StaffUser,
            on=(StaffSession.user == StaffUser.id),
            join_type=peewee.JOIN.LEFT_OUTER,
            attr="account",
        )
        .where(StaffSession.id_hash == id_hash)
        .first()
    )
    if row is None:
        return None
    account = getattr(row, "account", None)
    disabled = account is not None and account.disabled_at is not None
    if disabled or row.expires_at <= now or row.last_seen_at + idle_seconds <= now:
        end(id_hash)
        return None
    return SessionRecord(
        id_hash, row.user_id, row.stage, _data(row.data), row.last_seen_at, row.expires_at
    )


def _data(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def create(
    raw_id: str, *, user_id: int | None, stage: str, data: dict[str, Any], now: int
) -> SessionRecord:
    """Store a new session under ``raw_id`` (ended sessions are swept on the way)."""
    if stage not in STAGES:
        raise ValueError(f"unknown session stage {stage!r}")
    lifetime = ANONYMOUS_SECONDS if user_id is None else ABSOLUTE_SECONDS
    record = SessionRecord(hash_id(raw_id), user_id, stage, dict(data), now, now + lifetime)
    with bound_database().atomic():
        sweep(now)
        StaffSession.create(
            id_hash=record.id_hash,
            user=user_id,
            stage=stage,
            data=json.dumps(record.data),
            created_at=now,
            last_seen_at=now,
            expires_at=record.expires_at,
        )
    return record


def save(record: SessionRecord, *, now: int, data_changed: bool) -> None:
    """Write what changed: the data, and the seen-at time when it is due."""
    changes: dict[Any, Any] = {}
    if data_changed:
        changes[StaffSession.data] = json.dumps(record.data)
    if data_changed or now - record.last_seen_at >= TOUCH_EVERY_SECONDS:
        changes[StaffSession.last_seen_at] = now
    if changes:
        StaffSession.update(changes).where(StaffSession.id_hash == record.id_hash).execute()


def set_stage(id_hash: str, stage: str) -> None:
    """Move a session on (setup -> active once the account is ready)."""
    if stage not in STAGES:
        raise ValueError(f"unknown session stage {stage!r}")
    StaffSession.update(stage=stage).where(StaffSession.id_hash == id_hash).execute()


def end_for_user(user_id: int, keep: str | None = None) -> None:
    """End every session of the user, except the one whose id hash is ``keep``."""
    query = StaffSession.delete().where(StaffSession.user == user_id)
    if keep is not None:
        query = query.where(StaffSession.id_hash != keep)
    query.execute()


def end(id_hash: str) -> None:
    """End one session."""
    StaffSession.delete().where(StaffSession.id_hash == id_hash).execute()


def sweep(now: int, idle_seconds: int = IDLE_SECONDS) -> int:
    """Delete every session past its absolute or idle timeout; how many went."""
    return int(
        StaffSession.delete()
        .where((StaffSession.expires_at <= now) | (StaffSession.last_seen_at <= now - idle_seconds))
        .execute()
    )

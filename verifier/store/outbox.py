"""The webhook outbox: events written in the transaction of the change, claimed with a lease.

A revocation, suspension or reinstatement writes one message per subscription of every running
project whose crew holds that credential, inside the revocation's own transaction
(:func:`enqueue_state_change`, called by ``verifier.store.revocation``): the change and its messages
commit together or not at all. A revoked signing key does the same for every watched credential
it signed (:func:`enqueue_key_revoked`, called by ``verifier.key_admin``). The notifier
(``verifier.crew.notifier``) claims due messages for a while (a lease), so a notifier killed
mid-delivery loses its claim when the lease runs out and another delivers the message, with the
same ``webhook-id``: at least once, never lost.

Imports no other store module but the models and the database: the revocation store imports
this one.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

import peewee

from verifier.core import jws
from verifier.core.credential import to_iso
from verifier.core.crew.calendar import DAY, day_end, today
from verifier.core.links import extract_token
from verifier.store.db import bound_database
from verifier.store.models import (
    CredentialRecord,
    CrewMember,
    ExpiryNotice,
    Project,
    RevocationRecord,
    WebhookMessage,
    WebhookSubscription,
)

#: Event type of each revocation action (SPEC §5 actions).
STATE_EVENTS = {
    "revoke": "credential.revoked",
    "suspend": "credential.suspended",
    "reinstate": "credential.reinstated",
}
EXPIRING_EVENT = "credential.expiring"
#: A credential's signing key was revoked: it no longer verifies (status ``key_revoked``).
KEY_REVOKED_EVENT = "credential.key_revoked"
#: Warn when a credential on a crew has this little left and runs out before the project ends.
EXPIRY_WARNING_SECONDS = 30 * DAY
#: Delivered and given-up messages are deleted this many days later (the privacy notice).
KEEP_DONE_DAYS = 30


def new_message_id() -> str:
    """A message id: random, so it says nothing, and the same on every retry."""
    return "msg_" + secrets.token_hex(12)


@dataclass(frozen=True)
class _Watch:
    """Where one credential is on one running project's crew, and who subscribed."""

    project_id: str
    project_name: str
    ends_on: str
    places: list[dict[str, Any]]
    subscriptions: list[str]


def _body(event_type: str, at: int, data: dict[str, Any]) -> str:
    return json.dumps(
        {"type": event_type, "timestamp": to_iso(at), "data": data}, ensure_ascii=False
    )


def _place(row: CrewMember) -> dict[str, Any]:
    """Which crew row holds the credential, as the owner sent it (never a name or number)."""
    return {"position": row.position, "line": row.line, "ref": row.ref}


def _watches(crew_rows: Iterable[CrewMember]) -> list[_Watch]:
    """Group crew rows by project, with the project's subscriptions."""
    by_project: dict[str, list[CrewMember]] = {}
    for row in crew_rows:
        by_project.setdefault(row.project_id, []).append(row)
    if not by_project:
        return []
    subscribed: dict[str, list[str]] = {}
    for sub in WebhookSubscription.select(
        WebhookSubscription.id, WebhookSubscription.project
    ).where(WebhookSubscription.project.in_(sorted(by_project))):
        subscribed.setdefault(sub.project_id, []).append(sub.id)
    watches = []
    for project_id, rows in sorted(by_project.items()):
        if project_id not in subscribed:
            continue
        project = rows[0].project
        places = [_place(row) for row in sorted(rows, key=lambda row: row.position)]
        watches.append(
            _Watch(
                project_id, project.name, project.ends_on, places, sorted(subscribed[project_id])
            )
        )
    return watches


def _insert(watch: _Watch, event_type: str, at: int, data: dict[str, Any]) -> int:
    body = _body(
        event_type,
        at,
        {
            "project": {"id": watch.project_id, "name": watch.project_name},
            **data,
            "workers": watch.places,
        },
    )
    rows = [
        {
            "message_id": new_message_id(),
            "subscription": sub,
            "event_type": event_type,
            "body": body,
            "created_at": at,
            "next_attempt_at": at,
            "attempts": 0,
        }
        for sub in watch.subscriptions
    ]
    WebhookMessage.insert_many(rows).execute()
    return len(rows)


def _running_crew(at: int, *columns: Any) -> peewee.ModelSelect[CrewMember]:
    """Crew rows (and ``columns``) of the projects running at ``at``: until the end of their
    ``ends`` day; each row with its project. Joins added after it start from the crew row."""
    return (
        CrewMember.select(CrewMember, Project, *columns)
        .join(Project, on=(CrewMember.project == Project.id))
        .where(Project.ends_on >= today(at).isoformat())
        .switch(CrewMember)
    )


def enqueue_state_change(
    agency_id: str, number: str, action: str, status: str, reason: str | None, at: int
) -> int:
    """Messages about a changed credential to every running project watching it; call inside
    the transaction of the change. Returns how many were written."""
    crew = _running_crew(at).where(
        (CrewMember.agency_id == agency_id) & (CrewMember.number == number)
    )
    data = {
        "credential": {"agency": agency_id, "number": number},
        "status": status,
        "reason": reason,
        "changed_at": to_iso(at),
    }
    return sum(_insert(watch, STATE_EVENTS[action], at, data) for watch in _watches(crew))


def enqueue_key_revoked(agency_id: str, kid: str, at: int) -> int:
    """Messages about every credential of ``agency_id`` on a running project's crew that key
    ``kid`` signed (revoked at ``at``: none of them verifies any more); call inside the
    transaction of the key's revocation. Returns how many were written."""
    crew = (
        _running_crew(at, CredentialRecord.kid)
        .join(
            CredentialRecord,
            peewee.JOIN.LEFT_OUTER,
            on=(
                (CredentialRecord.agency == CrewMember.agency_id)
                & (CredentialRecord.number == CrewMember.number)
            ),
            attr="issued",
        )
        .where(CrewMember.agency_id == agency_id)
    )
    signed: dict[str, list[CrewMember]] = {}
    for row in crew:
        if _signing_kid(row) == kid:
            signed.setdefault(str(row.number), []).append(row)
    written = 0
    for number, rows in sorted(signed.items()):
        data = {
            "credential": {"agency": agency_id, "number": number},
            "status": "key_revoked",
            "reason": None,
            "changed_at": to_iso(at),
        }
        written += sum(_insert(watch, KEY_REVOKED_EVENT, at, data) for watch in _watches(rows))
    return written


def _signing_kid(row: CrewMember) -> str | None:
    """The kid that signed a watched crew row's credential: the scanned token's own, else the
    issued record's (a row given by number matched a credential issued here)."""
    if row.credential:
        try:
            kid = jws.parse(extract_token(row.credential)).header.get("kid")
        except ValueError:  # stored only once authenticated; a damaged row names no key
            return None
        return kid if isinstance(kid, str) else None
    issued = getattr(row, "issued", None)
    return None if issued is None else issued.kid


def enqueue_expiry_warnings(now: int) -> int:
    """Messages about credentials on running crews that expire within 30 days and before their
    project ends; each credential once per project (``expiry_notice``). Returns how many."""
    crew = (
        _running_crew(now)
        .join(
            ExpiryNotice,
            peewee.JOIN.LEFT_OUTER,
            on=(
                (ExpiryNotice.project == CrewMember.project)
                & (ExpiryNotice.agency_id == CrewMember.agency_id)
                & (ExpiryNotice.number == CrewMember.number)
            ),
        )
        .join(
            RevocationRecord,
            peewee.JOIN.LEFT_OUTER,
            on=(
                (RevocationRecord.agency == CrewMember.agency_id)
                & (RevocationRecord.number == CrewMember.number)
            ),
        )
        .where(
            CrewMember.expires_at.between(now + 1, now + EXPIRY_WARNING_SECONDS)
            & ExpiryNotice.project.is_null()
            & (RevocationRecord.status.is_null() | (RevocationRecord.status != "revoked"))
        )
    )
    by_credential: dict[tuple[str, str, str], list[CrewMember]] = {}
    for row in crew:
        if int(row.expires_at or 0) < day_end(date.fromisoformat(row.project.ends_on)):
            key = (row.project_id, str(row.agency_id), str(row.number))
            by_credential.setdefault(key, []).append(row)
    written = 0
    for (project_id, agency_id, number), rows in sorted(by_credential.items()):
        written += _warn_once(project_id, agency_id, number, rows, now)
    return written


def _warn_once(
    project_id: str, agency_id: str, number: str, rows: list[CrewMember], now: int
) -> int:
    expires_at = min(int(row.expires_at or 0) for row in rows)
    data = {
        "credential": {"agency": agency_id, "number": number, "expires_at": to_iso(expires_at)},
        "days_left": max(1, -(-(expires_at - now) // DAY)),
    }
    try:
        with bound_database().atomic():
            # The notice's primary key makes a second notifier's attempt fail as a whole.
            ExpiryNotice.create(project=project_id, agency_id=agency_id, number=number, at=now)
            return sum(_insert(watch, EXPIRING_EVENT, now, data) for watch in _watches(rows))
    except peewee.IntegrityError:
        return 0


@dataclass(frozen=True)
class Claimed:
    """A message this notifier may deliver until its lease ends."""

    pk: int
    message_id: str
    body: str
    url: str
    secret: str
    attempts: int
    created_at: int


def _due(now: int) -> Any:
    return (WebhookMessage.next_attempt_at <= now) & (
        WebhookMessage.lease_until.is_null() | (WebhookMessage.lease_until <= now)
    )


def claim(owner: str, now: int, lease_seconds: int, limit: int) -> list[Claimed]:
    """Take up to ``limit`` due messages for ``lease_seconds``; none that another notifier
    holds (PostgreSQL: rows locked by another claim are skipped; SQLite: claims take turns)."""
    database = bound_database()
    with database.atomic():
        query = (
            WebhookMessage.select(WebhookMessage.id)
            .where(_due(now))
            .order_by(WebhookMessage.next_attempt_at, WebhookMessage.id)
            .limit(limit)
        )
        if isinstance(database, peewee.PostgresqlDatabase):
            query = query.for_update(skip_locked=True)
        ids = [row.id for row in query]
        if not ids:
            return []
        WebhookMessage.update(lease_owner=owner, lease_until=now + lease_seconds).where(
            WebhookMessage.id.in_(ids) & _due(now)
        ).execute()
        rows = (
            WebhookMessage.select(WebhookMessage, WebhookSubscription)
            .join(WebhookSubscription)
            .where(
                WebhookMessage.id.in_(ids)
                & (WebhookMessage.lease_owner == owner)
                & (WebhookMessage.lease_until == now + lease_seconds)
            )
            .order_by(WebhookMessage.next_attempt_at, WebhookMessage.id)
        )
        return [
            Claimed(
                row.id,
                row.message_id,
                row.body,
                row.subscription.url,
                row.subscription.secret,
                row.attempts,
                row.created_at,
            )
            for row in rows
        ]


def _held(message: Claimed, owner: str) -> Any:
    return (WebhookMessage.id == message.pk) & (WebhookMessage.lease_owner == owner)


def delivered(message: Claimed, owner: str, now: int, status: int) -> None:
    """The subscriber answered 2xx: done."""
    WebhookMessage.update(
        delivered_at=now,
        next_attempt_at=None,
        lease_owner=None,
        lease_until=None,
        attempts=message.attempts + 1,
        last_status=status,
        last_error=None,
    ).where(_held(message, owner)).execute()


def failed(
    message: Claimed, owner: str, now: int, status: int, error: str, retry_at: int | None
) -> None:
    """The attempt failed: try again at ``retry_at``, or give up (None)."""
    WebhookMessage.update(
        next_attempt_at=retry_at,
        given_up_at=None if retry_at is not None else now,
        lease_owner=None,
        lease_until=None,
        attempts=message.attempts + 1,
        last_status=status,
        last_error=error[:200],
    ).where(_held(message, owner)).execute()


def purge(before: int) -> int:
    """Forget messages delivered or given up before ``before`` (they hold names' places and
    numbers); how many."""
    done = WebhookMessage.next_attempt_at.is_null() & (
        (WebhookMessage.delivered_at < before) | (WebhookMessage.given_up_at < before)
    )
    return int(WebhookMessage.delete().where(done).execute())

"""Webhook subscriptions of watched projects, in the database.

The secret (``whsec_…``, made by ``verifier.crew.webhooks``) is kept in the clear because signing
needs it, and is never read back into a listing. Deleting a subscription deletes its undelivered
messages (cascade).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from verifier.core.credential import to_iso
from verifier.core.errors import InvalidInput, NotFound
from verifier.store.models import WebhookSubscription
from verifier.store.projects import ProjectInfo

MAX_SUBSCRIPTIONS = 10  # per project
NO_SUCH_WEBHOOK = "this project has no such webhook"


@dataclass(frozen=True)
class Subscription:
    """A subscription without its secret."""

    id: str
    project_id: str
    url: str
    created_at: int

    def to_dict(self) -> dict[str, Any]:
        """The API's webhook object (the secret only ever in the answer that created it)."""
        return {"id": self.id, "url": self.url, "created_at": to_iso(self.created_at)}


def add(project: ProjectInfo, url: str, secret: str, now: int) -> Subscription:
    """Store a subscription of the project (its URL already checked); InvalidInput when the
    project has as many as it may."""
    count = WebhookSubscription.select().where(WebhookSubscription.project == project.id).count()
    if count >= MAX_SUBSCRIPTIONS:
        raise InvalidInput(f"at most {MAX_SUBSCRIPTIONS} webhooks per project", field="url")
    row = WebhookSubscription.create(
        id=secrets.token_hex(8), project=project.id, url=url, secret=secret, created_at=now
    )
    return _info(row)


def subscriptions(project: ProjectInfo) -> list[Subscription]:
    """The project's subscriptions, oldest first."""
    rows = WebhookSubscription.select().where(WebhookSubscription.project == project.id)
    return [
        _info(row) for row in rows.order_by(WebhookSubscription.created_at, WebhookSubscription.id)
    ]


def unsubscribe(project: ProjectInfo, webhook_id: str) -> None:
    """Delete one subscription of the project, with its undelivered messages."""
    deleted = (
        WebhookSubscription.delete()
        .where((WebhookSubscription.id == webhook_id) & (WebhookSubscription.project == project.id))
        .execute()
        if webhook_id.isascii() and webhook_id.isalnum()
        else 0
    )
    if not deleted:
        raise NotFound(NO_SUCH_WEBHOOK, field="webhook")


def _info(row: WebhookSubscription) -> Subscription:
    return Subscription(row.id, row.project_id, row.url, row.created_at)

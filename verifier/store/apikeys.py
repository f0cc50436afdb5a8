"""API keys ``skk_<key_id>_<secret>``: the id is public, the secret is stored only hashed.

A key acts for one agency or for one project owner, never both: an agency key is refused on the
owners' routes and an owner key on the agencies' (:func:`authenticate`, :func:`authenticate_owner`).
Secrets are 256 random bits, so a plain SHA-256 is enough (no password-stretching KDF needed) and
comparison is constant-time all the same.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from typing import Any

from verifier.core.credential import to_iso
from verifier.core.errors import InvalidInput, NotFound
from verifier.core.nik import quoted
from verifier.store.models import ApiKeyRecord
from verifier.store.projects import get_owner
from verifier.store.registry import get_agency

_API_KEY_RE = re.compile(r"skk_([0-9a-f]{12})_([A-Za-z0-9_-]{43})")


@dataclass(frozen=True)
class ApiKeyInfo:
    """An API key without its secret."""

    key_id: str
    agency_id: str | None
    created_at: int
    revoked_at: int | None
    owner_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Listing form: key ids and state, never secrets; ``owner`` instead of ``agency`` for a
        project owner's key."""
        holder = {"owner": self.owner_id} if self.owner_id else {"agency": self.agency_id}
        return {
            "key_id": self.key_id,
            **holder,
            "created_at": to_iso(self.created_at),
            "revoked": self.revoked_at is not None,
        }


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create(agency_id: str, now: int) -> dict[str, str]:
    """A new agency key; the returned ``api_key`` is the only time the secret is ever shown."""
    get_agency(agency_id)
    return _create(now, agency=agency_id)


def create_for_owner(owner_id: str, now: int) -> dict[str, str]:
    """A new project owner's key, shown once like an agency's."""
    get_owner(owner_id)
    return _create(now, owner=owner_id)


def _create(now: int, **holder: str) -> dict[str, str]:
    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    ApiKeyRecord.create(key_id=key_id, secret_hash=_hash(secret), created_at=now, **holder)
    return {"key_id": key_id, **holder, "api_key": f"skk_{key_id}_{secret}"}


def list_keys(agency_id: str | None = None, owner_id: str | None = None) -> list[ApiKeyInfo]:
    """Keys, optionally of one agency or one project owner."""
    query = ApiKeyRecord.select().order_by(ApiKeyRecord.created_at, ApiKeyRecord.key_id)
    if agency_id is not None:
        get_agency(agency_id)
        query = query.where(ApiKeyRecord.agency == agency_id)
    if owner_id is not None:
        get_owner(owner_id)
        query = query.where(ApiKeyRecord.owner == owner_id)
    return [_info(row) for row in query]


def revoke(key_id: str, now: int) -> ApiKeyInfo:
    """Stop a key from authenticating; repeating it changes nothing."""
    row = ApiKeyRecord.get_or_none(ApiKeyRecord.key_id == key_id)
    if row is None:
        raise NotFound(f"no API key {quoted(key_id)}", field="key_id")
    if row.revoked_at is None:
        ApiKeyRecord.update(revoked_at=now).where(ApiKeyRecord.key_id == key_id).execute()
        row.revoked_at = now
    return _info(row)


def authenticate(api_key: str) -> str:
    """The agency an API key acts for; InvalidInput when malformed, unknown, wrong or revoked,
    and for a project owner's key."""
    row = _valid_row(api_key)
    if row.agency_id is None:
        raise InvalidInput("unknown or revoked API key", field="authorization")
    return str(row.agency_id)


def authenticate_owner(api_key: str) -> str:
    """The project owner an API key acts for; InvalidInput as :func:`authenticate`, and for an
    agency's key."""
    row = _valid_row(api_key)
    if row.owner_id is None:
        raise InvalidInput("unknown or revoked API key", field="authorization")
    return str(row.owner_id)


def _valid_row(api_key: str) -> ApiKeyRecord:
    match = _API_KEY_RE.fullmatch(api_key.strip())
    if match is None:
        raise InvalidInput("malformed API key", field="authorization")
    key_id, secret = match.groups()
    row = ApiKeyRecord.get_or_none(ApiKeyRecord.key_id == key_id)
    # Hash and compare even for an unknown id, so timing does not reveal which ids exist.
    expected = row.secret_hash if row is not None else _hash("")
    if not hmac.compare_digest(expected, _hash(secret)) or row is None or row.revoked_at:
        raise InvalidInput("unknown or revoked API key", field="authorization")
    return row


def _info(row: ApiKeyRecord) -> ApiKeyInfo:
    return ApiKeyInfo(row.key_id, row.agency_id, row.created_at, row.revoked_at, row.owner_id)

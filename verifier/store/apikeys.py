"""Agency API keys ``skk_<key_id>_<secret>``: the id is public, the secret is stored only hashed.

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
from verifier.store.registry import get_agency

_API_KEY_RE = re.compile(r"skk_([0-9a-f]{12})_([A-Za-z0-9_-]{43})")


@dataclass(frozen=True)
class ApiKeyInfo:
    """An API key without its secret."""

    key_id: str
    agency_id: str
    created_at: int
    revoked_at: int | None

    def to_dict(self) -> dict[str, Any]:
        """Listing form: key ids and state, never secrets."""
        return {
            "key_id": self.key_id,
            "agency": self.agency_id,
            "created_at": to_iso(self.created_at),
            "revoked": self.revoked_at is not None,
        }


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create(agency_id: str, now: int) -> dict[str, str]:
    """A new key; the returned ``api_key`` is the only time the secret is ever shown."""
    get_agency(agency_id)
    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    ApiKeyRecord.create(key_id=key_id, agency=agency_id, secret_hash=_hash(secret), created_at=now)
    return {"key_id": key_id, "agency": agency_id, "api_key": f"skk_{key_id}_{secret}"}


def list_keys(agency_id: str | None = None) -> list[ApiKeyInfo]:
    """Keys, optionally of one agency."""
    query = ApiKeyRecord.select().order_by(ApiKeyRecord.created_at, ApiKeyRecord.key_id)
    if agency_id is not None:
        get_agency(agency_id)
        query = query.where(ApiKeyRecord.agency == agency_id)
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
    """The agency an API key acts for; InvalidInput when malformed, unknown, wrong or revoked."""
    match = _API_KEY_RE.fullmatch(api_key.strip())
    if match is None:
        raise InvalidInput("malformed API key", field="authorization")
    key_id, secret = match.groups()
    row = ApiKeyRecord.get_or_none(ApiKeyRecord.key_id == key_id)
    # Hash and compare even for an unknown id, so timing does not reveal which ids exist.
    expected = row.secret_hash if row is not None else _hash("")
    if not hmac.compare_digest(expected, _hash(secret)) or row is None or row.revoked_at:
        raise InvalidInput("unknown or revoked API key", field="authorization")
    return str(row.agency_id)


def _info(row: ApiKeyRecord) -> ApiKeyInfo:
    return ApiKeyInfo(row.key_id, row.agency_id, row.created_at, row.revoked_at)

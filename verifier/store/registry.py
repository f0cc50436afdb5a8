"""Trust registry: agencies, their public keys and key life cycle, plus a cached snapshot.

The snapshot is what verification reads. It is rebuilt only when ``registry_version`` in the
database changes, and that counter is bumped in the same transaction as every agency or key
change, so a key revoked on one host fails verification on every host at its next request.
"""

from __future__ import annotations

import json
import threading
from typing import Any

from verifier.core import keys
from verifier.core.credential import AGENCY_ID_RE, check_text
from verifier.core.errors import Conflict, InvalidInput, NotFound
from verifier.core.nik import quoted
from verifier.core.text import clean_text
from verifier.core.trust import AgencyInfo, TrustedKey, TrustSnapshot
from verifier.store.db import bound_database, bump_registry_version
from verifier.store.models import Agency, SigningKeyRecord

AGENCY_KINDS = ("lsp", "dinas", "balai")
MAX_AGENCY_NAME = 200


def parse_levels(text: str) -> tuple[int, int]:
    """``MIN-MAX`` (or a single level) within 1-9."""
    low, _, high = text.strip().partition("-")
    try:
        level_min, level_max = int(low), int(high or low)
    except ValueError:
        raise InvalidInput(f"levels must look like 1-6, not {text!r}", field="levels") from None
    if not 1 <= level_min <= level_max <= 9:
        raise InvalidInput("levels must satisfy 1 <= MIN <= MAX <= 9", field="levels")
    return level_min, level_max


def add_agency(
    agency_id: str, name: str, levels: tuple[int, int], kind: str, now: int
) -> AgencyInfo:
    """Register an agency; Conflict if the id is taken."""
    if not AGENCY_ID_RE.fullmatch(agency_id):
        raise InvalidInput(
            "agency id must be 2-40 lowercase letters, digits or '-', starting with a letter or "
            "digit",
            field="id",
        )
    name = clean_text(name)
    try:
        check_text(name, "agency name", MAX_AGENCY_NAME)
    except ValueError as exc:
        raise InvalidInput(str(exc), field="name") from None
    if kind not in AGENCY_KINDS:
        raise InvalidInput(f"kind must be one of {', '.join(AGENCY_KINDS)}", field="kind")
    with bound_database().atomic():
        if Agency.get_or_none(Agency.id == agency_id) is not None:
            raise Conflict(f"agency {agency_id} already exists", field="id")
        Agency.create(
            id=agency_id,
            name=name,
            kind=kind,
            level_min=levels[0],
            level_max=levels[1],
            created_at=now,
        )
        bump_registry_version()
    return get_agency(agency_id)


def get_agency(agency_id: str) -> AgencyInfo:
    """The agency with this id; NotFound otherwise."""
    row = Agency.get_or_none(Agency.id == agency_id)
    if row is None:
        raise NotFound(f"no agency {quoted(agency_id)}", field="agency")
    return _agency_info(row)


def list_agencies() -> list[AgencyInfo]:
    """All agencies by id."""
    return [_agency_info(row) for row in Agency.select().order_by(Agency.id)]


def _agency_info(row: Agency) -> AgencyInfo:
    return AgencyInfo(row.id, row.name, row.kind, row.level_min, row.level_max)


def add_key(
    agency_id: str,
    verifying_key: keys.VerifyingKey,
    *,
    origin: str,
    not_before: int | None,
    now: int,
) -> TrustedKey:
    """Trust a public key; a new generated key retires the agency's previous signing key."""
    get_agency(agency_id)
    with bound_database().atomic():
        if SigningKeyRecord.get_or_none(SigningKeyRecord.kid == verifying_key.kid) is not None:
            raise Conflict(f"key {verifying_key.kid} is already registered", field="key")
        if origin == "generated":
            SigningKeyRecord.update(state="retired", retired_at=now).where(
                (SigningKeyRecord.agency == agency_id)
                & (SigningKeyRecord.origin == "generated")
                & (SigningKeyRecord.state == "active")
            ).execute()
        SigningKeyRecord.create(
            kid=verifying_key.kid,
            agency=agency_id,
            alg=verifying_key.alg,
            public_jwk=json.dumps(verifying_key.jwk),
            origin=origin,
            state="active",
            not_before=not_before,
            created_at=now,
        )
        bump_registry_version()
    return get_key(verifying_key.kid)


def get_key(kid: str) -> TrustedKey:
    """The key with this kid; NotFound otherwise."""
    row = SigningKeyRecord.get_or_none(SigningKeyRecord.kid == kid)
    if row is None:
        raise NotFound(f"no key {quoted(kid)}", field="kid")
    return _trusted_key(row)


def list_keys(agency_id: str | None = None) -> list[TrustedKey]:
    """Keys, optionally of one agency, oldest first."""
    query = SigningKeyRecord.select().order_by(SigningKeyRecord.created_at, SigningKeyRecord.kid)
    if agency_id is not None:
        get_agency(agency_id)
        query = query.where(SigningKeyRecord.agency == agency_id)
    return [_trusted_key(row) for row in query]


def retire_key(kid: str, now: int) -> TrustedKey:
    """Stop signing with a key; tokens it signed before now keep verifying."""
    return _change_state(kid, "retired", now)


def revoke_key(kid: str, now: int) -> TrustedKey:
    """A compromised key: everything it ever signed fails with key_revoked."""
    return _change_state(kid, "revoked", now)


def _change_state(kid: str, state: str, now: int) -> TrustedKey:
    with bound_database().atomic():
        key = get_key(kid)
        if key.state == state:
            return key
        if key.state == "revoked":
            raise Conflict(f"key {kid} is revoked; it cannot be {state}", field="kid")
        changes: dict[str, Any] = {"state": state}
        changes["retired_at" if state == "retired" else "revoked_at"] = now
        SigningKeyRecord.update(**changes).where(SigningKeyRecord.kid == kid).execute()
        bump_registry_version()
    return get_key(kid)


def signing_key_of(agency_id: str) -> TrustedKey:
    """The agency's active generated key; NotFound for no such agency (list_keys), Conflict
    when it has none."""
    for key in list_keys(agency_id):
        if key.is_signing_key:
            return key
    raise Conflict(
        f"agency {agency_id} has no active signing key; run `skk keys generate --agency "
        f"{agency_id}`",
        field="agency",
    )


def _trusted_key(row: SigningKeyRecord) -> TrustedKey:
    return TrustedKey(
        kid=row.kid,
        agency_id=row.agency_id,
        alg=row.alg,
        state=row.state,
        origin=row.origin,
        not_before=row.not_before,
        retired_at=row.retired_at,
        verifying_key=keys.verifying_key_from_jwk(json.loads(row.public_jwk)),
    )


def jwks() -> dict[str, Any]:
    """Every key that still verifies (not revoked), as a JWK Set (RFC 7517 §5)."""
    return {
        "keys": [key.verifying_key.public_jwk() for key in list_keys() if key.state != "revoked"]
    }


def load_snapshot() -> TrustSnapshot:
    """Read agencies and keys at the current registry version, in one transaction."""
    with bound_database().atomic():
        version = current_version()
        agencies = {info.id: info for info in list_agencies()}
        trusted = {key.kid: key for key in list_keys()}
    return TrustSnapshot(version, agencies, trusted)


def current_version() -> int:
    """The registry counter; one indexed read, cheap enough for every verification."""
    database = bound_database()
    cursor = database.execute_sql(
        f"SELECT value FROM skk_meta WHERE name = {database.param}",  # noqa: S608 (placeholder)
        ("registry_version",),
    )
    row = cursor.fetchone()
    return int(row[0]) if row else 0


class TrustCache:
    """A snapshot reused while the registry version is unchanged; safe across threads."""

    def __init__(self) -> None:
        self._snapshot: TrustSnapshot | None = None
        self._lock = threading.Lock()

    def get(self, version: int | None = None) -> TrustSnapshot:
        """The snapshot of registry ``version`` (default: read it now), reloaded on a change."""
        if version is None:
            version = current_version()
        snapshot = self._snapshot
        if snapshot is not None and snapshot.version == version:
            return snapshot
        with self._lock:
            snapshot = self._snapshot
            # Threads that waited here for one change find it loaded by the first of them.
            if snapshot is not None and snapshot.version >= version:
                return snapshot
            snapshot = load_snapshot()
            self._snapshot = snapshot
            return snapshot

    def latest(self) -> TrustSnapshot:
        """The snapshot loaded last, without asking whether it is still current.

        The caller must then check the registry version it reads later (the revocation read
        returns it) and use :meth:`get` when it differs.
        """
        return self._snapshot or self.get()

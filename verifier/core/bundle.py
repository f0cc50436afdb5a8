"""The signed trust bundle (docs/offline.md): build, sign, read and merge, with no I/O.

A bundle is one compact JWS (``typ`` ``skk-bundle+jwt``, EdDSA) signed by a service bundle key.
Its payload carries everything verification reads from the registry and the revocation store:
agencies, keys and every revoked or suspended credential, the last in a columnar layout (per
agency, numbers sorted and front-coded, one state letter each, times as offsets) that keeps a
million revocations within a few megabytes once gzipped. A delta carries only what changed after
a sequence number and is applied to the bundle it was cut from.

This module reads bundles exactly as ``verifier/static/offline/bundle.js`` does; both refuse
anything the format does not allow, with a message that says what.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

from verifier.core import jws, keys
from verifier.core.credential import AGENCY_ID_RE, KID_RE, NUMBER_RE, check_text
from verifier.core.errors import InvalidInput
from verifier.core.trust import AgencyInfo, RevocationStatus, TrustedKey, TrustSnapshot

BUNDLE_TYPE = "skk-bundle+jwt"
BUNDLE_ALG = "EdDSA"
FORMAT_VERSION = 1
#: Longest bundle text read: a million revocations take about 40 MB before gzip.
MAX_BUNDLE_CHARS = 256 * 2**20
#: Clock skew allowed between a bundle's ``iat`` and its key's creation or retirement.
KEY_SKEW_SECONDS = 60
# Fixed by the format, not imported, so that a bundle never changes meaning.
_REASONS = (
    "fraud",
    "misuse",
    "data_error",
    "holder_request",
    "superseded",
    "investigation",
    "other",
)
_REVOKED_LETTERS = "abcdefg"
_SUSPENDED_LETTERS = "ABCDEFG"
#: State letter of a delta entry whose record was removed (reinstated): active again.
REMOVED = "-"
#: Front coding: the length of the prefix shared with the previous number, as one character.
_PREFIX_DIGITS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_AGENCY_KINDS = ("lsp", "dinas", "balai")
_KEY_STATES = ("active", "retired", "revoked")
_MAX_NUMERIC_DATE = 2**53
_MAX_LEEWAY = 60

#: One revocation record as the store holds it: agency, number, status, reason, since.
RevocationRow = tuple[str, str, str, str, int]


class BundleError(ValueError):
    """The bundle is not one this verifier may trust; the message says why."""


@dataclass(frozen=True)
class BundleKey:
    """A pinned bundle public key and the window in which it signed."""

    verifying_key: keys.VerifyingKey
    created: int
    retired: int | None = None

    @property
    def kid(self) -> str:
        """The key id (RFC 7638 thumbprint prefix, as for agency keys)."""
        return self.verifying_key.kid

    def to_jwk(self) -> dict[str, Any]:
        """The published form: JWK members plus ``created`` and, once rotated out, ``retired``."""
        jwk: dict[str, Any] = {**self.verifying_key.public_jwk(), "created": self.created}
        if self.retired is not None:
            jwk["retired"] = self.retired
        return jwk

    def signed_in_window(self, iat: int) -> bool:
        """True when a bundle issued at ``iat`` falls in this key's service window."""
        if iat < self.created - KEY_SKEW_SECONDS:
            return False
        return self.retired is None or iat <= self.retired + KEY_SKEW_SECONDS


@dataclass(frozen=True)
class RevocationGroup:
    """One agency's records: numbers sorted by code point, with their state letter and time."""

    numbers: tuple[str, ...]
    states: str
    at: tuple[int, ...]

    def find(self, number: str) -> int | None:
        """Index of ``number``, or None."""
        index = bisect.bisect_left(self.numbers, number)
        if index < len(self.numbers) and self.numbers[index] == number:
            return index
        return None

    def status(self, number: str) -> RevocationStatus | None:
        """The record for ``number`` as verification reads it, or None."""
        index = self.find(number)
        if index is None or self.states[index] == REMOVED:
            return None
        return _status_of(self.states[index], self.at[index])


@dataclass(frozen=True)
class Bundle:
    """A verified bundle (``kind`` full) or delta (``kind`` delta, with ``since``).

    A delta's ``agencies`` and ``keys`` are None unless the registry changed after ``since``;
    its groups may hold :data:`REMOVED` entries.
    """

    kind: str
    iss: str
    seq: int
    since: int | None
    iat: int
    exp: int
    leeway: int
    kid: str
    agencies: Mapping[str, AgencyInfo] | None
    keys: Mapping[str, TrustedKey] | None
    revocations: Mapping[str, RevocationGroup]

    def snapshot(self) -> TrustSnapshot:
        """The trust snapshot verification reads (``version`` is the bundle's sequence)."""
        if self.agencies is None or self.keys is None:
            raise BundleError("a delta has no complete registry; apply it to its bundle first")
        return TrustSnapshot(self.seq, self.agencies, self.keys)

    def lookup(self, agency_id: str, number: str) -> RevocationStatus | None:
        """The revocation lookup verification calls."""
        group = self.revocations.get(agency_id)
        return None if group is None else group.status(number)

    def revocation_count(self) -> int:
        """How many records the bundle carries."""
        return sum(len(group.numbers) for group in self.revocations.values())


@dataclass(frozen=True)
class BundleSettings:
    """What every bundle states besides the data: whose, how long fresh, with what leeway."""

    iss: str
    max_age: int
    leeway: int


# --- building --------------------------------------------------------------------------------


def payload(
    *,
    iss: str,
    seq: int,
    iat: int,
    max_age: int,
    leeway: int,
    registry: tuple[Sequence[AgencyInfo], Sequence[TrustedKey]] | None,
    revocations: Iterable[RevocationRow],
    since: int | None = None,
) -> dict[str, Any]:
    """The payload of a full bundle (``since`` None, registry required) or a delta.

    A delta's rows may have status ``active``: the record was removed. Members are written in
    the order docs/offline.md lists them.
    """
    if since is None and registry is None:
        raise ValueError("a full bundle needs the registry")
    body: dict[str, Any] = {
        "v": FORMAT_VERSION,
        "kind": "full" if since is None else "delta",
        "iss": iss,
        "seq": seq,
    }
    if since is not None:
        body["since"] = since
    body.update({"iat": iat, "exp": iat + max_age, "leeway": leeway})
    if registry is not None:
        agencies, trusted = registry
        body["agencies"] = [agency.to_dict() for agency in sorted(agencies, key=_agency_id)]
        body["keys"] = [_key_entry(key) for key in sorted(trusted, key=_key_id)]
    body["revocations"] = _groups(revocations, allow_removed=since is not None)
    return body


def sign(body: dict[str, Any], key: keys.SigningKey) -> str:
    """The compact JWS of a payload, signed by a bundle key."""
    if key.alg != BUNDLE_ALG:
        raise InvalidInput("bundle keys are Ed25519 (EdDSA)")
    header = {"alg": BUNDLE_ALG, "kid": key.kid, "typ": BUNDLE_TYPE}
    return jws.serialize(header, body, key.sign(jws.signing_input(header, body)))


def _agency_id(agency: AgencyInfo) -> str:
    return agency.id


def _key_id(key: TrustedKey) -> str:
    return key.kid


def _key_entry(key: TrustedKey) -> dict[str, Any]:
    return {
        "kid": key.kid,
        "agency": key.agency_id,
        "alg": key.alg,
        "jwk": dict(key.verifying_key.jwk),
        "state": key.state,
        "start": key.not_before,
        "retired": key.retired_at,
    }


#: The state letter of each (status, reason) a record may have.
_LETTERS = {
    (status, reason): letters[index]
    for status, letters in (("revoked", _REVOKED_LETTERS), ("suspended", _SUSPENDED_LETTERS))
    for index, reason in enumerate(_REASONS)
}


def _groups(rows: Iterable[RevocationRow], *, allow_removed: bool) -> list[dict[str, Any]]:
    """Records grouped by agency, each group sorted by number (a million rows in seconds)."""
    by_agency: dict[str, list[tuple[str, str, int]]] = {}
    letters = _LETTERS
    for agency_id, number, status, reason, at in rows:
        letter = letters.get((status, reason))
        if letter is None:
            if not (allow_removed and status == "active"):
                raise ValueError(f"no bundle state for status {status!r} with reason {reason!r}")
            letter = REMOVED
        entries = by_agency.get(agency_id)
        if entries is None:
            entries = by_agency[agency_id] = []
        entries.append((number, letter, at))
    return [_group(agency_id, by_agency[agency_id]) for agency_id in sorted(by_agency)]


def _group(agency_id: str, entries: list[tuple[str, str, int]]) -> dict[str, Any]:
    entries.sort(key=itemgetter(0))  # by number (unique within an agency): strings compare fast
    numbers = [entry[0] for entry in entries]
    states = [entry[1] for entry in entries]
    times = [entry[2] for entry in entries]
    kept = [at for state, at in zip(states, times, strict=True) if state != REMOVED]
    base = min(kept) if kept else 0
    return {
        "agency": agency_id,
        "base": base,
        "numbers": "\n".join(_front_coded(numbers)),
        "states": "".join(states),
        "at": [
            0 if state == REMOVED else at - base for state, at in zip(states, times, strict=True)
        ],
    }


def _front_coded(numbers: Sequence[str]) -> list[str]:
    """Each number as the length of the prefix it shares with the one before (one character
    of _PREFIX_DIGITS) and the rest of it."""
    coded = []
    digits = _PREFIX_DIGITS
    previous = ""
    for number in numbers:
        limit = min(len(previous), len(number))
        shared = 0
        while shared < limit and previous[shared] == number[shared]:
            shared += 1
        coded.append(digits[shared] + number[shared:])
        previous = number
    return coded


# --- reading ---------------------------------------------------------------------------------


def read_key_set(document: object) -> dict[str, BundleKey]:
    """Pinned keys from the published key set (``{"keys": [...]}``); BundleError if unusable."""
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise BundleError('the bundle key set must be a JSON object with a "keys" list')
    pinned: dict[str, BundleKey] = {}
    for entry in document["keys"]:
        if not isinstance(entry, dict):
            raise BundleError("every bundle key must be a JWK object")
        try:
            verifying_key = keys.verifying_key_from_jwk(
                {k: v for k, v in entry.items() if k not in ("created", "retired")}
            )
        except InvalidInput as exc:
            raise BundleError(f"bundle key: {exc.message}") from None
        if verifying_key.alg != BUNDLE_ALG:
            raise BundleError("bundle keys must be Ed25519 (EdDSA)")
        if "kid" in entry and entry["kid"] != verifying_key.kid:
            raise BundleError(f"bundle key {str(entry['kid'])[:20]!r} does not match its JWK")
        created = _instant(entry.get("created"), "bundle key created")
        retired = _optional_instant(entry.get("retired"), "bundle key retired")
        pinned[verifying_key.kid] = BundleKey(verifying_key, created, retired)
    if not pinned:
        raise BundleError("the bundle key set has no keys")
    return pinned


def read(text: str, pinned: Mapping[str, BundleKey]) -> Bundle:
    """Verify a bundle or delta against the pinned keys and decode it; BundleError otherwise.

    The signature is checked before the payload is parsed, so nothing unsigned is ever read.
    """
    text = text.strip()
    if len(text) > MAX_BUNDLE_CHARS:
        raise BundleError("the bundle is too large")
    parts = text.split(".")
    if len(parts) != 3:
        raise BundleError("a bundle is a compact JWS: three base64url parts separated by dots")
    try:
        header = jws.parse_json_object(jws.b64url_decode(parts[0], "header"), "header")
        signature = jws.b64url_decode(parts[2], "signature")
    except jws.MalformedToken as exc:
        raise BundleError(f"the bundle is damaged: {exc}") from None
    key = _signing_key(header, pinned)
    if not key.verifying_key.verify(f"{parts[0]}.{parts[1]}".encode("ascii"), signature):
        raise BundleError("the bundle's signature does not verify: it was altered or damaged")
    try:
        body = jws.parse_json_object(jws.b64url_decode(parts[1], "payload"), "payload")
    except jws.MalformedToken as exc:  # signed, yet unreadable: a bug on the signing side
        raise BundleError(f"the bundle payload is unreadable: {exc}") from None
    bundle = _decode(body, key.kid)
    if not key.signed_in_window(bundle.iat):
        raise BundleError(f"bundle key {key.kid} was not in service when the bundle was made")
    return bundle


def _signing_key(header: dict[str, Any], pinned: Mapping[str, BundleKey]) -> BundleKey:
    if set(header) != {"alg", "kid", "typ"} or header["typ"] != BUNDLE_TYPE:
        raise BundleError(f"not a trust bundle (the header must be alg, kid and typ {BUNDLE_TYPE})")
    if header["alg"] != BUNDLE_ALG:
        raise BundleError("a bundle must be signed with EdDSA")
    kid = header["kid"]
    if not isinstance(kid, str) or kid not in pinned:
        shown = kid if isinstance(kid, str) and KID_RE.fullmatch(kid) else "?"
        raise BundleError(
            f"the bundle is signed by key {shown}, which is not a pinned bundle "
            "key (fetch the current key set)"
        )
    return pinned[kid]


def _decode(body: dict[str, Any], kid: str) -> Bundle:
    if body.get("v") != FORMAT_VERSION or type(body.get("v")) is not int:
        raise BundleError(f"unknown bundle format version (this verifier reads {FORMAT_VERSION})")
    kind = body.get("kind")
    if kind not in ("full", "delta"):
        raise BundleError('bundle kind must be "full" or "delta"')
    iss = body.get("iss")
    if not isinstance(iss, str) or not iss:
        raise BundleError("bundle iss must be the service's base URL")
    seq = _count(body.get("seq"), "seq")
    since = _count(body.get("since"), "since") if kind == "delta" else None
    if kind == "full" and "since" in body:
        raise BundleError("a full bundle has no since")
    if since is not None and since > seq:
        raise BundleError("a delta's since must not exceed its seq")
    iat, exp = _instant(body.get("iat"), "iat"), _instant(body.get("exp"), "exp")
    if exp <= iat:
        raise BundleError("bundle exp must be after iat")
    leeway = body.get("leeway")
    if type(leeway) is not int or not 0 <= leeway <= _MAX_LEEWAY:
        raise BundleError("bundle leeway must be an integer from 0 to 60")
    has_registry = "agencies" in body or "keys" in body
    if kind == "full" or has_registry:
        agencies = _agencies(body.get("agencies"))
        trusted = _keys(body.get("keys"), agencies)
    else:
        agencies, trusted = None, None
    groups = _read_groups(body.get("revocations"), allow_removed=kind == "delta")
    return Bundle(kind, iss, seq, since, iat, exp, leeway, kid, agencies, trusted, groups)


def _agencies(value: object) -> dict[str, AgencyInfo]:
    if not isinstance(value, list):
        raise BundleError("bundle agencies must be a list")
    agencies: dict[str, AgencyInfo] = {}
    for entry in value:
        if not isinstance(entry, dict) or set(entry) != {"id", "name", "kind", "levels"}:
            raise BundleError("every bundle agency has exactly id, name, kind and levels")
        agency_id, levels = entry["id"], entry["levels"]
        if not isinstance(agency_id, str) or not AGENCY_ID_RE.fullmatch(agency_id):
            raise BundleError("bundle agency id does not match the agency id pattern")
        if agency_id in agencies:
            raise BundleError(f"bundle agency {agency_id} appears twice")
        try:
            check_text(entry["name"], "agency name", 200)
        except ValueError as exc:
            raise BundleError(f"bundle agency {agency_id}: {exc}") from None
        if entry["kind"] not in _AGENCY_KINDS:
            raise BundleError(f"bundle agency {agency_id}: unknown kind")
        if (
            not isinstance(levels, dict)
            or set(levels) != {"min", "max"}
            or any(type(levels[end]) is not int for end in ("min", "max"))
            or not 1 <= levels["min"] <= levels["max"] <= 9
        ):
            raise BundleError(f"bundle agency {agency_id}: levels must be 1 <= min <= max <= 9")
        agencies[agency_id] = AgencyInfo(
            agency_id, entry["name"], entry["kind"], levels["min"], levels["max"]
        )
    return agencies


_KEY_MEMBERS = {"kid", "agency", "alg", "jwk", "state", "start", "retired"}


def _keys(value: object, agencies: Mapping[str, AgencyInfo]) -> dict[str, TrustedKey]:
    if not isinstance(value, list):
        raise BundleError("bundle keys must be a list")
    trusted: dict[str, TrustedKey] = {}
    for entry in value:
        if not isinstance(entry, dict) or set(entry) != _KEY_MEMBERS:
            raise BundleError("every bundle key has exactly " + ", ".join(sorted(_KEY_MEMBERS)))
        kid = entry["kid"]
        if not isinstance(kid, str) or not KID_RE.fullmatch(kid) or kid in trusted:
            raise BundleError("bundle key ids must be 16 base64url characters, each once")
        if not isinstance(entry["agency"], str) or entry["agency"] not in agencies:
            raise BundleError(f"bundle key {kid} belongs to no agency in the bundle")
        if entry["state"] not in _KEY_STATES:
            raise BundleError(f"bundle key {kid}: unknown state")
        try:
            verifying_key = keys.verifying_key_from_jwk(entry["jwk"])
        except InvalidInput as exc:
            raise BundleError(f"bundle key {kid}: {exc.message}") from None
        if verifying_key.kid != kid or verifying_key.alg != entry["alg"]:
            raise BundleError(f"bundle key {kid}: kid or alg does not match the JWK")
        start = _optional_instant(entry["start"], f"bundle key {kid} start")
        retired = _optional_instant(entry["retired"], f"bundle key {kid} retired")
        trusted[kid] = TrustedKey(
            kid,
            entry["agency"],
            verifying_key.alg,
            entry["state"],
            "bundle",
            start,
            retired,
            verifying_key,
        )
    return trusted


def _read_groups(value: object, *, allow_removed: bool) -> dict[str, RevocationGroup]:
    if not isinstance(value, list):
        raise BundleError("bundle revocations must be a list")
    groups: dict[str, RevocationGroup] = {}
    for entry in value:
        if not isinstance(entry, dict) or set(entry) != {
            "agency",
            "base",
            "numbers",
            "states",
            "at",
        }:
            raise BundleError(
                "every revocation group has exactly agency, base, numbers, states and at"
            )
        agency_id = entry["agency"]
        if not isinstance(agency_id, str) or not AGENCY_ID_RE.fullmatch(agency_id):
            raise BundleError("revocation group agency does not match the agency id pattern")
        if agency_id in groups:
            raise BundleError(f"revocation group {agency_id} appears twice")
        groups[agency_id] = _read_group(entry, agency_id, allow_removed)
    return groups


def _read_group(entry: dict[str, Any], agency_id: str, allow_removed: bool) -> RevocationGroup:
    base, coded, states, offsets = entry["base"], entry["numbers"], entry["states"], entry["at"]
    where = f"revocation group {agency_id}"
    _instant(base, f"{where} base")
    if not isinstance(coded, str) or not isinstance(states, str) or not isinstance(offsets, list):
        raise BundleError(f"{where}: numbers and states must be text, at a list")
    numbers = _front_decoded(coded, where)
    if not len(numbers) == len(states) == len(offsets) or not numbers:
        raise BundleError(f"{where}: numbers, states and at must have the same, non-zero length")
    allowed = _REVOKED_LETTERS + _SUSPENDED_LETTERS + (REMOVED if allow_removed else "")
    if any(letter not in allowed for letter in states):
        raise BundleError(f"{where}: unknown state letter")
    at: list[int] = []
    for offset in offsets:
        if type(offset) is not int or not 0 <= offset <= _MAX_NUMERIC_DATE - base:
            raise BundleError(f"{where}: every at must be an offset from base")
        at.append(base + offset)
    return RevocationGroup(tuple(numbers), states, tuple(at))


def _front_decoded(coded: str, where: str) -> list[str]:
    numbers: list[str] = []
    previous = ""
    for line in coded.split("\n"):
        shared = _PREFIX_DIGITS.find(line[:1]) if line else -1
        if not 0 <= shared <= len(previous):
            raise BundleError(f"{where}: a front-coded number has a bad prefix length")
        number = previous[:shared] + line[1:]
        # Strictly ascending, so each number is there once and lookups may bisect.
        if not NUMBER_RE.fullmatch(number) or (numbers and number <= previous):
            raise BundleError(f"{where}: numbers must be valid and strictly ascending")
        numbers.append(number)
        previous = number
    return numbers


def _count(value: object, name: str) -> int:
    if type(value) is not int or not 0 <= value <= _MAX_NUMERIC_DATE:
        raise BundleError(f"bundle {name} must be a non-negative integer")
    return value


def _instant(value: object, name: str) -> int:
    if type(value) is not int or not 0 <= value <= _MAX_NUMERIC_DATE:
        raise BundleError(f"{name} must be an integer NumericDate")
    return value


def _optional_instant(value: object, name: str) -> int | None:
    return None if value is None else _instant(value, name)


def _status_of(letter: str, at: int) -> RevocationStatus:
    if letter in _REVOKED_LETTERS:
        return RevocationStatus("revoked", at, _REASONS[_REVOKED_LETTERS.index(letter)])
    return RevocationStatus("suspended", at, _REASONS[_SUSPENDED_LETTERS.index(letter)])


# --- merging ---------------------------------------------------------------------------------


def apply_delta(bundle: Bundle, delta: Bundle) -> Bundle:
    """The bundle as of the delta: its registry (if it has one), times and changed records.

    The delta must start where the bundle ends (``since`` == the bundle's ``seq``) and be no
    older; anything else raises BundleError and the caller keeps the bundle it has.
    """
    if bundle.kind != "full" or delta.kind != "delta":
        raise BundleError("a delta applies to a full bundle")
    if delta.since != bundle.seq or delta.iss != bundle.iss:
        raise BundleError(f"the delta starts at {delta.since}, the bundle is at {bundle.seq}")
    if delta.iat < bundle.iat:
        raise BundleError("the delta is older than the bundle")
    groups = dict(bundle.revocations)
    for agency_id, changes in delta.revocations.items():
        merged = _merged(groups.get(agency_id), changes)
        if merged is None:
            groups.pop(agency_id, None)
        else:
            groups[agency_id] = merged
    return Bundle(
        "full",
        bundle.iss,
        delta.seq,
        None,
        delta.iat,
        delta.exp,
        delta.leeway,
        delta.kid,
        delta.agencies if delta.agencies is not None else bundle.agencies,
        delta.keys if delta.keys is not None else bundle.keys,
        groups,
    )


def _merged(group: RevocationGroup | None, changes: RevocationGroup) -> RevocationGroup | None:
    entries = (
        {}
        if group is None
        else {number: (group.states[i], group.at[i]) for i, number in enumerate(group.numbers)}
    )
    for i, number in enumerate(changes.numbers):
        if changes.states[i] == REMOVED:
            entries.pop(number, None)
        else:
            entries[number] = (changes.states[i], changes.at[i])
    if not entries:
        return None
    ordered = sorted(entries)
    return RevocationGroup(
        tuple(ordered),
        "".join(entries[n][0] for n in ordered),
        tuple(entries[n][1] for n in ordered),
    )

"""Strict JWS Compact Serialization (RFC 7515 §3.1, §7.1) without any cryptography.

PyJWT accepts padded or non-canonical base64url, duplicate JSON members, BOMs, lone surrogates,
NaN and numbers of any size. Every one of those gives a token more than one spelling or makes a
parser disagree with another, so here they are all refused as malformed (SPEC §2 rule 1).
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from dataclasses import dataclass
from typing import Any

#: Longest token we look at; a credential with 100-character name and job is well under 1 KiB.
MAX_TOKEN_LENGTH = 4096
#: Longest JSON integer literal we parse (2**53 has 16 digits); stops Python's 4,300-digit error.
_MAX_INT_DIGITS = 16
#: Deepest nesting of JSON arrays and objects accepted (the outermost object is depth 1). Python's
#: decoder fails at a depth that depends on how deep the caller's stack already is, so a token
#: nested ~950 deep was malformed on one path and valid on another; the offline verifier in
#: JavaScript (docs/offline.md) must draw exactly the same line, so it is drawn here, well short.
MAX_JSON_DEPTH = 100
_B64URL = re.compile(r"[A-Za-z0-9_-]*")
_B64URL_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
#: Characters allowed last, by length mod 4: with 2 (3) characters in the last group, the last
#: one carries 4 (2) unused bits, which canonical base64url sets to zero (RFC 4648 §3.5).
_CANONICAL_LAST_CHARS = {
    0: _B64URL_ALPHABET,
    2: _B64URL_ALPHABET[::16],
    3: _B64URL_ALPHABET[::4],
}


class MalformedToken(ValueError):
    """The token is not a strict, canonical JWS; the message says which part."""


@dataclass(frozen=True)
class CompactJws:
    """A parsed token: decoded header and payload, the bytes that were signed, the signature."""

    header: dict[str, Any]
    payload: dict[str, Any]
    signing_input: bytes
    signature: bytes


def b64url_encode(data: bytes) -> str:
    """Unpadded base64url (RFC 7515 §2)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(segment: str, what: str = "segment") -> bytes:
    """Decode unpadded, canonical base64url; anything else raises :class:`MalformedToken`."""
    if not _B64URL.fullmatch(segment) or len(segment) % 4 == 1:
        raise MalformedToken(f"{what} is not unpadded base64url")
    try:
        data = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    except binascii.Error:
        raise MalformedToken(f"{what} is not base64url") from None
    # Non-zero unused bits in the last character give a second spelling of the same bytes.
    if segment and segment[-1] not in _CANONICAL_LAST_CHARS[len(segment) % 4]:
        raise MalformedToken(f"{what} is not canonical base64url")
    return data


def canonical_json(obj: dict[str, Any]) -> bytes:
    """Our issuer's serialisation: UTF-8 JSON without whitespace, members in insertion order."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


def serialize(header: dict[str, Any], payload: dict[str, Any], signature: bytes) -> str:
    """Compact serialisation of already-ordered header and payload with a signature."""
    return f"{signing_input(header, payload).decode('ascii')}.{b64url_encode(signature)}"


def signing_input(header: dict[str, Any], payload: dict[str, Any]) -> bytes:
    """ASCII(BASE64URL(header) '.' BASE64URL(payload)): what a JWS signs (RFC 7515 §5.1)."""
    return (
        f"{b64url_encode(canonical_json(header))}.{b64url_encode(canonical_json(payload))}".encode(
            "ascii"
        )
    )


def parse(token: str) -> CompactJws:
    """Split and decode a compact JWS strictly; raise :class:`MalformedToken` on any deviation."""
    if len(token) > MAX_TOKEN_LENGTH:
        raise MalformedToken("token is too long")
    parts = token.split(".")
    if len(parts) != 3:
        raise MalformedToken("token must have exactly three segments")
    header_b64, payload_b64, signature_b64 = parts
    header = parse_json_object(b64url_decode(header_b64, "header"), "header")
    payload = parse_json_object(b64url_decode(payload_b64, "payload"), "payload")
    signature = b64url_decode(signature_b64, "signature")
    return CompactJws(header, payload, f"{header_b64}.{payload_b64}".encode("ascii"), signature)


def parse_json_object(data: bytes, what: str, *, lone_surrogates: bool = False) -> dict[str, Any]:
    """Strict UTF-8 JSON object: no BOM, duplicate members, NaN, lone surrogates or huge numbers.

    ``lone_surrogates=True`` lets ``\\ud800``-style escapes through (valid JSON grammar), for a
    caller that treats every string as untrusted text anyway.
    """
    try:
        text = data.decode("utf-8")  # strict: rejects UTF-16, CESU-8 surrogates, overlong forms
        if text.startswith("\ufeff"):
            raise MalformedToken(f"{what} starts with a byte-order mark")
        if _nested_too_deep(text):
            raise MalformedToken(f"{what} nests arrays or objects more than {MAX_JSON_DEPTH} deep")
        value = _STRICT_DECODER.decode(text)
    except MalformedToken:
        raise
    except (ValueError, RecursionError):
        raise MalformedToken(f"{what} is not valid JSON") from None
    if not isinstance(value, dict):
        raise MalformedToken(f"{what} is not a JSON object")
    # Strict UTF-8 decoding already refused encoded surrogates; only a \u escape can make one.
    if "\\u" in text and not lone_surrogates:
        _reject_lone_surrogates(value, what)
    return value


def _nested_too_deep(text: str) -> bool:
    """True when brackets outside strings nest deeper than MAX_JSON_DEPTH (for valid JSON, the
    nesting depth; for invalid JSON the decoder refuses it anyway)."""
    if text.count("[") + text.count("{") <= MAX_JSON_DEPTH:
        return False  # fast path: every token and bundle has a handful of brackets
    depth, in_string, escaped = 0, False, False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > MAX_JSON_DEPTH:
                return True
        elif char in "]}":
            depth -= 1
    return False


def _object_without_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        raise MalformedToken("JSON object has a duplicate member")
    return obj


def _reject_constant(name: str) -> Any:
    raise MalformedToken(f"JSON constant {name} is not allowed")


def _bounded_int(literal: str) -> int:
    if len(literal.lstrip("-")) > _MAX_INT_DIGITS:
        raise MalformedToken("JSON number is too large")
    return int(literal)


def _finite_float(literal: str) -> float:
    value = float(literal)
    if not math.isfinite(value):  # 1e400 would otherwise become inf: NaN's cousin
        raise MalformedToken("JSON number is out of range")
    return value


# Built once (json.loads with hooks builds a decoder per call); shared the way json's own
# default decoder is, since it keeps no state between calls.
_STRICT_DECODER = json.JSONDecoder(
    object_pairs_hook=_object_without_duplicates,
    parse_constant=_reject_constant,
    parse_int=_bounded_int,
    parse_float=_finite_float,
)


def _reject_lone_surrogates(value: Any, what: str) -> None:
    """JSON escapes like \\ud800 decode to strings no UTF-8 encoder accepts; refuse them."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            strings = [item]
        elif isinstance(item, dict):
            strings = list(item)
            stack.extend(item.values())
            strings = [s for s in strings if isinstance(s, str)]
        elif isinstance(item, list):
            stack.extend(item)
            continue
        else:
            continue
        for text in strings:
            try:
                text.encode("utf-8")
            except UnicodeEncodeError:
                raise MalformedToken(f"{what} has a lone surrogate") from None

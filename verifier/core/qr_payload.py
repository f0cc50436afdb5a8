"""The QR payload: a lossless, versioned encoding of a JWS (SPEC §4; format in docs/qr-payload.md).

A QR code stores a decimal digit in 3.33 bits but a base64url character in 8, and our JWS spends
most of its length on base64url of JSON member names that never change. Format version 1 packs
only the values, as one big integer written in decimal, which roughly halves the symbol. It covers
tokens in our issuer's canonical form; any other token travels as the plain JWS, told apart by its
'.' (a compact payload is all digits).
"""

from __future__ import annotations

import hashlib
import math
import re
from typing import Any

from verifier.core import credential, jws
from verifier.core.jws import MalformedToken

FORMAT_VERSION = "1"
#: Longest payload accepted: the largest version-1 payload has about 2,000 digits, and int()
#: refuses strings over 4,300 digits, so this bound keeps every conversion well defined.
MAX_PAYLOAD_DIGITS = 4000
#: 2020-01-01T00:00:00Z; instants in [EPOCH, EPOCH + 2**32) take 33 bits instead of 54.
EPOCH = 1_577_836_800

# Fixed by the format (not imported from credential) so a payload never changes meaning.
_ALGORITHMS = ("EdDSA", "ES256")
_TYPE = "skk+jwt"
_CLAIMS = ["iss", "jti", "iat", "nbf", "exp", "name", "job", "lvl"]
_KID_RE = re.compile(r"[A-Za-z0-9_-]{16}")
_JOB_CODE_RE = re.compile(r"[A-Z]{2}[0-9]{6}")
_ISS_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789-"
_JTI_DIGITS = "0123456789 "
_JTI_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz .-"
_MAX_ID_LENGTH = 40
_MAX_INSTANT = 2**53
_MAX_TEXT_LENGTH = 100
# Names and job titles: the case-folded alphabet, plus A-Z for text no case rule describes.
_TEXT_ALPHABET = " abcdefghijklmnopqrstuvwxyz0123456789.,'-/()&"
_MIXED_ALPHABET = _TEXT_ALPHABET + "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_TITLE, _UPPER, _LOWER, _MIXED = range(4)
_WORD_BREAKS = " (-/."
_CODE_POINTS = 0x110000
_SURROGATES = range(0xD800, 0xE000)
_SIGNATURE_BYTES = 64
_CHECK_RADIX = 1024
_FOLD = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


class _Unencodable(Exception):
    """The token is not in the canonical form version 1 covers; it travels as the plain JWS."""


class _Packer:
    """Mixed-radix writer: the first field put is the least significant."""

    def __init__(self) -> None:
        self._fields: list[tuple[int, int]] = []

    def put(self, value: int, radix: int) -> None:
        if not 0 <= value < radix:
            raise _Unencodable(f"value {value} outside radix {radix}")
        self._fields.append((value, radix))

    def capacity(self) -> int:
        """Product of all radices: every number below it is one sequence of field values."""
        return math.prod(radix for _, radix in self._fields)

    def to_int(self) -> int:
        number = 0
        for value, radix in reversed(self._fields):
            number = number * radix + value
        return number


class _Unpacker:
    """Mixed-radix reader: takes fields in the order they were put."""

    def __init__(self, number: int) -> None:
        self._rest = number

    def take(self, radix: int) -> int:
        self._rest, value = divmod(self._rest, radix)
        return value

    def finish(self) -> None:
        if self._rest:
            raise MalformedToken("payload has data after its last field")


def encode_payload(token: str) -> str:
    """The QR payload for ``token``: compact digits when lossless, else the plain JWS itself."""
    packed = _pack(token)
    if packed is None:
        return token
    try:
        lossless = _unpack(packed) == token
    except MalformedToken:
        # Another JSON spelling (whitespace, escapes) rebuilds differently and fails the check.
        lossless = False
    return packed if lossless else token


def decode_payload(payload: str) -> str:
    """The exact JWS a payload stands for; :class:`jws.MalformedToken` if it is damaged."""
    if not payload:
        raise MalformedToken("payload is empty")
    if not (payload.isascii() and payload.isdigit()):
        return payload  # the plain-JWS fallback; verification judges it
    return _unpack(payload)


def check_value(token: str) -> int:
    """Top field of a payload: the first 10 bits of SHA-256(token), to catch damaged payloads."""
    digest = hashlib.sha256(token.encode("ascii")).digest()
    return int.from_bytes(digest[:2], "big") >> 6


def _pack(token: str) -> str | None:
    try:
        return FORMAT_VERSION + str(_pack_fields(token).to_int())
    except (MalformedToken, _Unencodable):
        return None


def _pack_fields(token: str) -> _Packer:
    """Every field of the version-1 layout, in order; _Unencodable if the token does not fit."""
    parsed = jws.parse(token)
    packer = _Packer()
    _put_header(packer, parsed.header)
    _put_claims(packer, parsed.payload)
    if len(parsed.signature) != _SIGNATURE_BYTES:
        raise _Unencodable("signature is not 64 bytes")
    packer.put(int.from_bytes(parsed.signature, "big"), 2 ** (8 * _SIGNATURE_BYTES))
    packer.put(check_value(token), _CHECK_RADIX)
    return packer


def _unpack(payload: str) -> str:
    unpacker = _Unpacker(_payload_number(payload))
    header = _take_header(unpacker)
    claims = _take_claims(unpacker)
    signature = unpacker.take(2 ** (8 * _SIGNATURE_BYTES)).to_bytes(_SIGNATURE_BYTES, "big")
    token = jws.serialize(header, claims, signature)
    check = unpacker.take(_CHECK_RADIX)
    unpacker.finish()
    if check != check_value(token):
        raise MalformedToken("payload is damaged or truncated (check value does not match)")
    # Every field above is range-checked; this catches the remaining second spellings.
    if _pack(token) != payload:
        raise MalformedToken("payload is not in canonical form")
    return token


def _payload_number(payload: str) -> int:
    if len(payload) > MAX_PAYLOAD_DIGITS:
        raise MalformedToken(f"payload is longer than {MAX_PAYLOAD_DIGITS} digits")
    if payload[0] != FORMAT_VERSION:
        raise MalformedToken(f"unknown payload format version {payload[0]}")
    digits = payload[1:]
    if not digits:
        raise MalformedToken("payload has no data after its version digit")
    if digits[0] == "0" and digits != "0":
        raise MalformedToken("payload has a leading zero after its version digit")
    return int(digits)


def _put_header(packer: _Packer, header: dict[str, Any]) -> None:
    if list(header) != ["alg", "kid", "typ"] or header["typ"] != _TYPE:
        raise _Unencodable("header is not alg, kid, typ")
    alg, kid = header["alg"], header["kid"]
    if alg not in _ALGORITHMS or not isinstance(kid, str) or not _KID_RE.fullmatch(kid):
        raise _Unencodable("header alg or kid outside version 1")
    packer.put(_ALGORITHMS.index(alg), len(_ALGORITHMS))
    packer.put(int.from_bytes(jws.b64url_decode(kid, "kid"), "big"), 2**96)


def _take_header(unpacker: _Unpacker) -> dict[str, Any]:
    alg = _ALGORITHMS[unpacker.take(len(_ALGORITHMS))]
    kid = jws.b64url_encode(unpacker.take(2**96).to_bytes(12, "big"))
    return {"alg": alg, "kid": kid, "typ": _TYPE}


def _put_claims(packer: _Packer, claims: dict[str, Any]) -> None:
    keys = list(claims)
    if keys not in (_CLAIMS, [*_CLAIMS, "jkc"]):
        raise _Unencodable("claims are not the canonical set in canonical order")
    _put_word(packer, claims["iss"], _ISS_ALPHABET)
    jti = claims["jti"]
    digits_only = isinstance(jti, str) and all(ch in _JTI_DIGITS for ch in jti)
    packer.put(0 if digits_only else 1, 2)
    _put_word(packer, jti, _JTI_DIGITS if digits_only else _JTI_ALPHABET)
    _put_times(packer, claims["iat"], claims["nbf"], claims["exp"])
    _put_text(packer, claims["name"])
    _put_text(packer, claims["job"])
    lvl = claims["lvl"]
    if type(lvl) is not int:
        raise _Unencodable("lvl is not an integer")
    packer.put(lvl - 1, 9)
    _put_job_code(packer, claims.get("jkc"), "jkc" in claims)


def _take_claims(unpacker: _Unpacker) -> dict[str, Any]:
    claims: dict[str, Any] = {"iss": _take_word(unpacker, _ISS_ALPHABET)}
    digits_only = unpacker.take(2) == 0
    claims["jti"] = _take_word(unpacker, _JTI_DIGITS if digits_only else _JTI_ALPHABET)
    claims["iat"], claims["nbf"], claims["exp"] = _take_times(unpacker)
    claims["name"] = _take_text(unpacker)
    claims["job"] = _take_text(unpacker)
    claims["lvl"] = unpacker.take(9) + 1
    if unpacker.take(2):
        letters = unpacker.take(26 * 26)
        number = unpacker.take(10**6)
        claims["jkc"] = f"{chr(65 + letters // 26)}{chr(65 + letters % 26)}{number:06d}"
    return claims


def _put_job_code(packer: _Packer, code: object, present: bool) -> None:
    packer.put(1 if present else 0, 2)
    if not present:
        return
    if not isinstance(code, str) or not _JOB_CODE_RE.fullmatch(code):
        raise _Unencodable("jkc is not two letters and six digits")
    packer.put((ord(code[0]) - 65) * 26 + ord(code[1]) - 65, 26 * 26)
    packer.put(int(code[2:]), 10**6)


def _put_word(packer: _Packer, word: object, alphabet: str) -> None:
    """An identifier of 1-40 characters, all from ``alphabet`` (no escapes)."""
    if not isinstance(word, str) or not 1 <= len(word) <= _MAX_ID_LENGTH:
        raise _Unencodable("identifier of the wrong type or length")
    packer.put(len(word) - 1, _MAX_ID_LENGTH)
    for ch in word:
        if ch not in alphabet:
            raise _Unencodable(f"character {ch!r} outside the identifier alphabet")
        packer.put(alphabet.index(ch), len(alphabet))


def _take_word(unpacker: _Unpacker, alphabet: str) -> str:
    length = unpacker.take(_MAX_ID_LENGTH) + 1
    return "".join(alphabet[unpacker.take(len(alphabet))] for _ in range(length))


def _put_times(packer: _Packer, iat: object, nbf: object, exp: object) -> None:
    for value in (iat, nbf, exp):
        if type(value) is not int:
            raise _Unencodable("time claims must be integers")
    _put_instant(packer, iat)
    packer.put(0 if nbf == iat else 1, 2)
    if nbf != iat:
        _put_instant(packer, nbf)
    derived = exp == _five_years_after(nbf)
    packer.put(0 if derived else 1, 2)
    if not derived:
        _put_instant(packer, exp)


def _take_times(unpacker: _Unpacker) -> tuple[int, int, int]:
    iat = _take_instant(unpacker)
    nbf = iat if unpacker.take(2) == 0 else _take_instant(unpacker)
    if unpacker.take(2):
        return iat, nbf, _take_instant(unpacker)
    exp = _five_years_after(nbf)
    if exp is None:
        raise MalformedToken("payload derives exp from an nbf too late for the calendar")
    return iat, nbf, exp


def _put_instant(packer: _Packer, value: Any) -> None:
    if EPOCH <= value < EPOCH + 2**32:
        packer.put(0, 2)
        packer.put(value - EPOCH, 2**32)
    else:
        packer.put(1, 2)
        packer.put(value, _MAX_INSTANT + 1)


def _take_instant(unpacker: _Unpacker) -> int:
    if unpacker.take(2) == 0:
        return EPOCH + unpacker.take(2**32)
    return unpacker.take(_MAX_INSTANT + 1)


def _five_years_after(instant: Any) -> int | None:
    """``credential.add_years(instant)``, or None where the calendar ends (year 9999)."""
    try:
        return credential.add_years(instant)
    except (ValueError, OverflowError, OSError):
        return None


def _put_text(packer: _Packer, text: object) -> None:
    """A name or job title: case rule, length, then one symbol (or escape) per character."""
    if not isinstance(text, str) or len(text) > _MAX_TEXT_LENGTH:
        raise _Unencodable("text of the wrong type or length")
    mode = _case_mode(text)
    alphabet = _MIXED_ALPHABET if mode == _MIXED else _TEXT_ALPHABET
    packer.put(mode, 4)
    packer.put(len(text), _MAX_TEXT_LENGTH + 1)
    for ch in text if mode == _MIXED else text.translate(_FOLD):
        if ch in alphabet:
            packer.put(alphabet.index(ch), len(alphabet) + 1)
        else:  # jws.parse has refused lone surrogates; the decoder refuses them too
            packer.put(len(alphabet), len(alphabet) + 1)  # escape: a full code point follows
            packer.put(ord(ch), _CODE_POINTS)


def _take_text(unpacker: _Unpacker) -> str:
    mode = unpacker.take(4)
    length = unpacker.take(_MAX_TEXT_LENGTH + 1)
    alphabet = _MIXED_ALPHABET if mode == _MIXED else _TEXT_ALPHABET
    chars = []
    for _ in range(length):
        index = unpacker.take(len(alphabet) + 1)
        if index < len(alphabet):
            chars.append(alphabet[index])
            continue
        code_point = unpacker.take(_CODE_POINTS)
        if code_point in _SURROGATES:
            raise MalformedToken("payload text has a surrogate code point")
        if chr(code_point) in alphabet + _MIXED_ALPHABET[-26:]:
            raise MalformedToken("payload escapes a character that needs no escape")
        chars.append(chr(code_point))
    text = "".join(chars) if mode == _MIXED else _apply_case(mode, "".join(chars))
    if _case_mode(text) != mode:
        raise MalformedToken("payload text does not use the canonical case rule")
    return text


def _case_mode(text: str) -> int:
    """The first case rule that rebuilds ``text`` from its ASCII-lowercased form, else mixed."""
    folded = text.translate(_FOLD)
    for mode in (_TITLE, _UPPER, _LOWER):
        if _apply_case(mode, folded) == text:
            return mode
    return _MIXED


def _apply_case(mode: int, folded: str) -> str:
    """Upper-case a-z: all of them (upper), none (lower), or those starting a word (title)."""
    out: list[str] = []
    for ch in folded:
        starts_word = not out or out[-1] in _WORD_BREAKS
        if "a" <= ch <= "z" and (mode == _UPPER or (mode == _TITLE and starts_word)):
            ch = ch.upper()
        out.append(ch)
    return "".join(out)

"""NIK (Nomor Induk Kependudukan) validation and keyed hashing.

A NIK can never be changed once leaked (UU 27/2022), so it is kept only as an HMAC whose key is
derived per agency from ``SKK_NIK_PEPPER``: the same person at two agencies gives unrelated values,
and a stolen database cannot be brute-forced over the ~10^10 plausible NIKs without the pepper.
Nothing here ever puts the NIK itself into an exception message.
"""

from __future__ import annotations

import hashlib
import hmac
import re

from verifier.core.errors import ConfigurationError, InvalidInput

_KEY_LABEL = b"skk-verifier nik hmac v1\x00"
_DIGIT_RUN = re.compile(r"\d{16}")
_SEPARATORS = str.maketrans("", "", " .-")


def holds_nik_like(text: str) -> bool:
    """True when ``text`` could hold a NIK: 16 digits in a row, or nothing but 16 digits once
    spaces, dots and dashes are taken out (how NIKs get typed).

    Used wherever typed text would go into a stored value or an error message: a NIK put in the
    wrong field must be refused there, or at least never repeated (SPEC §7). Spaced runs inside
    longer text are not counted: real certificate numbers such as "41011 7112 3 00001234 2025"
    are spaced digits too.
    """
    if _DIGIT_RUN.search(text):
        return True
    bare = text.translate(_SEPARATORS)
    return len(bare) == 16 and bare.isascii() and bare.isdigit()


def quoted(typed: str) -> str:
    """``typed`` quoted for an error message, unless it could hold a NIK."""
    return "(not repeated: it looks like a NIK)" if holds_nik_like(typed) else repr(typed)


def without_niks(message: str) -> str:
    """``message`` with every run of 16 digits taken out: a last guard where text we do not
    word ourselves (a command-line parser's error, a file name) is shown."""
    return _DIGIT_RUN.sub("(a NIK-like number, not repeated)", message)


def check_nik(raw: str) -> str:
    """The NIK as 16 digits with a province code 11-96; InvalidInput (without the value) if not."""
    nik = raw.strip()
    if len(nik) != 16 or not nik.isascii() or not nik.isdigit():
        raise InvalidInput("NIK must be exactly 16 digits", field="nik")
    if not 11 <= int(nik[:2]) <= 96:
        raise InvalidInput("NIK province code (first two digits) must be 11-96", field="nik")
    return nik


def nik_hmac(nik: str, agency_id: str, pepper: str | None) -> str:
    """Hex HMAC-SHA256 of a checked NIK under the agency's key derived from the pepper."""
    if not pepper:
        raise ConfigurationError("SKK_NIK_PEPPER is required when a NIK is given")
    agency_key = hmac.new(pepper.encode(), _KEY_LABEL + agency_id.encode(), hashlib.sha256).digest()
    return hmac.new(agency_key, check_nik(nik).encode(), hashlib.sha256).hexdigest()

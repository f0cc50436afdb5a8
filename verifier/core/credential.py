"""The Credential value object, its claim mapping (SPEC §2) and the text rules it obeys. No I/O."""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from verifier.core.errors import InvalidInput
from verifier.core.nik import quoted
from verifier.core.text import single_spaced

HEADER_TYPE = "skk+jwt"
ALGORITHMS = ("EdDSA", "ES256")
#: Claims in the order our issuer writes them; ``jkc`` is optional.
CLAIM_ORDER = ("iss", "jti", "iat", "nbf", "exp", "name", "job", "lvl", "jkc")
MAX_NUMERIC_DATE = 2**53
#: Seconds in a day (UTC days: no leap seconds in NumericDate).
DAY = 86_400
#: Five years, each allowed a leap day: the longest exp - nbf a verifier accepts.
MAX_VALIDITY_SECONDS = 5 * 366 * DAY
VALIDITY_YEARS = 5
MAX_TEXT_LENGTH = 100

AGENCY_ID_RE = re.compile(r"[a-z0-9][a-z0-9-]{1,39}")
NUMBER_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9 .-]{0,39}")
KID_RE = re.compile(r"[A-Za-z0-9_-]{16}")
JOB_CODE_RE = re.compile(r"[A-Z]{2}[0-9]{6}")
# Categories refused in names and job titles: controls, format characters (bidi overrides,
# zero-width joiners, BOM), surrogates, private use, line and paragraph separators. Unassigned
# code points (Cn) are not refused: that set shrinks with each Unicode version, and an offline
# verifier on another Python must reach the same verdict as the server.
_FORBIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Zl", "Zp"})


@dataclass(frozen=True)
class Credential:
    """What a signed SKK credential says, with times as NumericDate integers."""

    agency_id: str
    number: str
    holder_name: str
    job_title: str
    job_code: str | None
    level: int
    issued_at: int
    valid_from: int
    expires_at: int

    def to_claims(self) -> dict[str, Any]:
        """Claims in canonical order (SPEC §2), ``jkc`` only when there is a job code."""
        claims: dict[str, Any] = {
            "iss": self.agency_id,
            "jti": self.number,
            "iat": self.issued_at,
            "nbf": self.valid_from,
            "exp": self.expires_at,
            "name": self.holder_name,
            "job": self.job_title,
            "lvl": self.level,
        }
        if self.job_code is not None:
            claims["jkc"] = self.job_code
        return claims

    @classmethod
    def from_claims(cls, claims: dict[str, Any]) -> Credential:
        """Check types and patterns of every required claim; raise ValueError naming the claim."""
        iss = _pattern(claims, "iss", AGENCY_ID_RE)
        jti = _pattern(claims, "jti", NUMBER_RE)
        check_number(jti)
        iat, nbf, exp = (_numeric_date(claims, name) for name in ("iat", "nbf", "exp"))
        if not 0 < exp - nbf <= MAX_VALIDITY_SECONDS:
            raise ValueError("claim exp must fall after nbf, at most 5 x 366 days")
        name = _text(claims, "name")
        job = _text(claims, "job")
        lvl = claims.get("lvl")
        if type(lvl) is not int or not 1 <= lvl <= 9:
            raise ValueError("claim lvl must be an integer from 1 to 9")
        jkc = None
        if "jkc" in claims:
            jkc = _pattern(claims, "jkc", JOB_CODE_RE)
        return cls(iss, jti, name, job, jkc, lvl, iat, nbf, exp)


def check_header(header: dict[str, Any]) -> None:
    """Exactly ``alg``, ``kid`` and ``typ`` with allowed values (SPEC §2); else ValueError."""
    if set(header) != {"alg", "kid", "typ"}:
        raise ValueError("header must have exactly the members alg, kid and typ")
    if header["alg"] not in ALGORITHMS:
        raise ValueError("header alg must be EdDSA or ES256")
    if header["typ"] != HEADER_TYPE:
        raise ValueError(f"header typ must be {HEADER_TYPE}")
    if not isinstance(header["kid"], str) or not KID_RE.fullmatch(header["kid"]):
        raise ValueError("header kid must be 16 base64url characters")


def canonical_number(raw: str) -> str:
    """Trim and fold runs of white space to single spaces; the form numbers are stored in."""
    return single_spaced(raw)


def number_key(raw: str) -> str:
    """The form in which certificate numbers compare: canonical and upper-case, so that a number
    typed in lower case or with stray spaces finds the one printed (numbers are ASCII, SPEC §2;
    they are stored as issued, and only compared in this form)."""
    return canonical_number(raw).upper()


def check_number(number: str) -> None:
    """A certificate number as SPEC §2 allows it: pattern, single spaces, no outer space."""
    if not NUMBER_RE.fullmatch(number) or number != canonical_number(number):
        if has_control_characters(number):
            # Said apart from the pattern: a NUL is what PostgreSQL refuses in any parameter.
            raise ValueError("certificate number must not contain control characters")
        raise ValueError(
            "certificate number must be 1-40 letters, digits, single spaces, '.' or '-', "
            "starting with a letter or digit"
        )


def checked_number(raw: str) -> str:
    """The canonical number, or InvalidInput naming ``number`` (checked before any query)."""
    number = canonical_number(raw)
    try:
        check_number(number)
    except ValueError as exc:
        raise InvalidInput(str(exc), field="number") from None
    return number


def has_control_characters(value: str, allowed: str = "") -> bool:
    """True when ``value`` has a C0/C1 control (NUL included) or a surrogate not in ``allowed``.

    Databases refuse both (PostgreSQL rejects NUL in text, and no encoder takes a lone surrogate
    such as the ``\\udcff`` a command-line argument in a non-UTF-8 locale decodes to).
    """
    if value.isascii() and value.isprintable():
        return False  # fast path: printable ASCII has neither
    return any(ch not in allowed and unicodedata.category(ch) in ("Cc", "Cs") for ch in value)


def check_text(value: object, what: str, max_length: int = MAX_TEXT_LENGTH) -> str:
    """A name or job title: non-empty NFC text of at most 100 characters, nothing invisible."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{what} must be non-empty text")
    if len(value) > max_length:
        raise ValueError(f"{what} must be at most {max_length} characters")
    if value.isascii() and value.isprintable():
        return value  # fast path: printable ASCII is NFC and has no invisible characters
    if not unicodedata.is_normalized("NFC", value):
        raise ValueError(f"{what} must be in Unicode NFC form")
    if any(unicodedata.category(ch) in _FORBIDDEN_CATEGORIES for ch in value):
        raise ValueError(f"{what} has control, invisible or direction-changing characters")
    return value


def add_years(instant: int, years: int = VALIDITY_YEARS) -> int:
    """Same UTC wall-clock time ``years`` calendar years later; 29 February becomes 28 February."""
    start = datetime.fromtimestamp(instant, UTC)
    try:
        end = start.replace(year=start.year + years)
    except ValueError:  # 29 February in a year without one
        end = start.replace(year=start.year + years, day=28)
    return int(end.timestamp())


@functools.lru_cache(maxsize=4096)  # the same few instants (iat/nbf/exp/now) recur on every check
def to_iso(instant: int) -> str:
    """NumericDate to ``YYYY-MM-DDTHH:MM:SSZ``, for any instant up to 2**53 (years past 9999 too).

    ``datetime`` stops at year 9999, yet SPEC §2 allows NumericDates to 2**53; a token signed by a
    trusted key with such a date must still get a result, so the civil date is computed directly
    (H. Hinnant's days-to-civil algorithm for the proleptic Gregorian calendar).
    """
    days, seconds = divmod(instant, DAY)
    era, day_of_era = divmod(days + 719468, 146097)
    year_of_era = day_of_era - day_of_era // 1460 + day_of_era // 36524 - day_of_era // 146096
    year_of_era //= 365
    day_of_year = day_of_era - (365 * year_of_era + year_of_era // 4 - year_of_era // 100)
    shifted_month = (5 * day_of_year + 2) // 153
    day = day_of_year - (153 * shifted_month + 2) // 5 + 1
    month = shifted_month + 3 if shifted_month < 10 else shifted_month - 9
    year = year_of_era + era * 400 + (month <= 2)
    hour, rest = divmod(seconds, 3600)
    return f"{year:04d}-{month:02d}-{day:02d}T{hour:02d}:{rest // 60:02d}:{rest % 60:02d}Z"


def parse_instant(text: str) -> int:
    """ISO-8601 date or date-time (naive means UTC) to NumericDate; ValueError when unreadable."""
    value = text.strip()
    try:
        parsed = datetime.fromisoformat(value.replace("z", "Z"))
    except ValueError:
        raise ValueError(f"not an ISO-8601 date or date-time: {quoted(text)}") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    seconds = int(parsed.timestamp())
    if not 0 <= seconds <= MAX_NUMERIC_DATE:
        raise ValueError(f"date out of range: {quoted(text)}")
    return seconds


def day_start(text: str, field: str) -> int:
    """Midnight UTC of a ``YYYY-MM-DD`` date (a filter's day); InvalidInput naming ``field``."""
    try:
        day = datetime.strptime(text.strip(), "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        raise InvalidInput(f"{field} must be a date like 2026-01-31", field=field) from None
    return int(day.timestamp())


def day_span(
    first: str | None, last: str | None, fields: tuple[str, str]
) -> tuple[int | None, int | None]:
    """A filter's days ``first`` to ``last``, both included, as the instants [start, end): midnight
    UTC of ``first`` and of the day after ``last``; None for a day not given. InvalidInput names
    the field (``fields``: the names of ``first`` and ``last``)."""
    start = None if first is None else day_start(first, fields[0])
    end = None if last is None else day_start(last, fields[1]) + DAY
    return start, end


def _pattern(claims: dict[str, Any], name: str, pattern: re.Pattern[str]) -> str:
    value = claims.get(name)
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise ValueError(f"claim {name} is missing or does not match its pattern")
    return value


def _numeric_date(claims: dict[str, Any], name: str) -> int:
    value = claims.get(name)
    if type(value) is not int or not 0 <= value <= MAX_NUMERIC_DATE:
        raise ValueError(f"claim {name} must be an integer NumericDate")
    return value


def _text(claims: dict[str, Any], name: str) -> str:
    return check_text(claims.get(name), f"claim {name}")

"""Credential claims: types, patterns, text rules, time arithmetic and formatting."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.helpers import NOW
from verifier.core.credential import (
    MAX_NUMERIC_DATE,
    Credential,
    add_years,
    canonical_number,
    check_text,
    parse_instant,
    to_iso,
)


def reference(**changes) -> dict:
    claims = Credential(
        "lsp-contoh",
        "41011 7112 3 00001234 2025",
        "Rina Marlina",
        "Operator Wheel Excavator",
        "ME063100",
        3,
        NOW,
        NOW,
        add_years(NOW),
    ).to_claims()
    return {**claims, **changes}


def test_claims_round_trip_in_canonical_order() -> None:
    claims = reference()
    assert list(claims) == ["iss", "jti", "iat", "nbf", "exp", "name", "job", "lvl", "jkc"]
    assert Credential.from_claims(claims).to_claims() == claims


def test_unknown_claims_ignored_and_jkc_optional() -> None:
    claims = reference(extra={"x": 1})
    del claims["jkc"]
    assert Credential.from_claims(claims).job_code is None


@pytest.mark.parametrize(
    "changes",
    [
        {"exp": NOW},  # not after nbf
        {"exp": NOW + 5 * 366 * 86400 + 1},
        {"iat": MAX_NUMERIC_DATE + 1},
        {"lvl": 3.0},
        {"lvl": True},
        {"jkc": "me063100"},
        {"iss": "a"},
        {"jti": "A  1"},
        {"name": ""},
        {"name": "Rina\u200bMarlina"},
        {"job": "x" * 101},
    ],
)
def test_invalid_claims_refused(changes) -> None:
    with pytest.raises(ValueError):
        Credential.from_claims(reference(**changes))


def test_to_iso_matches_datetime_and_survives_past_year_9999() -> None:
    for instant in (0, 951_782_400, NOW, 253_402_300_799):
        expected = datetime.fromtimestamp(instant, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        assert to_iso(instant) == expected
    assert to_iso(MAX_NUMERIC_DATE) == "285428751-11-12T07:36:32Z"


def test_parse_instant_forms() -> None:
    assert parse_instant("2026-01-15") == NOW
    assert parse_instant("2026-01-15T07:00:00+07:00") == NOW
    assert parse_instant("2026-01-15T00:00:00Z") == NOW
    with pytest.raises(ValueError):
        parse_instant("15/01/2026")


def test_add_years_backwards_and_leap_day() -> None:
    assert add_years(parse_instant("2024-02-29"), -5) == parse_instant("2019-02-28")


def test_text_rules() -> None:
    assert check_text("Ni Luh Putu Ayu Sukmawatí", "name")
    for bad in ("Ri\u202ena", "a\x00b", "e\u0301", "\ue000", "a\u2028b"):
        with pytest.raises(ValueError):
            check_text(bad, "name")
    assert canonical_number("  A   1 \t2 ") == "A 1 2"
